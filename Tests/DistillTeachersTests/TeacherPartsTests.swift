import DistillExamples
import DistillRecipes
import DistillRuntime
@testable import DistillTeachers
import DistillTestSupport
import DistillTraining
import Foundation
import Testing

@Suite("Teacher parts: verbalizer, response parsing, retry policy, prompt version, store")
struct TeacherPartsTests {
    @Test("verbalizer: prefixes of at least 3 characters or whole words map to labels; ambiguous and short pieces do not")
    func verbalizer() {
        let v = Verbalizer(labels: ["Database", "network", "normal", "auth"], codes: false)
        #expect(v.words == ["database", "network", "normal", "auth"])
        #expect(v.label(forToken: " Data") == 0 && v.label(forToken: "\"database") == 0 && v.label(forToken: "▁net") == 1)
        #expect(v.label(forToken: "auth") == 3)
        #expect(v.label(forToken: "no") == nil, "too short: 'No …' starts prose")
        #expect(v.label(forToken: "A") == nil && v.label(forToken: "The") == nil)
        #expect(v.label(forAnswer: "Network.") == 1 && v.label(forAnswer: "normal operation") == 2 && v.label(forAnswer: "") == nil)
        let d = v.distribution(alternatives: [("database", log(0.5)), (" Database", log(0.1)), ("network", log(0.2)), ("The", log(0.1))])!
        #expect(abs(d.probabilities[0] - 0.75) < 1e-6 && abs(d.probabilities[1] - 0.25) < 1e-6 && abs(d.outsideMass - 0.2) < 1e-6)
        #expect(v.distribution(alternatives: [("The", -0.1)]) == nil)

        let codes = Verbalizer(labels: Array(repeating: "x", count: 28).enumerated().map { "l\($0.offset)" }, codes: true)
        #expect(codes.words[0] == "A" && codes.words[25] == "Z" && codes.words[26] == "AA" && codes.words[27] == "AB")
        #expect(codes.label(forToken: "B") == 1 && codes.label(forToken: " C") == 2)

        #expect(Verbalizer.namesLookDistinct(["database", "network", "auth"]))
        #expect(!Verbalizer.namesLookDistinct(["network", "net"]) && !Verbalizer.namesLookDistinct(["storage", "stop"]))
        #expect(Verbalizer.firstTokensDistinct(["database", "network"], words: ["database", "network"]))
        #expect(!Verbalizer.firstTokensDistinct(["data", "data"], words: ["database", "datastore"]))
        #expect(!Verbalizer.firstTokensDistinct(["d", "network"], words: ["database", "network"]), "a 1-letter first piece cannot be matched")
    }

    @Test("response parsing: chat logprobs, legacy completions, llama.cpp post-sampling probs, garbage")
    func parsing() throws {
        let chat = try CompletionResponse.parse(JSONSerialization.data(withJSONObject: chatCompletion("network", alternatives: [("network", -0.5), ("database", -1.5)])))
        #expect(chat.text == "network" && chat.tokens.count == 1 && chat.tokens[0].alternatives.map(\.token) == ["network", "database"])
        #expect(chat.promptTokens == 50 && chat.completionTokens == 1)
        let legacy: [String: Any] = ["choices": [["text": " database", "logprobs": ["tokens": [" database"], "token_logprobs": [-0.2],
                                                                                  "top_logprobs": [[" database": -0.2, " network": -2.0]]]]]]
        let l = try CompletionResponse.parse(JSONSerialization.data(withJSONObject: legacy))
        #expect(l.text == " database" && l.tokens[0].alternatives.map(\.token) == [" database", " network"] && l.tokens[0].alternatives[1].logprob == -2)
        let post: [String: Any] = ["choices": [["message": ["content": "auth"], "logprobs": ["content": [["token": "auth", "prob": 0.5, "top_probs": [["token": "auth", "prob": 0.5]]]]]]]]
        let p = try CompletionResponse.parse(JSONSerialization.data(withJSONObject: post))
        #expect(abs(p.tokens[0].logprob - log(0.5)) < 1e-12)
        #expect(throws: CompletionResponse.ParseError.self) { try CompletionResponse.parse(Data("{\"choi".utf8)) }
        #expect(throws: CompletionResponse.ParseError.self) { try CompletionResponse.parse(Data("{\"choices\": []}".utf8)) }
        #expect(throws: CompletionResponse.ParseError.self) { try CompletionResponse.parse(Data([0xFF, 0xFE, 0x00])) }
        do { _ = try CompletionResponse.parse(Data("{\"error\": {\"message\": \"context too long\"}}".utf8)) } catch {
            #expect("\(error)".contains("context too long"))
        }
        // The answer token skips punctuation-only tokens.
        let lead = CompletionResponse(text: " \"net", tokens: [TokenLogprobs(token: " \"", logprob: 0, alternatives: []), TokenLogprobs(token: "net", logprob: -1, alternatives: [])])
        #expect(lead.answerToken(json: false)?.token == "net")
    }

    @Test("retry policy: exponential backoff with jitter, capped; Retry-After as seconds or HTTP date")
    func retryPolicy() {
        let p = RetryPolicy(maxRetries: 5, baseDelay: 0.5, maxDelay: 4)
        #expect(p.delay(attempt: 0, retryAfter: nil, random: 1) == 0.5 && p.delay(attempt: 0, retryAfter: nil, random: 0) == 0.25)
        #expect(p.delay(attempt: 2, retryAfter: nil, random: 1) == 2 && p.delay(attempt: 10, retryAfter: nil, random: 1) == 4)
        #expect(p.delay(attempt: 0, retryAfter: 7, random: 0) == 7 && p.delay(attempt: 0, retryAfter: 1000, random: 0) == 120)
        #expect(RetryPolicy.retryAfterSeconds("3") == 3 && RetryPolicy.retryAfterSeconds(nil) == nil && RetryPolicy.retryAfterSeconds("soon") == nil)
        let now = Date(timeIntervalSince1970: 1_700_000_000)  // Tue, 14 Nov 2023 22:13:20 GMT
        #expect(RetryPolicy.retryAfterSeconds("Tue, 14 Nov 2023 22:13:50 GMT", now: now) == 30)
    }

    @Test("prompt: label descriptions and few-shot examples in it; any change gives a new version")
    func promptVersion() {
        let labels = ["database", "network"]
        let base = ClassificationPrompt(labels: labels, descriptions: ["db", "net"], verbalizer: Verbalizer(labels: labels, codes: false))
        #expect(base.system.contains("- database: db\n- network: net\n") && base.system.hasSuffix("Answer with the category name only, nothing else."))
        var described = base
        described.descriptions = ["database errors", "net"]
        var shots = base
        shots.fewShot = [.init(text: "ERROR pg down", label: "database")]
        #expect(shots.messages(for: "x").map { $0["role"]! } == ["system", "user", "assistant", "user"])
        #expect(shots.messages(for: "x")[2]["content"] == "database")
        let coded = ClassificationPrompt(labels: labels, descriptions: ["db", "net"], verbalizer: Verbalizer(labels: labels, codes: true))
        #expect(coded.system.contains("A = database: db") && coded.grammar == "root ::= \"A\" | \"B\"")
        let versions = Set([base.version(extra: []), described.version(extra: []), shots.version(extra: []), coded.version(extra: []), base.version(extra: ["grammar"])])
        #expect(versions.count == 5)
        #expect(base.version(extra: []) == ClassificationPrompt(labels: labels, descriptions: ["db", "net"], verbalizer: Verbalizer(labels: labels, codes: false)).version(extra: []))
    }

    @Test("store: answers round-trip exactly; a corrupt file is an error naming it")
    func store() throws {
        let url = temporaryFile("store.sqlite")
        let store = try LabelStore(url: url)
        let label = TeacherLabel(probabilities: [0.1234567, 0.8765433], method: .logprobs, outsideMass: 0.25, rawAnswer: "network",
                                 promptTokens: 80, completionTokens: 2, requests: 3, latencySeconds: 0.125)
        try store.save(teacher: "t", key: "k1", text: "line one", answer: .labelled(label))
        try store.save(teacher: "t", key: "k2", text: "line two", answer: .failed(TeacherFailure(kind: .offLabel, detail: "banana", rawAnswer: "banana", requests: 1)))
        try store.save(teacher: "other", key: "k1", text: "line one", answer: .labelled(label))
        let reopened = try LabelStore(url: url)
        let entries = try reopened.entries(teacher: "t", keys: ["k1", "k2", "k3"])
        #expect(entries.count == 2 && entries["k1"]?.answer == .labelled(label) && entries["k1"]?.text == "line one")
        #expect(entries["k2"]?.answer.failure?.kind == .offLabel && entries["k2"]?.answer.failure?.detail == "banana")
        #expect(try reopened.count(teacher: "t") == 2 && reopened.count() == 3)
        // Many keys (chunked queries).
        for i in 0..<1200 { try store.save(teacher: "bulk", key: "k\(i)", text: "t\(i)", answer: .labelled(label)) }
        #expect(try store.entries(teacher: "bulk", keys: (0..<1300).map { "k\($0)" }).count == 1200)

        let garbage = temporaryFile("garbage.sqlite")
        try Data(repeating: 0x41, count: 4096).write(to: garbage)
        #expect(throws: LabelStore.StoreError.self) { _ = try LabelStore(url: garbage) }
        do { _ = try LabelStore(url: garbage) } catch { #expect(error.localizedDescription.contains(garbage.path)) }
    }

    @Test("spec validation names the setting")
    func specValidation() {
        var spec = LLMTeacherSpec(baseURL: "ftp://x")
        #expect(throws: TeacherError.configuration(key: "base_url", detail: "'ftp://x' is not an http(s) URL such as http://127.0.0.1:8080/v1")) {
            try spec.validate(labels: ["a"])
        }
        spec.baseURLs = ["http://127.0.0.1:1/v1"]
        spec.topLogprobs = 50
        #expect(throws: TeacherError.self) { try spec.validate(labels: ["a"]) }
        spec.topLogprobs = 5
        spec.fewShot = [.init(text: "x", label: "zzz")]
        #expect(throws: TeacherError.configuration(key: "few_shot[0].label", detail: "'zzz' is not in the label set")) { try spec.validate(labels: ["a"]) }
    }
}

@Suite("Recipe: kind openai")
struct OpenAIRecipeTests {
    func recipe(_ teacher: String) throws -> URL {
        let folder = temporaryFile("recipe")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try "{\"text\": \"x\"}\n".write(to: folder.appendingPathComponent("u.jsonl"), atomically: true, encoding: .utf8)
        let text = "labels: [database, network]\ndata:\n  unlabelled: u.jsonl\nteachers:\n" + teacher + "student:\n  kind: ngram-bag\n"
        try text.write(to: folder.appendingPathComponent("r.yaml"), atomically: true, encoding: .utf8)
        return folder.appendingPathComponent("r.yaml")
    }

    @Test("every key is read into the spec")
    func parse() throws {
        let r = try Recipe.load(recipe("""
          - name: deepseek
            kind: openai
            base_url: https://api.deepseek.com/v1
            model: deepseek-chat
            api_key_env: DEEPSEEK_API_KEY
            endpoint: completions
            constrain: json-schema
            verbalizer: codes
            top_logprobs: 5
            fallback: hard
            smoothing: 0.2
            samples: 3
            max_concurrency: 16
            requests_per_second: 8
            timeout: 30
            max_retries: 2
            max_text_chars: 500
            reproducible: false
            instructions: Kubernetes logs.
            few_shot:
              - {text: "pg down", label: database}

        """))
        guard case let .openAI(spec) = r.teachers[0].kind else { Issue.record("not openai"); return }
        #expect(spec.baseURL == "https://api.deepseek.com/v1" && spec.model == "deepseek-chat" && spec.apiKeyEnvironment == "DEEPSEEK_API_KEY")
        #expect(spec.endpoint == .completions && spec.constraint == .jsonSchema && spec.verbalizer == .codes && spec.topLogprobs == 5)
        #expect(spec.fallback == .hard && spec.smoothing == 0.2 && spec.samples == 3 && spec.maxConcurrency == 16 && spec.requestsPerSecond == 8)
        #expect(spec.timeoutSeconds == 30 && spec.maxRetries == 2 && spec.maxTextCharacters == 500 && !spec.reproducible)
        #expect(spec.instructions == "Kubernetes logs." && spec.fewShot == [.init(text: "pg down", label: "database")])
    }

    @Test("bad values name the key and line")
    func errors() throws {
        let url = try recipe("  - kind: openai\n    base_url: http://127.0.0.1:8080/v1\n    constrain: regex\n")
        #expect(throws: RecipeError.self) { _ = try Recipe.load(url) }
        do { _ = try Recipe.load(url) } catch {
            #expect(error.localizedDescription.contains("r.yaml:7: key 'teachers[0].constrain': 'regex' is not one of"), "\(error.localizedDescription)")
        }
        let shot = try recipe("  - kind: openai\n    base_url: http://127.0.0.1:8080/v1\n    few_shot:\n      - {text: a, label: nope}\n")
        do { _ = try Recipe.load(shot) } catch {
            #expect(error.localizedDescription.contains("few_shot") && error.localizedDescription.contains("'nope' is not in the label set"))
        }
        let missing = try recipe("  - kind: openai\n    model: x\n")
        do { _ = try Recipe.load(missing) } catch { #expect(error.localizedDescription.contains("teachers[0].base_url") && error.localizedDescription.contains("is required")) }
    }
}

@Suite("distill label: bad input is refused before any call, naming file and line")
struct LabelInputTests {
    @Test("malformed JSONL, invalid UTF-8, a bad label file, a bad teacher spec")
    func badInput() throws {
        let folder = temporaryFile("bad-input")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let labels = folder.appendingPathComponent("labels.txt")
        try "database: db errors\nnetwork\n".write(to: labels, atomically: true, encoding: .utf8)
        // Nothing listens on port 9: a call would fail differently; these must fail on the input first.
        func label(_ input: URL, labels: String = labels.path, teacher: String = "openai:http://127.0.0.1:9/v1") throws -> (Int32, String) {
            let run = try runDistill(["label", "--teacher", teacher, "--labels", labels, "--input", input.path, "--out", folder.appendingPathComponent("o.jsonl").path])
            return (run.status, run.output)
        }
        let jsonl = folder.appendingPathComponent("in.jsonl")
        try "{\"text\": \"ok\"}\n{\"text\": broken\n".write(to: jsonl, atomically: true, encoding: .utf8)
        let (s1, o1) = try label(jsonl)
        #expect(s1 != 0 && o1.contains("\(jsonl.path):2: not valid JSON"), "\(o1)")
        let text = folder.appendingPathComponent("in.txt")
        try (Data("fine line\n".utf8) + Data([0xC3, 0x28, 0x0A])).write(to: text)
        let (s2, o2) = try label(text)
        #expect(s2 != 0 && o2.contains("\(text.path):2:") && o2.contains("UTF-8"), "\(o2)")
        let badLabels = folder.appendingPathComponent("bad.txt")
        try "database\ntwo words: x\n".write(to: badLabels, atomically: true, encoding: .utf8)
        let (s3, o3) = try label(jsonl, labels: badLabels.path)
        #expect(s3 != 0 && o3.contains("\(badLabels.path):2: expected 'name' or 'name: description'"), "\(o3)")
        try "{\"text\": \"ok\"}\n".write(to: jsonl, atomically: true, encoding: .utf8)
        let (s4, o4) = try label(jsonl, teacher: "gpt:whatever")
        #expect(s4 != 0 && o4.contains("expected openai:BASE_URL or bert:FOLDER"), "\(o4)")
        let (s5, o5) = try label(jsonl)
        #expect(s5 != 0 && o5.contains("unreachable"), "\(o5)")
        #expect(!FileManager.default.fileExists(atPath: folder.appendingPathComponent("o.jsonl").path))
    }
}
