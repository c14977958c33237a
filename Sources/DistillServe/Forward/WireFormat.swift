import DistillRuntime

/// One record encoded for a target: `item` is the record, `group` what it shares with records sent next to it
/// (a Loki stream's labels, an OTLP resource and scope; empty for NDJSON). Batches are assembled from fragments,
/// so the queue and the spool hold bytes ready to send and count their size exactly.
public struct Fragment: Sendable, Equatable {
    public var group: [UInt8]
    public var item: [UInt8]
    public var byteCount: Int { group.count + item.count }

    public init(group: [UInt8] = [], item: [UInt8]) { (self.group, self.item) = (group, item) }
}

extension Collection<Fragment> {
    /// Bytes the fragments take (what queue and spool limits count).
    var byteCount: Int { reduce(0) { $0 + $1.byteCount } }
}

/// A store's wire format: how one record becomes a fragment and fragments become a request body.
public protocol WireFormat: Sendable {
    var contentType: String { get }
    /// `id` is unique to the record and stable across retries and restarts (the spool keeps fragments):
    /// targets that deduplicate (Elasticsearch `_id`) use it.
    func fragment(_ entry: LogEntry, id: String) -> Fragment
    func body<C: Collection<Fragment>>(_ fragments: C) -> [UInt8]
}

extension WireFormat {
    /// Fragments grouped by `group`, groups in order of first appearance, records in order within each.
    static func grouped<C: Collection<Fragment>>(_ fragments: C) -> [(group: [UInt8], items: [[UInt8]])] {
        var order: [[UInt8]] = []
        var items: [[UInt8]: [[UInt8]]] = [:]
        for f in fragments {
            if items[f.group] == nil { order.append(f.group) }
            items[f.group, default: []].append(f.item)
        }
        return order.map { ($0, items[$0]!) }
    }

    /// JSON bodies made of groups: `prefix`, then per group `open(group)`, its items comma-separated and `close`,
    /// groups comma-separated, then `suffix`.
    static func jsonGroups<C: Collection<Fragment>>(_ fragments: C, prefix: String, open: (inout [UInt8], [UInt8]) -> Void, close: String,
                                                    suffix: String = "]}") -> [UInt8] {
        var out: [UInt8] = Array(prefix.utf8)
        for (i, group) in grouped(fragments).enumerated() {
            if i > 0 { out.append(44) }
            open(&out, group.group)
            for (k, item) in group.items.enumerated() {
                if k > 0 { out.append(44) }
                out.append(contentsOf: item)
            }
            out.append(contentsOf: close.utf8)
        }
        out.append(contentsOf: suffix.utf8)
        return out
    }
}

/// Newline-delimited JSON: one enriched record per line (`--forward http=URL`), for any HTTP endpoint that
/// takes NDJSON.
public struct NDJSONFormat: WireFormat {
    public var contentType: String { "application/x-ndjson" }
    public init() {}

    public func fragment(_ entry: LogEntry, id: String) -> Fragment {
        var line = entry.jsonDocument()
        line.append(10)
        return Fragment(item: line)
    }

    public func body<C: Collection<Fragment>>(_ fragments: C) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(fragments.reduce(0) { $0 + $1.item.count })
        for f in fragments { out.append(contentsOf: f.item) }
        return out
    }
}
