import DistillExamples
import DistillRecipes
import DistillTeachers
import DistillTestSupport
import DistillTraining
import Foundation
import GRDB
import Testing

/// The content of a store's answers, row by row (not when or how fast they came).
func storedAnswers(_ url: URL, withRequests: Bool = true) throws -> [String] {
    let queue = try DatabaseQueue(path: url.path)
    return try queue.read { db in
        try Row.fetchAll(db, sql: "SELECT teacher, key, text, status, probabilities, method, outside_mass, raw_answer, prompt_tokens, completion_tokens, "
                                  + (withRequests ? "requests, " : "") + "detail FROM label ORDER BY teacher, key")
            .map { row in row.databaseValues.map(\.description).joined(separator: " | ") }
    }
}

/// An answer without how long it took (which differs from run to run).
func answerContent(_ a: TeacherAnswer) -> String {
    switch a {
    case let .labelled(l): "\(l.probabilities) \(l.method) \(l.outsideMass) \(l.rawAnswer ?? "")"
    case let .failed(f): "\(f.kind) \(f.detail)"
    }
}

@Suite("sharded labelling and merged stores")
struct LabelShardTests {
    @Test("--shard I/N: 0-based I below N; anything else is an error that says the form")
    func parsing() throws {
        #expect(try LabelShard(parsing: "0/1") == LabelShard(index: 0, count: 1))
        #expect(try LabelShard(parsing: "3/4").description == "3/4")
        for bad in ["4/4", "-1/4", "1/0", "1", "a/b", "1/2/3", "", "/4", "99999999999999999999/2"] {
            #expect(throws: LabelShard.ShardError.self, "\(bad)") { try LabelShard(parsing: bad) }
        }
        #expect(LabelShard.ShardError.malformed("x").localizedDescription.contains("expected I/N"))
        // Membership is a pure function of the template's text: every template in exactly one shard.
        let shards = try (0..<5).map { try LabelShard(index: $0, count: 5) }
        for template in ["INFO Received block <*> of size <*>", "", "ERROR Connection to <*> refused", "ü"] {
            #expect(shards.filter { $0.contains(template: template) }.count == 1)
        }
    }

    /// A loopback teacher that answers by the line (the same line, the same answer) and records what it was asked.
    func contentTeacher() throws -> LoopbackServer {
        try server { request, _ in
            let line = (request.json?["messages"] as? [[String: String]])?.last?["content"] ?? ""
            let names = testLabels.map(\.name)
            let label = names[line.utf8.count % names.count]
            return .json(chatCompletion(label, alternatives: [(label, log(0.7)), (names[(line.utf8.count + 1) % names.count], log(0.2))]))
        }
    }

    @Test("on the 16,000 real lines: 3 shards ask disjoint questions that are together the unsharded run's, each line gets the same answer; merged, the store is the unsharded one and a rerun asks nothing")
    func shardsPartitionTheJob() async throws {
        let texts = try realLogLines()
        let s = try contentTeacher()
        defer { s.stop() }
        func asked(since start: Int) -> [String] { requestedTexts(Array(s.requests[start...])) }
        let teacher = try await OpenAITeacher.connect(spec: loopbackSpec(s), labels: testLabels)
        let folder = temporaryFolder("shards")
        let whole = folder.appendingPathComponent("whole.sqlite")
        let (wholeAnswers, wholeSummary) = try await LabelingJob(teacher: teacher, store: try LabelStore(url: whole)).run(texts)
        let wholeAsked = asked(since: 0)
        #expect(wholeAsked.count == wholeSummary.questions && Set(wholeAsked).count == wholeAsked.count)

        var shardStores: [URL] = [], covered: [Int] = [], askedByShards: [[String]] = []
        for index in 0..<3 {
            let store = folder.appendingPathComponent("shard-\(index).sqlite")
            shardStores.append(store)
            let mark = s.requests.count
            let (lines, answers, summary) = try await LabelingJob(teacher: teacher, store: try LabelStore(url: store))
                .run(texts, shard: try LabelShard(index: index, count: 3))
            askedByShards.append(asked(since: mark))
            #expect(summary.texts == lines.count && summary.labelledNow == askedByShards[index].count)
            #expect(lines == lines.sorted() && answers.map(answerContent) == lines.map { answerContent(wholeAnswers[$0]) }, "shard \(index): another answer than the unsharded run's")
            covered += lines
        }
        #expect(covered.sorted() == Array(texts.indices), "every line in exactly one shard")
        #expect(askedByShards.allSatisfy { !$0.isEmpty }, "\(askedByShards.map(\.count)) questions per shard")
        let allAsked = askedByShards.flatMap { $0 }
        #expect(allAsked.count == wholeAsked.count && Set(allAsked) == Set(wholeAsked), "the shards ask the unsharded run's questions, each once")

        let merged = try LabelStore(url: folder.appendingPathComponent("merged.sqlite"))
        var added = 0
        for store in shardStores {
            let summary = try merged.merge(try LabelStore(url: store))
            #expect(summary.conflicts == 0 && summary.identical == 0)
            added += summary.added
        }
        #expect(added == wholeSummary.keys)
        #expect(try storedAnswers(merged.url) == storedAnswers(whole))
        // Merging a shard again changes nothing.
        let again = try merged.merge(try LabelStore(url: shardStores[0]))
        #expect(again.added == 0 && again.conflicts == 0 && again.identical > 0)
        let mark = s.requests.count
        let (rerun, rerunSummary) = try await LabelingJob(teacher: teacher, store: merged).run(texts)
        #expect(asked(since: mark).isEmpty && rerunSummary.labelledNow == 0 && rerun.map(answerContent) == wholeAnswers.map(answerContent))
    }

    @Test("merge: the same answer is kept once, a failure gives way to an answer, a different answer is a conflict the first store wins and names; a store into itself is refused")
    func mergeRules() throws {
        let folder = temporaryFolder("merge-rules")
        let a = try LabelStore(url: folder.appendingPathComponent("a.sqlite")), b = try LabelStore(url: folder.appendingPathComponent("b.sqlite"))
        func answer(_ p: [Float]) -> TeacherAnswer {
            .labelled(TeacherLabel(probabilities: p, method: .logprobs, outsideMass: 0, rawAnswer: "x", promptTokens: 10, completionTokens: 1, requests: 1, latencySeconds: 0.1))
        }
        let failure = TeacherAnswer.failed(TeacherFailure(kind: .malformed, detail: "garbage", rawAnswer: "??", requests: 1))
        try a.save(teacher: "t", key: "same", text: "same", answer: answer([0.5, 0.5]))
        try b.save(teacher: "t", key: "same", text: "same", answer: answer([0.5, 0.5]))
        try a.save(teacher: "t", key: "failed-in-a", text: "f", answer: failure)
        try b.save(teacher: "t", key: "failed-in-a", text: "f", answer: answer([0.9, 0.1]))
        try a.save(teacher: "t", key: "differs", text: "d", answer: answer([0.2, 0.8]))
        try b.save(teacher: "t", key: "differs", text: "d", answer: answer([0.8, 0.2]))
        try b.save(teacher: "u", key: "same", text: "same", answer: answer([1, 0]))  // another teacher: another row
        try b.saveGeneration(teacher: "t", key: "g", texts: ["one", "two"], failed: 0)

        let merged = try LabelStore(url: folder.appendingPathComponent("m.sqlite"))
        let first = try merged.merge(a)
        #expect(first.added == 3 && first.identical == 0 && first.conflicts == 0 && first.failuresReplaced == 0)
        let summary = try merged.merge(b)
        #expect(summary.added == 2 && summary.identical == 1 && summary.failuresReplaced == 1 && summary.conflicts == 1)
        #expect(summary.conflictExamples == ["t | differs"])
        let rows = try merged.entries(teacher: "t", keys: ["same", "failed-in-a", "differs"])
        #expect(rows["failed-in-a"]?.answer.label?.probabilities == [0.9, 0.1])
        #expect(rows["differs"]?.answer.label?.probabilities == [0.2, 0.8], "the first store's answer stays")
        #expect(try merged.count() == 4 && merged.generation(teacher: "t", key: "g") == ["one", "two"])
        #expect(throws: LabelStore.StoreError.self) { try merged.merge(merged) }
    }
}
