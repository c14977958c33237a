import DistillRuntime

/// Where the category goes in Loki.
public enum LokiCategory: String, Sendable, CaseIterable {
    /// A stream label `log_category`: `{log_category="database"}` selects streams (8 values: cheap for Loki's index).
    case label
    /// Structured metadata `log_category`: filtered with `| log_category="database"`, no extra streams.
    case metadata
}

/// Loki's push API in JSON (`POST /loki/api/v1/push`): streams keyed by labels (`service_name`, and
/// `log_category` with ``LokiCategory/label``), each value `[nanoseconds, line, structured metadata]`. The contract's
/// dotted names are written with `_` (`log_category_confidence`, `log_template`, `distill_error`), as Loki's own
/// OTLP intake does; Loki label names allow no dots.
public struct LokiPushFormat: WireFormat {
    public var category: LokiCategory
    public var contentType: String { "application/json" }

    public init(category: LokiCategory) { self.category = category }

    public func fragment(_ entry: LogEntry, id: String) -> Fragment {
        var labels = JSONLineWriter(capacity: 64)
        labels.raw("{\"service_name\":")
        labels.string(entry.serviceName)
        if category == .label, case .classified(let label, _, _) = entry.annotation {
            labels.raw(",\"log_category\":")
            labels.string(label)
        }
        labels.raw("}")
        var w = JSONLineWriter(capacity: 200)
        w.raw("[\"")
        w.bytes.append(contentsOf: String(entry.timeOrObserved).utf8)
        w.raw("\",")
        w.string(entry.line)
        w.raw(",{")
        switch entry.annotation {
        case .classified(let label, let probability, let template):
            if category == .metadata { w.raw("\"log_category\":"); w.string(label); w.raw(",") }
            w.raw("\"log_category_confidence\":\"")
            w.probability(probability)
            w.raw("\",\"log_template\":")
            w.string(template)
        case .skipped(let reason):
            w.raw("\"distill_error\":")
            w.string(reason)
        }
        if !entry.traceID.isEmpty { w.raw(",\"trace_id\":"); w.string(LogEntry.hex(entry.traceID)) }
        if !entry.spanID.isEmpty { w.raw(",\"span_id\":"); w.string(LogEntry.hex(entry.spanID)) }
        w.raw("}]")
        return Fragment(group: labels.bytes, item: w.bytes)
    }

    public func body<C: Collection<Fragment>>(_ fragments: C) -> [UInt8] {
        Self.jsonGroups(fragments, prefix: "{\"streams\":[", open: { out, labels in
            out.append(contentsOf: "{\"stream\":".utf8)
            out.append(contentsOf: labels)
            out.append(contentsOf: ",\"values\":[".utf8)
        }, close: "]}")
    }
}
