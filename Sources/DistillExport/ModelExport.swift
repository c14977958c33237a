import DistillKit
import DistillNN
import DistillText
import Foundation
import ONNXProto
import SwiftProtobuf
#if canImport(Glibc)
import Glibc
#endif

/// The formats `distill export` writes.
public enum ExportFormat: String, CaseIterable, Sendable {
    /// A Hugging Face folder `transformers` runs with the same logits (BERT models).
    case hf
    /// `model.onnx` (opset 17) for ONNX Runtime, Triton and the like (BERT and n-gram bag models).
    case onnx
}

/// Writes a student or teacher folder in another runtime's format, into a new folder (staged beside it and renamed
/// into place, so an interrupted export never leaves half a folder). Weights are F32: int8 folders are dequantized
/// exactly as Distill dequantizes them at load, so the export computes what `distill classify` computes.
public enum ModelExport {
    /// What was written.
    public struct Written: Sendable {
        public var folder: URL
        public var files: [String]
        public var bytes: Int
    }

    public static func write(_ student: Student, format: ExportFormat, to folder: URL, card: ModelCard, decision: DecisionRule?) throws -> Written {
        let fm = FileManager.default
        let staging = folder.deletingLastPathComponent().appendingPathComponent(".\(folder.lastPathComponent).exporting-\(getpid())")
        try? fm.removeItem(at: staging)
        do { try fm.createDirectory(at: staging, withIntermediateDirectories: true) } catch {
            throw ExportError.io(path: staging.path, detail: "cannot create folder: \(fileErrorReason(error))")
        }
        do {
            switch format {
            case .hf: try writeHF(student, into: staging, card: card, decision: decision)
            case .onnx: try writeONNX(student, into: staging, card: card, decision: decision)
            }
            if let decision { try decision.save(to: staging) }
            if fm.fileExists(atPath: folder.path) { try fm.removeItem(at: folder) }
            try fm.moveItem(at: staging, to: folder)
        } catch {
            try? fm.removeItem(at: staging)
            if error is ExportError || error is ModelError { throw error }
            throw ExportError.io(path: folder.path, detail: fileErrorReason(error))
        }
        let files = ((try? fm.contentsOfDirectory(atPath: folder.path)) ?? []).sorted()
        let bytes = files.reduce(0) { $0 + (((try? fm.attributesOfItem(atPath: folder.appendingPathComponent($1).path))?[.size] as? Int) ?? 0) }
        return Written(folder: folder, files: files, bytes: bytes)
    }

    // MARK: Hugging Face

    private static func writeHF(_ student: Student, into folder: URL, card: ModelCard, decision: DecisionRule?) throws {
        guard case let .bert(model, tokenizer) = student else {
            throw ExportError.unsupported(format: "hf", detail: "the n-gram bag has no transformers architecture; export it with --format onnx "
                + "(its embedding-bag graph over the feature ids `distill prepare` prints)")
        }
        let positions = model.config.maxPositionEmbeddings
        var config = try configObject(model, labels: student.labels)
        let remoteCode = model.pooling != "pooler"
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
            tokenizer = AutoTokenizer.from_pretrained(folder\(remoteCode ? ", trust_remote_code=True" : ""))
            model = \(load)
            batch = tokenizer(texts, padding=True, truncation=True, return_tensors="pt")   # truncation at \(positions) tokens
            probabilities = \(decision.map { $0.temperature == 1 ? "model(**batch).logits" : "(model(**batch).logits / \($0.temperature))" } ?? "model(**batch).logits").softmax(-1)
            ```

            \(preparationNote(student))
            """))
        try card.write(into: folder)
    }

    /// The student's `config.json` as a dictionary, labels both ways, dtype named.
    private static func configObject(_ model: BertForSequenceClassification, labels: [String]) throws -> [String: Any] {
        var config = model.config
        config.labels = labels
        config.distillPooling = model.pooling
        guard var object = try JSONSerialization.jsonObject(with: JSONEncoder().encode(config)) as? [String: Any] else {
            throw ExportError.io(path: "config.json", detail: "the model's config did not encode as a JSON object")
        }
        object["problem_type"] = "single_label_classification"
        object["torch_dtype"] = "float32"
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
            ? "This model reads log-normalized text: give it the `text` field `distill prepare --model FOLDER` prints for each raw line "
                + "(timestamps, addresses, ids and numbers masked), not the raw line."
            : "This model reads the text as it is."
    }

    // MARK: ONNX

    private static func writeONNX(_ student: Student, into folder: URL, card: ModelCard, decision: DecisionRule?) throws {
        let temperature = decision?.temperature ?? 1
        let builder: ONNXGraphBuilder
        var metadata: [(String, String)] = [
            ("distill.labels", String(decoding: try JSONSerialization.data(withJSONObject: student.labels), as: UTF8.self)),
            ("distill.input", String(decoding: try JSONEncoder().encode(student.input), as: UTF8.self)),
            ("distill.temperature", "\(temperature)"),
        ]
        let inputs: String, feeds: String
        switch student {
        case let .bert(model, tokenizer):
            builder = try BertONNX.graph(model, temperature: temperature)
            let positions = model.config.maxPositionEmbeddings
            metadata.append(("distill.max_length", "\(positions)"))
            try writeTokenizer(tokenizer, maxLength: positions, into: folder)
            try model.config.write(to: folder.appendingPathComponent("config.json"))
            inputs = "`input_ids` and `attention_mask` (int64 `[batch, sequence]`, at most \(positions) tokens with `[CLS]` and `[SEP]`, "
                + "padded with id \(tokenizer.padID) and mask 0): the `input_ids` `distill prepare` prints, or `tokenizer.json` beside the model "
                + "(Hugging Face `tokenizers`, truncation set)."
            feeds = "{\"input_ids\": ids, \"attention_mask\": mask}   # int64 arrays [batch, sequence]"
        case let .ngramBag(model):
            builder = try NGramBagONNX.graph(model, temperature: temperature)
            metadata.append(("distill.padding_feature_id", "\(NGramBagONNX.padding)"))
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            try encoder.encode(model.config).write(to: folder.appendingPathComponent("config.json"))
            inputs = "`feature_ids` (int64 `[batch, features]`): the `feature_ids` `distill prepare` prints for each line, padded with "
                + "\(NGramBagONNX.padding) to the longest line of the batch."
            feeds = "{\"feature_ids\": ids}   # int64 array [batch, features], -1 = padding"
        }
        let doc = "Distill \(student.kind) classifier. Inputs: \(inputs) Outputs: `logits` and `probabilities` (float `[batch, \(student.labels.count)]`), "
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
            import onnxruntime
            session = onnxruntime.InferenceSession("model.onnx")
            inputs = \(feeds)
            probabilities = session.run(["probabilities"], inputs)[0]
            ```

            \(preparationNote(student))
            """))
        try card.write(into: folder)
    }
}

extension Student {
    /// `bert` or `n-gram bag`, for messages.
    var kind: String {
        switch self {
        case .bert: return "BERT"
        case .ngramBag: return "n-gram bag"
        }
    }
}
