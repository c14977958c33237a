import DistillCore
import DistillNN
import Foundation
import Testing

@Suite("safetensors")
struct SafetensorsTests {
    let dir: URL = {
        let d = FileManager.default.temporaryDirectory.appendingPathComponent("distill-st-\(UUID().uuidString)")
        try! FileManager.default.createDirectory(at: d, withIntermediateDirectories: true)
        return d
    }()

    /// A file from a header dictionary and raw data bytes.
    func file(_ header: String, data: [UInt8] = [], lengthOverride: UInt64? = nil, name: String = UUID().uuidString) -> URL {
        var bytes = [UInt8]()
        let h = Array(header.utf8)
        withUnsafeBytes(of: (lengthOverride ?? UInt64(h.count)).littleEndian) { bytes += $0 }
        bytes += h + data
        let url = dir.appendingPathComponent(name + ".safetensors")
        try! Data(bytes).write(to: url)
        return url
    }

    @Test("F32 and F16 round trip; the file reloads bit-identically")
    func roundTrip() throws {
        var g = RandomGenerator(seed: 4)
        let a = Tensor.randomNormal([3, 5], using: &g), b = Tensor.randomNormal([7], using: &g)
        let url = dir.appendingPathComponent("m.safetensors")
        try SafetensorsWriter.write(["a": a, "b": b], to: url, metadata: ["format": "pt"])
        let f = try SafetensorsFile(url: url)
        #expect(f.names == ["a", "b"] && f.metadata == ["format": "pt"])
        #expect(try f.tensor("a").scalars == a.scalars && f.tensor("b").shape == [7])
        try SafetensorsWriter.write(["a": a], to: url, as: .f16)
        let half = try SafetensorsFile(url: url).tensor("a").scalars
        for (x, y) in zip(half, a.scalars) { #expect(abs(x - y) <= abs(y) * 1e-3 + 1e-4) }
        #expect(try SafetensorsFile(url: url).entry("a")?.dtype == .f16)
    }

    @Test("BF16, F16 specials and integer buffers are decoded")
    func dtypes() throws {
        // bf16 1.0 = 0x3F80, -2.5 = 0xC020; f16 1.0 = 0x3C00, -inf = 0xFC00, smallest subnormal 0x0001.
        let url = file(#"{"b":{"dtype":"BF16","shape":[2],"data_offsets":[0,4]},"h":{"dtype":"F16","shape":[3],"data_offsets":[4,10]},"i":{"dtype":"I64","shape":[2],"data_offsets":[10,26]}}"#,
                       data: [0x80, 0x3F, 0x20, 0xC0, 0x00, 0x3C, 0x00, 0xFC, 0x01, 0x00] + [5, 0, 0, 0, 0, 0, 0, 0, 255, 255, 255, 255, 255, 255, 255, 255])
        let f = try SafetensorsFile(url: url)
        #expect(try f.tensor("b").scalars == [1, -2.5])
        // F16 specials decode; a weight holding one is refused, naming the tensor and where.
        #expect(Float(float16Bits: 0x3C00) == 1 && Float(float16Bits: 0xFC00) == -.infinity
                && Float(float16Bits: 0x0001) == Float(sign: .plus, exponent: -24, significand: 1))
        #expect(Float(float16Bits: 0x7E00).isNaN)
        do {
            _ = try f.tensor("h")
            Issue.record("a tensor holding -inf loaded")
        } catch let error as SafetensorsError {
            #expect(error.errorDescription?.contains("tensor 'h': holds 1 non-finite value") == true, "\(error)")
            #expect(error.errorDescription?.contains("flat index 1") == true, "\(error)")
        }
        #expect(try f.integers("i") == [5, -1])
        #expect(throws: SafetensorsError.self) { try f.tensor("i") }
    }

    @Test("corrupt, truncated and hostile files give errors naming the tensor or offset", arguments: [
        ("empty file", "", "truncated"),
        ("header length past the end", "{}", "runs past the end"),
        ("not JSON", "{nope", "not JSON"),
        ("unknown dtype", #"{"w":{"dtype":"Q4","shape":[1],"data_offsets":[0,4]}}"#, "'w' has dtype Q4"),
        ("negative dimension", #"{"w":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}"#, "'w'"),
        ("float in shape", #"{"w":{"dtype":"F32","shape":[1.5],"data_offsets":[0,4]}}"#, "'w'"),
        ("offsets past the data", #"{"w":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}"#, "ends at data offset 16"),
        ("size mismatch", #"{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}}"#, "needs 2 x 4 bytes"),
        ("overlap", #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[2,6]}}"#, "overlap"),
        ("reversed range", #"{"w":{"dtype":"F32","shape":[0],"data_offsets":[4,0]}}"#, "increasing"),
        ("overflowing shape", #"{"w":{"dtype":"F32","shape":[4611686018427387904,4],"data_offsets":[0,4]}}"#, "overflow"),
        ("gap before a tensor", #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#, "starts at data offset 4"),
        ("bytes after the last tensor", #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#, "the data section has 8 bytes"),
    ])
    func corrupt(_ c: (String, String, String)) throws {
        let url = c.0 == "empty file" ? { let u = dir.appendingPathComponent("empty"); try! Data().write(to: u); return u }()
            : file(c.1, data: [0, 0, 128, 63, 0, 0, 0, 0], lengthOverride: c.0 == "header length past the end" ? 1 << 20 : nil)
        do {
            _ = try SafetensorsFile(url: url)
            Issue.record("\(c.0): opened without error")
        } catch let error as SafetensorsError {
            let message = error.errorDescription ?? ""
            #expect(message.contains(c.2), "\(c.0): \(message)")
            #expect(message.contains(url.path))
        }
    }

    @Test("a header length one byte short or long (every tensor shifted) is refused; NaN weights are refused by name")
    func headerLengthOffByOne() throws {
        var g = RandomGenerator(seed: 2)
        let url = dir.appendingPathComponent("shift.safetensors")
        try SafetensorsWriter.write(["x": Tensor.randomNormal([16], using: &g), "y": Tensor.randomNormal([4, 4], using: &g)], to: url)
        let bytes = try Data(contentsOf: url)
        _ = try SafetensorsFile(url: url)
        let length = bytes.prefix(8).withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) }
        for delta in [-1, 1] {
            var shifted = bytes
            withUnsafeBytes(of: (UInt64(Int(length) + delta)).littleEndian) { shifted.replaceSubrange(0..<8, with: $0) }
            let part = dir.appendingPathComponent("shift\(delta)")
            try shifted.write(to: part)
            #expect(throws: SafetensorsError.self, "header length \(Int(length) + delta) instead of \(length)") { try SafetensorsFile(url: part) }
        }
        var y = Tensor.randomNormal([4, 4], using: &g)
        y = Tensor(shape: [4, 4], scalars: y.scalars.enumerated().map { $0.offset == 5 ? .nan : $0.element })
        try SafetensorsWriter.write(["x": Tensor.randomNormal([16], using: &g), "y": y], to: url)
        let f = try SafetensorsFile(url: url)
        #expect(try f.tensor("x").count == 16)
        do {
            _ = try f.tensor("y")
            Issue.record("a NaN weight loaded")
        } catch let error as SafetensorsError {
            #expect(error.errorDescription?.contains("tensor 'y': holds 1 non-finite value") == true && error.errorDescription?.contains("flat index 5") == true, "\(error)")
        }
        #expect(throws: SafetensorsError.self) { try f.readRows("y", 0..<2) }
    }

    @Test("a file cut short anywhere fails cleanly")
    func truncatedAnywhere() throws {
        var g = RandomGenerator(seed: 1)
        let url = dir.appendingPathComponent("full.safetensors")
        try SafetensorsWriter.write(["x": Tensor.randomNormal([16], using: &g), "y": Tensor.randomNormal([4, 4], using: &g)], to: url)
        let bytes = try Data(contentsOf: url)
        for cut in stride(from: 0, to: bytes.count - 1, by: 7) {
            let part = dir.appendingPathComponent("cut-\(cut)")
            try bytes.prefix(cut).write(to: part)
            #expect(throws: SafetensorsError.self) { try SafetensorsFile(url: part) }
        }
    }
}
