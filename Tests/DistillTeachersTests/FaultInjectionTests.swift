import DistillExamples
import DistillRecipes
import DistillRuntime
import DistillTeachers
import DistillTestSupport
import DistillTraining
import Foundation
import Testing

let testLabels = [Recipe.Label(name: "database", description: "database errors"), Recipe.Label(name: "network", description: "network failures"),
                  Recipe.Label(name: "normal", description: "routine operation")]

/// A teacher spec for a loopback server: fast retries, names as answers, no constraint.
func loopbackSpec(_ server: LoopbackServer, retries: Int = 3, timeout: Double = 5) -> LLMTeacherSpec {
    var spec = LLMTeacherSpec(baseURL: server.baseURL)
    spec.verbalizer = .names
    spec.constraint = LLMTeacherSpec.Constraint.none
    spec.maxRetries = retries
    spec.timeoutSeconds = timeout
    spec.maxConcurrency = 2
    return spec
}

/// Answers the probes (`/props`, `/v1/models`) like a plain OpenAI-compatible server, the rest with `chat`.
func server(_ chat: @escaping @Sendable (LoopbackServer.Request, Int) -> LoopbackServer.Action) throws -> LoopbackServer {
    let counter = Counter()
    return try LoopbackServer { request, _ in
        if request.path.hasSuffix("/props") || request.path.hasSuffix("/models") { return .json(["error": "not found"], status: 404) }
        return chat(request, counter.next())
    }
}

final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var value = 0
    func next() -> Int { lock.withLock { defer { value += 1 }; return value } }
}

var goodAnswer: [String: Any] { chatCompletion("database", alternatives: [("database", log(0.6)), ("network", log(0.2)), ("The", log(0.1))]) }

func fastRetry(_ n: Int) -> RetryPolicy { RetryPolicy(maxRetries: n, baseDelay: 0.01, maxDelay: 0.05) }

@Suite("LLM teacher against a fault-injecting loopback server")
struct FaultInjectionTests {
    @Test("logprobs become a distribution over the labels; the rest is the outside mass")
    func logprobDistribution() async throws {
        let s = try server { _, _ in .json(goodAnswer) }
        defer { s.stop() }
        let teacher = try await OpenAITeacher.connect(spec: loopbackSpec(s), labels: testLabels)
        let answer = try await teacher.labelOne("ERROR connection refused")
        let label = try #require(answer.label)
        #expect(label.method == .logprobs)
        #expect(abs(label.probabilities[0] - 0.75) < 1e-5 && abs(label.probabilities[1] - 0.25) < 1e-5 && label.probabilities[2] == 0)
        #expect(abs(label.outsideMass - 0.2) < 1e-5)
        #expect(label.rawAnswer == "database" && label.requests == 1 && label.promptTokens == 50)
        #expect(teacher.serverKind == .openAICompatible)
        // What went over the wire: temperature 0, logprobs asked for, the label list in the system prompt.
        let body = try #require(s.requests.last { $0.path.hasSuffix("/chat/completions") }?.json)
        #expect(body["temperature"] as? Double == 0 && body["logprobs"] as? Bool == true && body["top_logprobs"] as? Int == 20)
        let messages = try #require(body["messages"] as? [[String: String]])
        #expect(messages[0]["content"]!.contains("- database: database errors") && messages.last!["content"] == "Log line: ERROR connection refused")
    }

    @Test("429 with Retry-After: the client waits that long, then succeeds")
    func retryAfter() async throws {
        let s = try server { _, i in i == 0 ? .json(["error": ["message": "slow down"]], status: 429, headers: ["Retry-After": "1"]) : .json(goodAnswer) }
        defer { s.stop() }
        let teacher = try await OpenAITeacher.connect(spec: loopbackSpec(s), labels: testLabels, retry: fastRetry(3))
        let started = Date()
        let answer = try await teacher.labelOne("x")
        #expect(Date().timeIntervalSince(started) >= 0.95, "Retry-After: 1 must be honored over the 10 ms backoff")
        #expect(answer.label?.requests == 2)
    }

    @Test("500 twice, then an answer: retried with backoff")
    func serverErrors() async throws {
        let s = try server { _, i in i < 2 ? .json(["error": ["message": "boom"]], status: 500) : .json(goodAnswer) }
        defer { s.stop() }
        let teacher = try await OpenAITeacher.connect(spec: loopbackSpec(s), labels: testLabels, retry: fastRetry(3))
        let label = try #require(try await teacher.labelOne("x").label)
        #expect(label.requests == 3 && label.method == .logprobs)
    }

    @Test("500 forever: an 'unavailable' failure after the retries, which a later run asks again")
    func serverErrorsForever() async throws {
        let s = try server { _, _ in .json(["error": ["message": "down for maintenance"]], status: 503) }
        defer { s.stop() }
        let teacher = try await OpenAITeacher.connect(spec: loopbackSpec(s), labels: testLabels, retry: fastRetry(2))
        let failure = try #require(try await teacher.labelOne("x").failure)
        #expect(failure.kind == .unavailable && failure.isTransient && failure.requests == 3)
        #expect(failure.detail.contains("HTTP 503: down for maintenance"))
    }

    @Test("a request that hangs times out and is retried")
    func timeout() async throws {
        let s = try server { _, i in i == 0 ? .hang : .json(goodAnswer) }
        defer { s.stop() }
        let teacher = try await OpenAITeacher.connect(spec: loopbackSpec(s, timeout: 0.5), labels: testLabels, retry: fastRetry(2))
        let label = try #require(try await teacher.labelOne("x").label)
        #expect(label.requests == 2 && label.latencySeconds >= 0.45)
    }

    @Test("truncated JSON is retried; if it persists the text fails as malformed and the run goes on")
    func truncatedJSON() async throws {
        let full = try JSONSerialization.data(withJSONObject: goodAnswer)
        let cut = full.prefix(full.count / 2)
        let s = try server { request, _ in
            let text = (request.json?["messages"] as? [[String: String]])?.last?["content"] ?? ""
            return text.contains("broken") ? .respond(status: 200, headers: ["Content-Type": "application/json"], body: Data(cut)) : .json(goodAnswer)
        }
        defer { s.stop() }
        let teacher = try await OpenAITeacher.connect(spec: loopbackSpec(s), labels: testLabels, retry: fastRetry(2))
        let answers = try await teacher.label(["fine 1", "broken", "fine 2"])
        #expect(answers[0].label != nil && answers[2].label != nil)
        let failure = try #require(answers[1].failure)
        #expect(failure.kind == .malformed && failure.requests == 3 && failure.detail.contains("not JSON"))
    }

    @Test("a connection cut in the middle of the body is retried")
    func cutConnection() async throws {
        let s = try server { _, i in
            i == 0 ? .raw(Data("HTTP/1.1 200 OK\r\nContent-Length: 500\r\nContent-Type: application/json\r\n\r\n{\"choi".utf8)) : .json(goodAnswer)
        }
        defer { s.stop() }
        let teacher = try await OpenAITeacher.connect(spec: loopbackSpec(s), labels: testLabels, retry: fastRetry(2))
        #expect(try await teacher.labelOne("x").label?.requests == 2)
    }

    @Test("no logprobs: k samples at temperature 1 give the empirical distribution; or the smoothed hard answer")
    func missingLogprobs() async throws {
        // Seeds 1...5 answer database, database, network, database, and one off-label answer.
        let bySeed = [1: "database", 2: "database", 3: "network", 4: "database", 5: "I think it is a banana"]
        let s = try server { request, _ in
            let body = request.json ?? [:]
            if body["temperature"] as? Double == 0 { return .json(chatCompletion("network")) }
            return .json(chatCompletion(bySeed[body["seed"] as? Int ?? 0] ?? "?"))
        }
        defer { s.stop() }
        var spec = loopbackSpec(s)
        spec.samples = 5
        let sampled = try #require(try await OpenAITeacher.connect(spec: spec, labels: testLabels).labelOne("x").label)
        #expect(sampled.method == .samples && sampled.requests == 6)
        #expect(sampled.probabilities == [0.75, 0.25, 0] && abs(sampled.outsideMass - 0.2) < 1e-6)
        let samplingBodies = s.requests.compactMap(\.json).filter { $0["temperature"] as? Double == 1 }
        #expect(samplingBodies.count == 5 && samplingBodies.allSatisfy { $0["logprobs"] == nil })

        spec.fallback = .hard
        spec.smoothing = 0.3
        let hard = try #require(try await OpenAITeacher.connect(spec: spec, labels: testLabels).labelOne("x").label)
        #expect(hard.method == .hard && hard.requests == 1)
        #expect(abs(hard.probabilities[1] - 0.8) < 1e-6 && abs(hard.probabilities[0] - 0.1) < 1e-6)
    }

    @Test("an off-label answer is a counted failure; the other texts are labelled and stored")
    func offLabel() async throws {
        let s = try server { request, _ in
            let text = (request.json?["messages"] as? [[String: String]])?.last?["content"] ?? ""
            return text.contains("weird") ? .json(chatCompletion("banana", alternatives: [("banana", -0.1), ("The", -3)])) : .json(goodAnswer)
        }
        defer { s.stop() }
        let teacher = try await OpenAITeacher.connect(spec: loopbackSpec(s), labels: testLabels)
        let store = try LabelStore(url: temporaryFile("offlabel.sqlite"))
        let job = LabelingJob(teacher: teacher, store: store)
        let (answers, summary) = try await job.run(["ok one", "something weird", "ok two"])
        #expect(answers.map { $0.label != nil } == [true, false, true])
        #expect(answers[1].failure?.kind == .offLabel && answers[1].failure?.rawAnswer == "banana")
        #expect(summary.failures == ["off-label": 1] && summary.methods == ["logprobs": 2])
        #expect(try store.count() == 3)
        // A second run asks nothing (the off-label answer is stored too) unless told to retry failures.
        let before = s.requests.count
        let (_, again) = try await job.run(["ok one", "something weird", "ok two"])
        #expect(again.requests == 0 && again.cacheHits == 3 && s.requests.count == before)
        var retrying = job
        retrying.retryFailed = true
        let (_, retried) = try await retrying.run(["ok one", "something weird", "ok two"])
        #expect(retried.requests == 1 && retried.cacheHits == 2)
    }

    @Test("401 stops the run with a message naming the key variable; the key is sent but never stored")
    func unauthorized() async throws {
        setenv("DISTILL_TEST_KEY", "sk-secret-123", 1)
        let s = try server { request, _ in
            request.headers["authorization"] == "Bearer sk-secret-123" ? .json(goodAnswer) : .json(["error": ["message": "invalid api key"]], status: 401)
        }
        defer { s.stop() }
        var spec = loopbackSpec(s)
        spec.apiKeyEnvironment = "DISTILL_TEST_KEY"
        let store = temporaryFile("key.sqlite")
        let job = LabelingJob(teacher: try await OpenAITeacher.connect(spec: spec, labels: testLabels), store: try LabelStore(url: store))
        _ = try await job.run(["a line"])
        let bytes = try Data(contentsOf: store) + ((try? Data(contentsOf: URL(fileURLWithPath: store.path + "-wal"))) ?? Data())
        #expect(bytes.range(of: Data("sk-secret-123".utf8)) == nil)

        spec.apiKeyEnvironment = nil
        let anonymous = try await OpenAITeacher.connect(spec: spec, labels: testLabels)
        await #expect(throws: TeacherError.self) { _ = try await anonymous.labelOne("x") }
        do { _ = try await anonymous.labelOne("x") } catch {
            #expect(error.localizedDescription.contains("HTTP 401") && error.localizedDescription.contains("api_key_env"))
        }
        spec.apiKeyEnvironment = "DISTILL_TEST_KEY_MISSING"
        await #expect(throws: TeacherError.configuration(key: "api_key_env", detail: "the environment variable DISTILL_TEST_KEY_MISSING is not set")) {
            _ = try await OpenAITeacher.connect(spec: spec, labels: testLabels)
        }
    }

    @Test("a server that stays down stops the job; answers stored before are kept")
    func serverDown() async throws {
        let s = try server { _, i in i < 3 ? .json(goodAnswer) : .json(["error": ["message": "gone"]], status: 503) }
        defer { s.stop() }
        let teacher = try await OpenAITeacher.connect(spec: loopbackSpec(s, retries: 0), labels: testLabels, retry: fastRetry(0))
        let store = try LabelStore(url: temporaryFile("down.sqlite"))
        var job = LabelingJob(teacher: teacher, store: store)
        job.maximumConsecutiveUnavailable = 4
        job.grouping = .text
        await #expect(throws: TeacherError.self) { _ = try await job.run((0..<20).map { "line \($0)" }) }
        let stored = try store.count()
        #expect(stored >= 3 && stored < 20)
    }

    @Test("a server killed mid-run: the job ends within seconds (not retries x timeout), says so at once, and keeps what it stored")
    func serverKilledMidRun() async throws {
        let s = try server { _, _ in .json(goodAnswer) }
        defer { s.stop() }
        let notices = Notices()
        let transport = AsyncHTTPClientTransport(probeInterval: 0.5, log: { notices.add($0) })
        // A 30 s timeout and two retries: before the circuit breaker each refused request waited the whole timeout.
        let teacher = try await OpenAITeacher.connect(spec: loopbackSpec(s, retries: 2, timeout: 30), labels: testLabels, transport: transport,
                                                      retry: RetryPolicy(maxRetries: 2, baseDelay: 0.1, maxDelay: 0.2))
        let store = try LabelStore(url: temporaryFile("killed.sqlite"))
        var job = LabelingJob(teacher: teacher, store: store)
        job.grouping = .text
        let killer = Task {
            while s.requests.count < 40 { try await Task.sleep(for: .milliseconds(5)) }
            s.stop()
            return Date()
        }
        await #expect(throws: TeacherError.self) { _ = try await job.run((0..<400).map { "line \($0)" }) }
        let ended = Date(), killed = try await killer.value
        // Without the breaker the first give-up comes after 3 x 30 s; the bound leaves room for a loaded machine.
        #expect(ended.timeIntervalSince(killed) < 75, "gave up \(ended.timeIntervalSince(killed)) s after the server died")
        #expect(notices.lines.contains { $0.contains("refuses connections") && $0.contains("127.0.0.1:\(s.port)") }, "\(notices.lines)")
        #expect(transport.breaker.isOpen(s.baseURL))
        let texts = (0..<400).map { "line \($0)" }
        let labelled = try store.entries(teacher: job.storeTeacher, keys: texts.map(job.key)).values.filter { $0.answer.label != nil }.count
        #expect(labelled >= 36, "answers before the death are stored (\(labelled))")
    }

    @Test("at most max_concurrency requests in flight; requests_per_second spaces their starts")
    func limits() async throws {
        let s = try server { _, _ in .delay(0.05, .json(goodAnswer)) }
        defer { s.stop() }
        var spec = loopbackSpec(s)
        spec.maxConcurrency = 3
        let teacher = try await OpenAITeacher.connect(spec: spec, labels: testLabels)
        _ = try await teacher.label((0..<12).map { "t\($0)" })
        #expect(s.maxInFlight == 3)

        spec.maxConcurrency = 8
        spec.requestsPerSecond = 20
        let limited = try await OpenAITeacher.connect(spec: spec, labels: testLabels)
        let started = Date()
        _ = try await limited.label((0..<10).map { "t\($0)" })
        #expect(Date().timeIntervalSince(started) >= 0.44, "10 starts at 20/s take at least 0.45 s")
    }

    @Test("JSON-schema mode: response_format sent, the answer read from the label value")
    func jsonSchema() async throws {
        let content = "{\"label\": \"network\"}"
        let tokens: [[String: Any]] = [["token": "{\"", "logprob": 0.0, "top_logprobs": [["token": "{\"", "logprob": 0.0]]],
                                       ["token": "label", "logprob": 0.0, "top_logprobs": [["token": "label", "logprob": 0.0]]],
                                       ["token": "\": \"", "logprob": 0.0, "top_logprobs": [["token": "\": \"", "logprob": 0.0]]],
                                       ["token": "network", "logprob": log(0.7), "top_logprobs": [["token": "network", "logprob": log(0.7)], ["token": "normal", "logprob": log(0.3)]]],
                                       ["token": "\"}", "logprob": 0.0, "top_logprobs": [] as [Any]]]
        let body: [String: Any] = ["choices": [["message": ["content": content], "logprobs": ["content": tokens]]]]
        let bytes = try JSONSerialization.data(withJSONObject: body)
        let s = try server { _, _ in .respond(status: 200, body: bytes) }
        defer { s.stop() }
        var spec = loopbackSpec(s)
        spec.constraint = .jsonSchema
        let label = try #require(try await OpenAITeacher.connect(spec: spec, labels: testLabels).labelOne("x").label)
        #expect(label.rawAnswer == "network" && abs(label.probabilities[1] - 0.7) < 1e-5 && abs(label.probabilities[2] - 0.3) < 1e-5)
        let sent = try #require(s.requests.last?.json?["response_format"] as? [String: Any])
        #expect(sent["type"] as? String == "json_schema")
    }

    @Test("an unreachable server fails fast at connect with its address")
    func unreachable() async throws {
        let s = try server { _, _ in .json(goodAnswer) }
        let url = s.baseURL
        s.stop()
        await #expect(throws: TeacherError.self) { _ = try await OpenAITeacher.connect(spec: LLMTeacherSpec(baseURL: url), labels: testLabels) }
    }
}


/// Lines a transport logged.
final class Notices: @unchecked Sendable {
    private let lock = NSLock()
    private var _lines: [String] = []
    func add(_ line: String) { lock.withLock { _lines.append(line) } }
    var lines: [String] { lock.withLock { _lines } }
}
