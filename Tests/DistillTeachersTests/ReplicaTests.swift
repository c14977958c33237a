import DistillExamples
import DistillRecipes
import DistillRuntime
@testable import DistillTeachers
import DistillTestSupport
import DistillTraining
import Foundation
import Testing

/// A replica on loopback: answers `/v1/models` (its health request) with `model`, and chat requests with `chat`
/// (arrival index among chat requests) unless `down` says it is failing.
func replica(model: String = "m", _ chat: @escaping @Sendable (Int) -> LoopbackServer.Action = { _ in .delay(0.02, .json(goodAnswer)) },
             healthy: @escaping @Sendable () -> Bool = { true }) throws -> LoopbackServer {
    let counter = Counter()
    return try LoopbackServer { request, _ in
        if request.path.hasSuffix("/props") { return .json(["error": "not found"], status: 404) }
        if request.path.hasSuffix("/models") { return healthy() ? .json(["data": [["id": model]]]) : .json(["error": "loading"], status: 503) }
        return chat(counter.next())
    }
}

func chatRequests(_ s: LoopbackServer) -> Int { s.requests.filter { $0.path.hasSuffix("/chat/completions") }.count }

@Suite("one teacher, many replicas: least outstanding requests, out of service and back")
struct ReplicaTests {
    @Test("requests are spread over the replicas, at most max_concurrency in flight on each")
    func spread() async throws {
        let a = try replica(), b = try replica()
        defer { a.stop(); b.stop() }
        var spec = loopbackSpec(a, timeout: 60)
        spec.baseURLs = [a.baseURL, b.baseURL]
        spec.maxConcurrency = 2
        let teacher = try await OpenAITeacher.connect(spec: spec, labels: testLabels)
        #expect(teacher.maxConcurrency == 4 && teacher.perReplicaConcurrency == 2)
        let answers = try await teacher.label((0..<60).map { "line \($0)" })
        #expect(answers.allSatisfy { $0.label != nil })
        #expect(chatRequests(a) + chatRequests(b) == 60)
        #expect((25...35).contains(chatRequests(a)), "\(chatRequests(a)) of 60 at the first replica")
        #expect(a.maxInFlight <= 2 && b.maxInFlight <= 2 && a.maxInFlight + b.maxInFlight >= 3)
        let usage = await teacher.replicaUsage()
        #expect(usage.map(\.requests) == [chatRequests(a), chatRequests(b)] && usage.allSatisfy { $0.failures == 0 && $0.inService })
        let summary = try #require(await teacher.replicaSummary())
        #expect(summary.contains("\(a.baseURL) \(chatRequests(a)) requests") && summary.contains("\(b.baseURL) \(chatRequests(b)) requests"), "\(summary)")
    }

    @Test("a replica that dies mid-run is taken out: its request is retried at once on the other, every text is answered once")
    func replicaDies() async throws {
        let a = try replica(), b = try replica()
        defer { a.stop(); b.stop() }
        var spec = loopbackSpec(a, retries: 2, timeout: 60)  // a long timeout: a loaded machine must not fail b's requests
        spec.baseURLs = [a.baseURL, b.baseURL]
        spec.maxConcurrency = 1
        let notices = Notices()
        // A long first backoff: without failover the retry would wait for it.
        let teacher = try await OpenAITeacher.connect(spec: spec, labels: testLabels, transport: AsyncHTTPClientTransport(log: notices.add),
                                                      retry: RetryPolicy(maxRetries: 2, baseDelay: 10, maxDelay: 10), log: notices.add)
        let store = try LabelStore(url: temporaryFile("replica-dies.sqlite"))
        var job = LabelingJob(teacher: teacher, store: store)
        job.grouping = .text
        let texts = (0..<80).map { "line \($0)" }
        let killer = Task {
            while chatRequests(a) < 10 { try await Task.sleep(for: .milliseconds(2)) }
            a.stop()
        }
        let (answers, summary) = try await job.run(texts)
        try await killer.value
        #expect(answers.allSatisfy { $0.label != nil } && summary.failures.isEmpty)
        #expect(try store.count() == 80, "each text stored once")
        #expect(chatRequests(b) >= 60)
        let usage = await teacher.replicaUsage()
        #expect(!usage[0].inService && usage[0].timesOut == 1 && usage[0].failures >= 1 && usage[1].failures == 0, "\(usage)")
        #expect(usage[0].retriedElsewhereAtOnce == usage[0].failures && usage.allSatisfy { $0.retriedAfterBackoff == 0 },
                "each request the dead replica lost went to the other at once, none waited out the 10 s backoff (\(usage))")
        let line = try #require(await teacher.replicaSummary())
        #expect(line.contains("(\(usage[0].failures) failed, \(usage[0].failures) sent again at once to another, out of service 1 time, out now)"), "\(line)")
        #expect(summary.requests == 80 + usage[0].failures, "one extra request per request the dead replica lost (\(summary.requests))")
        #expect(notices.lines.contains { $0.contains("replica \(a.baseURL) taken out of service") }, "\(notices.lines)")
    }

    @Test("a replica answering 503 is taken out, probed, and back in service once its health request answers")
    func outAndBack() async throws {
        let failing = Flag(true)
        let a = try replica({ _ in failing.value ? .json(["error": ["message": "overloaded"]], status: 503) : .json(goodAnswer) },
                            healthy: { !failing.value })
        let b = try replica()
        defer { a.stop(); b.stop() }
        var spec = loopbackSpec(a)
        spec.baseURLs = [a.baseURL, b.baseURL]
        spec.maxConcurrency = 1
        let notices = Notices()
        let teacher = try await OpenAITeacher.connect(spec: spec, labels: testLabels, retry: fastRetry(3), log: notices.add)
        let first = try await teacher.label((0..<10).map { "first \($0)" })
        #expect(first.allSatisfy { $0.label != nil })
        #expect(chatRequests(a) == 1, "one 503 takes the replica out (\(chatRequests(a)))")
        failing.value = false
        // Its first probe is due 1 s after it was taken out (the deadline only bounds a broken run).
        let deadline = Date().addingTimeInterval(120)
        while Date() < deadline, !notices.lines.contains(where: { $0.contains("\(a.baseURL) answers again") }) { try await Task.sleep(for: .milliseconds(20)) }
        #expect(a.requests.contains { $0.path.hasSuffix("/models") && $0.method == "GET" })
        let second = try await teacher.label((0..<20).map { "second \($0)" })
        #expect(second.allSatisfy { $0.label != nil })
        #expect(chatRequests(a) >= 6, "back in service, it takes its share (\(chatRequests(a)) requests)")
        let usage = await teacher.replicaUsage()
        #expect(usage[0].inService && usage[0].timesOut == 1 && usage[0].failures == 1 && usage[0].retriedElsewhereAtOnce == 1, "\(usage)")
    }

    @Test("a replica down at connect starts out of service; the others answer")
    func downAtConnect() async throws {
        let a = try replica(), b = try replica()
        defer { b.stop() }
        a.stop()
        var spec = loopbackSpec(b)
        spec.baseURLs = [a.baseURL, b.baseURL]
        let notices = Notices()
        let teacher = try await OpenAITeacher.connect(spec: spec, labels: testLabels, log: notices.add)
        let answers = try await teacher.label((0..<6).map { "t\($0)" })
        #expect(answers.allSatisfy { $0.label != nil } && chatRequests(b) == 6)
        let usage = await teacher.replicaUsage()
        #expect(usage[0].requests == 0 && !usage[0].inService && usage[0].timesOut == 1)
        #expect(notices.lines.contains { $0.contains("replica \(a.baseURL) does not accept connections") }, "\(notices.lines)")
        // None answering is an error naming them.
        b.stop()
        await #expect(throws: TeacherError.self) { _ = try await OpenAITeacher.connect(spec: spec, labels: testLabels) }
    }

    @Test("replicas must serve the same model; the same URL twice and an empty list are refused")
    func sameModel() async throws {
        let a = try replica(model: "qwen-1.5b"), b = try replica(model: "qwen-0.5b")
        defer { a.stop(); b.stop() }
        var spec = loopbackSpec(a)
        spec.baseURLs = [a.baseURL, b.baseURL]
        do {
            _ = try await OpenAITeacher.connect(spec: spec, labels: testLabels)
            Issue.record("replicas of different models were accepted")
        } catch let TeacherError.configuration(key, detail) {
            #expect(key == "base_url" && detail.contains("qwen-0.5b") && detail.contains("qwen-1.5b"), "\(detail)")
        }
        spec.model = "qwen"  // named explicitly: the servers route by it, nothing to compare
        #expect(try await OpenAITeacher.connect(spec: spec, labels: testLabels).modelName == "qwen")
        spec.baseURLs = [a.baseURL, a.baseURL + "/"]
        #expect(throws: TeacherError.configuration(key: "base_url", detail: "'\(a.baseURL)/' is listed twice")) { try spec.validate(labels: testLabels.map(\.name)) }
        spec.baseURLs = []
        #expect(throws: TeacherError.configuration(key: "base_url", detail: "needs at least one URL")) { try spec.validate(labels: testLabels.map(\.name)) }
    }

    @Test("recipe base_url: one URL or a list; a list item that is not a string names its line")
    func recipeList() throws {
        func load(_ baseURL: String) throws -> [String]? {
            let folder = temporaryFolder("replica-recipe")
            try "{\"text\": \"x\"}\n".write(to: folder.appendingPathComponent("u.jsonl"), atomically: true, encoding: .utf8)
            let text = "labels: [database, network]\ndata:\n  unlabelled: u.jsonl\nteachers:\n  - name: llm\n    kind: openai\n    base_url: \(baseURL)\n"
                + "student:\n  kind: ngram-bag\n"
            try text.write(to: folder.appendingPathComponent("r.yaml"), atomically: true, encoding: .utf8)
            let r = try Recipe.load(folder.appendingPathComponent("r.yaml"))
            if case let .openAI(s) = r.teachers[0].kind { return s.baseURLs }
            return nil
        }
        #expect(try load("http://a:8080/v1") == ["http://a:8080/v1"])
        #expect(try load("[http://a:8080/v1, http://b:8080/v1]") == ["http://a:8080/v1", "http://b:8080/v1"])
        #expect(try load("\n      - http://a:8080/v1\n      - http://b:8080/v1") == ["http://a:8080/v1", "http://b:8080/v1"])
        for (bad, detail) in [("[http://a:8080/v1, {x: 1}]", "expected a string, found a mapping"), ("[]", "expected a string or a non-empty list"),
                              ("[http://a:8080/v1, http://a:8080/v1/]", "listed twice")] {
            do {
                _ = try load(bad)
                Issue.record("base_url: \(bad) was accepted")
            } catch let e as RecipeError {
                #expect(e.key == "teachers[0].base_url" && e.line == 7 && e.detail.contains(detail), "\(e)")
            }
        }
    }
}

final class Flag: @unchecked Sendable {
    private let lock = NSLock()
    private var _value: Bool
    init(_ value: Bool) { _value = value }
    var value: Bool {
        get { lock.withLock { _value } }
        set { lock.withLock { _value = newValue } }
    }
}

/// A llama.cpp server of its own (scripts/llm-server, SmolLM2, one thread and one slot) on `port`.
struct LlamaReplica {
    let port: Int
    var baseURL: String { "http://127.0.0.1:\(port)/v1" }

    static func start(_ port: Int) throws -> LlamaReplica {
        let r = try script(["start", "\(port)"])
        guard r.status == 0 else { throw POSIXError(.ECHILD) }
        return LlamaReplica(port: port)
    }

    /// The process id `scripts/llm-server status` reports.
    func pid() throws -> Int32? {
        let r = try Self.script(["status", "\(port)"])
        guard let range = r.output.range(of: #"pid (\d+)"#, options: .regularExpression) else { return nil }
        return Int32(r.output[range].dropFirst(4))
    }

    func stop() { _ = try? Self.script(["stop", "\(port)"]) }

    /// `llamacpp:prompt_tokens_total` from its `/metrics` (nil when it does not answer).
    func promptTokens() async -> Double? {
        guard let reply = try? await AsyncHTTPClientTransport().send(method: "GET", url: "http://127.0.0.1:\(port)/metrics", headers: [], body: nil, timeout: 5),
              reply.status == 200 else { return nil }
        let line = String(decoding: reply.body, as: UTF8.self).split(separator: "\n").first { $0.hasPrefix("llamacpp:prompt_tokens_total ") }
        return line.flatMap { Double($0.split(separator: " ")[1]) }
    }

    private static func script(_ arguments: [String]) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = [projectRoot.appendingPathComponent("scripts/llm-server").path] + arguments
        var environment = ProcessInfo.processInfo.environment
        environment["LLAMA_THREADS"] = "1"
        environment["LLAMA_SLOTS"] = "1"
        process.environment = environment
        let out = temporaryFile("llm-server.out")
        try Data().write(to: out)
        let handle = try FileHandle(forWritingTo: out)
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: try Data(contentsOf: out), as: UTF8.self))
    }
}

extension LlamaIntegration {
@Suite("one teacher on two real llama.cpp servers")
struct LlamaReplicaTests {
    @Test("spread over two llama-servers, one killed with kill -9 mid-run: the run ends on the other, nothing lost or asked twice, output byte-identical to one server's")
    func twoServersOneKilled() async throws {
        let a = try LlamaReplica.start(18097)
        defer { a.stop() }
        let b = try LlamaReplica.start(18098)
        defer { b.stop() }
        // Every 50th real line (all 8 systems), of the first 32 distinct lines met: about 30 questions, one per template.
        var lines: [String] = [], keys: [String] = []
        for line in try realLogLines().enumerated().filter({ $0.offset % 50 == 0 }).map(\.element) {
            let key = LabelingJob.templateKey(line)
            if !keys.contains(key) {
                guard keys.count < 32 else { continue }
                keys.append(key)
            }
            lines.append(line)
        }
        let folder = temporaryFolder("replicas")
        let input = folder.appendingPathComponent("logs.txt")
        try lines.joined(separator: "\n").write(to: input, atomically: true, encoding: .utf8)
        func args(_ teacher: String, _ name: String) -> [String] {
            ["label", "--teacher", "openai:\(teacher)", "--labels", realLogLabels.joined(separator: ","), "--input", input.path,
             "--out", folder.appendingPathComponent("\(name).jsonl").path, "--store", folder.appendingPathComponent("\(name).sqlite").path]
        }
        let one = try runDistill(args(a.baseURL, "one"))
        #expect(one.status == 0, "\(one.output)")
        let oneSummary = try #require(try JSONSerialization.jsonObject(with: Data(one.stdout.utf8)) as? [String: Any])
        let questions = try #require(oneSummary["questions"] as? Int)
        #expect(questions >= 20 && oneSummary["requests"] as? Int == questions, "\(one.stdout)")

        let tokensA = await a.promptTokens() ?? 0, tokensB = await b.promptTokens() ?? 0
        let store = folder.appendingPathComponent("two.sqlite")
        let log = folder.appendingPathComponent("two.log")
        let process = try startDistill(args("\(a.baseURL),\(b.baseURL)", "two"), log: log)
        // Kill B once both servers have answered and a few answers are stored.
        let deadline = Date().addingTimeInterval(180)
        while Date() < deadline, process.isRunning {
            if await (b.promptTokens() ?? 0) > tokensB, await (a.promptTokens() ?? 0) > tokensA, let n = try? LabelStore(url: store).count(), n >= 6 { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(process.isRunning, "the two-server run ended before a server could be killed")
        let servedByB = await (b.promptTokens() ?? 0) - tokensB
        #expect(servedByB > 0, "the second server got requests")
        let victim = try #require(try b.pid())
        kill(victim, SIGKILL)
        process.waitUntilExit()
        let output = try String(contentsOf: log, encoding: .utf8)
        #expect(process.terminationStatus == 0, "\(output)")
        #expect(try Data(contentsOf: folder.appendingPathComponent("two.jsonl")) == Data(contentsOf: folder.appendingPathComponent("one.jsonl")),
                "the same answers whichever server gave them")
        #expect(try storedAnswers(store, withRequests: false) == storedAnswers(folder.appendingPathComponent("one.sqlite"), withRequests: false),
                "the same store, but for how many requests an answer took")
        let summaryLine = try #require(output.split(separator: "\n").first { $0.hasPrefix("{") })
        let summary = try #require(try JSONSerialization.jsonObject(with: Data(summaryLine.utf8)) as? [String: Any])
        let requests = try #require(summary["requests"] as? Int)
        #expect(summary["questions"] as? Int == questions && (questions...questions + 1).contains(requests),
                "each question answered once; at most the one request in flight at the killed server sent again (\(requests) requests)")
        #expect(output.contains("replica \(b.baseURL) taken out of service"), "\(output)")
        let spread = try #require(output.split(separator: "\n").first { $0.contains("replicas: ") }.map(String.init))
        #expect(spread.contains("\(a.baseURL) ") && spread.contains("\(b.baseURL) ") && spread.contains("out now"), "\(spread)")
    }
}
}
