import DistillCore
import DistillNN
import DistillText
import Foundation

/// A student classifier with everything it needs to read text, saved as a Hugging Face-style folder:
/// `config.json` (with `id2label`), `model.safetensors`, and for BERT students `vocab.txt` +
/// `tokenizer_config.json`. A saved student loads back bit-identically, and the BERT kind loads in
/// Hugging Face `transformers` as `BertForSequenceClassification`.
public enum Student {
    case bert(BertForSequenceClassification, WordPieceTokenizer)
    case ngramBag(NGramBag)

    /// The model's parameter tree.
    public var module: any Module {
        switch self {
        case let .bert(m, _): return m
        case let .ngramBag(m): return m
        }
    }

    /// Label names in class order.
    public var labels: [String] {
        switch self {
        case let .bert(m, _): return m.config.labels ?? (0..<m.numberOfLabels).map { "LABEL_\($0)" }
        case let .ngramBag(m): return m.config.labels
        }
    }

    /// Class logits `[texts, labels]` (inference mode), truncating BERT inputs to `maxLength` tokens.
    public func logits(_ texts: [String], maxLength: Int = 128) -> Tensor {
        switch self {
        case let .bert(m, tokenizer): return m(tokenizer.encodeBatch(texts, maxLength: maxLength)).logits
        case let .ngramBag(m): return m(texts)
        }
    }

    /// Writes the folder (created if needed); files are replaced atomically one by one.
    public func save(to folder: URL, storage: SafetensorsWriter.StorageType = .f32) throws {
        do { try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true) } catch {
            throw ModelError.io(path: folder.path, detail: "cannot create folder: \(error.localizedDescription)")
        }
        let weights = folder.appendingPathComponent("model.safetensors")
        switch self {
        case let .bert(m, tokenizer):
            var config = m.config
            config.architectures = ["BertForSequenceClassification"]
            config.labels = labels
            if m.pooling != "pooler" { config.distillPooling = m.pooling }
            try config.write(to: folder.appendingPathComponent("config.json"))
            try SafetensorsWriter.write(m.stateDict(), to: weights, as: storage, metadata: ["format": "pt"])
            try tokenizer.vocabulary.write(vocabTxt: folder.appendingPathComponent("vocab.txt"))
            let tokenizerConfig: [String: Any] = [
                "tokenizer_class": "BertTokenizer", "do_lower_case": tokenizer.normalizer.lowercase,
                "tokenize_chinese_chars": tokenizer.normalizer.handleChineseChars,
                "strip_accents": tokenizer.normalizer.stripAccents as Any? ?? NSNull(),
                "model_max_length": tokenizer.modelMaxLength, "unk_token": "[UNK]", "sep_token": "[SEP]",
                "pad_token": "[PAD]", "cls_token": "[CLS]", "mask_token": "[MASK]",
            ]
            let data = try JSONSerialization.data(withJSONObject: tokenizerConfig, options: [.prettyPrinted, .sortedKeys])
            try data.write(to: folder.appendingPathComponent("tokenizer_config.json"), options: .atomic)
        case let .ngramBag(m):
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            try encoder.encode(m.config).write(to: folder.appendingPathComponent("config.json"), options: .atomic)
            try SafetensorsWriter.write(m.stateDict(), to: weights, as: storage, metadata: ["format": "distill"])
        }
    }

    /// Loads a student folder, choosing the architecture from `config.json`'s `model_type`.
    public static func load(from folder: URL) throws -> Student {
        let configURL = folder.appendingPathComponent("config.json")
        let data: Data
        do { data = try Data(contentsOf: configURL) } catch {
            throw ModelError.io(path: configURL.path, detail: "cannot read: \(error.localizedDescription)")
        }
        guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw ModelError.invalidConfig(path: configURL.path, key: "(root)", detail: "not a JSON object")
        }
        switch object["model_type"] as? String {
        case "bert":
            let model = try BertForSequenceClassification.load(folder: folder)
            let tokenizer = try WordPieceTokenizer.load(folder: folder)
            return .bert(model, tokenizer)
        case "distill-ngram-bag":
            let config: NGramBagConfig
            do { config = try JSONDecoder().decode(NGramBagConfig.self, from: data) } catch let error as DecodingError {
                throw ModelError.invalidConfig(path: configURL.path, key: error.dottedPath, detail: "\(error)")
            }
            try config.validate(path: configURL.path)
            let model = NGramBag(config: config)
            let file = try SafetensorsFile(url: folder.appendingPathComponent("model.safetensors"))
            try model.load(from: file)
            return .ngramBag(model)
        case let other:
            throw ModelError.unsupported(path: configURL.path, detail: "model_type '\(other ?? "missing")' is not a Distill student (bert, distill-ngram-bag)")
        }
    }
}

extension DecodingError {
    var dottedPath: String {
        let path: [CodingKey]
        switch self {
        case let .keyNotFound(key, ctx): path = ctx.codingPath + [key]
        case let .typeMismatch(_, ctx), let .valueNotFound(_, ctx), let .dataCorrupted(ctx): path = ctx.codingPath
        @unknown default: path = []
        }
        return path.isEmpty ? "(root)" : path.map { $0.intValue.map(String.init) ?? $0.stringValue }.joined(separator: ".")
    }
}
