import DistillRuntime
import Foundation

/// A MessagePack decoder for Fluent Bit's `http` output with `format msgpack` (its default): a body of
/// concatenated events, each `[time, record]` or, since Fluent Bit 2.1, `[[time, metadata], record]`, the time an
/// EventTime (extension type 0: seconds and nanoseconds, big-endian) or a number.
///
/// Values come out as Foundation objects, as `JSONSerialization` makes them (`String`, `NSNumber`, `[Any]`,
/// `[String: Any]`, `NSNull`), so records go down the same path as JSON ones. Every length is checked against the
/// bytes left before anything is allocated; nesting deeper than ``maxDepth`` is refused. Lenient where shippers
/// are (invalid UTF-8 replaced, a repeated key's last value kept), strict where the body is not MessagePack.
public struct MessagePack {
    public static let maxDepth = 64
    public static let mediaTypes: Set<String> = ["application/msgpack", "application/x-msgpack"]

    private let bytes: [UInt8]
    private var i = 0

    /// Why a body does not decode: what, at which byte offset.
    public struct Failure: Error, LocalizedError {
        public var offset: Int
        public var detail: String
        public var errorDescription: String? { "\(detail) at byte \(offset)" }
    }

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    /// The events of a Fluent Bit body as records: the record map, with `date` (Unix seconds, as Fluent Bit's
    /// JSON formats write it) added from the event time when the record has none.
    public static func fluentBitRecords(_ body: [UInt8], limit: Int) throws -> [Any] {
        var reader = MessagePack(body)
        var records: [Any] = []
        while reader.i < reader.bytes.count {
            let start = reader.i
            let event = try reader.value(depth: 0)
            guard let pair = event as? [Any], pair.count == 2 else {
                throw Failure(offset: start, detail: "event \(records.count) is not [time, record] (Fluent Bit's msgpack event)")
            }
            let header = (pair[0] as? [Any])?.first ?? pair[0]  // v2: [[time, metadata], record]
            // Fluent Bit 3's group markers (time -1: group start, -2: group end) carry no record.
            if let marker = header as? NSNumber, StrictJSON.numberKind(marker) == .signed, marker.int64Value == -1 || marker.int64Value == -2 { continue }
            guard var record = pair[1] as? [String: Any] else {
                throw Failure(offset: start, detail: "event \(records.count)'s record is not a map with string keys")
            }
            if record["date"] == nil, let seconds = (header as? NSNumber)?.doubleValue, seconds.isFinite { record["date"] = NSNumber(value: seconds) }
            records.append(record)
            if records.count > limit { break }
        }
        return records
    }

    private mutating func byte() throws -> UInt8 {
        guard i < bytes.count else { throw Failure(offset: i, detail: "the body ends inside a value") }
        defer { i += 1 }
        return bytes[i]
    }

    private mutating func take(_ n: Int) throws -> ArraySlice<UInt8> {
        guard n >= 0, n <= bytes.count - i else { throw Failure(offset: i, detail: "a length of \(n) bytes runs past the end of the body") }
        defer { i += n }
        return bytes[i..<(i + n)]
    }

    private mutating func unsigned(_ width: Int) throws -> UInt64 {
        try take(width).reduce(0) { $0 << 8 | UInt64($1) }
    }

    private mutating func count(_ width: Int) throws -> Int {
        let n = try unsigned(width)
        // Every element takes at least one byte: a count beyond what is left cannot be honest.
        guard n <= UInt64(bytes.count - i) else { throw Failure(offset: i, detail: "a count of \(n) elements is more than the body holds") }
        return Int(n)
    }

    /// Invalid UTF-8 becomes U+FFFD, as shippers do: one bad byte must not fail a chunk of records.
    private mutating func string(_ n: Int) throws -> String { String(decoding: try take(n), as: UTF8.self) }

    mutating func value(depth: Int) throws -> Any {
        guard depth < Self.maxDepth else { throw Failure(offset: i, detail: "values nested deeper than \(Self.maxDepth)") }
        let at = i
        let b = try byte()
        switch b {
        case 0x00...0x7f: return NSNumber(value: Int64(b))
        case 0xe0...0xff: return NSNumber(value: Int64(Int8(bitPattern: b)))
        case 0x80...0x8f: return try map(Int(b & 0x0f), depth: depth)
        case 0x90...0x9f: return try array(Int(b & 0x0f), depth: depth)
        case 0xa0...0xbf: return try string(Int(b & 0x1f))
        case 0xc0: return NSNull()
        case 0xc2: return NSNumber(value: false)
        case 0xc3: return NSNumber(value: true)
        case 0xc4, 0xc5, 0xc6:  // bin: its text when it is UTF-8 (a `log` sent as bin), base64 otherwise
            let n = Int(try unsigned(1 << Int(b - 0xc4)))
            let data = try take(n)
            return String(validating: data, as: UTF8.self) ?? Data(data).base64EncodedString()
        case 0xc7, 0xc8, 0xc9:  // ext 8/16/32
            let n = Int(try unsigned(1 << Int(b - 0xc7)))
            return try ext(n)
        case 0xca: return NSNumber(value: Double(Float(bitPattern: UInt32(try unsigned(4)))))
        case 0xcb: return NSNumber(value: Double(bitPattern: try unsigned(8)))
        case 0xcc, 0xcd, 0xce, 0xcf:
            let v = try unsigned(1 << Int(b - 0xcc))
            return v <= UInt64(Int64.max) ? NSNumber(value: Int64(v)) : NSNumber(value: v)
        case 0xd0: return NSNumber(value: Int64(Int8(truncatingIfNeeded: try unsigned(1))))
        case 0xd1: return NSNumber(value: Int64(Int16(truncatingIfNeeded: try unsigned(2))))
        case 0xd2: return NSNumber(value: Int64(Int32(truncatingIfNeeded: try unsigned(4))))
        case 0xd3: return NSNumber(value: Int64(bitPattern: try unsigned(8)))
        case 0xd4, 0xd5, 0xd6, 0xd7, 0xd8: return try ext(1 << Int(b - 0xd4))  // fixext 1/2/4/8/16
        case 0xd9, 0xda, 0xdb: return try string(Int(try unsigned(1 << Int(b - 0xd9))))
        case 0xdc, 0xdd: return try array(try count(b == 0xdc ? 2 : 4), depth: depth)
        case 0xde, 0xdf: return try map(try count(b == 0xde ? 2 : 4), depth: depth)
        default: throw Failure(offset: at, detail: "byte 0x\(String(b, radix: 16)) starts no MessagePack value")
        }
    }

    /// An extension value: EventTime (type 0, 8 bytes) as Unix seconds; any other as base64 of its data.
    private mutating func ext(_ n: Int) throws -> Any {
        let type = Int8(bitPattern: try byte())
        let data = try take(n)
        if type == 0, n == 8 {
            let seconds = data.prefix(4).reduce(0) { $0 << 8 | UInt64($1) }, nanos = data.suffix(4).reduce(0) { $0 << 8 | UInt64($1) }
            return NSNumber(value: Double(seconds) + Double(nanos) / 1e9)
        }
        return Data(data).base64EncodedString()
    }

    private mutating func array(_ n: Int, depth: Int) throws -> [Any] {
        guard n <= bytes.count - i else { throw Failure(offset: i, detail: "an array of \(n) elements is more than the body holds") }
        var out: [Any] = []
        out.reserveCapacity(n)
        for _ in 0..<n { out.append(try value(depth: depth + 1)) }
        return out
    }

    private mutating func map(_ n: Int, depth: Int) throws -> [String: Any] {
        guard n <= (bytes.count - i) / 2 else { throw Failure(offset: i, detail: "a map of \(n) entries is more than the body holds") }
        var out: [String: Any] = [:]
        out.reserveCapacity(n)
        for _ in 0..<n {
            let at = i
            guard let key = try value(depth: depth + 1) as? String else { throw Failure(offset: at, detail: "a map key is not a string") }
            out[key] = try value(depth: depth + 1)  // a repeated key: the last wins, as Fluent Bit's own JSON output does
        }
        return out
    }
}
