import DistillCore
import DistillExamples
import DistillNN
import DistillRecipes
import DistillRuntime
import DistillTeachers
import DistillTestSupport
import DistillText
import DistillTraining
import Foundation
import Testing

/// `distill export` checked by the libraries that will run it: transformers 5.24 (+ PyTorch CPU) and onnxruntime
/// 1.32 / onnx 1.23 (`.cache/pip/exports`, `.cache/pip/torch`; `make test` installs them), against `distill classify`
/// on real log lines (a sample of every committed Loghub system) and the hostile lines.
@Suite("Exports (transformers, onnxruntime)", .serialized)
struct ExportTests {
    /// Every 40th real line (400 lines over 8 systems) and the hostile ones.
    static let lines: [String] = {
        let real = (try? realLogLines()) ?? []
        return stride(from: 0, to: real.count, by: 40).map { real[$0] } + hostileLogLines
    }()

    struct Check {
        let hf: [String: Any]?
        let onnx: [String: Any]?
    }

    /// Exports `model` in `formats`, runs `prepare` and `classify` on the lines, then scripts/check_export.py.
    func exportAndCheck(_ model: URL, formats: [String], maxLength: Int? = nil, temperature: Float = 1) throws -> Check {
        // nil: no --max-length anywhere, so export, prepare and classify each take the folder's model_max_length.
        let length = maxLength.map { ["--max-length", "\($0)"] } ?? []
        try #require(Self.lines.count > 400, "the committed Loghub lines are readable")
        let work = temporaryFolder("export")
        let input = work.appendingPathComponent("lines.txt")
        try Self.lines.joined(separator: "\n").write(to: input, atomically: true, encoding: .utf8)
        var arguments = ["--prepared", work.appendingPathComponent("prepared.jsonl").path, "--classified", work.appendingPathComponent("classified.jsonl").path,
                         "--temperature", "\(temperature)"]
        for format in formats {
            let out = work.appendingPathComponent(format)
            let run = try runDistill(["export", "--model", model.path, "--format", format, "--out", out.path] + length)
            #expect(run.status == 0 && run.stderr.contains("export: \(format) -> "), "\(run.output)")
            arguments += ["--\(format)", out.path]
        }
        let prepared = try runDistill(["prepare", "--model", model.path, "--input", input.path] + length)
        #expect(prepared.status == 0, "\(prepared.stderr)")
        try prepared.stdout.write(to: work.appendingPathComponent("prepared.jsonl"), atomically: true, encoding: .utf8)
        let labels = try Student.load(from: model).labels.count
        let classified = try runDistill(["classify", "--model", model.path, "--input", input.path, "--top-k", "\(labels)"] + length)
        #expect(classified.status == 0, "\(classified.stderr)")
        try classified.stdout.write(to: work.appendingPathComponent("classified.jsonl"), atomically: true, encoding: .utf8)

        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", projectRoot.appendingPathComponent("scripts/check_export.py").path] + arguments
        var env = ProcessInfo.processInfo.environment
        env["PYTHONPATH"] = ["torch", "exports"].map { projectRoot.appendingPathComponent(".cache/pip/\($0)").path }.joined(separator: ":")
        env["HF_HUB_OFFLINE"] = "1"  // nothing may come from a hub: the folder must be complete
        env["HF_MODULES_CACHE"] = work.appendingPathComponent("hf-modules").path
        process.environment = env
        let out = work.appendingPathComponent("check.json"), err = work.appendingPathComponent("check.err")
        FileManager.default.createFile(atPath: out.path, contents: nil)
        FileManager.default.createFile(atPath: err.path, contents: nil)
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = try FileHandle(forWritingTo: out)
        process.standardError = try FileHandle(forWritingTo: err)
        try process.run()
        process.waitUntilExit()
        let stderr = String(decoding: try Data(contentsOf: err), as: UTF8.self)
        try #require(process.terminationStatus == 0, "check_export.py failed: \(stderr.suffix(3000))")
        // The result is the last line (a library may print to stdout before it).
        let printed = String(decoding: try Data(contentsOf: out), as: UTF8.self)
        #expect(!printed.contains("Do you wish to run the custom code"), "the documented calls never stop to ask: \(printed.prefix(400))")
        let last = printed.split(separator: "\n").last.map(String.init) ?? ""
        let object = try #require(try? JSONSerialization.jsonObject(with: Data(last.utf8)) as? [String: Any], "\(last.prefix(500)) \(stderr.suffix(2000))")
        print("export check \(model.path): \(last)")
        return Check(hf: object["hf"] as? [String: Any], onnx: object["onnx"] as? [String: Any])
    }

    /// The parity every export must show: probabilities within 1e-4 of classify's, the same top label on every line.
    func expectParity(_ r: [String: Any]?, _ what: String) throws {
        let r = try #require(r, "\(what): no result")
        let lines = r["lines"] as? Int
        #expect(lines == Self.lines.count, "\(what): \(r)")
        let difference = try #require(r["max_probability_difference"] as? Double)
        #expect(difference < 1e-4, "\(what): probabilities differ by \(difference) (line \(r["worst_line"] ?? "?"))")
        #expect(r["same_top_label"] as? Int == lines, "\(what): \(r["same_top_label"] ?? "?") of \(lines ?? 0) lines have classify's top label")
    }

    /// MiniLM's real weights with a new head scaled so answers are decided (not a near-uniform random head).
    func miniLMClassifier(pooling: Pooling) throws -> URL {
        let model = try BertForSequenceClassification.load(folder: miniLM, newHead: true, labels: realLogLabels, pooling: pooling, seed: 5)
        let w = model.classifier.weight.storage.pointer
        for i in 0..<model.classifier.weight.count { w[i] *= 60 }
        model.input = .logs
        let folder = temporaryFolder("minilm-classifier").appendingPathComponent(pooling.rawValue)
        try Student.bert(model, try WordPieceTokenizer.load(folder: miniLM)).save(to: folder)
        return folder
    }

    @Test("MiniLM (real checkpoint, mean pooling, log input): transformers with trust_remote_code and onnxruntime give classify's probabilities and labels; plain transformers refuses the folder")
    func miniLMMean() throws {
        let model = try miniLMClassifier(pooling: .mean)
        // No --max-length: export, prepare and classify all take the folder's model_max_length (512 for MiniLM), so
        // the 63,000-byte line and other long ones are cut alike.
        let check = try exportAndCheck(model, formats: ["hf", "onnx"])
        try expectParity(check.hf, "transformers")
        try expectParity(check.onnx, "onnxruntime")
        let hf = try #require(check.hf)
        #expect(hf["same_token_ids"] as? Int == Self.lines.count, "tokenizer.json gives Distill's ids: \(hf["same_token_ids"] ?? "?")")
        #expect(hf["model_class"] as? String == "DistillBertForSequenceClassification" && hf["model_max_length"] as? Int == 512, "\(hf)")
        #expect(hf["pipeline_same_top_label"] as? Int == hf["pipeline_lines"] as? Int, "pipeline(): \(hf)")
        #expect((hf["plain_load"] as? String)?.hasPrefix("refused") == true, "without trust_remote_code: \(hf["plain_load"] ?? "nothing")")
        #expect(check.onnx?["opset"] as? Int == 17 && check.onnx?["inputs"] as? [String] == ["input_ids", "attention_mask"])
    }

    /// A 2x128 BERT student over MiniLM's vocabulary (48 positions), saved as `pooling`, then quantized to int8.
    func tinyInt8Student(pooling: Pooling, decision: DecisionRule?) throws -> URL {
        var config = BertConfig(vocabSize: 30522, hiddenSize: 128, numHiddenLayers: 2, numAttentionHeads: 2, intermediateSize: 512,
                                maxPositionEmbeddings: 48, labels: realLogLabels)
        config.distillPooling = pooling
        config.initializerRange = 0.2
        let model = BertForSequenceClassification(config: config, seed: 11)
        let work = temporaryFolder("tiny-bert")
        let f32 = work.appendingPathComponent("f32"), int8 = work.appendingPathComponent("int8")
        try Student.bert(model, try WordPieceTokenizer.load(folder: miniLM)).save(to: f32)
        if let decision { try decision.save(to: f32) }
        let quantized = try runDistill(["quantize", "--model", f32.path, "--out", int8.path])
        #expect(quantized.status == 0, "\(quantized.output)")
        #expect(Student.quantization(of: int8) != nil)
        return int8
    }

    @Test("int8 tiny BERT students ([CLS] with a temperature; HF's tanh pooler): exported dequantized, transformers and onnxruntime match classify; model_max_length is the 48 positions",
          arguments: [Pooling.cls, .pooler])
    func tinyInt8(pooling: Pooling) throws {
        let temperature: Float = pooling == .cls ? 2 : 1
        let model = try tinyInt8Student(pooling: pooling, decision: temperature == 1 ? nil : DecisionRule(temperature: temperature))
        let check = try exportAndCheck(model, formats: ["hf", "onnx"], maxLength: 48, temperature: temperature)
        try expectParity(check.hf, "transformers (\(pooling))")
        try expectParity(check.onnx, "onnxruntime (\(pooling))")
        let hf = try #require(check.hf)
        #expect(hf["model_max_length"] as? Int == 48 && hf["same_token_ids"] as? Int == Self.lines.count, "\(hf)")
        #expect(hf["model_class"] as? String == (pooling == .pooler ? "BertForSequenceClassification" : "DistillBertForSequenceClassification"))
        if pooling == .pooler {
            #expect(hf["plain_load"] == nil, "a pooler model is plain BERT: no remote code needed")
        } else {
            #expect((hf["plain_load"] as? String)?.hasPrefix("refused") == true, "without trust_remote_code: \(hf["plain_load"] ?? "nothing")")
        }
    }

    @Test("the n-gram bag trained on real logs: its ONNX embedding-bag graph gives classify's answers; train's model card carries into the export; hf is refused with a reason")
    func bag() throws {
        let model = try realLogsModel()
        // The run's tested folder (best/, chosen on dev) carries the test report; final/ says it was not the one tested.
        let tested = model.deletingLastPathComponent().appendingPathComponent("best")
        let card = try String(contentsOf: tested.appendingPathComponent("README.md"), encoding: .utf8)
        #expect(card.contains("## Evaluation") && card.contains("macro-F1") && card.contains("library_name: distill") && card.contains("Missed alerts")
                && FileManager.default.fileExists(atPath: tested.appendingPathComponent("model_card.json").path), "train writes the card: \(card.prefix(600))")
        let untested = try String(contentsOf: model.appendingPathComponent("README.md"), encoding: .utf8)
        #expect(model.lastPathComponent != "final" || untested.contains("Not evaluated in this folder"))
        let check = try exportAndCheck(model, formats: ["onnx"])
        try expectParity(check.onnx, "onnxruntime (bag)")
        #expect(check.onnx?["inputs"] as? [String] == ["feature_ids"])

        let exported = temporaryFolder("bag-export").appendingPathComponent("onnx")
        #expect(try runDistill(["export", "--model", tested.path, "--format", "onnx", "--out", exported.path]).status == 0)
        let exportedCard = try String(contentsOf: exported.appendingPathComponent("README.md"), encoding: .utf8)
        let accuracyLine = try #require(card.split(separator: "\n").first { $0.hasPrefix("On ") && $0.contains("accuracy") })
        #expect(exportedCard.contains(accuracyLine) && exportedCard.contains("## ONNX Runtime") && exportedCard.contains("library_name: onnx"),
                "the export's card keeps the test report: \(exportedCard.prefix(800))")

        let refused = try runDistill(["export", "--model", model.path, "--format", "hf", "--out", temporaryFolder("bag-hf").appendingPathComponent("hf").path])
        #expect(refused.status == 1 && refused.stderr.contains("the n-gram bag has no transformers architecture"), "\(refused.output)")
    }

    @Test("export refuses what it cannot read, naming the file; it never replaces its source, a folder holding it or a folder holding other files; an earlier export only with --force, whole")
    func errors() throws {
        let missing = try runDistill(["export", "--model", "/nonexistent/model", "--format", "onnx", "--out", temporaryFolder().appendingPathComponent("x").path])
        #expect(missing.status == 1 && missing.stderr.contains("/nonexistent/model"), "\(missing.output)")
        let badFormat = try runDistill(["export", "--model", "/nonexistent/model", "--format", "tflite", "--out", "x"])
        #expect(badFormat.status == 64 && badFormat.stderr.contains("tflite"), "\(badFormat.output)")
        let bag = temporaryFolder("tiny-bag").appendingPathComponent("bag")
        try Student.ngramBag(NGramBag(config: NGramBagConfig(featurizer: NGramFeaturizer(buckets: 256), embeddingSize: 4, labels: ["a", "b"]))).save(to: bag)
        let out = temporaryFolder("replace").appendingPathComponent("onnx")
        try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
        try Data("old".utf8).write(to: out.appendingPathComponent("stale.txt"))
        let kept = try runDistill(["export", "--model", bag.path, "--format", "onnx", "--out", out.path])
        #expect(kept.status == 1 && kept.stderr.contains("exists and holds 1 file; pass --force"), "\(kept.output)")
        #expect(FileManager.default.fileExists(atPath: out.appendingPathComponent("stale.txt").path))
        for target in [bag, bag.deletingLastPathComponent()] {
            let refused = try runDistill(["export", "--model", bag.path, "--format", "onnx", "--out", target.path, "--force"])
            #expect(refused.status == 1 && refused.stderr.contains("is the model's folder or holds it"), "\(refused.output)")
        }
        #expect(try Student.load(from: bag).labels == ["a", "b"], "the source is intact")
        // --force never replaces a folder holding files that are not an export's.
        let foreign = try runDistill(["export", "--model", bag.path, "--format", "onnx", "--out", out.path, "--force"])
        #expect(foreign.status == 1 && foreign.stderr.contains("\(out.path): not replaced") && foreign.stderr.contains("stale.txt"), "\(foreign.output)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: out.path) == ["stale.txt"])
        // An earlier export is replaced whole (a stale hf tokenizer.json does not survive an onnx export).
        try FileManager.default.removeItem(at: out.appendingPathComponent("stale.txt"))
        #expect(try runDistill(["export", "--model", bag.path, "--format", "onnx", "--out", out.path, "--force"]).status == 0)
        try Data("{}".utf8).write(to: out.appendingPathComponent("tokenizer.json"))
        let run = try runDistill(["export", "--model", bag.path, "--format", "onnx", "--out", out.path, "--force"])
        #expect(run.status == 0, "\(run.output)")
        let files = try FileManager.default.contentsOfDirectory(atPath: out.path).sorted()
        #expect(files == ["README.md", "config.json", "model.onnx", "model_card.json"], "\(files)")
    }
}
