import DistillRuntime

/// Elasticsearch and OpenSearch `_bulk` NDJSON: `{"create":{"_id":…}}` and the document per record. `create`
/// works for indices and for data streams (the default index `logs-distill-default` matches the built-in `logs-*-*`
/// template, so it becomes one); the `_id` makes a retried request idempotent: records already stored answer 409,
/// which counts as delivered. Documents get `@timestamp` when they have none.
public struct ElasticsearchBulkFormat: WireFormat {
    public var contentType: String { "application/x-ndjson" }
    public init() {}

    public func fragment(_ entry: LogEntry, id: String) -> Fragment {
        var w = JSONLineWriter(capacity: 320)
        w.raw("{\"create\":{\"_id\":")
        w.string(id)
        w.raw("}}\n")
        w.bytes.append(contentsOf: entry.jsonDocument(timestampKey: "@timestamp"))
        w.bytes.append(10)
        return Fragment(item: w.bytes)
    }

    public func body<C: Collection<Fragment>>(_ fragments: C) -> [UInt8] { NDJSONFormat().body(fragments) }
}
