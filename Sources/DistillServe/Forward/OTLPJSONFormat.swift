import DistillRuntime

/// OTLP/HTTP logs in JSON (`--forward otlp-json=URL`, posted to `/v1/logs`): records grouped by resource and
/// scope, the contract's attributes (`log.category`, `log.category.confidence`, `log.template`) appended to each
/// record's own. JSON records get the scope `distill`, their fields as attributes and their line as the body.
public struct OTLPJSONFormat: WireFormat {
    public var contentType: String { "application/json" }
    public init() {}

    public func fragment(_ entry: LogEntry, id: String) -> Fragment {
        var g = JSONLineWriter(capacity: 128)
        g.raw("{\"resource\":{\"attributes\":")
        LogAttribute.writeOTLPJSON(entry.resource, to: &g)
        g.raw("},\"scopeLogs\":[{\"scope\":{\"name\":")
        let (scopeName, scopeVersion) = Self.scope(of: entry)
        g.string(scopeName)
        g.raw(",\"version\":")
        g.string(scopeVersion)
        if !entry.scopeAttributes.isEmpty { g.raw(",\"attributes\":"); LogAttribute.writeOTLPJSON(entry.scopeAttributes, to: &g) }
        g.raw("},\"logRecords\":[")

        var w = JSONLineWriter(capacity: 320)
        w.raw("{\"timeUnixNano\":\"")
        w.bytes.append(contentsOf: String(entry.timeUnixNano).utf8)
        w.raw("\",\"observedTimeUnixNano\":\"")
        w.bytes.append(contentsOf: String(entry.observedTimeUnixNano).utf8)
        w.raw("\"")
        if entry.severityNumber != 0 { w.raw(",\"severityNumber\":"); w.int(entry.severityNumber) }
        if !entry.severityText.isEmpty { w.raw(",\"severityText\":"); w.string(entry.severityText) }
        if let body = entry.body { w.raw(",\"body\":"); body.writeOTLPJSON(to: &w) }
        w.raw(",\"attributes\":")
        LogAttribute.writeOTLPJSON(entry.attributes + entry.annotationAttributes, to: &w)
        if entry.flags != 0 { w.raw(",\"flags\":"); w.int(Int(entry.flags)) }
        if !entry.traceID.isEmpty { w.raw(",\"traceId\":"); w.string(LogEntry.hex(entry.traceID)) }
        if !entry.spanID.isEmpty { w.raw(",\"spanId\":"); w.string(LogEntry.hex(entry.spanID)) }
        if !entry.eventName.isEmpty { w.raw(",\"eventName\":"); w.string(entry.eventName) }
        w.raw("}")
        return Fragment(group: g.bytes, item: w.bytes)
    }

    /// An OTLP record's own scope; `distill` and its version for JSON records.
    static func scope(of entry: LogEntry) -> (String, String) {
        if case .json = entry.source { return ("distill", distillVersion) }
        return (entry.scopeName, entry.scopeVersion)
    }

    public func body<C: Collection<Fragment>>(_ fragments: C) -> [UInt8] {
        // A group is `{"resource":…,"scopeLogs":[{"scope":…,"logRecords":[`, closed by `]}]}`.
        Self.jsonGroups(fragments, prefix: "{\"resourceLogs\":[", open: { $0.append(contentsOf: $1) }, close: "]}]}")
    }
}
