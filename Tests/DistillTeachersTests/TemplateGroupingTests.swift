import DistillExamples
import DistillRecipes
import DistillTeachers
import DistillTestSupport
import DistillTraining
import Foundation
import Testing

@Suite("one question per template")
struct TemplateGroupingTests {
    @Test("keys that differ only in tokens holding digits share a question; plain words and levels never do")
    func grouping() {
        let keys = [
            "INFO Received block blk_<NUM> of size <NUM> from <IP>",           // 0
            "INFO Received block blk_<HEX> of size <NUM> from <IP>:<PORT>",    // 0: another kind of masked value
            "INFO task_0001_m_000001 finished in <DURATION>",                   // 1
            "INFO task_0002_m_000017 finished in <DURATION>",                   // 1
            "WARN task_0003_m_000001 finished in <DURATION>",                   // 2: another level
            "ERROR Connection to db-7 refused",                                 // 3
            "ERROR Connection to db-12 established",                            // 4: a plain word differs
            "ERROR Connection to db-3 refused",                                 // 3
            "INFO Invalid user admin from <IP>",                                // 5
            "INFO Invalid user oracle from <IP>",                               // 6: a few alphabetic values stay apart
            "INFO session0x14f05578bf40000 closed",                             // 7
            "INFO session0x24f0557dd0a0001 closed",                             // 7
        ]
        #expect(LabelingJob.questions(keys, grouping: .template) == [0, 0, 1, 1, 2, 3, 4, 3, 5, 6, 7, 7])
        #expect(LabelingJob.questions(keys, grouping: .line) == Array(keys.indices))
        // Eight or more words in one position, the rest the same: a variable (user names), one question.
        let users = ["admin", "oracle", "test", "guest", "chen", "webmaster", "postgres", "ubuntu"].map { "INFO Invalid user \($0) from <IP>" }
        #expect(Set(LabelingJob.questions(users, grouping: .template)) == [0])
        #expect(Set(LabelingJob.questions(Array(users.prefix(7)), grouping: .template)).count == 7)
        #expect(LabelingJob.questions(Array(users.prefix(7)), grouping: .template, alsoKnown: [users[7]]) == Array(repeating: 0, count: 7),
                "keys stored by an earlier run count")
        let states = ["RUNNING", "FAILED", "KILLED", "FINISHED", "NEW"].map { "INFO state changed from ACCEPTED to \($0)" }
        #expect(LabelingJob.questions(states, grouping: .template) == Array(states.indices))
        // A 1 MB line of words: no variable-word pass (cost), its own question.
        let long = (0..<200_000).map { "w\($0 % 7 == 0 ? "" : "x")" }.joined(separator: " ")
        #expect(LabelingJob.questions([long, long + " y"], grouping: .template) == [0, 1])
        #expect(LabelingJob.questions(keys, grouping: .text) == Array(keys.indices))
    }

    @Test("a key's template: tokens holding a digit or a placeholder become <*>, words stay")
    func templateOfKey() {
        #expect(LabelingJob.template(ofKey: "INFO Starting task_0001_m_000001 on host-12 for user <EMAIL> in <DURATION>")
                == "INFO Starting <*> on <*> for user <*> in <*>")
        #expect(LabelingJob.template(ofKey: "") == "")
        #expect(LabelingJob.template(ofKey: "a  b\tc ") == "a b c")
        #expect(LabelingJob.template(ofKey: String(repeating: "9", count: 100)) == "<*>")
    }

    /// On the 16,000 committed real lines (8 systems, 715 gold templates, each with a category): how many questions
    /// template grouping asks against one per masked line, and how many lines it would give another category's
    /// answer (a question answered by its first line, scored against each line's gold category).
    @Test("real logs: fewer questions than masked lines, and almost no line shares the answer of another category")
    func realLogs() throws {
        let corpus = try LoghubCorpus(folder: realLogsFolder)
        let lineKeys = corpus.lines.map { LabelingJob.templateKey($0.text) }
        var order: [String] = [], first: [String: Int] = [:]
        for (i, k) in lineKeys.enumerated() where first[k] == nil { first[k] = i; order.append(k) }
        let questions = LabelingJob.questions(order, grouping: .template)
        let questionOfKey = Dictionary(uniqueKeysWithValues: zip(order, questions))
        var askedLine: [Int: Int] = [:]  // question -> the line asked (its first)
        for k in order where askedLine[questionOfKey[k]!] == nil { askedLine[questionOfKey[k]!] = first[k]! }
        let count = Set(questions).count
        var wrong = 0, labelled = 0
        for (i, line) in corpus.lines.enumerated() {
            guard let gold = line.label else { continue }
            labelled += 1
            if corpus.lines[askedLine[questionOfKey[lineKeys[i]]!]!].label != gold { wrong += 1 }
        }
        let templates = Set(corpus.lines.map(\.templateKey)).count
        print(String(format: "template grouping on real logs: %d lines, %d gold templates, %d masked-line keys, %d questions (%.2f per template); "
                     + "%d of %d labelled lines get another category's answer", corpus.lines.count, templates, order.count, count,
                     Double(count) / Double(templates), wrong, labelled))
        #expect(labelled == corpus.lines.count, "every committed system has labels")
        // Measured: 1,128 masked lines, 750 questions for 715 templates, 5 lines with another category's answer.
        #expect(count < order.count * 3 / 4, "template grouping asks fewer questions than masked lines (\(count) vs \(order.count))")
        #expect(Double(count) <= 1.1 * Double(templates), "\(count) questions for \(templates) templates")
        #expect(Double(wrong) <= 0.005 * Double(labelled), "\(wrong) lines would take another category's answer")
    }

    @Test("a job asks each template once, gives every line its template's answer, and a rerun with new lines of it asks nothing")
    func jobSharesAnswers() async throws {
        let s = try server { request, _ in
            let messages = request.json?["messages"] as? [[String: String]] ?? []
            let line = messages.last?["content"] ?? ""
            let label = line.contains("refused") ? "network" : "normal"
            return .json(chatCompletion(label, alternatives: [(label, log(0.9)), ("database", log(0.05))]))
        }
        defer { s.stop() }
        let teacher = try await OpenAITeacher.connect(spec: loopbackSpec(s), labels: testLabels)
        let store = try LabelStore(url: temporaryFile("grouped.sqlite"))
        let job = LabelingJob(teacher: teacher, store: store)
        #expect(job.grouping == .template)
        let texts = (0..<30).map { "2026-12-02 10:00:\(String(format: "%02d", $0)) INFO worker-\($0) connected to queue q\($0 % 7)" }
            + (0..<30).map { "2026-12-02 10:01:\(String(format: "%02d", $0)) ERROR worker-\($0) connection refused by broker-\($0 % 3)" }
        func chatRequests() -> Int { s.requests.filter { $0.path.hasSuffix("/chat/completions") }.count }
        let (answers, summary) = try await job.run(texts)
        #expect(chatRequests() == 2 && summary.questions == 2 && summary.labelledNow == 2 && summary.keys >= 2)
        let names = testLabels.map(\.name)
        #expect(answers.prefix(30).allSatisfy { names[$0.label!.argmax] == "normal" })
        #expect(answers.suffix(30).allSatisfy { names[$0.label!.argmax] == "network" })
        // Every line's key is stored with its template's answer.
        #expect(try store.entries(teacher: job.storeTeacher, keys: texts.map(job.key)).count == Set(texts.map(job.key)).count)
        // New lines of both templates: nothing is asked; the same answers.
        let more = ["2026-12-03 08:00:00 INFO worker-99 connected to queue q123", "2026-12-03 08:00:01 ERROR worker-77 connection refused by broker-55"]
        let (again, second) = try await job.run(more)
        #expect(chatRequests() == 2 && second.labelledNow == 0 && second.cacheHits == 2)
        #expect(again.map { names[$0.label!.argmax] } == ["normal", "network"])
        // Line grouping is another store column: it asks per masked line.
        var perLine = job
        perLine.grouping = .line
        #expect(perLine.storeTeacher != job.storeTeacher)
        _ = try await perLine.run(more)
        #expect(chatRequests() == 4)
    }
}
