import DistillCore
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Element types of the safetensors format.
public enum SafetensorsDType: String, Sendable, CaseIterable {
    case f64 = "F64", f32 = "F32", f16 = "F16", bf16 = "BF16"
    case i64 = "I64", i32 = "I32", i16 = "I16", i8 = "I8", u8 = "U8", bool = "BOOL"

    /// Bytes per element.
    public var size: Int {
        switch self {
        case .f64, .i64: return 8
        case .f32, .i32: return 4
        case .f16, .bf16, .i16: return 2
        case .i8, .u8, .bool: return 1
        }
    }
}

/// A read-only, memory-mapped safetensors file (the Hugging Face format: 8-byte little-endian header
/// length, a JSON header, then the raw tensor bytes).
///
/// Opening validates the whole header before any tensor is read: JSON shape, dtypes, element counts
/// against byte ranges, and tensors that tile the data section exactly (no gap, no overlap, nothing after
/// the last). Reading a weight refuses NaN and infinities, naming the tensor. A corrupt, truncated or
/// hostile file gives a ``SafetensorsError`` naming the tensor or offset; no read ever goes outside the mapping.
public final class SafetensorsFile: @unchecked Sendable {
    /// One tensor's entry in the header.
    public struct Entry: Sendable, Equatable {
        public let name: String
        public let dtype: SafetensorsDType
        public let shape: [Int]
        /// Byte range relative to the start of the data section.
        public let range: Range<Int>
        public var elementCount: Int { shape.reduce(1, *) }
    }

    public let path: String
    /// Entries in file order (by data offset).
    public let entries: [Entry]
    /// The `__metadata__` string map, if any.
    public let metadata: [String: String]
    /// Total size of the file in bytes.
    public let fileSize: Int

    private let base: UnsafeMutableRawPointer?
    private let dataStart: Int
    private let byName: [String: Int]

    /// Largest header accepted (the format's reference implementation uses 100 MB).
    public static let maximumHeaderBytes = 100_000_000

    /// Opens and validates `url`.
    public init(url: URL) throws {
        path = url.path
        let fd = open(url.path, O_RDONLY)
        guard fd >= 0 else { throw SafetensorsError.cannotOpen(path: url.path, reason: String(cString: strerror(errno))) }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw SafetensorsError.cannotOpen(path: url.path, reason: String(cString: strerror(errno))) }
        fileSize = Int(st.st_size)
        guard fileSize >= 8 else {
            throw SafetensorsError.truncated(path: url.path, detail: "\(fileSize) bytes, the 8-byte header length is missing")
        }
        guard let mapped = mmap(nil, fileSize, PROT_READ, MAP_PRIVATE, fd, 0), mapped != MAP_FAILED else {
            throw SafetensorsError.cannotOpen(path: url.path, reason: "mmap failed: \(String(cString: strerror(errno)))")
        }
        base = mapped
        var headerLength: UInt64 = 0
        withUnsafeMutableBytes(of: &headerLength) { $0.copyMemory(from: UnsafeRawBufferPointer(start: mapped, count: 8)) }
        headerLength = UInt64(littleEndian: headerLength)
        do {
            guard headerLength <= UInt64(Self.maximumHeaderBytes) else {
                throw SafetensorsError.invalidHeader(path: url.path, detail: "header length \(headerLength) exceeds the \(Self.maximumHeaderBytes)-byte limit")
            }
            guard Int(headerLength) <= fileSize - 8 else {
                throw SafetensorsError.truncated(path: url.path, detail: "header length \(headerLength) at offset 0 runs past the end of the \(fileSize)-byte file")
            }
            dataStart = 8 + Int(headerLength)
            let headerData = Data(bytes: mapped + 8, count: Int(headerLength))
            (entries, metadata) = try Self.parseHeader(headerData, dataSize: fileSize - dataStart, path: url.path)
            var index: [String: Int] = [:]
            for (i, e) in entries.enumerated() { index[e.name] = i }
            byName = index
        } catch {
            munmap(mapped, fileSize)
            throw error
        }
    }

    deinit {
        if let base { munmap(base, fileSize) }
    }

    /// The entry for `name`, or nil.
    public func entry(_ name: String) -> Entry? { byName[name].map { entries[$0] } }

    /// Tensor names in file order.
    public var names: [String] { entries.map(\.name) }

    /// The tensors a model loads as Float32, in file order: floating-point ones and int8 ones with their
    /// ``Int8Quantization`` scale (the scale tensors themselves are not listed).
    public var weightEntries: [Entry] {
        entries.filter { e in
            if [.f32, .f16, .bf16, .f64].contains(e.dtype) {
                return !(e.name.hasSuffix(Int8Quantization.scaleSuffix) && entry(String(e.name.dropLast(Int8Quantization.scaleSuffix.count)))?.dtype == .i8)
            }
            return e.dtype == .i8 && entry(e.name + Int8Quantization.scaleSuffix) != nil
        }
    }

    /// The per-row scales of an int8 tensor.
    private func int8Scales(_ e: Entry) throws -> [Float] {
        let scaleName = e.name + Int8Quantization.scaleSuffix
        guard let s = entry(scaleName) else {
            throw SafetensorsError.invalidTensor(path: path, tensor: e.name, detail: "is I8 but has no scale tensor '\(scaleName)' (not a Distill int8 file?)")
        }
        guard e.shape.count == 2, s.dtype == .f32, s.shape == [e.shape[0]] else {
            throw SafetensorsError.invalidTensor(path: path, tensor: scaleName, detail: "must be F32 of shape [\(e.shape.first ?? 0)] for the \(e.shape) int8 matrix, found \(s.dtype.rawValue) \(s.shape)")
        }
        let src = UnsafeRawPointer(base!) + dataStart + s.range.lowerBound
        return (0..<s.elementCount).map { Float(bitPattern: UInt32(littleEndian: src.loadUnaligned(fromByteOffset: 4 * $0, as: UInt32.self))) }
    }

    /// Reads `name` as Float32 (F32 copied, F16/BF16/F64 converted).
    public func tensor(_ name: String) throws -> Tensor {
        guard let e = entry(name) else { throw SafetensorsError.missingTensor(path: path, tensor: name) }
        let out = Tensor(zeros: e.shape)
        try read(name, into: out)
        return out
    }

    /// Reads `name` straight into `destination` (same element count), converting to Float32: loading a
    /// model this way never holds a second copy of the weights.
    public func read(_ name: String, into destination: Tensor) throws {
        guard let e = entry(name) else { throw SafetensorsError.missingTensor(path: path, tensor: name) }
        guard e.elementCount == destination.count else {
            throw SafetensorsError.invalidTensor(path: path, tensor: name, detail: "has \(e.elementCount) elements, the destination \(destination.count)")
        }
        let src = UnsafeRawPointer(base!) + dataStart + e.range.lowerBound
        let out = destination
        let n = e.elementCount
        let scales = e.dtype == .i8 ? try int8Scales(e) : []
        try out.withUnsafeMutableBufferPointer { dst in
            switch e.dtype {
            case .f32:
                UnsafeMutableRawBufferPointer(dst).copyMemory(from: UnsafeRawBufferPointer(start: src, count: n * 4))
                #if _endian(big)
                for i in 0..<n { dst[i] = Float(bitPattern: UInt32(littleEndian: dst[i].bitPattern)) }
                #endif
            case .f16:
                for i in 0..<n { dst[i] = Float(float16Bits: src.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self).littleEndian) }
            case .bf16:
                for i in 0..<n {
                    dst[i] = Float(bitPattern: UInt32(src.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self).littleEndian) << 16)
                }
            case .f64:
                for i in 0..<n {
                    dst[i] = Float(Double(bitPattern: src.loadUnaligned(fromByteOffset: 8 * i, as: UInt64.self).littleEndian))
                }
            case .i8:
                Int8Quantization.dequantize(src, scales: scales, columns: e.shape[1], into: dst)
            default:
                throw SafetensorsError.unsupportedDType(path: path, tensor: name, dtype: e.dtype.rawValue)
            }
            try Self.checkFinite(UnsafeBufferPointer(dst), tensor: name, shape: e.shape, path: path)
        }
    }

    /// Weights are never NaN or infinite in a trained model; such a file would give every line the same answer.
    static func checkFinite(_ values: UnsafeBufferPointer<Float>, tensor: String, shape: [Int], path: String) throws {
        var bad = 0, first = -1
        for i in values.indices where !values[i].isFinite {
            if first < 0 { first = i }
            bad += 1
        }
        guard bad > 0 else { return }
        throw SafetensorsError.invalidTensor(path: path, tensor: tensor,
            detail: "holds \(bad) non-finite value\(bad == 1 ? "" : "s") (NaN or infinity; the first, \(values[first]), at flat index \(first) of shape \(shape))")
    }

    /// Reads rows `rows` of the first dimension of `name` as Float32 (`[rows.count] + shape.dropFirst()`),
    /// touching only those bytes of the mapping: batches of a large stored tensor without loading all of it.
    public func readRows(_ name: String, _ rows: Range<Int>) throws -> Tensor {
        guard let e = entry(name) else { throw SafetensorsError.missingTensor(path: path, tensor: name) }
        guard let first = e.shape.first, rows.lowerBound >= 0, rows.upperBound <= first else {
            throw SafetensorsError.invalidTensor(path: path, tensor: name, detail: "rows \(rows) are outside its first dimension \(e.shape.first ?? 0)")
        }
        let rowElements = e.shape.dropFirst().reduce(1, *)
        let out = Tensor(zeros: [rows.count] + Array(e.shape.dropFirst()))
        let src = UnsafeRawPointer(base!) + dataStart + e.range.lowerBound + rows.lowerBound * rowElements * e.dtype.size
        let n = rows.count * rowElements
        try out.withUnsafeMutableBufferPointer { dst in
            switch e.dtype {
            case .f32: for i in 0..<n { dst[i] = Float(bitPattern: UInt32(littleEndian: src.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self))) }
            case .f16: for i in 0..<n { dst[i] = Float(float16Bits: src.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self).littleEndian) }
            case .bf16: for i in 0..<n { dst[i] = Float(bitPattern: UInt32(src.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self).littleEndian) << 16) }
            default: throw SafetensorsError.unsupportedDType(path: path, tensor: name, dtype: e.dtype.rawValue)
            }
            try Self.checkFinite(UnsafeBufferPointer(dst), tensor: name, shape: e.shape, path: path)
        }
        return out
    }

    /// Reads an integer buffer (I64/I32/I16/I8/U8/BOOL) such as `embeddings.position_ids`.
    public func integers(_ name: String) throws -> [Int] {
        guard let e = entry(name) else { throw SafetensorsError.missingTensor(path: path, tensor: name) }
        let src = UnsafeRawPointer(base!) + dataStart + e.range.lowerBound
        let n = e.elementCount
        switch e.dtype {
        case .i64: return (0..<n).map { Int(Int64(littleEndian: src.loadUnaligned(fromByteOffset: 8 * $0, as: Int64.self))) }
        case .i32: return (0..<n).map { Int(Int32(littleEndian: src.loadUnaligned(fromByteOffset: 4 * $0, as: Int32.self))) }
        case .i16: return (0..<n).map { Int(Int16(littleEndian: src.loadUnaligned(fromByteOffset: 2 * $0, as: Int16.self))) }
        case .i8: return (0..<n).map { Int(src.load(fromByteOffset: $0, as: Int8.self)) }
        case .u8, .bool: return (0..<n).map { Int(src.load(fromByteOffset: $0, as: UInt8.self)) }
        default: throw SafetensorsError.unsupportedDType(path: path, tensor: name, dtype: e.dtype.rawValue)
        }
    }

    /// Every floating-point tensor (int8 ones dequantized), by name.
    public func floatTensors() throws -> [String: Tensor] {
        var out: [String: Tensor] = [:]
        for e in weightEntries { out[e.name] = try tensor(e.name) }
        return out
    }

    static func parseHeader(_ data: Data, dataSize: Int, path: String) throws -> ([Entry], [String: String]) {
        let object: Any
        do { object = try JSONSerialization.jsonObject(with: data) } catch {
            throw SafetensorsError.invalidHeader(path: path, detail: "not JSON (\(error.localizedDescription))")
        }
        guard let header = object as? [String: Any] else {
            throw SafetensorsError.invalidHeader(path: path, detail: "the header must be a JSON object")
        }
        var metadata: [String: String] = [:]
        var entries: [Entry] = []
        for (name, value) in header {
            if name == "__metadata__" {
                guard let m = value as? [String: Any] else {
                    throw SafetensorsError.invalidHeader(path: path, detail: "__metadata__ must be an object of strings")
                }
                for (k, v) in m {
                    guard let text = v as? String else { throw SafetensorsError.invalidHeader(path: path, detail: "__metadata__.\(k) is not a string") }
                    metadata[k] = text
                }
                continue
            }
            guard let info = value as? [String: Any] else {
                throw SafetensorsError.invalidTensor(path: path, tensor: name, detail: "entry is not an object")
            }
            guard let dtypeName = info["dtype"] as? String else {
                throw SafetensorsError.invalidTensor(path: path, tensor: name, detail: "missing or non-string 'dtype'")
            }
            guard let dtype = SafetensorsDType(rawValue: dtypeName) else {
                throw SafetensorsError.unsupportedDType(path: path, tensor: name, dtype: dtypeName)
            }
            guard let shape = integers(info["shape"]), shape.allSatisfy({ $0 >= 0 }) else {
                throw SafetensorsError.invalidTensor(path: path, tensor: name, detail: "'shape' must be a list of non-negative integers")
            }
            guard let offsets = integers(info["data_offsets"]), offsets.count == 2 else {
                throw SafetensorsError.invalidTensor(path: path, tensor: name, detail: "'data_offsets' must be [begin, end] integers")
            }
            let (begin, end) = (offsets[0], offsets[1])
            guard begin >= 0, begin <= end else {
                throw SafetensorsError.invalidTensor(path: path, tensor: name, detail: "data_offsets [\(begin), \(end)] are not an increasing range")
            }
            guard end <= dataSize else {
                throw SafetensorsError.truncated(path: path, detail: "tensor '\(name)' ends at data offset \(end) but the data section has \(dataSize) bytes")
            }
            var count = 1
            for d in shape {
                let (product, overflow) = count.multipliedReportingOverflow(by: d)
                guard !overflow else { throw SafetensorsError.invalidTensor(path: path, tensor: name, detail: "shape \(shape) overflows") }
                count = product
            }
            let (bytes, overflow) = count.multipliedReportingOverflow(by: dtype.size)
            guard !overflow, bytes == end - begin else {
                throw SafetensorsError.invalidTensor(path: path, tensor: name,
                    detail: "shape \(shape) of \(dtype.rawValue) needs \(count) x \(dtype.size) bytes, data_offsets give \(end - begin)")
            }
            entries.append(Entry(name: name, dtype: dtype, shape: shape, range: begin..<end))
        }
        entries.sort { ($0.range.lowerBound, $0.range.upperBound, $0.name) < ($1.range.lowerBound, $1.range.upperBound, $1.name) }
        // As the reference implementation: the tensors tile the data section exactly, from byte 0 to its end.
        // A header length off by one byte (which shifts every tensor) or trailing garbage fails here.
        var covered = 0
        for (i, e) in entries.enumerated() {
            if e.range.lowerBound < covered {
                throw SafetensorsError.overlappingTensors(path: path, first: entries[i - 1].name, second: e.name)
            }
            guard e.range.lowerBound == covered else {
                throw SafetensorsError.invalidHeader(path: path,
                    detail: "tensor '\(e.name)' starts at data offset \(e.range.lowerBound), but the data before it ends at \(covered) (a gap; is the header length right?)")
            }
            covered = e.range.upperBound
        }
        guard covered == dataSize else {
            throw SafetensorsError.invalidHeader(path: path,
                detail: "the tensors end at data offset \(covered), but the data section has \(dataSize) bytes (header length or file size is off by \(dataSize - covered))")
        }
        return (entries, metadata)
    }

    /// A JSON array of integers (booleans and non-integral numbers rejected), or nil.
    private static func integers(_ value: Any?) -> [Int]? {
        guard let values = value as? [Any] else { return nil }
        var out: [Int] = []
        for v in values {
            guard let n = v as? NSNumber, "iqlsIQLS".contains(String(cString: n.objCType)) else { return nil }
            out.append(n.intValue)
        }
        return out
    }
}

extension Float {
    /// Converts IEEE half-precision bits.
    public init(float16Bits bits: UInt16) {
        let sign = UInt32(bits & 0x8000) << 16
        let exponent = Int((bits >> 10) & 0x1F)
        let mantissa = UInt32(bits & 0x3FF)
        if exponent == 0 {
            // Zero or subnormal: mantissa * 2^-24.
            let magnitude = Float(mantissa) * Float(sign: .plus, exponent: -24, significand: 1)
            self = sign != 0 ? -magnitude : magnitude
        } else if exponent == 31 {
            self = Float(bitPattern: sign | 0x7F80_0000 | (mantissa << 13))
        } else {
            self = Float(bitPattern: sign | (UInt32(exponent - 15 + 127) << 23) | (mantissa << 13))
        }
    }

    /// Nearest IEEE half-precision bits (round to nearest even; overflow to infinity).
    public var float16Bits: UInt16 {
        #if arch(x86_64) || arch(arm64)
        return Float16(self).bitPattern
        #else
        fatalError("Float16 conversion unavailable on this architecture")
        #endif
    }
}
