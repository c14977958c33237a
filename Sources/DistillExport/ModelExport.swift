import DistillNN
import DistillRuntime
import DistillText
import DistillTraining
import Foundation
import ONNXProto
import SwiftProtobuf
#if canImport(Glibc)
import Glibc
#endif

/// Writes a student or teacher folder in another runtime's format, into a new folder: staged beside it, then the
/// old folder (if any) is moved aside, the new one moved in and the old one deleted, so an interrupted export leaves
/// the old folder or the new one, never half of one. Weights are F32: int8 folders are dequantized exactly as
/// Distill dequantizes them at load, so the export computes what `distill classify` computes.
public enum ModelExport {
    /// What was written.
    public struct Written: Sendable {
        /// The export folder.
        public var folder: URL
        /// Its files, sorted.
        public var files: [String]
        /// Their total size.
        public var bytes: Int
    }

    /// Exports `student` (loaded from `source`) as `format` into `folder`, truncating BERT inputs at `maxLength`
    /// tokens (capped at the model's positions), as `distill classify --max-length` does. An existing non-empty
    /// `folder` is replaced only with `replace`; the source folder and the folders that hold it never are.
    public static func write(_ student: Student, from source: URL, format: ExportFormat, to folder: URL, maxLength: Int? = nil, replace: Bool,
                             card: ModelCard, decision: DecisionRule?) throws -> Written {
        let fm = FileManager.default
        if source.isSameOrInside(folder) {
            throw ExportError.wouldReplaceSource(output: folder.path, source: source.path)
        }
        let existing = (try? fm.contentsOfDirectory(atPath: folder.path)) ?? []
        if !existing.isEmpty && !replace { throw ExportError.outputExists(path: folder.path, files: existing.count) }
        // --force replaces an earlier export or a model folder, never a folder holding anything else.
        if !existing.isEmpty { try Student.checkReplaceable(folder) }
        if fm.fileExists(atPath: folder.path) && (try? fm.contentsOfDirectory(atPath: folder.path)) == nil {
            throw ExportError.io(path: folder.path, detail: "exists and is not a folder")
        }
        let staging = folder.deletingLastPathComponent().appendingPathComponent(".\(folder.lastPathComponent).exporting-\(getpid())")
        try? fm.removeItem(at: staging)
        do { try fm.createDirectory(at: staging, withIntermediateDirectories: true) } catch {
            throw ExportError.io(path: staging.path, detail: "cannot create folder: \(fileErrorReason(error))")
        }
        let old = folder.deletingLastPathComponent().appendingPathComponent(".\(folder.lastPathComponent).old-\(getpid())")
        do {
            switch format {
            case .hf: try writeHF(student, into: staging, maxLength: maxLength, card: card, decision: decision)
            case .onnx: try writeONNX(student, into: staging, maxLength: maxLength, card: card, decision: decision)
            }
            if let decision { try decision.save(to: staging) }
            if fm.fileExists(atPath: folder.path) { try fm.moveItem(at: folder, to: old) }
            try fm.moveItem(at: staging, to: folder)
            try? fm.removeItem(at: old)
        } catch {
            try? fm.removeItem(at: staging)
            // The old folder goes back where it was if the new one could not take its place.
            if !fm.fileExists(atPath: folder.path) && fm.fileExists(atPath: old.path) { try? fm.moveItem(at: old, to: folder) }
            if error is ExportError || error is ModelError { throw error }
            throw ExportError.io(path: folder.path, detail: fileErrorReason(error))
        }
        let files = ((try? fm.contentsOfDirectory(atPath: folder.path)) ?? []).sorted()
        let bytes = files.reduce(0) { $0 + (((try? fm.attributesOfItem(atPath: folder.appendingPathComponent($1).path))?[.size] as? Int) ?? 0) }
        return Written(folder: folder, files: files, bytes: bytes)
    }

    // MARK: Hugging Face

    /// The truncation length of an export: `requested`, at most the model's positions.
    private static func length(_ model: BertForSequenceClassification, _ tokenizer: WordPieceTokenizer, _ requested: Int?) -> Int {
        BertClassifier.tokenLimit(requested: requested, tokenizer: tokenizer, config: model.config)
    }

    private static func writeHF(_ student: Student, into folder: URL, maxLength: Int?, card: ModelCard, decision: DecisionRule?) throws {
        guard let bert = student.model as? BertClassifier else {
            let detail = student.model is NGramBag
                ? "the n-gram bag has no transformers architecture; export it with --format onnx (its embedding-bag graph over the feature ids `distill prepare` prints)"
                : "a \(type(of: student.model).kind) student has no transformers architecture"
            throw ExportError.unsupported(format: .hf, detail: detail)
        }
        let (model, tokenizer) = (bert.model, bert.tokenizer)
        let positions = length(model, tokenizer, maxLength)
        var config = try configObject(model, labels: student.labels)
        let remoteCode = model.pooling != .pooler
        if remoteCode {
            // transformers' BertForSequenceClassification always pools through tanh(dense([CLS])): a Distill model
            // pooled otherwise gets its own class, and a model_type plain transformers refuses instead of misreading.
            config["model_type"] = "distill_bert"
            config["architectures"] = ["DistillBertForSequenceClassification"]
            config["auto_map"] = ["AutoConfig": "modeling_distill.DistillBertConfig",
                                  "AutoModelForSequenceClassification": "modeling_distill.DistillBertForSequenceClassification"]
            try Data(HFRemoteCode.source.utf8).write(to: folder.appendingPathComponent(HFRemoteCode.fileName))
        } else {
            config["architectures"] = ["BertForSequenceClassification"]
        }
        try JSONSerialization.data(withJSONObject: config, options: [.prettyPrinted, .sortedKeys]).write(to: folder.appendingPathComponent("config.json"))
        try SafetensorsWriter.write(model.stateDict(), to: folder.appendingPathComponent("model.safetensors"), as: .f32, metadata: ["format": "pt"])
        try writeTokenizer(tokenizer, maxLength: positions, into: folder)

        var card = card
        card.library = "transformers"
        let load = remoteCode ? "AutoModelForSequenceClassification.from_pretrained(folder, trust_remote_code=True)  # modeling_distill.py: \(model.pooling) pooling"
            : "AutoModelForSequenceClassification.from_pretrained(folder)"
        card.sections.append(("transformers", """
            ```python
            from transformers import AutoTokenizer, AutoModelForSequenceClassification
            folder = "path/to/this/folder"
            texts = \(exampleTexts(student))
            tokenizer = AutoTokenizer.from_pretrained(folder\(remoteCode ? ", trust_remote_code=True" : ""))
            model = \(load)
            batch = tokenizer(texts, padding=True, truncation=True, return_tensors="pt")   # truncation at \(positions) tokens
            probabilities = \(decision.map { $0.temperature == 1 ? "model(**batch).logits" : "(model(**batch).logits / \($0.temperature))" } ?? "model(**batch).logits").softmax(-1)
            ```

            \(preparationNote(student))\(decisionNote(decision))
            """))
        try card.write(into: folder)
    }

    /// The student's `config.json` as a dictionary, labels both ways, dtype named.
    private static func configObject(_ model: BertForSequenceClassification, labels: [String]) throws -> [String: Any] {
        var config = model.config
        config.labels = labels
        config.distillPooling = model.pooling
        guard var object = try JSONSerialization.jsonObject(with: JSONEncoder().encode(config)) as? [String: Any] else {
            throw ExportError.unsupported(format: .hf, detail: "the model's config did not encode as a JSON object")
        }
        object["problem_type"] = "single_label_classification"
        object["dtype"] = "float32"
        return object
    }

    private static func writeTokenizer(_ tokenizer: WordPieceTokenizer, maxLength: Int, into folder: URL) throws {
        try tokenizer.vocabulary.write(vocabTxt: folder.appendingPathComponent("vocab.txt"))
        try TokenizerJSON.tokenizerJSON(tokenizer, maxLength: maxLength).write(to: folder.appendingPathComponent("tokenizer.json"))
        try TokenizerJSON.tokenizerConfig(tokenizer, maxLength: maxLength).write(to: folder.appendingPathComponent("tokenizer_config.json"))
        try TokenizerJSON.specialTokensMap(tokenizer).write(to: folder.appendingPathComponent("special_tokens_map.json"))
    }

    private static func preparationNote(_ student: Student) -> String {
        student.input.kind == .logs
            ? "This model reads log-normalized text: give it the `text` field `distill prepare --model SOURCE` prints for each raw line "
                + "(SOURCE: the Distill folder this was exported from; timestamps, addresses, ids and numbers masked), not the raw line."
            : "This model reads the text as it is."
    }

    /// What of the decision rule an export applies (the temperature) and what it leaves to the caller.
    private static func decisionNote(_ decision: DecisionRule?) -> String {
        guard let d = decision else { return "" }
        var rest: [String] = []
        if let n = d.normalLabel, let t = d.normalThreshold {
            rest.append("answer `\(n)` only when its probability is at least \(t), else the most probable other label")
        }
        if let m = d.minimumConfidence { rest.append("answer `\(DecisionRule.unknownLabel)` when the top probability is below \(m)") }
        guard !rest.isEmpty else { return "" }
        return "\n\nThe decision rule (`decision.json`, copied here) is not applied by the model: to answer as `distill classify` does, "
            + rest.joined(separator: "; ") + "."
    }

    /// Two prepared example lines for a card's snippet (the text the model reads).
    private static func exampleTexts(_ student: Student) -> String {
        let raw = ["2026-12-01T10:00:00Z ERROR connection refused to db-primary:5432", "GET /healthz 200 3ms"]
        let preparer = student.input.preparer()
        return "[" + raw.map { "\"\(preparer.prepare($0).replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\""))\"" }
            .joined(separator: ", ") + "]   # prepared as `distill prepare` prints them"
    }

    // MARK: ONNX

    private static func writeONNX(_ student: Student, into folder: URL, maxLength: Int?, card: ModelCard, decision: DecisionRule?) throws {
        let temperature = decision?.temperature ?? 1
        let builder: ONNXGraphBuilder
        var metadata: [(String, String)] = [
            ("distill.labels", String(decoding: try JSONSerialization.data(withJSONObject: student.labels), as: UTF8.self)),
            ("distill.input", String(decoding: try JSONEncoder().encode(student.input), as: UTF8.self)),
            ("distill.temperature", "\(temperature)"),
        ]
        if let d = decision {
            // The rest of the rule is the caller's to apply; it travels with the graph so nothing is lost.
            metadata.append(("distill.decision", String(decoding: try JSONEncoder().encode(d), as: UTF8.self)))
        }
        let inputs: String, feeds: String, architecture: String
        switch student.model {
        case let bert as BertClassifier:
            let (model, tokenizer) = (bert.model, bert.tokenizer)
            architecture = "BERT"
            builder = try BertONNX.graph(model, temperature: temperature)
            let positions = length(model, tokenizer, maxLength)
            metadata.append(("distill.max_length", "\(positions)"))
            try writeTokenizer(tokenizer, maxLength: positions, into: folder)
            try model.config.write(to: folder.appendingPathComponent("config.json"))
            inputs = "`input_ids` and `attention_mask` (int64 `[batch, sequence]`, at most \(positions) tokens with `[CLS]` and `[SEP]`, "
                + "padded with id \(tokenizer.padID) and mask 0): the `input_ids` `distill prepare` prints, or `tokenizer.json` beside the model "
                + "(Hugging Face `tokenizers`, truncation set)."
            feeds = """
                from tokenizers import Tokenizer
                texts = \(exampleTexts(student))
                tokenizer = Tokenizer.from_file("tokenizer.json")   # truncates at \(positions) tokens
                tokenizer.enable_padding(pad_id=\(tokenizer.padID), pad_token="[PAD]")
                batch = tokenizer.encode_batch(texts)
                inputs = {"input_ids": np.array([e.ids for e in batch], dtype=np.int64),
                          "attention_mask": np.array([e.attention_mask for e in batch], dtype=np.int64)}
                """
        case let model as NGramBag:
            architecture = "n-gram bag"
            builder = try NGramBagONNX.graph(model, temperature: temperature)
            metadata.append(("distill.padding_feature_id", "\(NGramBagONNX.padding)"))
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            try encoder.encode(model.config).write(to: folder.appendingPathComponent("config.json"))
            inputs = "`feature_ids` (int64 `[batch, features]`): the `feature_ids` `distill prepare` prints for each line, padded with "
                + "\(NGramBagONNX.padding) to the longest line of the batch."
            feeds = """
                rows = [json.loads(line)["feature_ids"] for line in open("prepared.jsonl")]   # distill prepare --model SOURCE
                width = max(1, max(len(r) for r in rows))
                inputs = {"feature_ids": np.array([r + [-1] * (width - len(r)) for r in rows], dtype=np.int64)}
                """
        default:
            throw ExportError.unsupported(format: .onnx, detail: "a \(type(of: student.model).kind) student has no ONNX graph yet")
        }
        let doc = "Distill \(architecture) classifier. Inputs: \(inputs) Outputs: `logits` and `probabilities` (float `[batch, \(student.labels.count)]`), "
            + "labels in the order of metadata `distill.labels`."
        let data = try builder.model(metadata: metadata, doc: doc).serializedData()
        guard data.count < Int(Int32.max) else { throw ExportError.tooLarge(bytes: data.count) }
        try data.write(to: folder.appendingPathComponent("model.onnx"))

        var card = card
        card.library = "onnx"
        card.sections.append(("ONNX Runtime", """
            `model.onnx`, opset \(ONNXGraphBuilder.opset). Inputs: \(inputs) Outputs: `logits` and `probabilities`\
            \(temperature == 1 ? "" : " (softmax of the logits divided by the decision rule's temperature \(temperature))").

            ```python
            import json
            import numpy as np
            import onnxruntime
            \(feeds)
            session = onnxruntime.InferenceSession("model.onnx")   # run in this folder
            probabilities = session.run(["probabilities"], inputs)[0]
            ```

            \(preparationNote(student))\(decisionNote(decision))
            """))
        try card.write(into: folder)
    }
}
