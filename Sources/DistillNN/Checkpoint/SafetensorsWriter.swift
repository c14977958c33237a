import DistillCore
import DistillText
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Writes tensors in the safetensors format, atomically (a temporary file renamed into place).
public enum SafetensorsWriter {
    /// Element type to store. `int8`: matrices ``Int8Quantization`` selects become `I8` + an F32 scale per row,
    /// everything else F32.
    public enum StorageType: String, Sendable { case f32 = "F32", f16 = "F16", int8 = "I8" }

    /// Writes `tensors` (name → tensor) to `url` in name order, with optional string `metadata`.
    public static func write(_ tensors: [String: Tensor], to url: URL, as type: StorageType = .f32,
                             metadata: [String: String] = [:]) throws {
        // Each stored tensor: its dtype and its little-endian bytes, produced when written.
        var stored: [(name: String, dtype: String, shape: [Int], bytes: Int, write: (FileHandle) throws -> Void)] = []
        var metadata = metadata
        for name in tensors.keys.sorted() {
            let t = tensors[name]!
            switch type {
            case .f32:
                stored.append((name, "F32", t.shape, 4 * t.count, { try writeLittleEndian(t, to: $0) }))
            case .f16:
                stored.append((name, "F16", t.shape, 2 * t.count, { file in
                    try t.withUnsafeBufferPointer { values in
                        for piece in writeInPieces(values.count, { range in values[range].map { $0.float16Bits.littleEndian }.withUnsafeBytes { Data($0) } }) {
                            try file.write(contentsOf: piece)
                        }
                    }
                }))
            case .int8 where Int8Quantization.quantizes(t):
                let (values, scales) = Int8Quantization.quantize(t)
                stored.append((name, "I8", t.shape, values.count, { file in try values.withUnsafeBytes { try file.write(contentsOf: Data($0)) } }))
                stored.append((name + Int8Quantization.scaleSuffix, "F32", [scales.count], 4 * scales.count, { file in
                    try scales.map { $0.bitPattern.littleEndian }.withUnsafeBytes { try file.write(contentsOf: Data($0)) }
                }))
            case .int8:
                stored.append((name, "F32", t.shape, 4 * t.count, { try writeLittleEndian(t, to: $0) }))
            }
        }
        if type == .int8 { metadata["quantization"] = Int8Quantization.method }
        stored.sort { $0.name < $1.name }
        var header: [String: Any] = [:]
        if !metadata.isEmpty { header["__metadata__"] = metadata }
        var offset = 0
        for t in stored {
            header[t.name] = ["dtype": t.dtype, "shape": t.shape, "data_offsets": [offset, offset + t.bytes]] as [String: Any]
            offset += t.bytes
        }
        var headerBytes = try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])
        // Pad with spaces so the data section starts 8-byte aligned, as the reference writer does.
        while (8 + headerBytes.count) % 8 != 0 { headerBytes.append(0x20) }
        // Streamed from the tensors' memory: no copy of the whole file is built first.
        try atomicWrite(to: url) { file in
            var prefix = Data()
            withUnsafeBytes(of: UInt64(headerBytes.count).littleEndian) { prefix.append(contentsOf: $0) }
            prefix.append(headerBytes)
            try file.write(contentsOf: prefix)
            for t in stored { try t.write(file) }
        }
    }
}

/// Pieces of at most 2^21 elements of `count`, each turned into bytes by `bytes` when the sequence is walked:
/// a large tensor is never converted whole.
private func writeInPieces(_ count: Int, _ bytes: @escaping (Range<Int>) -> Data) -> LazyMapSequence<StrideTo<Int>, Data> {
    stride(from: 0, to: count, by: 1 << 21).lazy.map { bytes($0..<min($0 + (1 << 21), count)) }
}

/// Writes `t`'s values as little-endian F32 bytes: straight from its buffer on a little-endian machine (a 67 MB
/// embedding table is one write, not 16 million appends).
private func writeLittleEndian(_ t: Tensor, to file: FileHandle) throws {
    try t.withUnsafeBufferPointer { values in
        #if _endian(little)
        guard let base = values.baseAddress, !values.isEmpty else { return }
        try file.write(contentsOf: Data(bytesNoCopy: UnsafeMutableRawPointer(mutating: base), count: values.count * 4, deallocator: .none))
        #else
        for piece in writeInPieces(values.count, { range in values[range].map { $0.bitPattern.littleEndian }.withUnsafeBytes { Data($0) } }) {
            try file.write(contentsOf: piece)
        }
        #endif
    }
}

extension SafetensorsWriter {
    /// Writes tensors already in FP16 bits (name → shape and little-endian-independent `UInt16` values), for
    /// large stores built without a Float32 copy.
    public static func writeFloat16(_ tensors: [String: (shape: [Int], bits: [UInt16])], to url: URL, metadata: [String: String] = [:]) throws {
        let names = tensors.keys.sorted()
        var header: [String: Any] = [:]
        if !metadata.isEmpty { header["__metadata__"] = metadata }
        var offset = 0
        for name in names {
            let t = tensors[name]!
            precondition(t.shape.reduce(1, *) == t.bits.count, "writeFloat16: '\(name)' has \(t.bits.count) values for shape \(t.shape)")
            header[name] = ["dtype": "F16", "shape": t.shape, "data_offsets": [offset, offset + 2 * t.bits.count]] as [String: Any]
            offset += 2 * t.bits.count
        }
        var headerBytes = try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])
        while (8 + headerBytes.count) % 8 != 0 { headerBytes.append(0x20) }
        // Streamed in 4 MiB pieces (``writeInPieces``): a store of several GB never exists twice in memory.
        try atomicWrite(to: url) { handle in
            var prefix = Data()
            withUnsafeBytes(of: UInt64(headerBytes.count).littleEndian) { prefix.append(contentsOf: $0) }
            prefix.append(headerBytes)
            try handle.write(contentsOf: prefix)
            for name in names {
                let bits = tensors[name]!.bits
                for piece in writeInPieces(bits.count, { range in bits[range].map(\.littleEndian).withUnsafeBytes { Data($0) } }) {
                    try handle.write(contentsOf: piece)
                }
            }
        }
    }
}

/// Writes `data` to a temporary file beside `url`, flushes it to disk, renames it over `url` and flushes
/// the directory: after a crash or power loss the file is either the old one or the complete new one.
func atomicWrite(_ data: Data, to url: URL) throws {
    try atomicWrite(to: url) { try $0.write(contentsOf: data) }
}

/// ``atomicWrite(_:to:)`` with the content written by `body` into the temporary file.
func atomicWrite(to url: URL, _ body: (FileHandle) throws -> Void) throws {
    let temporary = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).tmp-\(getpid())")
    do {
        guard FileManager.default.createFile(atPath: temporary.path, contents: nil) else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSLocalizedDescriptionKey: "cannot create \(temporary.path)"])
        }
        let handle = try FileHandle(forWritingTo: temporary)
        try body(handle)
        try handle.synchronize()
        try handle.close()
        guard rename(temporary.path, url.path) == 0 else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSLocalizedDescriptionKey: String(cString: strerror(errno))])
        }
        let directory = open(url.deletingLastPathComponent().path, O_RDONLY)
        if directory >= 0 { fsync(directory); close(directory) }
    } catch {
        try? FileManager.default.removeItem(at: temporary)
        throw SafetensorsError.writeFailed(path: url.path, reason: fileErrorReason(error))
    }
}
