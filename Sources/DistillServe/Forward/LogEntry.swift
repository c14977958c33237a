import DistillRuntime
import Foundation

/// A received log record with what Distill added, in the shape every forward target encodes from.
///
/// The field contract (docs/forwarding.md): OTLP attributes and Loki structured metadata carry `log.category`,
/// `log.category.confidence` and `log.template` (Loki spells them with `_`, as its own OTLP intake does); JSON
/// records (NDJSON, Elasticsearch, the `/v1/logs` answer) carry them as `distill.label`, `distill.probability`
/// and `distill.template` — one `distill` object, because `log.category` next to `log.category.confidence`
/// is a mapping conflict in Elasticsearch. A record not classified carries `distill.error` instead.
public struct LogEntry {
    /// What Distill added to the record.
    public enum Annotation: Sendable, Equatable {
        case classified(label: String, probability: Float, template: String)
        /// Passed through unlabelled, with the reason.
        case skipped(String)
    }

    /// Where the record came from: a JSON record keeps its fields as they were; an OTLP record its structure.
    public enum Source {
        case json(fields: [String: Any], lineField: String?)
        case otlp
    }

    public var source: Source
    /// OTLP resource and scope (empty for JSON records).
    public var resource: [LogAttribute] = []
    public var scopeName = "", scopeVersion = ""
    public var scopeAttributes: [LogAttribute] = []
    /// When the event happened (0: unknown) and when it was received, in nanoseconds since the Unix epoch.
    public var timeUnixNano: UInt64 = 0
    public var observedTimeUnixNano: UInt64 = 0
    public var severityNumber = 0
    public var severityText = ""
    public var body: LogValue?
    /// OTLP record attributes (JSON records: their fields, except the line and the time).
    public var attributes: [LogAttribute] = []
    public var traceID: [UInt8] = [], spanID: [UInt8] = []
    public var flags: UInt32 = 0
    public var eventName = ""
    public var annotation: Annotation = .skipped("")

    /// The contract's attribute names.
    public static let categoryKey = "log.category", confidenceKey = "log.category.confidence", templateKey = "log.template",
                      errorKey = "distill.error"

    /// The attributes Distill adds, in contract order.
    public var annotationAttributes: [LogAttribute] {
        switch annotation {
        case .classified(let label, let probability, let template):
            return [LogAttribute(Self.categoryKey, .string(label)), LogAttribute(Self.confidenceKey, .double(Self.rounded(probability))),
                    LogAttribute(Self.templateKey, .string(template))]
        case .skipped(let reason):
            return [LogAttribute(Self.errorKey, .string(reason))]
        }
    }

    /// A probability with 6 decimals, as the JSON answers write it.
    static func rounded(_ p: Float) -> Double { p.isFinite ? (Double(p) * 1e6).rounded() / 1e6 : 0 }

    /// The service the record belongs to: the resource's `service.name`, a JSON record's `service` field, or
    /// `unknown_service` (OpenTelemetry's and Loki's name for none).
    public var serviceName: String {
        if let s = resource.first(where: { $0.key == "service.name" })?.value.stringValue, !s.isEmpty { return s }
        if case .json(let fields, _) = source {
            for key in ["service.name", "service_name", "service"] { if let s = fields[key] as? String, !s.isEmpty { return s } }
        }
        return "unknown_service"
    }

    /// The event's time, or when it was received when it has none.
    public var timeOrObserved: UInt64 { timeUnixNano != 0 ? timeUnixNano : observedTimeUnixNano }

    /// The line a store shows: a classified JSON record's text, an OTLP body, or the whole JSON record.
    public var line: String {
        switch source {
        case .json(let fields, let lineField):
            if let lineField, let text = fields[lineField] as? String { return LogRecords.trimmingLineBreaks(text) }
            var w = JSONLineWriter(capacity: 256)
            LogValue.writeJSON(fields, to: &w)
            return String(decoding: w.bytes, as: UTF8.self)
        case .otlp:
            return body?.text ?? ""
        }
    }

    /// The record as one JSON object with a `distill` object (NDJSON and Elasticsearch targets): a JSON record's
    /// own fields (``writeJSONRecord(_:annotation:timestamp:to:)``); an OTLP record as `@timestamp`, `message`,
    /// `severity_text`, `attributes`, `resource`, `scope`. `timestampKey` is added when the record has no such field.
    public func jsonDocument(timestampKey: String? = nil) -> [UInt8] {
        var w = JSONLineWriter(capacity: 256)
        switch source {
        case .json(let fields, _):
            let stamp = timestampKey.flatMap { fields[$0] == nil ? (key: $0, value: Self.rfc3339(timeOrObserved)) : nil }
            Self.writeJSONRecord(fields, annotation: annotation, timestamp: stamp, to: &w)
        case .otlp:
            w.raw("{")
            var first = true
            func key(_ k: String) {
                if !first { w.raw(",") }
                first = false
                w.string(k)
                w.raw(":")
            }
            key(timestampKey ?? "@timestamp")
            w.string(Self.rfc3339(timeOrObserved))
            if let body { key("message"); body.writePlainJSON(to: &w) }
            if !severityText.isEmpty { key("severity_text"); w.string(severityText) }
            if severityNumber != 0 { key("severity_number"); w.int(severityNumber) }
            if !attributes.isEmpty { key("attributes"); LogValue.map(attributes).writePlainJSON(to: &w) }
            if !resource.isEmpty { key("resource"); LogValue.map(resource).writePlainJSON(to: &w) }
            if !scopeName.isEmpty { key("scope"); LogValue.map([LogAttribute("name", .string(scopeName)), LogAttribute("version", .string(scopeVersion))]).writePlainJSON(to: &w) }
            if !traceID.isEmpty { key("trace_id"); w.string(Self.hex(traceID)) }
            if !spanID.isEmpty { key("span_id"); w.string(Self.hex(spanID)) }
            key("distill")
            Self.writeDistillObject(annotation, to: &w)
            w.raw("}")
        }
        return w.bytes
    }

    /// A shipper's JSON record as it came (keys sorted; `timestamp` first when given) with a `distill` object in
    /// place of any it had: the `/v1/logs` answer and the JSON targets.
    public static func writeJSONRecord(_ fields: [String: Any], annotation: Annotation, timestamp: (key: String, value: String)? = nil,
                                       to w: inout JSONLineWriter) {
        w.raw("{")
        if let timestamp {
            w.string(timestamp.key)
            w.raw(":")
            w.string(timestamp.value)
            w.raw(",")
        }
        for k in fields.keys.sorted() where k != "distill" {
            w.string(k)
            w.raw(":")
            LogValue.writeJSON(fields[k]!, to: &w)
            w.raw(",")
        }
        w.raw("\"distill\":")
        writeDistillObject(annotation, to: &w)
        w.raw("}")
    }

    /// The `distill` object of JSON records: `{"label", "probability", "template"}` or `{"error"}`.
    public static func writeDistillObject(_ annotation: Annotation, to w: inout JSONLineWriter) {
        switch annotation {
        case .classified(let label, let probability, let template):
            w.raw("{\"label\":"); w.string(label); w.raw(",\"probability\":"); w.probability(probability)
            w.raw(",\"template\":"); w.string(template); w.raw("}")
        case .skipped(let reason):
            w.raw("{\"error\":"); w.string(reason); w.raw("}")
        }
    }

    /// A JSON record as an entry: its time from `timestamp`, `@timestamp`, `time`, `ts` or `date` (RFC 3339, or
    /// a Unix time in seconds, milliseconds, microseconds or nanoseconds), its other fields as attributes.
    public static func fromJSON(_ fields: [String: Any], lineField: String?, observed: UInt64) -> LogEntry {
        var entry = LogEntry(source: .json(fields: fields, lineField: lineField))
        entry.observedTimeUnixNano = observed
        var timeKey: String?
        for k in ["timestamp", "@timestamp", "time", "ts", "date"] {
            if let value = fields[k], let t = unixNanos(value) { (entry.timeUnixNano, timeKey) = (t, k); break }
        }
        if let lineField, let text = fields[lineField] as? String {
            entry.body = .string(LogRecords.trimmingLineBreaks(text))
        } else {
            entry.body = .map(fields.keys.sorted().filter { $0 != "distill" }.map { LogAttribute($0, LogValue(json: fields[$0]!)) })
        }
        if lineField != nil {
            entry.attributes = fields.keys.sorted().filter { $0 != lineField && $0 != timeKey && $0 != "distill" }.map { LogAttribute($0, LogValue(json: fields[$0]!)) }
        }
        if let level = (fields["level"] ?? fields["severity"]) as? String { entry.severityText = level }
        return entry
    }

    /// A time value as nanoseconds since the epoch, nil when it is not one.
    static func unixNanos(_ value: Any) -> UInt64? {
        if let s = value as? String { return parseRFC3339(s) }
        guard let n = value as? NSNumber, StrictJSON.numberKind(n) != .bool else { return nil }
        let v = n.doubleValue
        guard v.isFinite, v > 0 else { return nil }
        // Magnitude tells the unit: seconds until the year 5138, then ms, µs, ns.
        let nanos: Double = v < 1e11 ? v * 1e9 : v < 1e14 ? v * 1e6 : v < 1e17 ? v * 1e3 : v
        guard nanos < 1.8e19 else { return nil }
        if StrictJSON.numberKind(n) != .float, v >= 1e17 { return n.uint64Value }
        return UInt64(nanos)
    }

    /// `2026-12-01T17:10:59.123456789Z` or with a `+hh:mm` offset; nil for anything else.
    static func parseRFC3339(_ s: String) -> UInt64? {
        let b = Array(s.utf8)
        guard b.count >= 20 else { return nil }
        func num(_ from: Int, _ count: Int) -> Int? {
            guard from + count <= b.count else { return nil }
            var v = 0
            for i in from..<(from + count) {
                guard b[i] >= 48 && b[i] <= 57 else { return nil }
                v = v * 10 + Int(b[i] - 48)
            }
            return v
        }
        guard let year = num(0, 4), b[4] == 45, let month = num(5, 2), b[7] == 45, let day = num(8, 2),
              b[10] == 84 || b[10] == 116 || b[10] == 32, let hour = num(11, 2), b[13] == 58, let minute = num(14, 2), b[16] == 58,
              let second = num(17, 2), (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60, second <= 60 else { return nil }
        var i = 19
        var fraction: UInt64 = 0
        if i < b.count, b[i] == 46 {
            i += 1
            var digits = 0
            while i < b.count, b[i] >= 48, b[i] <= 57 {
                if digits < 9 { fraction = fraction * 10 + UInt64(b[i] - 48); digits += 1 }
                i += 1
            }
            guard digits > 0 else { return nil }
            for _ in digits..<9 { fraction *= 10 }
        }
        var offset = 0
        guard i < b.count else { return nil }
        if b[i] == 90 || b[i] == 122 {
            i += 1
        } else if b[i] == 43 || b[i] == 45, let oh = num(i + 1, 2), b.count > i + 3, b[i + 3] == 58, let om = num(i + 4, 2) {
            offset = (oh * 60 + om) * 60 * (b[i] == 43 ? 1 : -1)
            i += 6
        } else { return nil }
        guard i == b.count else { return nil }
        // Days from the civil date (Howard Hinnant's algorithm).
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        let days = era * 146_097 + doe - 719_468
        let seconds = days * 86_400 + hour * 3600 + minute * 60 + second - offset
        // Nanoseconds since 1970 fit 64 bits until 2554.
        guard seconds >= 0, seconds <= 18_446_744_072 else { return nil }
        return UInt64(seconds) * 1_000_000_000 + fraction
    }

    /// Nanoseconds since the epoch as RFC 3339 with nanoseconds, in UTC.
    static func rfc3339(_ nanos: UInt64) -> String {
        let seconds = Int(nanos / 1_000_000_000), fraction = Int(nanos % 1_000_000_000)
        let days = seconds / 86_400, rest = seconds % 86_400
        let z = days + 719_468
        let era = z / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        let year = yoe + era * 400 + (month <= 2 ? 1 : 0)
        func pad(_ v: Int, _ n: Int) -> String { let s = String(v); return String(repeating: "0", count: max(0, n - s.count)) + s }
        return "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))T\(pad(rest / 3600, 2)):\(pad(rest / 60 % 60, 2)):\(pad(rest % 60, 2)).\(pad(fraction, 9))Z"
    }

    static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(bytes.count * 2)
        for b in bytes { out.append(digits[Int(b >> 4)]); out.append(digits[Int(b & 15)]) }
        return String(decoding: out, as: UTF8.self)
    }

    /// Nanoseconds since the epoch now.
    static func now() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
    }
}
