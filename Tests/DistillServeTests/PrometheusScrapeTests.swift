import DistillTestSupport
import Foundation
import Testing

/// Issue 16 item 7: `/metrics` by Prometheus conventions, checked by Prometheus's own tools.
@Suite("serve: /metrics under promtool and a real Prometheus")
struct PrometheusScrapeTests {
    @Test("promtool check metrics finds no problem; counters for the cache, 404s under route=unmatched, build info, confidence histogram; Prometheus scrapes it")
    func scrape() async throws {
        let model = temporaryFolder().appendingPathComponent("model")
        try saveBiasedStudent(to: model, label: "disk")
        let server = try ServeProcess(model: model)
        let port = server.port
        for _ in 0..<3 { #expect(try await call(port: port, path: "/v1/classify", json: ["texts": ["disk full on /var", "disk full on /tmp"]]).status == 200) }
        #expect(try await call(.GET, port: port, path: "/nope").status == 404)
        let metrics = try await call(.GET, port: port, path: "/metrics").body

        // promtool's linter (naming, types, HELP) on the exposition text.
        let promtool = Process()
        promtool.executableURL = URL(fileURLWithPath: "/usr/bin/promtool")
        promtool.arguments = ["check", "metrics"]
        let input = Pipe(), output = Pipe()
        promtool.standardInput = input
        promtool.standardOutput = output
        promtool.standardError = output
        try promtool.run()
        input.fileHandleForWriting.write(Data(metrics.utf8))
        try input.fileHandleForWriting.close()
        let lint = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        promtool.waitUntilExit()
        #expect(promtool.terminationStatus == 0 && lint.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty, "promtool: \(lint)")

        // 6 lookups, the template of the second line repeats the first's only when masked; at least 3 hits (repeats).
        let value = { (series: String) -> Double? in
            metrics.split(separator: "\n").first { $0.hasPrefix(series + " ") }.flatMap { Double($0.split(separator: " ").last!) }
        }
        #expect(value("distill_cache_lookups_total") == 6, "\(metrics)")
        #expect((value("distill_cache_hits_total") ?? 0) >= 3)
        #expect(value(#"distill_http_requests_total{route="unmatched",status="404"}"#) == 1)
        #expect(metrics.contains(#"distill_build_info{version="0.1.0""#))
        #expect(value(#"distill_prediction_confidence_count{label="disk"}"#) == 6)
        #expect(metrics.contains("process_start_time_seconds"))

        // A real Prometheus on loopback scrapes the service and answers a query on what it scraped.
        let work = temporaryFolder()
        let webPort = freeLoopbackPort()
        try """
        global: {scrape_interval: 1s, scrape_timeout: 1s}
        scrape_configs:
          - job_name: distill
            static_configs: [{targets: ["127.0.0.1:\(port)"]}]
        """.write(to: work.appendingPathComponent("prometheus.yml"), atomically: true, encoding: .utf8)
        let prometheus = Process()
        prometheus.executableURL = URL(fileURLWithPath: "/usr/bin/prometheus")
        prometheus.arguments = ["--config.file=\(work.path)/prometheus.yml", "--storage.tsdb.path=\(work.path)/data",
                                "--web.listen-address=127.0.0.1:\(webPort)", "--log.level=warn"]
        prometheus.standardOutput = FileHandle.nullDevice
        prometheus.standardError = FileHandle.nullDevice
        try prometheus.run()
        defer { prometheus.terminate(); prometheus.waitUntilExit() }
        var scraped: [String: Any]?
        for _ in 0..<120 where scraped == nil {
            try await Task.sleep(for: .milliseconds(250))
            guard let answer = try? await call(.GET, port: webPort, path: "/api/v1/query?query=distill_cache_lookups_total", timeout: .seconds(2)),
                  let json = answer.json as? [String: Any], let data = json["data"] as? [String: Any],
                  let result = data["result"] as? [[String: Any]], let first = result.first else { continue }
            scraped = first
        }
        let sample = try #require(scraped, "Prometheus never scraped distill_cache_lookups_total")
        #expect(((sample["metric"] as? [String: String])?["job"]) == "distill")
        #expect(Double(((sample["value"] as? [Any])?.last as? String) ?? "") == 6)
        let up = try await call(.GET, port: webPort, path: "/api/v1/query?query=up")
        let upValue = (((up.json as? [String: Any])?["data"] as? [String: Any])?["result"] as? [[String: Any]])?.first?["value"] as? [Any]
        #expect(upValue?.last as? String == "1", "the scrape target is up: \(up.body)")
        #expect(server.stop() == 0)
    }
}
