import DistillExamples
import DistillRecipes
import DistillTeachers
import DistillTestSupport
import DistillTraining
import Foundation
import Testing

@Suite("LLM paraphrase augmentation")
struct ParaphraseTests {
    @Test("recipe paraphrases: written by the LLM, kept only if the teacher relabels them with the source label, counted, never asked twice")
    func recipeParaphrases() throws {
        // The fake LLM: paraphrases are "PARA<seed> <line>"; it labels lines with "drop" as network, the rest database.
        let s = try server { request, _ in
            let body = request.json ?? [:]
            let messages = body["messages"] as? [[String: String]] ?? []
            let last = messages.last?["content"] ?? ""
            if last.hasPrefix("Rewrite the following log line") {
                let source = last.components(separatedBy: "\n\n").last ?? ""
                return .json(chatCompletion("\"PARA\(body["seed"] as? Int ?? 0) \(source)\"\nHope this helps!"))
            }
            let network = last.contains("PARA") && last.contains("drop")
            return .json(chatCompletion(network ? "network" : "database",
                                        alternatives: network ? [("network", log(0.9)), ("database", log(0.1))] : [("database", log(0.9)), ("network", log(0.1))]))
        }
        defer { s.stop() }
        let folder = temporaryFile("paraphrase")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let lines = ["ERROR keep db connection lost 1", "ERROR keep db connection lost 2", "ERROR keep db deadlock",
                     "ERROR drop db timeout 1", "ERROR drop db timeout 2", "ERROR drop db replica lag"]
        try lines.map { "{\"text\": \"\($0)\", \"label\": \"database\"}" }.joined(separator: "\n")
            .write(to: folder.appendingPathComponent("labelled.jsonl"), atomically: true, encoding: .utf8)
        let recipe = """
        labels: [database, network]
        data:
          labelled: labelled.jsonl
        teachers:
          - name: llm
            kind: openai
            base_url: \(s.baseURL)
            verbalizer: names
            constrain: none
        augmentation:
          paraphrases: 2
          teacher_filter: 0.6
        student:
          kind: ngram-bag
          buckets: 1024
          embedding_size: 8
        training:
          max_steps: 3
          batch_size: 4
        output: run
        """
        let recipeURL = folder.appendingPathComponent("recipe.yaml")
        try recipe.write(to: recipeURL, atomically: true, encoding: .utf8)
        let first = try runDistill(["train", "--recipe", recipeURL.path])
        #expect(first.status == 0, "\(first.output)")
        let generations = s.requests.filter { (($0.json?["messages"] as? [[String: String]])?.last?["content"] ?? "").hasPrefix("Rewrite") }
        #expect(generations.count == 12)
        #expect(Set(generations.compactMap { $0.json?["seed"] as? Int }) == [1000, 1001])
        let summary = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: folder.appendingPathComponent("run/teachers.json"))) as? [String: Any])
        let counts = try #require(summary["augmentation"] as? [String: Int])
        #expect(counts == ["made": 12, "kept": 6, "dropped": 6, "paraphrases": 12])
        // The paraphrase text: first line of the answer, quotes removed.
        let labelledTexts = requestedTexts(s.requests)
        #expect(labelledTexts.contains("PARA1000 ERROR keep db deadlock"))

        func completions() -> Int { s.requests.filter { $0.path.hasSuffix("/chat/completions") }.count }
        let before = completions()
        let second = try runDistill(["train", "--recipe", recipeURL.path, "--restart"])
        #expect(second.status == 0, "\(second.output)")
        #expect(completions() == before, "paraphrases and labels come from the store: no completion request")
    }

    @Test("a paraphrase teacher that is not an openai teacher is refused with its key")
    func badTeacher() throws {
        let folder = temporaryFile("paraphrase-bad")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try "{\"text\": \"x\", \"label\": \"a\"}\n".write(to: folder.appendingPathComponent("l.jsonl"), atomically: true, encoding: .utf8)
        let text = "labels: [a, b]\ndata:\n  labelled: l.jsonl\nteachers:\n  - {name: soft, kind: soft-labels, path: l.jsonl}\naugmentation:\n  paraphrases: 2\n  paraphrase_teacher: soft\nstudent:\n  kind: ngram-bag\n"
        try text.write(to: folder.appendingPathComponent("r.yaml"), atomically: true, encoding: .utf8)
        do { _ = try Recipe.load(folder.appendingPathComponent("r.yaml")); Issue.record("accepted") } catch {
            #expect(error.localizedDescription.contains("augmentation.paraphrase_teacher") && error.localizedDescription.contains("not an openai teacher"))
        }
    }
}
