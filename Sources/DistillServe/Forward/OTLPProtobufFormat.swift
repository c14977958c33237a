import DistillRuntime
import Foundation
import OTLPProto
import SwiftProtobuf

/// OTLP/HTTP logs in protobuf (`--forward otlp=URL`, posted to `/v1/logs`), OTLP's default encoding; the same
/// records and attributes as ``OTLPJSONFormat``. A fragment's group is its resource and scope as protobuf, its item
/// the `LogRecord`; the body frames them as `ResourceLogs` and `ScopeLogs` by hand (field 1 and 2, length-delimited),
/// so a batch is assembled without decoding what the queue holds.
public struct OTLPProtobufFormat: WireFormat {
    public var contentType: String { OTLPLogsProtobuf.contentType }
    public init() {}

    public func fragment(_ entry: LogEntry, id: String) -> Fragment {
        var resource = Opentelemetry_Proto_Resource_V1_Resource()
        resource.attributes = entry.resource.map(OTLPLogsProtobuf.otlp)
        var scope = Opentelemetry_Proto_Common_V1_InstrumentationScope()
        (scope.name, scope.version) = OTLPJSONFormat.scope(of: entry)
        scope.attributes = entry.scopeAttributes.map(OTLPLogsProtobuf.otlp)
        var record = OTLPLogRecord()
        record.timeUnixNano = entry.timeUnixNano
        record.observedTimeUnixNano = entry.observedTimeUnixNano
        record.severityNumber = .init(rawValue: entry.severityNumber) ?? .unspecified
        record.severityText = entry.severityText
        if let body = entry.body { record.body = OTLPLogsProtobuf.otlp(body) }
        record.attributes = (entry.attributes + entry.annotationAttributes).map(OTLPLogsProtobuf.otlp)
        record.flags = entry.flags
        record.traceID = Data(entry.traceID)
        record.spanID = Data(entry.spanID)
        record.eventName = entry.eventName
        let resourceBytes: [UInt8] = (try? resource.serializedBytes()) ?? []
        var group: [UInt8] = []
        Self.appendVarint(UInt64(resourceBytes.count), to: &group)
        group += resourceBytes
        group += (try? scope.serializedBytes()) ?? []
        return Fragment(group: group, item: (try? record.serializedBytes()) ?? [])
    }

    public func body<C: Collection<Fragment>>(_ fragments: C) -> [UInt8] {
        var out: [UInt8] = []
        for group in Self.grouped(fragments) {
            // group = varint(resource length) resource scope; written by fragment(), but read defensively (spool files).
            var i = 0, resourceLength = 0, shift = 0
            while i < group.group.count, shift < 28 {
                let b = group.group[i]
                resourceLength |= Int(b & 0x7f) << shift
                i += 1
                if b < 0x80 { break }
                shift += 7
            }
            let split = min(group.group.count, i + resourceLength)
            let resource = group.group[i..<split]
            let scope = group.group[split...]
            var scopeLogs: [UInt8] = []
            Self.appendField(1, scope, to: &scopeLogs)
            for item in group.items { Self.appendField(2, item, to: &scopeLogs) }
            var resourceLogs: [UInt8] = []
            Self.appendField(1, resource, to: &resourceLogs)
            Self.appendField(2, scopeLogs, to: &resourceLogs)
            Self.appendField(1, resourceLogs, to: &out)  // ExportLogsServiceRequest.resource_logs
        }
        return out
    }

    /// A length-delimited field (wire type 2).
    static func appendField(_ number: UInt64, _ bytes: some Collection<UInt8>, to out: inout [UInt8]) {
        appendVarint(number << 3 | 2, to: &out)
        appendVarint(UInt64(bytes.count), to: &out)
        out.append(contentsOf: bytes)
    }

    static func appendVarint(_ value: UInt64, to out: inout [UInt8]) {
        var v = value
        while v >= 0x80 {
            out.append(UInt8(v & 0x7f) | 0x80)
            v >>= 7
        }
        out.append(UInt8(v))
    }
}
