import DistillExamples
import DistillRecipes
import DistillTeachers
import DistillTestSupport
import DistillTraining
import Foundation
import Testing

/// The committed real logs: the corpus reader, the protocol's split, and every line through `train` and `classify`.
@Suite("Real logs (Loghub)", .serialized)
struct RealLogsTests {
    @Test("8 systems, 16,000 lines; every template labelled; the split keeps held-out templates out of every training part")
    func corpusAndSplit() throws {
        let corpus = try LoghubCorpus(folder: realLogsFolder)
        #expect(corpus.systems == ["Android", "Apache", "HDFS", "HealthApp", "Mac", "OpenSSH", "Spark", "Zookeeper"])
        #expect(corpus.lines.count == 16_000)
        #expect(corpus.lines.map(\.text) == (try realLogLines()), "lines are the raw lines, in file order")
        #expect(corpus.lines.allSatisfy { $0.label.map(realLogLabels.contains) == true })
        #expect(!corpus.lines.contains { $0.text.hasSuffix("\r") })
        // An HDFS line: its template and its category.
        let hdfs = try #require(corpus.lines.first { $0.system == "HDFS" })
        #expect(hdfs.eventId == "E10" && hdfs.template == "PacketResponder <*> for block blk_<*> terminating" && hdfs.label == "normal")

        let parts = LoghubSplit().split(corpus)
        let held = Set(parts.heldOutTemplates)
        #expect(!held.isEmpty && parts.heldOut.allSatisfy { held.contains($0.templateKey) })
        for part in [parts.labelled, parts.unlabelled, parts.dev, parts.seen] {
            #expect(!part.contains { held.contains($0.templateKey) })
        }
        var perTemplate: [String: Int] = [:]
        for line in parts.labelled { perTemplate[line.templateKey, default: 0] += 1 }
        #expect(perTemplate.values.allSatisfy { $0 <= 2 })
        // Dev: 300 lines of training templates and at most 10 lines of each dev-only template, in no other part.
        let devOnly = Set(parts.devTemplates)
        #expect(!devOnly.isEmpty && devOnly.isDisjoint(with: held))
        for part in [parts.labelled, parts.unlabelled, parts.seen, parts.heldOut] {
            #expect(!part.contains { devOnly.contains($0.templateKey) })
        }
        var devPerTemplate: [String: Int] = [:]
        for line in parts.dev where devOnly.contains(line.templateKey) { devPerTemplate[line.templateKey, default: 0] += 1 }
        #expect(Set(devPerTemplate.keys) == devOnly && devPerTemplate.values.allSatisfy { $0 <= 10 })
        let devFromTemplates = devPerTemplate.values.reduce(0, +)
        #expect(parts.dev.count == 300 + devFromTemplates && parts.seen.count == 1500)
        let devTemplateLines = corpus.lines.filter { devOnly.contains($0.templateKey) }.count
        let all = parts.labelled.count + parts.unlabelled.count + parts.dev.count + parts.seen.count + parts.heldOut.count
        #expect(all + devTemplateLines - devFromTemplates == 16_000, "each labelled line is in one part at most, and only unused dev-template lines in none")
        let ids = [parts.labelled, parts.unlabelled, parts.dev, parts.seen, parts.heldOut].flatMap { $0 }.map { "\($0.system):\($0.lineNumber)" }
        #expect(Set(ids).count == ids.count)
        // Every system contributes held-out templates; the same seed gives the same split, another seed another.
        #expect(Set(parts.heldOut.map(\.system)).count == 8)
        #expect(LoghubSplit().split(corpus).heldOutTemplates == parts.heldOutTemplates)
        var other = LoghubSplit()
        other.seed = 2
        #expect(other.split(corpus).heldOutTemplates != parts.heldOutTemplates)
    }

    @Test("`distill loghub` writes the split; a broken labels file is refused naming the file and template")
    func loghubCommand() throws {
        let out = temporaryFolder("loghub")
        let run = try runDistill(["loghub", "--data", realLogsFolder.path, "--out", out.path])
        #expect(run.status == 0, "\(run.output)")
        let summary = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: out.appendingPathComponent("split.json"))) as? [String: Any])
        #expect(summary["lines"] as? Int == 16_000)
        for name in ["labelled", "unlabelled", "dev", "test-heldout", "test-seen", "all"] {
            let rows = try String(contentsOf: out.appendingPathComponent("\(name).jsonl"), encoding: .utf8).split(separator: "\n")
            let key = name == "test-heldout" ? "test_heldout" : name == "test-seen" ? "test_seen" : name
            if name != "all" { #expect(rows.count == summary[key] as? Int, "\(name)") }
            let first = try #require(try JSONSerialization.jsonObject(with: Data(rows[0].utf8)) as? [String: Any])
            #expect(first["text"] is String && first["system"] is String && first["template"] is String)
        }
        #expect(try String(contentsOf: out.appendingPathComponent("lines.txt"), encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false).count == 16_001)

        // A copy whose HDFS labels name a category outside the taxonomy.
        let broken = temporaryFolder("loghub-broken")
        try FileManager.default.copyItem(at: realLogsFolder.appendingPathComponent("HDFS"), to: broken.appendingPathComponent("HDFS"))
        let labels = broken.appendingPathComponent("HDFS/labels.json")
        try FileManager.default.removeItem(at: labels)
        try #"{"E1": {"label": "disk", "confidence": "high"}}"#.write(to: labels, atomically: true, encoding: .utf8)
        let refused = try runDistill(["loghub", "--data", broken.path, "--out", temporaryFolder("loghub-out").path])
        #expect(refused.status != 0)
        #expect(refused.stderr.contains("labels.json") && refused.stderr.contains("E1") && refused.stderr.contains("'disk'"), "\(refused.stderr)")
    }

    @Test("every real line trains (`distill train`) and classifies (`distill classify`) with no error, hostile lines too")
    func everyLineTrainsAndClassifies() throws {
        let model = try realLogsModel()
        let report = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: model.deletingLastPathComponent().appendingPathComponent("report.json"))) as? [String: Any])
        print("real-logs bag (trained on every line): report keys \(report.keys.sorted())")
        let lines = try realLogLines() + hostileLogLines
        let input = temporaryFile("real-lines.txt")
        try lines.joined(separator: "\n").write(to: input, atomically: true, encoding: .utf8)
        let run = try runDistill(["classify", "--model", model.path, "--input", input.path, "--threads", "2"])
        #expect(run.status == 0, "\(run.stderr.prefix(2000))")
        let rows = run.stdout.split(separator: "\n")
        #expect(rows.count == lines.count)
        var labels: [String: Int] = [:]
        var correct = 0
        let gold = try LoghubCorpus(folder: realLogsFolder).lines.map { $0.label! }
        for (i, row) in rows.enumerated() {
            let object = try #require(try JSONSerialization.jsonObject(with: Data(row.utf8)) as? [String: Any])
            #expect(object["line"] as? Int == i + 1)
            let label = try #require(object["label"] as? String)
            #expect(realLogLabels.contains(label))
            labels[label, default: 0] += 1
            if i < gold.count && gold[i] == label { correct += 1 }
        }
        // Trained on these very lines: a model that read them right classifies nearly all of them as labelled.
        let accuracy = Double(correct) / Double(gold.count)
        print("real-logs bag: accuracy \(accuracy) on its own 16,000 training lines; labels \(labels)")
        #expect(accuracy > 0.9)
        // With `class_weights: balanced` the rare categories survive (without it only 4 of them were ever predicted).
        #expect(labels.count >= 6, "rare categories are predicted too: \(labels)")
    }
}
