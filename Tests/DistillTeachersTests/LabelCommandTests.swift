import DistillExamples
import DistillRecipes
import DistillTeachers
import DistillTestSupport
import DistillTraining
import Foundation
import Testing

/// The log lines inside chat requests a proxy saw.
func requestedTexts(_ requests: [LoopbackServer.Request]) -> [String] {
    requests.filter { $0.path.hasSuffix("/chat/completions") }.compactMap { r in
        (r.json?["messages"] as? [[String: String]])?.last?["content"].map { String($0.dropFirst("Log line: ".count)) }
    }
}

/// `count` generated log lines from the `keys` most frequent templates (as the label store keys them): a
/// realistic repetitive stream whose distinct keys a small LLM labels in well under a minute.
func repetitiveLines(count: Int, keys: Int, seed: UInt64) -> [String] {
    let lines = LogCorpusGenerator(seed: seed).generate(count: count * 8).map(\.text)
    var frequency: [String: Int] = [:]
    for l in lines { frequency[LabelingJob.templateKey(l), default: 0] += 1 }
    let common = Set(frequency.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }.prefix(keys).map(\.key))
    return Array(lines.filter { common.contains(LabelingJob.templateKey($0)) }.prefix(count))
}

extension LlamaIntegration {
@Suite("distill label against llama.cpp through a counting proxy")
struct LabelCommandTests {
    @Test("a second run makes zero HTTP calls and writes the same file")
    func secondRunIsFree() throws {
        let proxy = try LoopbackServer { _, _ in .forward(port: llamaPort!) }
        defer { proxy.stop() }
        let folder = temporaryFile("label")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let input = folder.appendingPathComponent("logs.txt")
        try (sampleLines + sampleLines.prefix(3)).joined(separator: "\n").write(to: input, atomically: true, encoding: .utf8)
        let labels = folder.appendingPathComponent("labels.txt")
        try logLabels.map { "\($0.name): \($0.description)" }.joined(separator: "\n").write(to: labels, atomically: true, encoding: .utf8)
        let args = ["label", "--teacher", "openai:\(proxy.baseURL)", "--labels", labels.path, "--input", input.path,
                    "--out", folder.appendingPathComponent("out.jsonl").path]
        let first = try runDistill(args)
        #expect(first.status == 0, "\(first.output)")
        let calls = requestedTexts(proxy.requests).count
        #expect(calls == sampleLines.count, "11 lines, 8 distinct: 8 calls")
        let out1 = try Data(contentsOf: folder.appendingPathComponent("out.jsonl"))
        let before = proxy.requests.filter { $0.path.hasSuffix("/chat/completions") }.count
        let second = try runDistill(args)
        #expect(second.status == 0)
        #expect(proxy.requests.filter { $0.path.hasSuffix("/chat/completions") }.count == before, "no completion request on the second run")
        #expect(second.output.contains("\"requests\":0") && second.output.contains("\"cacheHits\":8"))
        // Standard output is the JSON summary alone (`distill label … | jq` works); messages are on stderr.
        let summary = try JSONSerialization.jsonObject(with: Data(second.stdout.utf8)) as? [String: Any]
        #expect(summary?["cacheHits"] as? Int == 8 && second.stderr.contains("wrote 11 lines"), "\(second.stdout)")
        #expect(try Data(contentsOf: folder.appendingPathComponent("out.jsonl")) == out1)
        let lines = String(decoding: out1, as: UTF8.self).split(separator: "\n")
        #expect(lines.count == 11)
        let first0 = try #require(try JSONSerialization.jsonObject(with: Data(lines[0].utf8)) as? [String: Any])
        let p = try #require(first0["probabilities"] as? [String: Double])
        #expect(Set(p.keys) == Set(logLabels.map(\.name)) && abs(p.values.reduce(0, +) - 1) < 1e-4)
        #expect(first0["outside_mass"] is Double && (first0["teacher"] as? String)?.hasPrefix("openai:") == true)
    }

    @Test("kill -9 during `distill label` on 2,000 lines, rerun: output identical to an uninterrupted run; nothing stored is asked again")
    func killAndResume() throws {
        let proxy = try LoopbackServer { _, _ in .forward(port: llamaPort!) }
        defer { proxy.stop() }
        let folder = temporaryFile("label-kill")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let lines = repetitiveLines(count: 2000, keys: 60, seed: 11)
        #expect(lines.count == 2000)
        let input = folder.appendingPathComponent("logs.jsonl")
        try lines.map { String(decoding: try JSONSerialization.data(withJSONObject: ["text": $0]), as: UTF8.self) }.joined(separator: "\n")
            .write(to: input, atomically: true, encoding: .utf8)
        func args(_ name: String) -> [String] {
            ["label", "--teacher", "openai:\(proxy.baseURL)", "--labels", logLabels.map(\.name).joined(separator: ","), "--input", input.path,
             "--out", folder.appendingPathComponent("\(name).jsonl").path, "--store", folder.appendingPathComponent("\(name).sqlite").path]
        }
        // Uninterrupted.
        let clean = try runDistill(args("clean"))
        #expect(clean.status == 0, "\(clean.output)")
        // One call per template (`--group-by template`, the default): the lines' masked keys grouped.
        let keys = Set(lines.map(LabelingJob.templateKey)), distinct = keys.count
        let templateOf = LabelingJob.templates(keys)
        let questions = Set(templateOf.values).count
        #expect(questions < distinct)
        #expect(requestedTexts(proxy.requests).count == questions)

        // Killed once some answers are stored.
        let mark = proxy.requests.count
        let process = try startDistill(args("killed"), log: folder.appendingPathComponent("killed.log"))
        let store = folder.appendingPathComponent("killed.sqlite")
        let deadline = Date().addingTimeInterval(120)
        while Date() < deadline {
            if let n = try? LabelStore(url: store).count(), n >= distinct / 3 { break }
            Thread.sleep(forTimeInterval: 0.1)
        }
        #expect(process.isRunning, "the run finished before it could be killed")
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        // The server finishes the killed client's request in flight; let it, so it is not batched with the next run's.
        Thread.sleep(forTimeInterval: 1.5)
        let stored = try LabelStore(url: store).keys()
        #expect(stored.count >= distinct / 3 && stored.count < distinct)
        let beforeResume = proxy.requests.count
        let resumed = try runDistill(args("killed"))
        #expect(resumed.status == 0, "\(resumed.output)")
        let askedAgain = requestedTexts(Array(proxy.requests[beforeResume...]))
        let answered = Set(stored.map { templateOf[$0]! })
        #expect(askedAgain.count == questions - answered.count, "each missing template asked once")
        #expect(askedAgain.allSatisfy { !answered.contains(templateOf[LabelingJob.templateKey($0)]!) }, "no stored template asked again")
        #expect(proxy.requests.count > mark)
        let a = try Data(contentsOf: folder.appendingPathComponent("clean.jsonl")), b = try Data(contentsOf: folder.appendingPathComponent("killed.jsonl"))
        #expect(a == b, "resumed output differs from the uninterrupted one")
        #expect(String(decoding: a, as: UTF8.self).split(separator: "\n").count == 2000)
    }

    @Test("two shards as two processes (one killed with kill -9 and rerun), `distill label merge`, one unsharded run: zero calls, the same store and byte-identical output as an unsharded run")
    func shardsAndMerge() throws {
        // Each answer waits 0.2 s at the proxy, so shard 1 is still running when it is killed.
        let proxy = try LoopbackServer { _, _ in .delay(0.2, .forward(port: llamaPort!)) }
        defer { proxy.stop() }
        let folder = temporaryFile("label-shards")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let lines = repetitiveLines(count: 600, keys: 40, seed: 23)
        let input = folder.appendingPathComponent("logs.txt")
        try lines.joined(separator: "\n").write(to: input, atomically: true, encoding: .utf8)
        func args(_ name: String, store: String? = nil, shard: String? = nil) -> [String] {
            ["label", "--teacher", "openai:\(proxy.baseURL)", "--labels", logLabels.map(\.name).joined(separator: ","), "--input", input.path,
             "--out", folder.appendingPathComponent("\(name).jsonl").path, "--store", folder.appendingPathComponent("\(store ?? name).sqlite").path]
                + (shard.map { ["--shard", $0] } ?? [])
        }
        let whole = try runDistill(args("whole"))
        #expect(whole.status == 0, "\(whole.output)")
        let questions = Set(requestedTexts(proxy.requests))
        #expect(questions.count == requestedTexts(proxy.requests).count)
        // Which template (and so which shard) each line belongs to, as the job computes it.
        let templateOf = LabelingJob.templates(Set(lines.map(LabelingJob.templateKey)))
        let shardOf = { (line: String) in try! (0..<2).first { try LabelShard(index: $0, count: 2).contains(template: templateOf[LabelingJob.templateKey(line)]!) }! }
        let wholeOut = try String(contentsOf: folder.appendingPathComponent("whole.jsonl"), encoding: .utf8).split(separator: "\n")

        var mark = proxy.requests.count
        let first = try runDistill(args("shard-0", shard: "0/2"))
        #expect(first.status == 0, "\(first.output)")
        let asked0 = requestedTexts(Array(proxy.requests[mark...]))
        #expect(!asked0.isEmpty && asked0.allSatisfy { shardOf($0) == 0 })
        let shard0Out = try String(contentsOf: folder.appendingPathComponent("shard-0.jsonl"), encoding: .utf8).split(separator: "\n")
        #expect(shard0Out == lines.indices.filter { shardOf(lines[$0]) == 0 }.map { wholeOut[$0] }, "shard 0 writes its lines, as the unsharded run labels them")

        // Shard 1, killed once a few answers are stored, then run again.
        mark = proxy.requests.count
        let killedStore = folder.appendingPathComponent("shard-1.sqlite")
        let process = try startDistill(args("shard-1", shard: "1/2"), log: folder.appendingPathComponent("shard-1.log"))
        let deadline = Date().addingTimeInterval(120)
        while Date() < deadline, process.isRunning {
            if let n = try? LabelStore(url: killedStore).count(), n >= 3 { break }
            Thread.sleep(forTimeInterval: 0.05)
        }
        #expect(process.isRunning, "shard 1 finished before it could be killed")
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        Thread.sleep(forTimeInterval: 1.5)  // the request in flight ends at the server before the rerun asks
        let storedBefore = try LabelStore(url: killedStore).keys()
        let askedBeforeKill = Set(requestedTexts(Array(proxy.requests[mark...])))
        mark = proxy.requests.count
        let resumed = try runDistill(args("shard-1", shard: "1/2"))
        #expect(resumed.status == 0, "\(resumed.output)")
        let askedAfter = requestedTexts(Array(proxy.requests[mark...]))
        #expect(askedAfter.allSatisfy { shardOf($0) == 1 && !storedBefore.contains(LabelingJob.templateKey($0)) }, "nothing stored is asked again")
        #expect(askedBeforeKill.union(askedAfter).union(asked0) == questions, "the shards together ask the unsharded run's questions")
        #expect(asked0.count + askedAfter.count + storedBefore.map { templateOf[$0]! }.reduce(into: Set<String>()) { $0.insert($1) }.count == questions.count)

        let merged = folder.appendingPathComponent("merged.sqlite")
        let merge = try runDistill(["label", "merge", folder.appendingPathComponent("shard-0.sqlite").path, killedStore.path, "--out", merged.path])
        #expect(merge.status == 0, "\(merge.output)")
        let summary = try #require(try JSONSerialization.jsonObject(with: Data(merge.stdout.utf8)) as? [String: Any])
        #expect(summary["conflicts"] as? Int == 0 && summary["added"] as? Int == Set(lines.map(LabelingJob.templateKey)).count, "\(merge.stdout)")
        #expect(try storedAnswers(merged) == storedAnswers(folder.appendingPathComponent("whole.sqlite")))

        mark = proxy.requests.count
        let final = try runDistill(args("final", store: "merged"))
        #expect(final.status == 0, "\(final.output)")
        #expect(requestedTexts(Array(proxy.requests[mark...])).isEmpty, "the merged store answers every line")
        #expect(try Data(contentsOf: folder.appendingPathComponent("final.jsonl")) == Data(contentsOf: folder.appendingPathComponent("whole.jsonl")))
        // Refusals name the problem.
        let missing = try runDistill(["label", "merge", folder.appendingPathComponent("nope.sqlite").path, "--out", merged.path])
        #expect(missing.status != 0 && missing.stderr.contains("nope.sqlite: no such label store"), "\(missing.stderr)")
        let badShard = try runDistill(args("bad", shard: "2/2"))
        #expect(badShard.status != 0 && badShard.stderr.contains("--shard 2/2"), "\(badShard.stderr)")
    }

    @Test("recipe with an openai teacher, input logs, per-line examples: `distill label --recipe` pays for the labels, `distill train` reuses them with zero calls")
    func recipeTeacher() throws {
        let proxy = try LoopbackServer { _, _ in .forward(port: llamaPort!) }
        defer { proxy.stop() }
        let folder = temporaryFile("recipe-llm")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let records = LogCorpusGenerator(seed: 4).generate(count: 400)
        let names = logLabels.map(\.name)
        let usable = records.filter { names.contains($0.label) }
        func write(_ name: String, _ rs: ArraySlice<LogCorpusGenerator.Record>, labelled: Bool) throws {
            try rs.map { r in
                String(decoding: try JSONSerialization.data(withJSONObject: labelled ? ["text": r.text, "label": r.label] : ["text": r.text], options: [.sortedKeys]), as: UTF8.self)
            }.joined(separator: "\n").write(to: folder.appendingPathComponent(name), atomically: true, encoding: .utf8)
        }
        try write("labelled.jsonl", usable.prefix(30), labelled: true)
        try write("unlabelled.jsonl", usable.dropFirst(30).prefix(40), labelled: false)
        try write("dev.jsonl", usable.dropFirst(70).prefix(20), labelled: true)
        let recipe = """
        labels:
        \(logLabels.map { "  - name: \($0.name)\n    description: \($0.description)" }.joined(separator: "\n"))
        data:
          labelled: labelled.jsonl
          unlabelled: unlabelled.jsonl
          dev: dev.jsonl
        teachers:
          - name: smollm
            kind: openai
            base_url: \(proxy.baseURL)
            verbalizer: codes
            few_shot:
              - text: "ERROR could not connect to database server"
                label: database
            examples: labelled
            nearest_examples: 2
        input: logs
        student:
          kind: ngram-bag
          buckets: 4096
          embedding_size: 16
        training:
          max_steps: 10
          batch_size: 8
        output: run
        """
        try recipe.write(to: folder.appendingPathComponent("recipe.yaml"), atomically: true, encoding: .utf8)
        let labelled = try runDistill(["label", "--recipe", folder.appendingPathComponent("recipe.yaml").path])
        #expect(labelled.status == 0, "\(labelled.output)")
        let asked = requestedTexts(proxy.requests).count
        #expect(asked > 0 && asked <= 90)
        let out = try String(contentsOf: folder.appendingPathComponent("run/labels/smollm.jsonl"), encoding: .utf8)
        #expect(out.split(separator: "\n").count == 90)
        // The few-shot example reached the server as a user/assistant pair, then the 2 nearest labelled lines; the
        // question is the raw line (LLMs read lines as written, whatever the recipe's input).
        let body = try #require(proxy.requests.last { $0.path.hasSuffix("/chat/completions") }?.json)
        let messages = try #require(body["messages"] as? [[String: String]])
        #expect(messages.count == 8 && messages[2]["content"] == "B" && messages[0]["content"]!.contains("B = database: database errors"))
        let rawTexts = Set(usable.prefix(90).map(\.text))
        #expect(requestedTexts(proxy.requests).allSatisfy { rawTexts.contains($0) }, "the LLM is asked raw lines")

        let trained = try runDistill(["train", "--recipe", folder.appendingPathComponent("recipe.yaml").path])
        #expect(trained.status == 0, "\(trained.output)")
        #expect(requestedTexts(proxy.requests).count == asked, "training asked the teacher nothing new")
        #expect(trained.output.contains("from the store"))
        #expect(FileManager.default.fileExists(atPath: folder.appendingPathComponent("run/teachers.json").path))
    }
}
}
