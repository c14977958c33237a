import DistillRuntime
import Foundation
import OTLPProto
import SwiftProtobuf

typealias OTLPAnyValue = Opentelemetry_Proto_Common_V1_AnyValue
typealias OTLPKeyValue = Opentelemetry_Proto_Common_V1_KeyValue
typealias OTLPLogRecord = Opentelemetry_Proto_Logs_V1_LogRecord

/// OTLP/HTTP logs in protobuf (`Content-Type: application/x-protobuf`, OTLP's default encoding): the
/// `ExportLogsServiceRequest` decoded with the committed swift-protobuf code (Sources/OTLPProto).
public enum OTLPLogsProtobuf {
    public static let contentType = "application/x-protobuf"

    public static func parse(_ body: [UInt8], options: ServeOptions, observed: UInt64) throws -> [LogEntry] {
        let request: Opentelemetry_Proto_Collector_Logs_V1_ExportLogsServiceRequest
        do {
            request = try .init(serializedBytes: body)
        } catch {
            throw ServeError.badRequest("the body is not an OTLP ExportLogsServiceRequest in protobuf (\(error))")
        }
        var entries: [LogEntry] = []
        for (r, resourceLogs) in request.resourceLogs.enumerated() {
            let resource = resourceLogs.resource.attributes.map(attribute)
            for (s, scopeLogs) in resourceLogs.scopeLogs.enumerated() {
                let scopeAttributes = scopeLogs.scope.attributes.map(attribute)
                for (k, record) in scopeLogs.logRecords.enumerated() {
                    // Ids of another length are refused by OTLP receivers: one such record would fail every batch it is forwarded in.
                    for (name, id, length) in [("trace_id", record.traceID, 16), ("span_id", record.spanID, 8)] where !id.isEmpty && id.count != length {
                        throw ServeError.badRequest("resource_logs[\(r)].scope_logs[\(s)].log_records[\(k)].\(name) has \(id.count) bytes, not \(length)")
                    }
                    var entry = LogEntry(source: .otlp)
                    entry.resource = resource
                    entry.scopeName = scopeLogs.scope.name
                    entry.scopeVersion = scopeLogs.scope.version
                    entry.scopeAttributes = scopeAttributes
                    entry.timeUnixNano = record.timeUnixNano
                    entry.observedTimeUnixNano = record.observedTimeUnixNano != 0 ? record.observedTimeUnixNano : observed
                    entry.severityNumber = record.severityNumber.rawValue
                    entry.severityText = record.severityText
                    if record.hasBody { entry.body = value(record.body) }
                    entry.attributes = record.attributes.map(attribute)
                    entry.traceID = Array(record.traceID)
                    entry.spanID = Array(record.spanID)
                    entry.flags = record.flags
                    entry.eventName = record.eventName
                    entries.append(entry)
                    guard entries.count <= options.maxBatch else {
                        throw ServeError.tooLarge("more than \(options.maxBatch) log records in one request (--max-batch)")
                    }
                }
            }
        }
        return entries
    }

    /// The protobuf `ExportLogsServiceResponse`, with a partial-success warning when records passed unlabelled.
    public static func response(skipped: Int, reason: String?) -> [UInt8] {
        var response = Opentelemetry_Proto_Collector_Logs_V1_ExportLogsServiceResponse()
        if skipped > 0 {
            response.partialSuccess.rejectedLogRecords = 0
            response.partialSuccess.errorMessage = "\(skipped) log record(s) passed through unlabelled: \(reason ?? "no text")"
        }
        return (try? response.serializedBytes()) ?? []
    }

    static func attribute(_ kv: OTLPKeyValue) -> LogAttribute { LogAttribute(kv.key, value(kv.value)) }

    static func value(_ v: OTLPAnyValue) -> LogValue {
        switch v.value {
        case .stringValue(let s): return .string(s)
        case .boolValue(let b): return .bool(b)
        case .intValue(let i): return .int(i)
        case .doubleValue(let d): return .double(d)
        case .bytesValue(let d): return .bytes(Array(d))
        case .arrayValue(let a): return .array(a.values.map(value))
        case .kvlistValue(let m): return .map(m.values.map(attribute))
        case .stringValueStrindex, nil: return .string("")
        }
    }

    static func otlp(_ v: LogValue) -> OTLPAnyValue {
        var out = OTLPAnyValue()
        switch v {
        case .string(let s): out.stringValue = s
        case .bool(let b): out.boolValue = b
        case .int(let i): out.intValue = i
        case .double(let d): out.doubleValue = d
        case .bytes(let b): out.bytesValue = Data(b)
        case .array(let a): out.arrayValue = .with { $0.values = a.map(otlp) }
        case .map(let m): out.kvlistValue = .with { $0.values = m.map(otlp) }
        }
        return out
    }

    static func otlp(_ a: LogAttribute) -> OTLPKeyValue { .with { $0.key = a.key; $0.value = otlp(a.value) } }
}
