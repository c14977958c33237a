import DistillRuntime
import Foundation

/// A value in a log record: OpenTelemetry's `AnyValue` (string, bool, 64-bit integer, double, bytes, array,
/// key-value list). Records arriving as JSON and as OTLP are both held in this form, so every forward target
/// encodes from one shape.
public indirect enum LogValue: Sendable, Equatable {
    case string(String)
    case bool(Bool)
    case int(Int64)
    case double(Double)
    case bytes([UInt8])
    case array([LogValue])
    case map([LogAttribute])

    /// A value `JSONSerialization` produced. Numbers keep their kind (true/false are not 1/0); integers beyond
    /// 64 bits become doubles.
    public init(json value: Any) {
        switch value {
        case let s as String: self = .string(s)
        case let n as NSNumber:
            switch StrictJSON.numberKind(n) {
            case .bool: self = .bool(n.boolValue)
            case .float: self = .double(n.doubleValue)
            case .unsigned: self = n.uint64Value <= UInt64(Int64.max) ? .int(Int64(n.uint64Value)) : .double(n.doubleValue)
            case .signed: self = .int(n.int64Value)
            }
        case let a as [Any]: self = .array(a.map(LogValue.init(json:)))
        case let o as [String: Any]: self = .map(o.keys.sorted().map { LogAttribute($0, LogValue(json: o[$0]!)) })
        default: self = .string("")  // JSON null
        }
    }

    /// Writes a value `JSONSerialization` produced back as JSON (object keys sorted), without building a
    /// ``LogValue`` or going through `JSONSerialization` (whose writer, with sorted keys, cost more than the model
    /// on `/v1/logs`). Integers keep every digit; JSON null stays null.
    public static func writeJSON(_ value: Any, to w: inout JSONLineWriter) {
        switch value {
        case let s as String: w.string(s)
        case let n as NSNumber:
            switch StrictJSON.numberKind(n) {
            case .bool: w.raw(n.boolValue ? "true" : "false")
            case .float:
                let d = n.doubleValue
                d.isFinite ? w.bytes.append(contentsOf: "\(d)".utf8) : w.raw("null")
            case .unsigned: w.bytes.append(contentsOf: String(n.uint64Value).utf8)
            case .signed: w.bytes.append(contentsOf: String(n.int64Value).utf8)
            }
        case let a as [Any]:
            w.raw("[")
            for (i, v) in a.enumerated() { if i > 0 { w.raw(",") }; writeJSON(v, to: &w) }
            w.raw("]")
        case let o as [String: Any]:
            w.raw("{")
            for (i, k) in o.keys.sorted().enumerated() {
                if i > 0 { w.raw(",") }
                w.string(k); w.raw(":"); writeJSON(o[k]!, to: &w)
            }
            w.raw("}")
        default: w.raw("null")
        }
    }

    /// The string inside `.string`, nil otherwise.
    public var stringValue: String? {
        if case .string(let s) = self { return s }
        return nil
    }

    /// As plain JSON (objects for maps, base64 for bytes): how JSON targets (NDJSON, Elasticsearch) carry it.
    public func writePlainJSON(to w: inout JSONLineWriter) {
        switch self {
        case .string(let s): w.string(s)
        case .bool(let b): w.raw(b ? "true" : "false")
        case .int(let i): w.bytes.append(contentsOf: String(i).utf8)
        case .double(let d): d.isFinite ? w.bytes.append(contentsOf: "\(d)".utf8) : w.raw("null")
        case .bytes(let b): w.string(Data(b).base64EncodedString())
        case .array(let a):
            w.raw("[")
            for (i, v) in a.enumerated() { if i > 0 { w.raw(",") }; v.writePlainJSON(to: &w) }
            w.raw("]")
        case .map(let m):
            w.raw("{")
            for (i, kv) in m.enumerated() {
                if i > 0 { w.raw(",") }
                w.string(kv.key); w.raw(":"); kv.value.writePlainJSON(to: &w)
            }
            w.raw("}")
        }
    }

    /// As OTLP/JSON `AnyValue` (`{"stringValue": …}`, 64-bit integers as strings, bytes as base64).
    public func writeOTLPJSON(to w: inout JSONLineWriter) {
        switch self {
        case .string(let s): w.raw("{\"stringValue\":"); w.string(s); w.raw("}")
        case .bool(let b): w.raw(b ? "{\"boolValue\":true}" : "{\"boolValue\":false}")
        case .int(let i): w.raw("{\"intValue\":\""); w.bytes.append(contentsOf: String(i).utf8); w.raw("\"}")
        case .double(let d):
            w.raw("{\"doubleValue\":")
            if d.isFinite { w.bytes.append(contentsOf: "\(d)".utf8) } else { w.string(d.isNaN ? "NaN" : d > 0 ? "Infinity" : "-Infinity") }
            w.raw("}")
        case .bytes(let b): w.raw("{\"bytesValue\":"); w.string(Data(b).base64EncodedString()); w.raw("}")
        case .array(let a):
            w.raw("{\"arrayValue\":{\"values\":[")
            for (i, v) in a.enumerated() { if i > 0 { w.raw(",") }; v.writeOTLPJSON(to: &w) }
            w.raw("]}}")
        case .map(let m):
            w.raw("{\"kvlistValue\":{\"values\":")
            LogAttribute.writeOTLPJSON(m, to: &w)
            w.raw("}}")
        }
    }

    /// The text a string target (a Loki line, structured metadata) shows: strings as they are, the rest as JSON.
    public var text: String {
        if case .string(let s) = self { return s }
        var w = JSONLineWriter(capacity: 64)
        writePlainJSON(to: &w)
        return String(decoding: w.bytes, as: UTF8.self)
    }
}

/// One key and value: an OpenTelemetry attribute, or a field of a JSON record.
public struct LogAttribute: Sendable, Equatable {
    public var key: String
    public var value: LogValue

    public init(_ key: String, _ value: LogValue) { (self.key, self.value) = (key, value) }

    /// An OTLP/JSON `KeyValue` list: `[{"key": …, "value": {…}}, …]`.
    public static func writeOTLPJSON(_ attributes: [LogAttribute], to w: inout JSONLineWriter) {
        w.raw("[")
        for (i, kv) in attributes.enumerated() {
            w.raw(i == 0 ? "{\"key\":" : ",{\"key\":")
            w.string(kv.key)
            w.raw(",\"value\":")
            kv.value.writeOTLPJSON(to: &w)
            w.raw("}")
        }
        w.raw("]")
    }
}
