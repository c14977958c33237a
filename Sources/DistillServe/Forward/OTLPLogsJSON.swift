import DistillRuntime
import Foundation

/// OTLP/HTTP logs in JSON (`ExportLogsServiceRequest`, the protobuf JSON mapping): what an OpenTelemetry SDK
/// or Collector sends to `POST /v1/logs` with `Content-Type: application/json`. Field names are read in
/// lowerCamelCase and in the proto's snake_case, as the mapping asks of parsers; 64-bit integers as strings or
/// numbers; trace and span ids as hex.
public enum OTLPLogsJSON {
    /// The records of a JSON body when it is an OTLP request rather than shipper records (one object with
    /// `resourceLogs`), nil otherwise. The body is parsed once: a cheap look at its start first, then the parse
    /// that both decides and is used.
    public static func parseIfRequest(_ body: [UInt8], options: ServeOptions, observed: UInt64) throws -> [LogEntry]? {
        guard body.first(where: { $0 != 32 && $0 != 9 && $0 != 10 && $0 != 13 }) == UInt8(ascii: "{") else { return nil }
        guard let text = String(validating: body.prefix(512), as: UTF8.self) ?? String(bytes: body.prefix(511), encoding: .utf8),
              text.contains("resourceLogs") || text.contains("resource_logs") else { return nil }
        guard let object = try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any], object.count == 1,
              (object["resourceLogs"] ?? object["resource_logs"]) is [Any] else { return nil }
        try JSONBody.checkStrict(body)
        return try records(in: object, options: options, observed: observed)
    }

    /// The records of a request, each with its resource and scope; the text to classify is the body string (or a
    /// `--log-field` of a key-value body).
    public static func parse(_ body: [UInt8], options: ServeOptions, observed: UInt64) throws -> [LogEntry] {
        try JSONBody.checkStrict(body)
        let object: [String: Any]
        do {
            guard let o = try JSONSerialization.jsonObject(with: Data(body)) as? [String: Any] else { throw ServeError.badRequest("the body must be a JSON object") }
            object = o
        } catch let error as ServeError { throw error } catch {
            throw ServeError.badRequest("the body is " + StrictJSON.parseFailure(error, json: String(decoding: body, as: UTF8.self)))
        }
        return try records(in: object, options: options, observed: observed)
    }

    static func records(in object: [String: Any], options: ServeOptions, observed: UInt64) throws -> [LogEntry] {
        var entries: [LogEntry] = []
        for (r, resourceLogs) in try list(object, "resourceLogs", "resource_logs", at: "").enumerated() {
            let path = "resourceLogs[\(r)]"
            let resource = try attributes(dictionary(resourceLogs, "resource", at: path), at: path + ".resource")
            for (s, scopeLogs) in try list(resourceLogs, "scopeLogs", "scope_logs", at: path).enumerated() {
                let scopePath = "\(path).scopeLogs[\(s)]"
                let scope = try dictionary(scopeLogs, "scope", at: scopePath)
                let scopeAttributes = try attributes(scope, at: scopePath + ".scope")
                for (k, record) in try list(scopeLogs, "logRecords", "log_records", at: scopePath).enumerated() {
                    let at = "\(scopePath).logRecords[\(k)]"
                    guard let record = record as? [String: Any] else { throw ServeError.badRequest("\(at) is not an object") }
                    var entry = LogEntry(source: .otlp)
                    entry.resource = resource
                    entry.scopeName = scope["name"] as? String ?? ""
                    entry.scopeVersion = scope["version"] as? String ?? ""
                    entry.scopeAttributes = scopeAttributes
                    entry.timeUnixNano = try uint64(record, "timeUnixNano", "time_unix_nano", at: at)
                    entry.observedTimeUnixNano = try uint64(record, "observedTimeUnixNano", "observed_time_unix_nano", at: at)
                    if entry.observedTimeUnixNano == 0 { entry.observedTimeUnixNano = observed }
                    entry.severityNumber = try severity(record, at: at)
                    entry.severityText = record["severityText"] as? String ?? record["severity_text"] as? String ?? ""
                    if let b = record["body"] { entry.body = try value(b, at: at + ".body") }
                    entry.attributes = try attributes(record, at: at)
                    entry.traceID = try hexBytes(record["traceId"] ?? record["trace_id"], count: 16, at: at + ".traceId")
                    entry.spanID = try hexBytes(record["spanId"] ?? record["span_id"], count: 8, at: at + ".spanId")
                    entry.flags = UInt32(truncatingIfNeeded: try int64(record, "flags", "flags", at: at))
                    entry.eventName = record["eventName"] as? String ?? record["event_name"] as? String ?? ""
                    entries.append(entry)
                    guard entries.count <= options.maxBatch else {
                        throw ServeError.tooLarge("more than \(options.maxBatch) log records in one request (--max-batch)")
                    }
                }
            }
        }
        return entries
    }

    /// The line to classify in a record: its string body, or a `--log-field` of a key-value body.
    public static func text(of entry: LogEntry, options: ServeOptions) -> String? {
        switch entry.body {
        case .string(let s): return LogRecords.trimmingLineBreaks(s)
        case .map(let fields):
            for name in options.logFields { if let s = fields.first(where: { $0.key == name })?.value.stringValue { return LogRecords.trimmingLineBreaks(s) } }
            return nil
        default: return nil
        }
    }

    /// The `ExportLogsServiceResponse`: `{}`, or a partial success naming what was not classified (a warning:
    /// nothing is rejected, such records are passed on unlabelled).
    public static func response(skipped: Int, reason: String?) -> [UInt8] {
        guard skipped > 0 else { return Array("{}".utf8) }
        var w = JSONLineWriter(capacity: 128)
        w.raw("{\"partialSuccess\":{\"rejectedLogRecords\":\"0\",\"errorMessage\":")
        w.string("\(skipped) log record(s) passed through unlabelled: \(reason ?? "no text")")
        w.raw("}}")
        return w.bytes
    }

    // MARK: reading fields

    private static func list(_ object: Any, _ camel: String, _ snake: String, at path: String) throws -> [Any] {
        guard let o = object as? [String: Any] else { throw ServeError.badRequest("\(path.isEmpty ? "the body" : path) is not an object") }
        guard let v = o[camel] ?? o[snake] else { return [] }
        guard let a = v as? [Any] else { throw ServeError.badRequest("\(path.isEmpty ? "" : path + ".")\(camel) is not an array") }
        return a
    }

    private static func dictionary(_ object: Any, _ key: String, at path: String) throws -> [String: Any] {
        guard let o = object as? [String: Any] else { throw ServeError.badRequest("\(path) is not an object") }
        guard let v = o[key] else { return [:] }
        guard let d = v as? [String: Any] else { throw ServeError.badRequest("\(path).\(key) is not an object") }
        return d
    }

    private static func attributes(_ object: [String: Any], at path: String) throws -> [LogAttribute] {
        guard let v = object["attributes"] else { return [] }
        guard let a = v as? [Any] else { throw ServeError.badRequest("\(path).attributes is not an array") }
        return try keyValues(a, at: path + ".attributes")
    }

    private static func keyValues(_ list: [Any], at path: String) throws -> [LogAttribute] {
        try list.enumerated().map { i, item in
            guard let kv = item as? [String: Any], let key = kv["key"] as? String else { throw ServeError.badRequest("\(path)[\(i)] has no string 'key'") }
            return LogAttribute(key, try kv["value"].map { try value($0, at: "\(path)[\(i)].value") } ?? .string(""))
        }
    }

    static func value(_ any: Any, at path: String) throws -> LogValue {
        guard let o = any as? [String: Any] else { throw ServeError.badRequest("\(path) is not an AnyValue object") }
        if let s = o["stringValue"] ?? o["string_value"] {
            guard let s = s as? String else { throw ServeError.badRequest("\(path).stringValue is not a string") }
            return .string(s)
        }
        if let b = o["boolValue"] ?? o["bool_value"] {
            guard let n = b as? NSNumber, StrictJSON.numberKind(n) == .bool else { throw ServeError.badRequest("\(path).boolValue is not true or false") }
            return .bool(n.boolValue)
        }
        if o["intValue"] != nil || o["int_value"] != nil { return .int(try int64(o, "intValue", "int_value", at: path)) }
        if let d = o["doubleValue"] ?? o["double_value"] {
            if let n = d as? NSNumber, StrictJSON.numberKind(n) != .bool { return .double(n.doubleValue) }
            if let s = d as? String, let v = Double(s) { return .double(v) }  // "NaN", "Infinity"
            throw ServeError.badRequest("\(path).doubleValue is not a number")
        }
        if let b = o["bytesValue"] ?? o["bytes_value"] {
            guard let s = b as? String, let data = Data(base64Encoded: s) else { throw ServeError.badRequest("\(path).bytesValue is not base64") }
            return .bytes(Array(data))
        }
        if let a = o["arrayValue"] ?? o["array_value"] {
            guard let values = ((a as? [String: Any])?["values"] ?? [Any]()) as? [Any] else { throw ServeError.badRequest("\(path).arrayValue.values is not an array") }
            return .array(try values.enumerated().map { try value($1, at: "\(path).arrayValue.values[\($0)]") })
        }
        if let m = o["kvlistValue"] ?? o["kvlist_value"] {
            guard let values = ((m as? [String: Any])?["values"] ?? [Any]()) as? [Any] else { throw ServeError.badRequest("\(path).kvlistValue.values is not an array") }
            return .map(try keyValues(values, at: path + ".kvlistValue.values"))
        }
        return .string("")  // an empty AnyValue
    }

    private static func int64(_ o: [String: Any], _ camel: String, _ snake: String, at path: String) throws -> Int64 {
        guard let v = o[camel] ?? o[snake] else { return 0 }
        if let n = v as? NSNumber {
            switch StrictJSON.numberKind(n) {
            case .bool: break
            case .float: if let i = Int64(exactly: n.doubleValue) { return i }
            case .unsigned: if n.uint64Value <= UInt64(Int64.max) { return Int64(n.uint64Value) }
            case .signed: return n.int64Value
            }
        }
        if let s = v as? String, let i = Int64(s) { return i }
        throw ServeError.badRequest("\(path).\(camel) is not a 64-bit integer")
    }

    /// `severityNumber`: an enum, as its number (any 32-bit value: proto3 enums are open) or its name
    /// (`SEVERITY_NUMBER_INFO`), as the protobuf JSON mapping allows.
    private static func severity(_ o: [String: Any], at path: String) throws -> Int {
        if let name = (o["severityNumber"] ?? o["severity_number"]) as? String, Int64(name) == nil {
            guard let level = severityNames[name] else { throw ServeError.badRequest("\(path).severityNumber '\(name.prefix(40))' is not a SeverityNumber name") }
            return level
        }
        let n = try int64(o, "severityNumber", "severity_number", at: path)
        guard let v = Int32(exactly: n) else { throw ServeError.badRequest("\(path).severityNumber \(n) is not a 32-bit enum value") }
        return Int(v)
    }

    static let severityNames: [String: Int] = {
        var names = ["SEVERITY_NUMBER_UNSPECIFIED": 0]
        for (k, level) in ["TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL"].enumerated() {
            for step in 1...4 { names["SEVERITY_NUMBER_\(level)\(step == 1 ? "" : String(step))"] = k * 4 + step }
        }
        return names
    }()

    private static func uint64(_ o: [String: Any], _ camel: String, _ snake: String, at path: String) throws -> UInt64 {
        guard let v = o[camel] ?? o[snake] else { return 0 }
        if let s = v as? String, let i = UInt64(s) { return i }
        if let n = v as? NSNumber {
            switch StrictJSON.numberKind(n) {
            case .bool: break
            case .float: if let i = UInt64(exactly: n.doubleValue) { return i }
            case .unsigned: return n.uint64Value
            case .signed: if n.int64Value >= 0 { return UInt64(n.int64Value) }
            }
        }
        throw ServeError.badRequest("\(path).\(camel) is not an unsigned 64-bit integer")
    }

    private static func hexBytes(_ v: Any?, count: Int, at path: String) throws -> [UInt8] {
        guard let v else { return [] }
        guard let s = v as? String else { throw ServeError.badRequest("\(path) is not a hex string") }
        if s.isEmpty { return [] }
        let b = Array(s.utf8)
        func nibble(_ c: UInt8) -> UInt8? {
            switch c {
            case 48...57: return c - 48
            case 97...102: return c - 87
            case 65...70: return c - 55
            default: return nil
            }
        }
        guard b.count == count * 2 else { throw ServeError.badRequest("\(path) must be \(count * 2) hex digits, got \(b.count) characters") }
        var out = [UInt8]()
        for i in stride(from: 0, to: b.count, by: 2) {
            guard let hi = nibble(b[i]), let lo = nibble(b[i + 1]) else { throw ServeError.badRequest("\(path) is not hex") }
            out.append(hi << 4 | lo)
        }
        return out
    }
}
