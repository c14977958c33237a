import DistillTestSupport
import Foundation
import Testing

@Suite("distill serve on every real log line")
struct RealLogsServeTests {
    @Test("every real line (and the hostile ones) through /v1/classify and /v1/logs: all 200, one answer per line, the server stays up")
    func everyLine() async throws {
        let model = try realLogsModel()
        let server = try ServeProcess(model: model, arguments: ["--threads", "2"])
        let lines = try realLogLines() + hostileLogLines
        var classified: [String] = []
        var start = 0
        while start < lines.count {
            let batch = Array(lines[start..<min(lines.count, start + 500)])
            let answer = try await call(port: server.port, path: "/v1/classify", json: ["texts": batch])
            #expect(answer.status == 200, "batch at \(start): \(answer.body.prefix(300))")
            let results = try #require((answer.json as? [String: Any])?["results"] as? [[String: Any]])
            #expect(results.count == batch.count)
            classified += results.compactMap { $0["label"] as? String }
            start += 500
        }
        #expect(classified.count == lines.count && classified.allSatisfy(realLogLabels.contains))
        // The same lines as a shipper sends them: NDJSON records with a `log` field, each line once.
        start = 0
        var enriched = 0
        while start < lines.count {
            let batch = lines[start..<min(lines.count, start + 1000)]
            var body = Data()
            for line in batch {
                body.append(try JSONSerialization.data(withJSONObject: ["log": line, "stream": "stdout"]))
                body.append(0x0A)
            }
            let answer = try await call(port: server.port, path: "/v1/logs", body: Array(body), contentType: "application/x-ndjson")
            #expect(answer.status == 200, "logs batch at \(start): \(answer.body.prefix(300))")
            for row in answer.body.split(separator: "\n") {
                let record = try #require(try JSONSerialization.jsonObject(with: Data(row.utf8)) as? [String: Any])
                if let label = (record["distill"] as? [String: Any])?["label"] as? String, realLogLabels.contains(label) { enriched += 1 }
            }
            start += 1000
        }
        #expect(enriched == lines.count)
        #expect(try await call(.GET, port: server.port, path: "/healthz").status == 200)
        #expect(server.stop() == 0)
    }
}
