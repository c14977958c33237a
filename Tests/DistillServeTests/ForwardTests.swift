import DistillTestSupport
import Foundation
import Testing

/// Issue 16 item 1: `serve --forward` puts the labels where the logs are stored — OTLP (protobuf and JSON), Loki,
/// Elasticsearch, NDJSON — checked by a loopback store that decodes each wire format with the real parsers, with
/// the store failing, down, refusing, and `serve` killed with records in its spool.
@Suite("serve --forward: enriched records reach the log stores", .serialized)
struct ForwardTests {
    static func ndjson(_ range: Range<Int>, extra: String = "") -> [UInt8] {
        Array(range.map { #"{"message": "disk full on /var/\#($0)\n", "host": "node-\#($0 % 3)", "timestamp": "2026-12-01T10:00:0\#($0 % 10).25Z"\#(extra)}"# }
            .joined(separator: "\n").utf8)
    }

    /// `/metrics` once `ready` holds for it (or after 15 s).
    static func metrics(port: Int, until ready: (String) -> Bool) async throws -> String {
        var text = ""
        for _ in 0..<150 {
            text = try await call(.GET, port: port, path: "/metrics", contentType: nil).body
            if ready(text) { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        return text
    }

    static func model() throws -> URL {
        let model = temporaryFolder().appendingPathComponent("model")
        try saveBiasedStudent(to: model, label: "disk")
        return model
    }

    @Test("every kind gets every record with the field contract: shipper NDJSON and the OpenTelemetry SDK's OTLP in")
    func allKinds() async throws {
        let store = try StoreReceiver()
        defer { store.stop() }
        let server = try ServeProcess(model: try Self.model(), arguments: [
            "--forward", "http=\(store.url)/ingest", "--forward", "loki=\(store.url)", "--forward", "elasticsearch=\(store.url)/logs-test",
            "--forward", "otlp=\(store.url)", "--forward", "otlp-json=\(store.url)", "--loki-category", "label",
        ])
        // 20 shipper records and one without a line: all forwarded, that one flagged.
        let answer = try await call(port: server.port, path: "/v1/logs", body: Self.ndjson(0..<20) + Array("\n{\"level\": \"info\"}\n".utf8),
                                    contentType: "application/x-ndjson")
        #expect(answer.status == 200, "\(answer.body.prefix(300))")
        // The real OpenTelemetry SDK exporting 5 lines as OTLP/HTTP protobuf.
        let sdk = Process()
        sdk.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        sdk.arguments = ["python3", projectRoot.appendingPathComponent("scripts/otel_send_logs.py").path, "http://127.0.0.1:\(server.port)/v1/logs", "checkout"]
        sdk.environment = ProcessInfo.processInfo.environment.merging(["PYTHONPATH": otelPythonPath]) { $1 }
        let input = Pipe(), output = Pipe()
        (sdk.standardInput, sdk.standardOutput) = (input, output)
        try sdk.run()
        input.fileHandleForWriting.write(Data((0..<5).map { "disk quota exceeded for user \($0)\n" }.joined().utf8))
        try input.fileHandleForWriting.close()
        while sdk.isRunning { try await Task.sleep(for: .milliseconds(50)) }  // not waitUntilExit: it would hold a cooperative thread
        #expect(sdk.terminationStatus == 0, "\(String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self))")

        // NDJSON: the record as sent, a `distill` object added.
        let http = await store.records("http", count: 26)
        #expect(http.count == 26)
        let shipped = http.filter { ($0["message"] as? String)?.hasPrefix("disk full") == true }
        #expect(shipped.count == 20 && shipped.allSatisfy { ($0["distill"] as? [String: Any])?["label"] as? String == "disk" && $0["host"] != nil })
        #expect(http.contains { ($0["distill"] as? [String: Any])?["error"] as? String != nil && $0["level"] as? String == "info" })
        // OTLP records as NDJSON: body as message, resource and attributes kept.
        let fromSDK = http.filter { ($0["resource"] as? [String: Any])?["service.name"] as? String == "checkout" }
        #expect(fromSDK.count == 5 && fromSDK.allSatisfy { ($0["attributes"] as? [String: Any])?["line.number"] != nil && $0["@timestamp"] is String })

        // Loki: the category as a stream label, the rest as structured metadata, the line without its trailing newline.
        let loki = await store.records("loki", count: 26)
        #expect(loki.count == 26)
        let lokiShipped = loki.filter { ($0["line"] as? String)?.hasPrefix("disk full on /var/") == true }
        #expect(lokiShipped.count == 20)
        for row in lokiShipped {
            let stream = row["stream"] as? [String: String], metadata = row["metadata"] as? [String: String]
            #expect(stream == ["service_name": "unknown_service", "log_category": "disk"] && !(row["line"] as! String).hasSuffix("\n"))
            #expect(metadata?["log_template"]?.count == 16 && Double(metadata?["log_category_confidence"] ?? "") ?? 0 > 0.9)
        }
        // The record's own timestamp (2026-12-01T10:00:03.25Z) is the Loki time.
        #expect(lokiShipped.contains { $0["ts"] as? String == "1796119203250000000" })
        #expect(loki.filter { ($0["stream"] as? [String: String])?["service_name"] == "checkout" }.count == 5)

        // Elasticsearch: _bulk create with an _id per record, @timestamp added, distill object.
        let elastic = await store.records("elasticsearch", count: 26)
        #expect(elastic.count == 26 && Set(elastic.compactMap { $0["_id"] as? String }).count == 26)
        #expect(elastic.allSatisfy { $0["@timestamp"] is String && $0["distill"] is [String: Any] })

        // OTLP, decoded by opentelemetry-proto: the contract's attributes, the SDK's resource and scope kept.
        for kind in ["otlp", "otlp-json"] {
            let otlp = await store.records(kind, count: 26)
            #expect(otlp.count == 26, "\(kind)")
            let classified = otlp.filter { ($0["attributes"] as? [String: Any])?["log.category"] as? String == "disk" }
            #expect(classified.count == 25, "\(kind)")
            for row in classified {
                let attributes = row["attributes"] as! [String: Any]
                #expect((attributes["log.category.confidence"] as? Double ?? 0) > 0.9 && (attributes["log.template"] as? String)?.count == 16, "\(kind)")
            }
            let sdkRows = otlp.filter { ($0["resource"] as? [String: Any])?["service.name"] as? String == "checkout" }
            #expect(sdkRows.count == 5 && sdkRows.allSatisfy { $0["scope"] as? String == "otel-test" && $0["severity_text"] as? String == "INFO" }, "\(kind)")
            #expect(sdkRows.allSatisfy { (($0["attributes"] as? [String: Any])?["line.number"] as? String).flatMap(Int.init) != nil
                || ($0["attributes"] as? [String: Any])?["line.number"] is Int }, "\(kind)")
            let shippedRows = otlp.filter { $0["scope"] as? String == "distill" && ($0["body"] as? String)?.hasPrefix("disk full") == true }
            #expect(shippedRows.count == 20 && shippedRows.allSatisfy { ($0["attributes"] as? [String: Any])?["host"] is String }, "\(kind)")
            #expect(otlp.contains { ($0["attributes"] as? [String: Any])?["distill.error"] is String }, "\(kind)")
        }

        // The store wrote the records before answering; the counters move when the answer is read.
        let metrics = try await Self.metrics(port: server.port) { text in
            ["http", "loki", "elasticsearch", "otlp", "otlp-json"].allSatisfy { metricValue(text, #"distill_forward_sent_records_total{target="\#($0)"}"#) == 26 }
        }
        for target in ["http", "loki", "elasticsearch", "otlp", "otlp-json"] {
            #expect(metricValue(metrics, #"distill_forward_sent_records_total{target="\#(target)"}"#) == 26, "\(target)")
            #expect(metricValue(metrics, #"distill_forward_queued_records{target="\#(target)"}"#) == 0, "\(target)")
            #expect(metricValue(metrics, #"distill_forward_dropped_records_total{target="\#(target)",reason="rejected"}"#) == 0, "\(target)")
        }
        #expect(server.stop() == 0)
    }

    @Test("OTLP in: JSON with hex ids and snake_case, protobuf garbage 400, a record without text a partial-success warning")
    func otlpIntake() async throws {
        let store = try StoreReceiver()
        defer { store.stop() }
        let server = try ServeProcess(model: try Self.model(), arguments: ["--forward", "otlp=\(store.url)"])
        let request = #"""
        {"resourceLogs":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"api"}},{"key":"pod","value":{"intValue":"7"}}]},
          "scopeLogs":[{"scope":{"name":"app","version":"2"},"logRecords":[
            {"timeUnixNano":"1796119200000000000","severityNumber":17,"severityText":"ERROR","body":{"stringValue":"disk full on /data\n"},
             "traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b174","attributes":[{"key":"retry","value":{"boolValue":true}}]},
            {"time_unix_nano":1796119201000000000,"body":{"kvlistValue":{"values":[{"key":"msg","value":{"stringValue":"disk quota exceeded"}}]}}},
            {"body":{"intValue":"42"}}]}]}]}
        """#
        let answer = try await call(port: server.port, path: "/v1/logs", body: Array(request.utf8))
        #expect(answer.status == 200 && answer.body.contains(#""rejectedLogRecords":"0""#) && answer.body.contains("1 log record(s) passed through unlabelled"),
                "\(answer.body)")
        let rows = await store.records("otlp", count: 3)
        #expect(rows.count == 3)
        let first = rows.first { $0["severity_text"] as? String == "ERROR" }
        #expect(first?["trace_id"] as? String == "5b8efff798038103d269b633813fc60c" && first?["time"] as? Int == 1_796_119_200_000_000_000)
        #expect((first?["resource"] as? [String: Any])?["pod"] as? Int == 7 && (first?["attributes"] as? [String: Any])?["retry"] as? Bool == true)
        #expect((first?["attributes"] as? [String: Any])?["log.category"] as? String == "disk")
        #expect(rows.contains { ($0["attributes"] as? [String: Any])?["log.category"] as? String == "disk" && $0["body"] is [String: Any] })
        #expect(rows.contains { ($0["attributes"] as? [String: Any])?["distill.error"] is String && $0["body"] as? Int == 42 })

        let garbage = try await call(port: server.port, path: "/v1/logs", body: [0xff, 0xff, 0xff, 0x01, 0x02], contentType: "application/x-protobuf")
        #expect(garbage.status == 400 && garbage.body.contains("not an OTLP ExportLogsServiceRequest"), "\(garbage.body)")
        let badID = try await call(port: server.port, path: "/v1/logs", body: Array(#"{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"traceId":"xyz"}]}]}]}"#.utf8))
        #expect(badID.status == 400 && badID.body.contains("resourceLogs[0].scopeLogs[0].logRecords[0].traceId must be 32 hex digits"), "\(badID.body)")
        #expect(server.stop() == 0)
    }

    @Test("a store answering 429 (Retry-After), 503, 401 and 500 gets every record exactly once; one refusing a record drops only that one, counted")
    func storeFailures() async throws {
        let flaky = try StoreReceiver(arguments: ["--fail", "429,503,401,500", "--retry-after", "1"])
        defer { flaky.stop() }
        let server = try ServeProcess(model: try Self.model(), arguments: ["--forward", "http=\(flaky.url)/ingest", "--forward-max-backoff", "0.5"])
        for k in 0..<5 {
            let answer = try await call(port: server.port, path: "/v1/logs", body: Self.ndjson((k * 20)..<(k * 20 + 20)), contentType: "application/x-ndjson")
            #expect(answer.status == 200)
        }
        let rows = await flaky.records("http", count: 100)
        try await Task.sleep(for: .milliseconds(300))
        let messages = flaky.received(kind: "http").compactMap { ($0["record"] as? [String: Any])?["message"] as? String }
        #expect(rows.count == 100 && messages.count == 100 && Set(messages).count == 100)
        let metrics = try await Self.metrics(port: server.port) { metricValue($0, #"distill_forward_sent_records_total{target="http"}"#) == 100 }
        #expect(metricValue(metrics, #"distill_forward_retries_total{target="http"}"#) == 4)
        #expect(metricValue(metrics, #"distill_forward_sent_records_total{target="http"}"#) == 100)
        #expect(metricValue(metrics, #"distill_forward_requests_total{target="http",status="429"}"#) == 1)
        #expect(server.stop() == 0)

        // A store that fails any request holding the one record it cannot take ("poison"): the request is halved until
        // that record is alone; the other 29 are stored.
        let refusing = try StoreReceiver(arguments: ["--reject-containing", "poison"])
        defer { refusing.stop() }
        let second = try ServeProcess(model: try Self.model(), arguments: ["--forward", "loki=\(refusing.url)"])
        let body = Self.ndjson(0..<15) + Array("\n{\"message\": \"poison pill\"}\n".utf8) + Self.ndjson(15..<29)
        let answer = try await call(port: second.port, path: "/v1/logs", body: body, contentType: "application/x-ndjson")
        #expect(answer.status == 200)
        let dropped = try await Self.metrics(port: second.port) { metricValue($0, #"distill_forward_sent_records_total{target="loki"}"#) == 29 }
        #expect(metricValue(dropped, #"distill_forward_dropped_records_total{target="loki",reason="rejected"}"#) == 1)
        #expect(metricValue(dropped, #"distill_forward_sent_records_total{target="loki"}"#) == 29)
        let stored = await refusing.records("loki", count: 29)
        #expect(stored.count == 29 && Set(stored.compactMap { $0["line"] as? String }).count == 29 && !stored.contains { ($0["line"] as? String)?.contains("poison") == true })
        #expect(second.stop() == 0)
        let log = second.standardError
        #expect(log.contains("the store answered 400") && log.contains("1 record dropped"), "\(log)")
    }

    @Test("store down: the queue fills, /v1/logs answers 503 with Retry-After; the store comes back and gets every accepted record")
    func backpressure() async throws {
        let port = freeLoopbackPort()
        let server = try ServeProcess(model: try Self.model(), arguments: [
            "--forward", "elasticsearch=http://127.0.0.1:\(port)/logs-test", "--forward-queue-mb", "1", "--forward-max-backoff", "0.3",
            "--forward-timeout", "1",
        ])
        var accepted = 0, refused: HTTPAnswer?
        let padding = #", "detail": "\#(String(repeating: "x", count: 900))""#
        for k in 0..<40 where refused == nil {
            let answer = try await call(port: server.port, path: "/v1/logs", body: Self.ndjson((k * 100)..<(k * 100 + 100), extra: padding),
                                        contentType: "application/x-ndjson")
            if answer.status == 200 { accepted += 100 } else { refused = answer }
        }
        #expect(refused?.status == 503 && refused?.body.contains("forward queue of elasticsearch is full") == true, "\(refused?.body ?? "never refused")")
        #expect(refused?.retryAfter == "2")
        #expect(accepted >= 500 && accepted < 2000, "\(accepted)")
        // async-http-client retries a refused connection until the request's timeout (--forward-timeout 1): then it counts.
        let metrics = try await Self.metrics(port: server.port) { (metricValue($0, #"distill_forward_requests_total{target="elasticsearch",status="0"}"#) ?? 0) >= 1 }
        #expect(metricValue(metrics, #"distill_forward_refused_requests_total{target="elasticsearch"}"#) == 1)
        #expect(metricValue(metrics, #"distill_forward_queued_records{target="elasticsearch"}"#) == Double(accepted))
        #expect((metricValue(metrics, #"distill_forward_requests_total{target="elasticsearch",status="0"}"#) ?? 0) >= 1)

        let store = try StoreReceiver(port: port)
        defer { store.stop() }
        let rows = await store.records("elasticsearch", count: accepted)
        #expect(rows.count == accepted && Set(rows.compactMap { $0["_id"] as? String }).count == accepted)
        _ = try await Self.metrics(port: server.port) { metricValue($0, #"distill_forward_queued_records{target="elasticsearch"}"#) == 0 }
        #expect(server.stop() == 0)
        let log = server.standardError
        #expect(log.contains("did not answer") && log.contains("delivering again"), "\(log)")
    }

    @Test("kill -9 with records in the spool: the next start sends them; nothing lost, nothing stored twice")
    func spoolSurvivesKill() async throws {
        let port = freeLoopbackPort(), spool = temporaryFolder("spool")
        let arguments = ["--forward", "elasticsearch=http://127.0.0.1:\(port)", "--forward", "http=http://127.0.0.1:\(port)/ingest",
                         "--spool", spool.path, "--forward-max-backoff", "0.3"]
        let model = try Self.model()
        let first = try ServeProcess(model: model, arguments: arguments)
        for k in 0..<6 {
            let answer = try await call(port: first.port, path: "/v1/logs", body: Self.ndjson((k * 25)..<(k * 25 + 25)), contentType: "application/x-ndjson")
            #expect(answer.status == 200)
        }
        let folders = try FileManager.default.contentsOfDirectory(atPath: spool.path)
        let esSpool = spool.appendingPathComponent(try #require(folders.first { $0.hasPrefix("elasticsearch-") }))
        let httpSpool = spool.appendingPathComponent(try #require(folders.first { $0.hasPrefix("http-") }))
        let files = try FileManager.default.contentsOfDirectory(atPath: esSpool.path)
        #expect(files.filter { $0.hasSuffix(".batch") }.count == 6, "\(files)")
        first.signal(SIGKILL)
        first.process.waitUntilExit()

        let store = try StoreReceiver(port: port)
        defer { store.stop() }
        let second = try ServeProcess(model: model, arguments: arguments)
        let elastic = await store.records("elasticsearch", count: 150)
        let http = await store.records("http", count: 150)
        #expect(elastic.count == 150 && Set(elastic.compactMap { $0["message"] as? String }).count == 150)
        #expect(http.count == 150 && Set(http.compactMap { $0["message"] as? String }).count == 150)
        var left: [String] = ["?"]
        for _ in 0..<50 where !left.isEmpty {
            try await Task.sleep(for: .milliseconds(100))
            left = (try FileManager.default.contentsOfDirectory(atPath: httpSpool.path)).filter { $0.hasSuffix(".batch") }
        }
        #expect(left.isEmpty, "spool files left: \(left)")
        #expect(second.stop() == 0)
        #expect(second.standardError.contains("150 records from the spool"), "\(second.standardError)")
    }

    @Test("kill -9 while a request is at the store: the batch is sent again on restart and Elasticsearch stores it once (409s count as delivered)")
    func killDuringSend() async throws {
        let spool = temporaryFolder("spool-inflight")
        // The store holds the first request until the test releases it (a file appears): serve is killed once that
        // request's body is at the store (its "arrival" row), so the kill lands while it is in flight however late
        // a loaded machine runs the test. The forward timeout is longer than any hold: the request is not retried.
        let release = temporaryFolder("spool-inflight-release").appendingPathComponent("release")
        let store = try StoreReceiver(arguments: ["--hold-first-until", release.path])
        defer { store.stop() }
        let arguments = ["--forward", "elasticsearch=\(store.url)/logs-test", "--spool", spool.path, "--forward-max-backoff", "0.3",
                         "--forward-timeout", "900"]
        let model = try Self.model()
        let first = try ServeProcess(model: model, arguments: arguments)
        for k in 0..<4 {
            let answer = try await call(port: first.port, path: "/v1/logs", body: Self.ndjson((k * 25)..<(k * 25 + 25)), contentType: "application/x-ndjson")
            #expect(answer.status == 200)
        }
        let deadline = Date().addingTimeInterval(120)
        while store.received(kind: "arrival").isEmpty, Date() < deadline { try await Task.sleep(for: .milliseconds(20)) }
        first.signal(SIGKILL)
        while first.process.isRunning { try await Task.sleep(for: .milliseconds(20)) }
        #expect(store.received(kind: "arrival").count == 1 && store.received(kind: "elasticsearch").isEmpty,
                "the request at the store was not the only one, or it was stored before the kill")
        let second = try ServeProcess(model: model, arguments: arguments)
        let rows = await store.records("elasticsearch", count: 100)
        let metrics = try await Self.metrics(port: second.port) { metricValue($0, #"distill_forward_queued_records{target="elasticsearch"}"#) == 0 }
        #expect(metricValue(metrics, #"distill_forward_queued_records{target="elasticsearch"}"#) == 0)
        // Now the held request of the killed process is stored or refused (409): count once every request is answered.
        try Data().write(to: release)
        for _ in 0..<600 where store.received(kind: "answered").count < store.received(kind: "arrival").count {
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(store.received(kind: "answered").count == store.received(kind: "arrival").count, "the held request was never answered")
        let stored = store.received(kind: "elasticsearch").compactMap { ($0["record"] as? [String: Any])?["message"] as? String }
        #expect(rows.count == 100 && stored.count == 100 && Set(stored).count == 100, "\(stored.count) stored, \(Set(stored).count) distinct")
        #expect(store.received(kind: "arrival").count >= 2, "the records in flight were not sent again")
        #expect(second.stop() == 0)
        #expect(second.standardError.contains("records from the spool"), "\(second.standardError)")
    }

    @Test("a real shipper: syslog-ng's http() destination posts Loghub lines; Loki and OTLP stores get them labelled")
    func syslogNG() async throws {
        let store = try StoreReceiver()
        defer { store.stop() }
        let server = try ServeProcess(model: try Self.model(), arguments: ["--forward", "loki=\(store.url)", "--forward", "otlp=\(store.url)"])
        let lines = try String(contentsOf: realLogsFolder.appendingPathComponent("OpenSSH/OpenSSH_2k.log"), encoding: .utf8)
            .split(whereSeparator: \.isNewline).prefix(300).map(String.init)  // CRLF lines
        let folder = temporaryFolder("syslog-ng")
        let input = folder.appendingPathComponent("in.log")
        try Data((lines.joined(separator: "\n") + "\n").utf8).write(to: input)
        let config = folder.appendingPathComponent("syslog-ng.conf")
        try """
        @version: 3.35
        options { keep-hostname(yes); };
        source s_file { file("\(input.path)" flags(no-parse) follow-freq(0.2)); };
        destination d_distill {
          http(url("http://127.0.0.1:\(server.port)/v1/logs") method("POST")
               headers("Content-Type: application/x-ndjson")
               body('$(format-json message=$MESSAGE program=syslog-ng-test)')
               batch-lines(50) batch-timeout(200) workers(1));
        };
        log { source(s_file); destination(d_distill); };
        """.write(to: config, atomically: true, encoding: .utf8)
        let shipper = Process()
        shipper.executableURL = URL(fileURLWithPath: "/usr/sbin/syslog-ng")
        shipper.arguments = ["-F", "-f", config.path, "--persist-file", folder.appendingPathComponent("persist").path,
                             "--pidfile", folder.appendingPathComponent("pid").path, "--control", folder.appendingPathComponent("ctl").path, "--no-caps"]
        let shipperLog = Pipe()
        (shipper.standardOutput, shipper.standardError) = (shipperLog, shipperLog)
        try shipper.run()
        defer { if shipper.isRunning { kill(shipper.processIdentifier, SIGKILL) } }
        let loki = await store.records("loki", count: lines.count, timeout: 90)
        let otlp = await store.records("otlp", count: lines.count, timeout: 30)
        kill(shipper.processIdentifier, SIGKILL)
        #expect(loki.count == lines.count, "syslog-ng: \(String(decoding: shipperLog.fileHandleForReading.availableData, as: UTF8.self).prefix(2000))")
        #expect(Set(loki.compactMap { $0["line"] as? String }) == Set(lines))
        #expect(loki.allSatisfy { ($0["stream"] as? [String: String])?["log_category"] == "disk" })
        #expect(otlp.count == lines.count && otlp.allSatisfy { ($0["attributes"] as? [String: Any])?["program"] as? String == "syslog-ng-test" })
        #expect(server.stop() == 0)
    }
}
