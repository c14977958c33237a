import DistillCore
import DistillNN
import DistillText
import Foundation
#if canImport(Glibc)
import Glibc
#endif

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

    /// How raw lines become this model's text (`distill_input` in its config; `raw` when absent).
    public var input: TextInput {
        switch self {
        case let .bert(m, _): return m.input ?? .raw
        case let .ngramBag(m): return m.input ?? .raw
        }
    }

    /// Tokens per line the model reads unless told otherwise: a BERT folder's `model_max_length` (at most its
    /// `max_position_embeddings`); nil for the n-gram bag, which reads whole lines.
    public var maxLength: Int? { maxLength(requested: nil) }

    /// `requested` tokens (nil: ``maxLength``), within the model's positions; nil for the n-gram bag.
    public func maxLength(requested: Int?) -> Int? {
        switch self {
        case let .bert(m, tokenizer): return Self.tokenLimit(requested: requested, tokenizer: tokenizer, config: m.config)
        case .ngramBag: return nil
        }
    }

    /// The tokens a BERT reads per line: `requested` (nil: the folder's `model_max_length`), at least 2 (`[CLS]`
    /// and `[SEP]`) and at most the model's `max_position_embeddings`. What every command and teacher reads with.
    public static func tokenLimit(requested: Int?, tokenizer: WordPieceTokenizer, config: BertConfig) -> Int {
        max(2, min(requested ?? tokenizer.modelMaxLength, config.maxPositionEmbeddings))
    }

    /// A BERT classifier folder's model and tokenizer, the vocabulary checked against the model.
    public static func loadBert(from folder: URL) throws -> (model: BertForSequenceClassification, tokenizer: WordPieceTokenizer) {
        let model = try BertForSequenceClassification.load(folder: folder)
        let tokenizer = try WordPieceTokenizer.load(folder: folder)
        try checkVocabulary(tokenizer, fits: model.config, folder: folder)
        return (model, tokenizer)
    }

    /// Class logits `[texts, labels]` (inference mode), truncating BERT inputs to `maxLength` tokens (nil: the
    /// folder's, ``maxLength``).
    public func logits(_ texts: [String], maxLength: Int? = nil) -> Tensor {
        switch self {
        case let .bert(m, tokenizer):
            return m(tokenizer.encodeBatch(texts, maxLength: self.maxLength(requested: maxLength))).logits
        case let .ngramBag(m): return m(texts)
        }
    }

    /// Class probabilities per text, on the tape-free inference engine (``StudentInference``). Builds the engine
    /// (and its workspaces) for this call; callers that classify again and again keep a ``StudentInference``.
    public func probabilities(_ texts: [String], maxLength: Int? = nil) -> [[Float]] {
        StudentInference(self, maxLength: maxLength).probabilities(texts)
    }

    /// The files of a folder Distill writes a model into: what ``save(to:storage:weights:)`` writes, what Distill
    /// adds beside it (decision rule, model card and its facts, quantization report, fine-tuning stamp) and what
    /// `distill export` writes (tokenizer files, remote code, ONNX graph).
    public static let modelFolderFiles: Set<String> = [
        "config.json", "model.safetensors", "vocab.txt", "tokenizer_config.json", "decision.json", "README.md",
        "model_card.json", "quantization.json", "finetune.json", "modeling_distill.py", "tokenizer.json", "special_tokens_map.json",
        "model.onnx",
    ]

    /// Throws ``ModelError/notAModelFolder(path:foreign:)`` unless saving a model may replace `folder`: it is
    /// absent, empty, or a folder Distill wrote a model into (weights — `model.safetensors` or `model.onnx` — and
    /// nothing but ``modelFolderFiles``). Commands call it before long work that ends in a save.
    public static func checkReplaceable(_ folder: URL) throws {
        let fm = FileManager.default
        var isFolder: ObjCBool = false
        guard fm.fileExists(atPath: folder.path, isDirectory: &isFolder) else { return }
        guard isFolder.boolValue else { throw ModelError.notAModelFolder(path: folder.path, foreign: ["it is a file"]) }
        let entries: [String]
        do { entries = try fm.contentsOfDirectory(atPath: folder.path).sorted() } catch {
            throw ModelError.io(path: folder.path, detail: "cannot list folder: \(fileErrorReason(error))")
        }
        if entries.isEmpty { return }
        let foreign = entries.filter { name in
            var isSubfolder: ObjCBool = false
            fm.fileExists(atPath: folder.appendingPathComponent(name).path, isDirectory: &isSubfolder)
            return isSubfolder.boolValue || !modelFolderFiles.contains(name)
        }
        let isModel = entries.contains("model.safetensors") || entries.contains("model.onnx")
        if !foreign.isEmpty || !isModel { throw ModelError.notAModelFolder(path: folder.path, foreign: foreign.isEmpty ? entries : foreign) }
    }

    /// Writes the folder. Everything is written into a sibling temporary folder first, which then replaces
    /// `folder`, so a crash never leaves new labels beside old weights. An existing `folder` is replaced only when
    /// it is empty or a model folder (``checkReplaceable(_:)``); its other model files are not kept.
    /// `weights` (name → tensor, as the module's ``Module/stateDict()``) are written instead of the module's own
    /// when given.
    public func save(to folder: URL, storage: SafetensorsWriter.StorageType = .f32, weights: [String: Tensor]? = nil) throws {
        try Self.checkReplaceable(folder)
        let fm = FileManager.default
        let staging = folder.deletingLastPathComponent().appendingPathComponent(".\(folder.lastPathComponent).saving-\(getpid())")
        try? fm.removeItem(at: staging)
        do { try fm.createDirectory(at: staging, withIntermediateDirectories: true) } catch {
            throw ModelError.io(path: staging.path, detail: "cannot create folder: \(fileErrorReason(error))")
        }
        do {
            try write(into: staging, storage: storage, weights: weights)
            let old = folder.deletingLastPathComponent().appendingPathComponent(".\(folder.lastPathComponent).old-\(getpid())")
            if fm.fileExists(atPath: folder.path) { try fm.moveItem(at: folder, to: old) }
            try fm.moveItem(at: staging, to: folder)
            try? fm.removeItem(at: old)
        } catch let error as ModelError {
            try? fm.removeItem(at: staging)
            throw error
        } catch {
            try? fm.removeItem(at: staging)
            throw ModelError.io(path: folder.path, detail: "cannot save: \(fileErrorReason(error))")
        }
    }

    private func write(into folder: URL, storage: SafetensorsWriter.StorageType, weights state: [String: Tensor]?) throws {
        let weights = folder.appendingPathComponent("model.safetensors")
        switch self {
        case let .bert(m, tokenizer):
            var config = m.config
            config.architectures = ["BertForSequenceClassification"]
            config.labels = labels
            if m.pooling != .pooler { config.distillPooling = m.pooling }
            try config.write(to: folder.appendingPathComponent("config.json"))
            try SafetensorsWriter.write(state ?? m.stateDict(), to: weights, as: storage, metadata: ["format": "pt"])
            try tokenizer.vocabulary.write(vocabTxt: folder.appendingPathComponent("vocab.txt"))
            let tokenizerConfig: [String: Any] = [
                "tokenizer_class": "BertTokenizer", "do_lower_case": tokenizer.normalizer.lowercase,
                "tokenize_chinese_chars": tokenizer.normalizer.handleChineseChars,
                "strip_accents": tokenizer.normalizer.stripAccents as Any? ?? NSNull(),
                // The model's positions bound what it can read (a 48-position student is not a 512-token model).
                "model_max_length": min(tokenizer.modelMaxLength, m.config.maxPositionEmbeddings), "unk_token": "[UNK]", "sep_token": "[SEP]",
                "pad_token": "[PAD]", "cls_token": "[CLS]", "mask_token": "[MASK]",
            ]
            let data = try JSONSerialization.data(withJSONObject: tokenizerConfig, options: [.prettyPrinted, .sortedKeys])
            try data.write(to: folder.appendingPathComponent("tokenizer_config.json"), options: .atomic)
        case let .ngramBag(m):
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            try encoder.encode(m.config).write(to: folder.appendingPathComponent("config.json"), options: .atomic)
            try SafetensorsWriter.write(state ?? m.stateDict(), to: weights, as: storage, metadata: ["format": "distill"])
        }
        if storage == .int8 { try recordQuantization(in: folder.appendingPathComponent("config.json")) }
    }

    /// Adds the `quantization` entry to a written `config.json`.
    private func recordQuantization(in config: URL) throws {
        guard var object = (try? JSONSerialization.jsonObject(with: Data(contentsOf: config))) as? [String: Any] else {
            throw ModelError.io(path: config.path, detail: "cannot reread the config just written")
        }
        object["quantization"] = [
            "method": Int8Quantization.method, "bits": 8,
            "weights": "matrices of >= \(Int8Quantization.minimumElements) elements as I8 + an F32 scale per row (<name>\(Int8Quantization.scaleSuffix)); the rest F32",
            "compute": "dequantized to F32 at load; F32 accumulation",
        ] as [String: Any]
        let data = try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys])
        try data.write(to: config, options: .atomic)
    }

    /// The `quantization.method` of a student folder's `config.json`, or nil for a full-precision model.
    public static func quantization(of folder: URL) -> String? {
        let object = (try? JSONSerialization.jsonObject(with: Data(contentsOf: folder.appendingPathComponent("config.json")))) as? [String: Any]
        return (object?["quantization"] as? [String: Any])?["method"] as? String
    }

    /// Loads a student folder, choosing the architecture from `config.json`'s `model_type`. If `folder` is missing
    /// because a save was interrupted between its two renames, the complete staged or previous copy beside it is used.
    public static func load(from folder: URL) throws -> Student {
        let folder = recoveredFolder(folder)
        try checkModelFolder(folder)
        let configURL = folder.appendingPathComponent("config.json")
        let data: Data
        do { data = try Data(contentsOf: configURL) } catch {
            throw ModelError.io(path: configURL.path, detail: "cannot read: \(fileErrorReason(error))")
        }
        guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw ModelError.invalidConfig(path: configURL.path, key: "(root)", detail: "not a JSON object")
        }
        switch object["model_type"] as? String {
        case "bert":
            let (model, tokenizer) = try loadBert(from: folder)
            return .bert(model, tokenizer)
        case "distill-ngram-bag":
            let config: NGramBagConfig
            do { config = try JSONDecoder().decode(NGramBagConfig.self, from: data) } catch let error as DecodingError {
                throw ModelError.invalidConfig(path: configURL.path, key: error.keyPath, detail: error.summary)
            }
            try config.validate(path: configURL.path)
            let file = try SafetensorsFile(url: folder.appendingPathComponent("model.safetensors"))
            try config.check(against: file, path: configURL.path)
            let model = NGramBag(config: config, seed: nil)
            try model.load(from: file)
            return .ngramBag(model)
        case let other:
            throw ModelError.unsupported(path: configURL.path, detail: "model_type '\(other ?? "missing")' is not a Distill student (bert, distill-ngram-bag)")
        }
    }
}

/// `folder`, or — when it does not exist — a complete `.NAME.saving-*` (newer) or `.NAME.old-*` sibling.
func recoveredFolder(_ folder: URL) -> URL {
    let fm = FileManager.default
    guard !fm.fileExists(atPath: folder.path) else { return folder }
    let parent = folder.deletingLastPathComponent(), name = folder.lastPathComponent
    let siblings = (try? fm.contentsOfDirectory(atPath: parent.path)) ?? []
    for prefix in [".\(name).saving-", ".\(name).old-"] {
        for s in siblings.sorted() where s.hasPrefix(prefix) {
            let candidate = parent.appendingPathComponent(s)
            if fm.fileExists(atPath: candidate.appendingPathComponent("config.json").path)
                && fm.fileExists(atPath: candidate.appendingPathComponent("model.safetensors").path) { return candidate }
        }
    }
    return folder
}

/// A tokenizer whose ids reach past the embedding table would crash mid-stream; refuse it at load time.
public func checkVocabulary(_ tokenizer: WordPieceTokenizer, fits config: BertConfig, folder: URL) throws {
    guard tokenizer.vocabulary.count <= config.vocabSize else {
        throw ModelError.invalidConfig(path: folder.appendingPathComponent("config.json").path, key: "vocab_size",
            detail: "\(config.vocabSize), but the tokenizer has \(tokenizer.vocabulary.count) tokens")
    }
}
