import DistillExamples
import DistillRecipes
import DistillTeachers
import DistillTestSupport
import DistillTraining
import Foundation
import Testing

@Suite("few-shot examples chosen per line")
struct NearestExamplesTests {
    let pool: [LLMTeacherSpec.FewShotExample] = [
        .init(text: "ERROR Connection to 10.0.0.1:5432 refused", label: "network"),
        .init(text: "ERROR Connection to 10.0.0.9:5432 refused", label: "network"),  // same masked line: dropped
        .init(text: "INFO Received block blk_1 of size 67108864 from 10.0.0.2", label: "normal"),
        .init(text: "ERROR deadlock detected while waiting for lock on table orders", label: "database"),
        .init(text: "WARN disk quota exceeded on /var/lib/data", label: "storage"),
    ]

    @Test("the most similar labelled lines by shared words of the masked line, closest last; one per masked line; deterministic")
    func choice() {
        let nearest = NearestExamples(pool: pool, count: 2)
        #expect(nearest.pool.count == 4)
        let chosen = nearest.examples(for: "ERROR Connection to 192.168.1.7:3306 refused after 3 retries")
        #expect(chosen.count == 2)
        #expect(chosen.last?.label == "network")
        let lock = nearest.examples(for: "ERROR lock wait timeout exceeded on table users")
        #expect(lock.last?.label == "database")
        #expect(nearest.examples(for: "ERROR lock wait timeout exceeded on table users") == lock)
        // Placeholders are not words: a line of numbers alone matches nothing better than pool order.
        let words: [String] = NearestExamples.words("INFO <NUM> of <IP>:<PORT> ok")
        #expect(words == ["info", "of", "ok"])
        #expect(NearestExamples(pool: pool, count: 10).examples(for: "x").count == 4)
        // A labelled line is not its own example (nor another line of its masked form).
        let own = NearestExamples(pool: pool, count: 1).examples(for: "ERROR Connection to 10.0.0.5:5432 refused")
        #expect(own.first?.label != "network" && own.count == 1)
        // Only `<CAPITALS>` is a placeholder: a bare `<` or `>` in a line is punctuation.
        let punctuation: [String] = NearestExamples.words("queue>limit a<b rest of line")
        #expect(punctuation == ["queue", "limit", "rest", "of", "line"])
        #expect(NearestExamples(pool: [], count: 3).examples(for: "x").isEmpty)
        #expect(NearestExamples(pool: pool, count: 2).fingerprint != NearestExamples(pool: pool, count: 3).fingerprint)
    }

    @Test("the chosen lines go out as user/assistant turns before the question, and the pool is part of the prompt version")
    func wire() async throws {
        let s = try server { _, _ in .json(goodAnswer) }
        defer { s.stop() }
        let folder = temporaryFolder("nearest")
        let examples = folder.appendingPathComponent("labelled.jsonl")
        try ["{\"text\": \"ERROR Connection to 10.0.0.1:5432 refused\", \"label\": \"network\"}",
             "{\"text\": \"ERROR deadlock detected on table orders\", \"label\": \"database\"}",
             "{\"text\": \"INFO job finished\", \"label\": \"normal\"}"].joined(separator: "\n").write(to: examples, atomically: true, encoding: .utf8)
        var spec = loopbackSpec(s)
        let plain = try await OpenAITeacher.connect(spec: spec, labels: testLabels)
        spec.examplesFile = examples.path
        spec.nearestExamples = 2
        let teacher = try await OpenAITeacher.connect(spec: spec, labels: testLabels)
        #expect(teacher.promptVersion != plain.promptVersion)
        _ = try await teacher.labelOne("ERROR deadlock detected on table users")
        let body = try #require(s.requests.last { $0.path.hasSuffix("/chat/completions") }?.json)
        let messages = try #require(body["messages"] as? [[String: String]])
        #expect(messages.count == 6, "system, two example pairs, the question")
        let closest: String? = messages[3]["content"], answer: String? = messages[4]["content"]
        #expect(closest == "Log line: ERROR deadlock detected on table orders")
        #expect(answer == "database")
        #expect(messages.last?["content"] == "Log line: ERROR deadlock detected on table users")
        // A pool line with a label outside the set names the file and line.
        try "{\"text\": \"x\", \"label\": \"weather\"}\n".write(to: examples, atomically: true, encoding: .utf8)
        await #expect(throws: (any Error).self) { _ = try await OpenAITeacher.connect(spec: spec, labels: testLabels) }
        do { _ = try await OpenAITeacher.connect(spec: spec, labels: testLabels) } catch {
            #expect(error.localizedDescription.contains("labelled.jsonl:1"), "\(error.localizedDescription)")
        }
        spec.examplesFile = nil
        #expect(throws: TeacherError.self) { try spec.validate(labels: testLabels.map(\.name)) }
    }
}
