import DistillRuntime
import DistillServe
import DistillTestSupport
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

/// The service in-process: ``DistillServer/buildRouter()`` driven by HummingbirdTesting (no socket, no process).
/// The binary tests (ServeTests) keep what needs a process: signals, reloads, sockets, the access-log file.
func withRouter(model: URL, _ configure: (inout ServeOptions) -> Void = { _ in },
                _ body: @Sendable @escaping (RouterClient) async throws -> Void) async throws {
    var options = ServeOptions(model: model)
    configure(&options)
    let server = try DistillServer(options: options)
    try await Application(router: server.buildRouter()).test(.router) { client in try await body(RouterClient(client: client)) }
}

/// Requests in the shapes the tests send, answered as ``HTTPAnswer``s.
struct RouterClient: Sendable {
    let client: any TestClientProtocol

    func call(_ method: HTTPRequest.Method = .post, _ path: String, body: [UInt8]? = nil, contentType: String? = "application/json",
              headers: [(String, String)] = []) async throws -> HTTPAnswer {
        var fields = HTTPFields()
        if let contentType { fields[.contentType] = contentType }
        for (name, value) in headers { fields[HTTPField.Name(name)!] = value }
        let response = try await client.execute(uri: path, method: method, headers: fields, body: body.map { ByteBuffer(bytes: $0) })
        return HTTPAnswer(status: Int(response.status.code), body: String(buffer: response.body), contentType: response.headers[.contentType],
                          retryAfter: response.headers[.retryAfter])
    }

    func call(_ path: String, json: Any, headers: [(String, String)] = []) async throws -> HTTPAnswer {
        try await call(.post, path, body: Array(try JSONSerialization.data(withJSONObject: json)), headers: headers)
    }

    func get(_ path: String, headers: [(String, String)] = []) async throws -> HTTPAnswer {
        try await call(.get, path, contentType: nil, headers: headers)
    }
}

@Suite("distill serve's router, in-process")
struct RouterTests {
    let lines = serveLines

    @Test("a bearer token guards /v1 and /admin but not health or metrics; a wrong one is 401 with WWW-Authenticate")
    func bearer() async throws {
        let model = temporaryFolder().appendingPathComponent("model")
        try saveBiasedStudent(to: model, label: "disk")
        try await withRouter(model: model, { $0.bearerToken = "s3cret" }) { client in
            let body: [String: Any] = ["texts": ["disk full"]]
            let missing = try await client.call("/v1/classify", json: body)
            #expect(missing.status == 401 && missing.body.contains("bearer token") && (missing.json as? [String: Any])?["status"] as? Int == 401)
            #expect(try await client.call("/v1/classify", json: body, headers: [("Authorization", "Bearer s3cre")]).status == 401)
            let challenge = try await client.client.execute(uri: "/v1/classify", method: .post, headers: [.contentType: "application/json"],
                                                            body: ByteBuffer(string: #"{"texts": ["x"]}"#))
            #expect(challenge.status == .unauthorized && challenge.headers[.wwwAuthenticate] == "Bearer")
            #expect(try await client.call("/v1/classify", json: body, headers: [("Authorization", "Bearer s3cret")]).status == 200)
            #expect(try await client.call(.post, "/admin/reload", contentType: nil).status == 401)
            #expect(try await client.get("/healthz").status == 200)
            #expect(try await client.get("/metrics").status == 200)
            let metrics = try await client.get("/metrics").body
            #expect(metrics.contains(#"distill_http_requests_total{route="/v1/classify",status="401"} 3"#), "\(metrics)")
            #expect(metrics.contains(#"distill_http_requests_total{route="/admin/reload",status="401"} 1"#))
        }
        let protected: (inout ServeOptions) -> Void = { options in
            options.bearerToken = "s3cret"
            options.protectMetrics = true
        }
        try await withRouter(model: model, protected) { client in
            let refused = try await client.get("/metrics")
            let allowed = try await client.get("/metrics", headers: [("Authorization", "Bearer s3cret")])
            #expect(refused.status == 401 && allowed.status == 200)
            #expect(try await client.get("/readyz").body.contains("ready"))
        }
    }

    @Test("the model's decision.json calibrates the answers; a confidence floor answers unknown, a bar on normal moves lines off normal")
    func decisionRule() async throws {
        let model = temporaryFolder().appendingPathComponent("model")
        try saveBiasedStudent(to: model, label: "normal")
        // p(normal) is ~1 - 6e-9 as trained; T = 100 flattens it to about 0.29 (the others ~0.24 each).
        try DecisionRule(temperature: 100).save(to: model)
        let lines = self.lines
        try await withRouter(model: model) { client in
            let results = (try await client.call("/v1/classify", json: ["texts": lines]).json as! [String: Any])["results"] as! [[String: Any]]
            #expect(results.allSatisfy { $0["label"] as? String == "normal" && abs(($0["probability"] as! Double) - 0.29) < 0.02 }, "\(results)")
        }
        try await withRouter(model: model, { $0.decision = DecisionRule.Overrides(minimumConfidence: 0.5) }) { client in
            let unknown = (try await client.call("/v1/classify", json: ["texts": lines]).json as! [String: Any])["results"] as! [[String: Any]]
            #expect(unknown.allSatisfy { $0["label"] as? String == "unknown" })
            let records = try await client.call("/v1/logs", json: [["message": lines[0]]]).json as! [[String: Any]]
            #expect((records[0]["distill"] as? [String: Any])?["label"] as? String == "unknown")
            #expect(try await client.get("/metrics").body.contains(#"distill_lines_classified_total{label="unknown"} 4"#))
        }
        try await withRouter(model: model, { $0.decision = DecisionRule.Overrides(normalThreshold: 0.5) }) { client in
            let moved = (try await client.call("/v1/classify", json: ["texts": lines]).json as! [String: Any])["results"] as! [[String: Any]]
            // Each line now gets its most probable label other than normal (the second of its top list).
            #expect(moved.allSatisfy { $0["label"] as? String == ($0["top"] as! [[String: Any]])[1]["label"] as? String && $0["label"] as? String != "normal" }, "\(moved)")
        }
    }

    @Test("malformed, oversized, mistyped, empty, unknown-field and non-UTF-8 requests get the right 4xx, counted by route; the service stays up")
    func badRequests() async throws {
        let model = temporaryFolder().appendingPathComponent("model")
        try saveBiasedStudent(to: model, label: "disk")
        let lines = self.lines
        try await withRouter(model: model, { $0.maxBodyBytes = 4000; $0.maxBatch = 5; $0.maxTextBytes = 300 }) { client in
            func check(_ answer: HTTPAnswer, _ status: Int, _ mention: String) {
                #expect(answer.status == status, "\(answer.body)")
                #expect(answer.body.contains(mention), "\(answer.body) should mention \(mention)")
                #expect((answer.json as? [String: Any])?["status"] as? Int == status)
            }
            check(try await client.call(.post, "/v1/classify", body: Array(#"{"texts": ["a", }"#.utf8)), 400, "not valid JSON")
            check(try await client.call("/v1/classify", json: ["texts": [String(repeating: "x", count: 5000)]]), 413, "--max-body-bytes")
            check(try await client.call(.post, "/v1/classify", body: Array(#"{"texts": ["a"]}"#.utf8), contentType: "text/plain"), 415, "Content-Type")
            check(try await client.call("/v1/classify", json: ["texts": [String]()]), 400, "empty")
            check(try await client.call("/v1/classify", json: ["text": ["a"]]), 400, "unknown field 'text'")
            check(try await client.call(.post, "/v1/classify", body: [0x7B, 0x22, 0x74, 0xFF, 0xFE, 0x22, 0x7D]), 400, "UTF-8")
            check(try await client.call("/v1/classify", json: ["texts": ["a", "b", "c", "d", "e", "f"]]), 413, "--max-batch")
            check(try await client.call("/v1/classify", json: ["texts": [String(repeating: "y", count: 400)]]), 413, "--max-text-bytes")
            check(try await client.call("/v1/classify", json: ["texts": [1, 2]]), 400, "texts[0] is not a string")
            check(try await client.call(.post, "/v1/classify", body: []), 400, "empty")
            check(try await client.call(.post, "/v1/logs", body: Array("{\"log\":\"a\"}\n{broken\n".utf8), contentType: "application/x-ndjson"), 400, "line 2")
            check(try await client.call("/v1/logs", json: [42]), 400, "record 0 is a JSON number, neither an object nor a string")
            // A 19-digit block id and a 1 MB line's worth of digits are ordinary lines.
            let hostile = ["blk_-3224184805694764748 served", String(repeating: "9", count: 250)]
            let fine = try await client.call("/v1/classify", json: ["texts": lines + hostile])
            #expect(fine.status == 200 && ((fine.json as? [String: Any])?["results"] as? [Any])?.count == 5)
            #expect(try await client.get("/healthz").status == 200)
            #expect(try await client.get("/nowhere").status == 404)
            let metrics = try await client.get("/metrics").body
            #expect(metrics.contains(#"distill_http_requests_total{route="/v1/classify",status="413"} 3"#), "\(metrics)")
            #expect(metrics.contains(#"distill_http_requests_total{route="/v1/classify",status="400"} 6"#))
            #expect(metrics.contains(#"distill_http_requests_total{route="unmatched",status="404"} 1"#))
        }
    }
}
