@testable import DistillServe
import DistillTestSupport
import Foundation
import OTLPProto
import SwiftProtobuf
import Testing

/// The forwarding pieces on their own: times, targets, wire formats decoded by swift-protobuf, the spool's
/// handling of damaged files, and what each store answer means.
@Suite("forward parts: times, targets, wire formats, spool, store answers")
struct ForwardPartsTests {
    @Test("RFC 3339 and Unix times of every unit read right; impossible ones are not times")
    func times() {
        #expect(LogEntry.parseRFC3339("1970-01-01T00:00:00Z") == 0)
        #expect(LogEntry.parseRFC3339("2026-12-01T10:00:00.25Z") == 1_796_119_200_250_000_000)
        #expect(LogEntry.parseRFC3339("2026-12-01T12:00:00.25+02:00") == 1_796_119_200_250_000_000)
        #expect(LogEntry.parseRFC3339("2026-12-01 10:00:00.123456789123z") == 1_796_119_200_123_456_789)
        #expect(LogEntry.parseRFC3339("2000-02-29T00:00:00Z") == 951_782_400_000_000_000)
        for bad in ["", "2026-13-01T00:00:00Z", "2026-12-01T24:00:00Z", "2026-12-01T10:00:00", "2026-12-01T10:00:00.Z", "1969-12-31T23:59:59Z",
                    "2026-12-01T10:00:00Zjunk", "９９９９-12-01T10:00:00Z", "0000-01-01T00:00:00+23:59"] {
            #expect(LogEntry.parseRFC3339(bad) == nil, "\(bad)")
        }
        // Past 2554 nanoseconds since 1970 overflow 64 bits: not a time (it used to trap).
        #expect(LogEntry.parseRFC3339("9999-12-31T23:59:59.999999999Z") == nil && LogEntry.parseRFC3339("2554-07-21T23:34:32Z") != nil)
        let n = { (v: Any) in LogEntry.unixNanos(v) }
        #expect(n(NSNumber(value: 1_796_119_200.5)) == 1_796_119_200_500_000_000)
        #expect(n(NSNumber(value: 1_796_119_200_500)) == 1_796_119_200_500_000_000)
        #expect(n(NSNumber(value: 1_796_119_200_500_000)) == 1_796_119_200_500_000_000)
        #expect(n(NSNumber(value: UInt64(1_796_119_200_500_000_123))) == 1_796_119_200_500_000_123)
        #expect(n(NSNumber(value: true)) == nil && n(NSNumber(value: -5)) == nil && n(NSNumber(value: Double.infinity)) == nil && n(NSNumber(value: 1e300)) == nil)
        for t: UInt64 in [0, 951_782_400_000_000_000, 1_796_119_200_123_456_789, 4_102_444_800_000_000_001] {
            #expect(LogEntry.parseRFC3339(LogEntry.rfc3339(t)) == t)
        }
    }

    @Test("targets: default paths, index from the path, credentials out of the URL, clear errors")
    func targets() throws {
        #expect(try ForwardTarget("otlp=http://collector:4318").endpoint.absoluteString == "http://collector:4318/v1/logs")
        #expect(try ForwardTarget("otlp-json=https://c.example/custom/logs").endpoint.absoluteString == "https://c.example/custom/logs")
        #expect(try ForwardTarget("loki=http://loki:3100/").endpoint.absoluteString == "http://loki:3100/loki/api/v1/push")
        #expect(try ForwardTarget("elasticsearch=http://es:9200").endpoint.path == "/logs-distill-default/_bulk")
        let es = try ForwardTarget("elasticsearch=http://elastic:p%40ss%25@es:9200/app-logs?api_key=secret")
        #expect(es.endpoint.path == "/app-logs/_bulk" && es.basicAuthorization == "Basic " + Data("elastic:p@ss%".utf8).base64EncodedString())
        #expect(es.endpoint.query?.contains("filter_path=errors") == true && es.displayURL == "http://es:9200/app-logs/_bulk" && !es.endpoint.absoluteString.contains("elastic:"))
        // The spool folder follows the URL, not the flag's position.
        let (a, b, again) = (try ForwardTarget("http=http://a/x"), try ForwardTarget("http=http://b/x"), try ForwardTarget("http=http://a/x", name: "http-2"))
        #expect(a.spoolName != b.spoolName && a.spoolName.hasPrefix("http-") && a.spoolName == again.spoolName)
        for (header, message) in [("X-Scope-OrgID: team-a", ""), ("Content-Type: text/plain", "set by distill"), ("X-A: b\r\nX-Evil: 1", "control character"),
                                  ("no colon", "expected 'Name: value'"), ("Bad Name: x", "letters, digits")] {
            let result = Result { try ForwardOptions.header(header) }
            #expect(message.isEmpty ? (try? result.get())?.name == "X-Scope-OrgID" : result.failureMessage?.contains(message) == true, "\(header)")
        }
        #expect(try ForwardTarget.parse(["http=http://a/x", "http=http://b/y", "loki=http://c"]).map(\.name) == ["http", "http-2", "loki"])
        for (bad, message) in [("loki", "expected KIND=URL"), ("splunk=http://s", "unknown kind 'splunk'"), ("loki=ftp://x", "not an http:// or https:// URL"),
                               ("elasticsearch=http://es:9200/a/b", "the index only"), ("elasticsearch=http://es:9200/_bulk", "the index only"), ("http=http://", "with a host")] {
            #expect(throws: ForwardError.self, "\(bad)") { try ForwardTarget(bad) }
            #expect(((try? ForwardTarget(bad)) == nil) && (Result { try ForwardTarget(bad) }.failureMessage?.contains(message) == true), "\(bad): \(Result { try ForwardTarget(bad) }.failureMessage ?? "")")
        }
    }

    static func entry(_ text: String, service: String) -> LogEntry {
        var e = LogEntry(source: .otlp)
        e.resource = [LogAttribute("service.name", .string(service))]
        (e.scopeName, e.scopeVersion) = ("scope-\(service)", "1")
        e.timeUnixNano = 1_796_119_200_000_000_000
        e.body = .string(text)
        e.attributes = [LogAttribute("n", .int(-3)), LogAttribute("nested", .map([LogAttribute("a", .array([.bool(true), .double(0.5), .bytes([0, 255])]))]))]
        e.traceID = Array(0..<16)
        e.annotation = .classified(label: "database", probability: 0.875, template: "00112233445566aa")
        return e
    }

    @Test("OTLP protobuf batches, framed by hand, decode with swift-protobuf: groups by resource, every record and attribute intact")
    func otlpProtobufFraming() throws {
        let format = OTLPProtobufFormat()
        let fragments = [Self.entry("a", service: "api"), Self.entry("b", service: "db"), Self.entry("c", service: "api")].map { format.fragment($0, id: "") }
        let request = try Opentelemetry_Proto_Collector_Logs_V1_ExportLogsServiceRequest(serializedBytes: format.body(fragments))
        #expect(request.resourceLogs.count == 2)
        #expect(request.resourceLogs.map { $0.resource.attributes.first?.value.stringValue } == ["api", "db"])
        let api = request.resourceLogs[0].scopeLogs[0]
        #expect(api.scope.name == "scope-api" && api.logRecords.map(\.body.stringValue) == ["a", "c"])
        let record = api.logRecords[0]
        #expect(record.timeUnixNano == 1_796_119_200_000_000_000 && Array(record.traceID) == Array(0..<16))
        let attributes = Dictionary(uniqueKeysWithValues: record.attributes.map { ($0.key, $0.value) })
        #expect(attributes["n"]?.intValue == -3 && attributes["log.category"]?.stringValue == "database")
        #expect(attributes["log.category.confidence"]?.doubleValue == 0.875 && attributes["log.template"]?.stringValue == "00112233445566aa")
        #expect(attributes["nested"]?.kvlistValue.values.first?.value.arrayValue.values.map(\.value) == [.boolValue(true), .doubleValue(0.5), .bytesValue(Data([0, 255]))])
        // Back through the intake: the same entries.
        let again = try OTLPLogsProtobuf.parse(format.body(fragments), options: ServeOptions(model: URL(fileURLWithPath: "/")), observed: 1)
        #expect(again.map { $0.body } == [.string("a"), .string("c"), .string("b")] && again[0].attributes.prefix(2) == Self.entry("a", service: "api").attributes[...])
    }

    @Test("OTLP JSON and Loki bodies parse as JSON with the documented shapes")
    func jsonBodies() throws {
        let entries = [Self.entry("a\u{1}\"", service: "api"), Self.entry("b", service: "db")]
        let otlp = try JSONSerialization.jsonObject(with: Data(OTLPJSONFormat().body(entries.map { OTLPJSONFormat().fragment($0, id: "") }))) as! [String: Any]
        let resourceLogs = otlp["resourceLogs"] as! [[String: Any]]
        #expect(resourceLogs.count == 2)
        let record = ((resourceLogs[0]["scopeLogs"] as! [[String: Any]])[0]["logRecords"] as! [[String: Any]])[0]
        #expect(record["timeUnixNano"] as? String == "1796119200000000000" && record["traceId"] as? String == "000102030405060708090a0b0c0d0e0f")
        #expect((record["body"] as? [String: Any])?["stringValue"] as? String == "a\u{1}\"")
        // Read back by the intake's parser (hex ids, int64 strings).
        let parsed = try OTLPLogsJSON.parse(OTLPJSONFormat().body(entries.map { OTLPJSONFormat().fragment($0, id: "") }), options: ServeOptions(model: URL(fileURLWithPath: "/")), observed: 9)
        #expect(parsed.count == 2 && parsed[0].traceID == Array(0..<16) && parsed[0].attributes.first == LogAttribute("n", .int(-3)))

        let loki = try JSONSerialization.jsonObject(with: Data(LokiPushFormat(category: .metadata).body(entries.map { LokiPushFormat(category: .metadata).fragment($0, id: "") }))) as! [String: Any]
        let streams = loki["streams"] as! [[String: Any]]
        #expect(streams.map { $0["stream"] as! [String: String] } == [["service_name": "api"], ["service_name": "db"]])
        let value = (streams[0]["values"] as! [[Any]])[0]
        #expect(value[0] as? String == "1796119200000000000" && value[1] as? String == "a\u{1}\"")
        #expect((value[2] as? [String: String]) == ["log_category": "database", "log_category_confidence": "0.875", "log_template": "00112233445566aa",
                                                    "trace_id": "000102030405060708090a0b0c0d0e0f"])
        // _bulk: action and document lines, newline-terminated.
        let bulk = String(decoding: ElasticsearchBulkFormat().body(entries.map { ElasticsearchBulkFormat().fragment($0, id: "x-\($0.line)") }), as: UTF8.self)
        let lines = bulk.split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines.count == 5 && lines.last == "" && lines[0] == #"{"create":{"_id":"x-a\u0001\""}}"#)
        let document = try JSONSerialization.jsonObject(with: Data(lines[1].utf8)) as! [String: Any]
        #expect(document["@timestamp"] as? String == "2026-12-01T10:00:00.000000000Z" && (document["distill"] as? [String: Any])?["label"] as? String == "database")
    }

    @Test("hostile OTLP bodies are 400s naming the field, never a crash")
    func hostileOTLP() throws {
        let options = ServeOptions(model: URL(fileURLWithPath: "/"))
        let deep = String(repeating: #"{"arrayValue":{"values":["#, count: 200) + String(repeating: "]}}", count: 200)
        let cases: [(String, String)] = [
            (#"{"resourceLogs":{}}"#, "resourceLogs is not an array"),
            (#"{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"timeUnixNano":"-1"}]}]}]}"#, "timeUnixNano is not an unsigned 64-bit integer"),
            (#"{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"timeUnixNano":1e30}]}]}]}"#, "timeUnixNano is not an unsigned 64-bit integer"),
            (#"{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"severityNumber":99999999999999999999}]}]}]}"#, "severityNumber is not a 64-bit integer"),
            (#"{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"severityNumber":4294967296}]}]}]}"#, "severityNumber 4294967296 is not a 32-bit enum value"),
            (#"{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"severityNumber":"LOUD"}]}]}]}"#, "'LOUD' is not a SeverityNumber name"),
            (#"{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"timeUnixNano":1.5}]}]}]}"#, "timeUnixNano is not an unsigned 64-bit integer"),
            (#"{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"spanId":"0011"}]}]}]}"#, "spanId must be 16 hex digits"),
            (#"{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"body":{"bytesValue":"***"}}]}]}]}"#, "bytesValue is not base64"),
            (#"{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"attributes":[{"value":{}}]}]}]}]}"#, "has no string 'key'"),
            (#"{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"body":\#(deep)}]}]}]}"#, "Too many nested"),
        ]
        for (body, message) in cases {
            do {
                _ = try OTLPLogsJSON.parse(Array(body.utf8), options: options, observed: 0)
                Issue.record("accepted: \(body.prefix(80))")
            } catch let error as ServeError {
                #expect(error.status == 400 && error.message.contains(message), "\(error.message)")
            } catch {
                Issue.record("\(error)")
            }
        }
        let named = try? OTLPLogsJSON.parse(Array(#"{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"severityNumber":"SEVERITY_NUMBER_WARN3"},{"severityNumber":"17"}]}]}]}"#.utf8),
                                            options: options, observed: 0)
        #expect(named?.map(\.severityNumber) == [15, 17])
        var badID = OTLPLogRecord()
        badID.traceID = Data([1, 2, 3])
        let request = Opentelemetry_Proto_Collector_Logs_V1_ExportLogsServiceRequest.with {
            $0.resourceLogs = [.with { $0.scopeLogs = [.with { $0.logRecords = [OTLPLogRecord(), badID] }] }]
        }
        do {
            _ = try OTLPLogsProtobuf.parse((try? request.serializedBytes()) ?? [], options: options, observed: 0)
            Issue.record("a 3-byte trace id was accepted")
        } catch let error as ServeError {
            #expect(error.message == "resource_logs[0].scope_logs[0].log_records[1].trace_id has 3 bytes, not 16", "\(error.message)")
        } catch { Issue.record("\(error)") }
        // Protobuf: truncated and deeply nested messages are refused by swift-protobuf's decoder.
        var nested: [UInt8] = []
        for _ in 0..<500 { nested = [0x3a, UInt8(min(nested.count, 127))] + nested }  // AnyValue.array_value nesting
        for body in [[0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f], [0x0a, 0x05, 0x01], nested] {
            #expect(throws: ServeError.self) { _ = try OTLPLogsProtobuf.parse(body, options: options, observed: 0) }
        }
    }

    @Test("spool: a damaged file is set aside and reported, a half-written one removed, the rest recovered in order")
    func spoolDamage() throws {
        let folder = temporaryFolder("spool-parts")
        let spool = try SpoolFolder(folder)
        let fragments = [Fragment(group: [1, 2], item: Array("first".utf8)), Fragment(item: Array("second".utf8))]
        try spool.write(fragments, sequence: 3)
        try spool.write(fragments, sequence: 12)
        #expect(try spool.read(3) == fragments)
        try Data("DSPL\u{1}\u{5}\0\0\0".utf8).write(to: spool.url(7))                   // 5 records announced, none there
        try Data("junk".utf8).write(to: spool.url(8))
        var truncated = try Data(contentsOf: spool.url(12)); truncated.removeLast(3)
        try truncated.write(to: spool.url(9))
        try Data([1, 2, 3]).write(to: folder.appendingPathComponent("0000000000000010.tmp"))
        var reports: [String] = []
        let found = spool.recover { reports.append($0) }
        #expect(found.map(\.sequence) == [3, 12] && found.allSatisfy { $0.records == 2 && $0.bytes == 2 + 5 + 6 })
        #expect(reports.count == 3 && reports.allSatisfy { $0.contains(".corrupt and skipped") }, "\(reports)")
        #expect(reports.contains { $0.contains("0000000000000008.batch") && $0.contains("not a Distill spool file") })
        #expect(reports.contains { $0.contains("0000000000000009.batch") && $0.contains("checksum mismatch") })
        // One flipped bit in a record is caught by the checksum, not sent.
        var flipped = try Data(contentsOf: spool.url(3)); flipped[12] ^= 0x10
        try flipped.write(to: spool.url(4))
        #expect(throws: SpoolFolder.Damage.self) { _ = try spool.read(4) }
        try FileManager.default.removeItem(at: spool.url(4))
        let left = try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted()
        #expect(left == [".lock", "0000000000000003.batch", "0000000000000007.batch.corrupt", "0000000000000008.batch.corrupt", "0000000000000009.batch.corrupt",
                         "0000000000000012.batch"])
        // A file deleted by hand while queued is a lost batch, not a stuck queue.
        let folder2 = temporaryFolder("spool-deleted")
        let spool2 = try SpoolFolder(folder2)
        try spool2.write(fragments, sequence: 1)
        try spool2.write(fragments, sequence: 2)
        let queue2 = ForwardQueue(limitBytes: 1 << 20, spool: spool2) { _ in }
        try FileManager.default.removeItem(at: spool2.url(1))
        let head = queue2.head(maxRecords: 10, maxBytes: 1 << 20)
        #expect(head.lost.count == 1 && head.unreadable == nil && head.batches.map(\.sequence) == [2])
        // A second process (here: a second open) cannot use the same spool.
        #expect(throws: ForwardError.self) { _ = try SpoolFolder(folder) }
        // A queue over this spool starts with the two batches and numbers new ones after every name in the folder
        // (a file set aside or unreadable now must never be overwritten by a new batch).
        try Data().write(to: folder.appendingPathComponent("0000000000000020.batch.corrupt"))
        let queue = ForwardQueue(limitBytes: 1 << 20, spool: spool) { _ in }
        #expect(queue.size.records == 4 && queue.reserveSequence() == 21)
        #expect(queue.head(maxRecords: 1, maxBytes: 1 << 20).batches.map(\.sequence) == [3])
    }

    @Test("store answers: 2xx delivered, Elasticsearch item errors and OTLP partial success read, 401/403/404/408/429/5xx retried, other 4xx rejected")
    func outcomes() {
        let o = { (kind: ForwardTarget.Kind, status: Int, body: String) in Forwarder.outcome(kind: kind, status: status, retryAfter: "7", body: Array(body.utf8)) }
        #expect(o(.loki, 204, "") == .delivered(dropped: 0, reason: nil))
        #expect(o(.http, 429, "") == .retry(after: 7, why: "the store answered 429 "))
        if case .retry = o(.otlp, 503, "") {} else { Issue.record("503 is retried") }
        if case .retry = o(.http, 408, "") {} else { Issue.record("408 is retried") }
        if case .retry = o(.elasticsearch, 401, "no auth") {} else { Issue.record("401 is retried (a token to fix; records wait)") }
        if case .rejected(let why) = o(.elasticsearch, 413, "too big") { #expect(why.contains("413 too big")) } else { Issue.record("413 is rejected (then split)") }
        let items = #"{"errors":true,"items":[{"create":{"status":201}},{"create":{"status":409}},{"create":{"status":400,"error":{"type":"mapper_parsing_exception","reason":"bad field"}}}]}"#
        #expect(o(.elasticsearch, 200, items) == .delivered(dropped: 1, reason: "mapper_parsing_exception: bad field"))
        if case .retry = o(.elasticsearch, 200, #"{"errors":true,"items":[{"create":{"status":429}}]}"#) {} else { Issue.record("a 429 item retries") }
        if case .retry = o(.elasticsearch, 200, "<html>") {} else { Issue.record("a non-JSON _bulk answer retries") }
        #expect(o(.otlpJSON, 200, #"{"partialSuccess":{"rejectedLogRecords":"4","errorMessage":"too old"}}"#) == .delivered(dropped: 4, reason: "too old"))
        var response = Opentelemetry_Proto_Collector_Logs_V1_ExportLogsServiceResponse()
        response.partialSuccess.rejectedLogRecords = 2
        let bytes: [UInt8] = (try? response.serializedBytes()) ?? []
        #expect(Forwarder.outcome(kind: .otlp, status: 200, retryAfter: nil, body: bytes) == .delivered(dropped: 2, reason: ""))
    }
}

extension Result where Failure == any Error {
    var failureMessage: String? {
        if case .failure(let error) = self { return error.localizedDescription }
        return nil
    }
}
