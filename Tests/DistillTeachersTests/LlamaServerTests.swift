import DistillExamples
import DistillRecipes
@testable import DistillTeachers
import DistillTestSupport
import DistillTraining
import Foundation
import Testing

/// The llama.cpp server `make test` starts (scripts/llm-server, SmolLM2-135M-Instruct); nil when not running.
let llamaURL: String? = ProcessInfo.processInfo.environment["DISTILL_LLM_URL"]
let llamaPort: Int? = llamaURL.flatMap { URL(string: $0)?.port }

let logLabels = [Recipe.Label(name: "normal", description: "routine operation"), Recipe.Label(name: "database", description: "database errors"),
                 Recipe.Label(name: "network", description: "network failures"), Recipe.Label(name: "auth", description: "authentication and security"),
                 Recipe.Label(name: "storage", description: "disk and filesystem problems"), Recipe.Label(name: "memory", description: "memory and resource exhaustion")]

let sampleLines = [
    "2026-11-29 10:00:01 ERROR [db-pool] could not connect to server: Connection refused (10.0.3.7:5432)",
    "Nov 29 10:00:02 node-3 kernel: Out of memory: Killed process 4242 (java) total-vm:4096000kB",
    "Nov 29 10:00:03 node-1 sshd[811]: Failed password for invalid user admin from 203.0.113.9 port 52113 ssh2",
    "10.1.2.3 - - [29/Nov/2026:10:00:04 +0000] \"GET /healthz HTTP/1.1\" 200 2 \"-\" \"kube-probe/1.29\"",
    "Nov 29 10:00:05 node-2 kernel: EXT4-fs error (device sda1): ext4_find_entry:1455: inode #2: comm ls: reading directory lblock 0",
    "E1129 10:00:06.123456 1 reflector.go:138] dial tcp 10.96.0.1:443: i/o timeout",
    "INFO  Started OrderService in 4.2 seconds",
    "WARN  HikariPool-1 - Connection is not available, request timed out after 30000ms",
]

/// Every test that talks to the llama.cpp server, one at a time: llama.cpp batches concurrent requests, and the
/// batch changes the logprobs, so tests running side by side would see each other's traffic.
@Suite("llama.cpp server (SmolLM2-135M-Instruct)", .serialized, .enabled(if: llamaURL != nil, "DISTILL_LLM_URL is not set: run `make test`"))
enum LlamaIntegration {}

extension LlamaIntegration {
@Suite("LLM teacher against a real llama.cpp server")
struct LlamaServerTests {
    @Test("auto mode finds llama.cpp, constrains with a grammar; distributions sum to 1 over the labels; outside mass recorded; answers are labels")
    func grammarDistributions() async throws {
        let teacher = try await OpenAITeacher.connect(spec: LLMTeacherSpec(baseURL: llamaURL!), labels: logLabels)
        #expect(teacher.serverKind == .llamaCpp && teacher.constraint == .grammar)
        #expect(teacher.modelName.hasSuffix(".gguf"))
        let answers = try await teacher.label(sampleLines)
        for (line, answer) in zip(sampleLines, answers) {
            let label = try #require(answer.label, "no label for \(line): \(String(describing: answer.failure))")
            #expect(abs(label.probabilities.reduce(0, +) - 1) < 1e-5)
            #expect(label.probabilities.allSatisfy { $0 >= 0 } && (0...1).contains(label.outsideMass))
            #expect([LabelMethod.logprobs, .hard].contains(label.method))
            #expect(teacher.prompt.verbalizer.words.contains(label.rawAnswer ?? ""), "grammar-constrained answer '\(label.rawAnswer ?? "")' is a label word")
            #expect(label.requests == 1 && (label.promptTokens ?? 0) > 50)
        }
    }

    @Test("temperature 0: the same labels on repeat, from a fresh connection")
    func deterministic() async throws {
        let first = try await OpenAITeacher.connect(spec: LLMTeacherSpec(baseURL: llamaURL!), labels: logLabels).label(sampleLines)
        let second = try await OpenAITeacher.connect(spec: LLMTeacherSpec(baseURL: llamaURL!), labels: logLabels).label(sampleLines)
        #expect(first.map { $0.label?.probabilities } == second.map { $0.label?.probabilities })
        #expect(first.map { $0.label?.rawAnswer } == second.map { $0.label?.rawAnswer })
    }

    @Test("llama.cpp's logprobs are the model's, before the grammar: the grammar-chosen token's alternatives include non-label tokens")
    func logprobsArePreConstraint() async throws {
        var spec = LLMTeacherSpec(baseURL: llamaURL!)
        spec.verbalizer = .names
        let teacher = try await OpenAITeacher.connect(spec: spec, labels: logLabels)
        let body = teacher.requestBody(sampleLines[0], temperature: 0, logprobs: true, seed: 0)
        let reply = try await AsyncHTTPClientTransport().send(method: "POST", url: llamaURL! + "/chat/completions",
                                                              headers: [("Content-Type", "application/json")], body: body, timeout: 60)
        let response = try CompletionResponse.parse(reply.body)
        #expect(teacher.prompt.verbalizer.label(forAnswer: response.text) != nil, "the grammar forces a label")
        let alternatives = try #require(response.tokens.first?.alternatives)
        #expect(alternatives.count == 20)
        let outside = alternatives.filter { a in !teacher.prompt.verbalizer.words.contains { $0.hasPrefix(a.token.lowercased().trimmingCharacters(in: .whitespaces)) } }
        #expect(!outside.isEmpty, "pre-constraint: tokens the grammar forbids are listed (\(alternatives.map(\.token)))")
    }

    @Test("letter codes: soft distributions with mass on several labels")
    func codes() async throws {
        var spec = LLMTeacherSpec(baseURL: llamaURL!)
        spec.verbalizer = .codes
        let teacher = try await OpenAITeacher.connect(spec: spec, labels: logLabels)
        #expect(teacher.prompt.system.contains("A = normal: routine operation"))
        let labels = try await teacher.label(sampleLines).map { try #require($0.label) }
        #expect(labels.allSatisfy { abs($0.probabilities.reduce(0, +) - 1) < 1e-5 })
        #expect(labels.contains { l in l.method == .logprobs && l.probabilities.filter { $0 > 0.01 }.count >= 2 })
        #expect(labels.allSatisfy { $0.outsideMass < 0.999 })
    }

    @Test("no constraint: prose answers end as hard labels or counted off-label failures, never a crash")
    func unconstrained() async throws {
        var spec = LLMTeacherSpec(baseURL: llamaURL!)
        spec.constraint = LLMTeacherSpec.Constraint.none
        let teacher = try await OpenAITeacher.connect(spec: spec, labels: logLabels)
        let store = try LabelStore(url: temporaryFile("free.sqlite"))
        var job = LabelingJob(teacher: teacher, store: store)
        job.grouping = .text
        let (answers, summary) = try await job.run(sampleLines)
        #expect(answers.count == sampleLines.count)
        #expect(summary.methods.values.reduce(0, +) + summary.failures.values.reduce(0, +) == sampleLines.count)
        #expect(summary.failures.keys.allSatisfy { $0 == "off-label" })
        #expect(try store.count() == sampleLines.count)
    }

    @Test("ensemble of two LLM teachers (names, codes): the weighted mean of the members")
    func ensemble() async throws {
        let names = try await OpenAITeacher.connect(spec: LLMTeacherSpec(baseURL: llamaURL!), labels: logLabels)
        var coded = LLMTeacherSpec(baseURL: llamaURL!)
        coded.verbalizer = .codes
        let codes = try await OpenAITeacher.connect(spec: coded, labels: logLabels)
        let ensemble = try EnsembleTeacher(members: [names, codes], weights: [2, 1])
        let lines = Array(sampleLines.prefix(4))
        let combined = try await ensemble.label(lines)
        let a = try await names.label(lines), b = try await codes.label(lines)
        for i in lines.indices {
            let p = try #require(combined[i].label), pa = try #require(a[i].label), pb = try #require(b[i].label)
            #expect(p.method == .ensemble)
            for c in logLabels.indices { #expect(abs(p.probabilities[c] - (2 * pa.probabilities[c] + pb.probabilities[c]) / 3) < 1e-5) }
        }
        #expect(ensemble.identity.contains(names.identity) && ensemble.identity.contains(codes.identity))
    }

    @Test("the /v1/completions endpoint: the same prompt as one text, logprobs read, distributions over the labels")
    func completionsEndpoint() async throws {
        var spec = LLMTeacherSpec(baseURL: llamaURL!)
        spec.endpoint = .completions
        spec.verbalizer = .codes
        let teacher = try await OpenAITeacher.connect(spec: spec, labels: logLabels)
        let labels = try await teacher.label(Array(sampleLines.prefix(3))).map { try #require($0.label, "\(String(describing: $0.failure))") }
        #expect(labels.allSatisfy { abs($0.probabilities.reduce(0, +) - 1) < 1e-5 && [.logprobs, .hard].contains($0.method) })
        #expect(labels.contains { $0.method == .logprobs })
        #expect(teacher.prompt.completionPrompt(for: "x").hasSuffix("Log line: x\nCategory:"))
    }

    @Test("paraphrases via generate: sampled texts come back")
    func generate() async throws {
        let teacher = try await OpenAITeacher.connect(spec: LLMTeacherSpec(baseURL: llamaURL!), labels: logLabels)
        let (texts, failed) = try await teacher.generate("Rewrite this log message with other words: 'database connection timed out'", count: 2, maxTokens: 24)
        #expect(texts.count + failed == 2 && !texts.isEmpty && texts.allSatisfy { !$0.isEmpty })
    }
}
}
