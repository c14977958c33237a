import DistillExamples
import DistillRecipes
import DistillTeachers
import DistillText
import DistillTraining
import Foundation
import Testing

@Suite("Template miner")
struct TemplateMinerTests {
    @Test("grouping accuracy, by hand")
    func metric() {
        // truth groups {0,1,2} {3,4}; predicted {0,1} {2} {3,4}: only the last group is exact.
        #expect(abs(groupingAccuracy(predicted: [1, 1, 2, 3, 3], truth: [7, 7, 7, 8, 8]) - 0.4) < 1e-12)
        #expect(groupingAccuracy(predicted: [5, 5, 6], truth: [1, 1, 2]) == 1)
    }

    @Test("templates generalize variables and group a generated corpus well")
    func mines() {
        let miner = TemplateMiner()
        // Host names that no mask covers (`db-1` would be masked to `db-<NUM>` before mining).
        let a = miner.add("connection to db-alpha refused after 3 retries")
        let b = miner.add("connection to db-beta refused after 5 retries")
        #expect(a == b && miner.templates[a - 1].text == "connection to <*> refused after <NUM> retries")
        #expect(miner.match("connection to db-gamma refused after 1 retries") == a)
        #expect(miner.add("connection to db-7 refused after 2 retries") == miner.add("connection to db-8 refused after 4 retries"))
        #expect(miner.match("something else entirely here now") == nil)
        let corpus = SyntheticLogs.sampleWithTemplates(count: 3000, seed: 5)
        let fresh = TemplateMiner()
        let predicted = corpus.map { fresh.add($0.text) }
        let accuracy = groupingAccuracy(predicted: predicted, truth: corpus.map(\.template))
        #expect(accuracy >= 0.9, "grouping accuracy \(accuracy) with \(fresh.templates.count) templates")
    }

    @Test("ids are stable: mining in two runs with saved state equals one run")
    func persistence() throws {
        let messages = SyntheticLogs.sample(count: 1200, seed: 6).map(\.0)
        let once = TemplateMiner()
        let all = messages.map { once.add($0) }
        let first = TemplateMiner()
        let part1 = messages[..<600].map { first.add($0) }
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("miner-\(UUID().uuidString).json")
        try first.save(to: url)
        let second = try TemplateMiner.load(from: url)
        let part2 = messages[600...].map { second.add($0) }
        #expect(part1 + part2 == all)
        #expect(second.templates == once.templates)
        try Data("{\"version\": 1}".utf8).write(to: url)
        #expect(throws: TokenizerError.self) { try TemplateMiner.load(from: url) }
    }
}
