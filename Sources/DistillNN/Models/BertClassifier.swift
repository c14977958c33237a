import DistillCore
import DistillText
import Foundation

/// A BERT classifier with its WordPiece tokenizer: what a `model_type: bert` folder holds (`config.json` with
/// `id2label`, `model.safetensors`, `vocab.txt`, `tokenizer_config.json`). It loads in Hugging Face `transformers`
/// as `BertForSequenceClassification`.
public final class BertClassifier: ClassifierModel {
    public static let modelType = "bert"
    public static let kind = "bert"
    public static let folderFiles: Set<String> = ["config.json", "model.safetensors", "vocab.txt", "tokenizer_config.json"]

    public let model: BertForSequenceClassification
    public let tokenizer: WordPieceTokenizer

    public init(_ model: BertForSequenceClassification, _ tokenizer: WordPieceTokenizer) {
        self.model = model
        self.tokenizer = tokenizer
    }

    /// A BERT classifier folder's model and tokenizer, the vocabulary checked against the model.
    public static func load(folder: URL) throws -> BertClassifier {
        let model = try BertForSequenceClassification.load(folder: folder)
        let tokenizer = try WordPieceTokenizer.load(folder: folder)
        try checkVocabulary(tokenizer, fits: model.config, folder: folder)
        return BertClassifier(model, tokenizer)
    }

    public static func load(folder: URL, config: Data) throws -> any ClassifierModel { try load(folder: folder) }

    /// The tokens a BERT reads per line: `requested` (nil: the folder's `model_max_length`), at least 2 (`[CLS]`
    /// and `[SEP]`) and at most the model's `max_position_embeddings`. What every command and teacher reads with.
    public static func tokenLimit(requested: Int?, tokenizer: WordPieceTokenizer, config: BertConfig) -> Int {
        max(2, min(requested ?? tokenizer.modelMaxLength, config.maxPositionEmbeddings))
    }

    public var module: any Module { model }
    public var labels: [String] { model.config.labels ?? (0..<model.numberOfLabels).map { "LABEL_\($0)" } }
    public var input: TextInput? { model.input }

    public func tokenLimit(requested: Int?) -> Int? { limit(requested) }

    /// ``tokenLimit(requested:tokenizer:config:)`` for this model: a BERT always reads a bounded number of tokens.
    private func limit(_ requested: Int?) -> Int { Self.tokenLimit(requested: requested, tokenizer: tokenizer, config: model.config) }

    public func logits(_ texts: [String], maxLength: Int?, context: ForwardContext) -> Tensor {
        model(tokenizer.encodeBatch(texts, maxLength: limit(maxLength)), context: context).logits
    }

    public func inferenceEngine(maxLength: Int?) -> any ClassifierEngine {
        BertTextInference(BertInference(model), tokenizer: tokenizer, maxLength: limit(maxLength))
    }

    public func write(into folder: URL, storage: SafetensorsWriter.StorageType, weights: [String: Tensor]?) throws {
        var config = model.config
        config.architectures = ["BertForSequenceClassification"]
        config.labels = labels
        if model.pooling != .pooler { config.distillPooling = model.pooling }
        try config.write(to: folder.appendingPathComponent("config.json"))
        try SafetensorsWriter.write(weights ?? model.stateDict(), to: folder.appendingPathComponent("model.safetensors"), as: storage, metadata: ["format": "pt"])
        try tokenizer.vocabulary.write(vocabTxt: folder.appendingPathComponent("vocab.txt"))
        let tokenizerConfig: [String: Any] = [
            "tokenizer_class": "BertTokenizer", "do_lower_case": tokenizer.normalizer.lowercase,
            "tokenize_chinese_chars": tokenizer.normalizer.handleChineseChars,
            "strip_accents": tokenizer.normalizer.stripAccents as Any? ?? NSNull(),
            // The model's positions bound what it can read (a 48-position student is not a 512-token model).
            "model_max_length": min(tokenizer.modelMaxLength, model.config.maxPositionEmbeddings), "unk_token": "[UNK]", "sep_token": "[SEP]",
            "pad_token": "[PAD]", "cls_token": "[CLS]", "mask_token": "[MASK]",
        ]
        let data = try JSONSerialization.data(withJSONObject: tokenizerConfig, options: [.prettyPrinted, .sortedKeys])
        try data.write(to: folder.appendingPathComponent("tokenizer_config.json"), options: .atomic)
    }

    public var architectureSummary: String {
        let c = model.config
        return "BERT classifier: \(c.numHiddenLayers) layers x \(c.hiddenSize) wide, \(c.numAttentionHeads) heads, "
            + "\(c.maxPositionEmbeddings) positions, \(model.pooling) pooling, WordPiece vocabulary of \(c.vocabSize)"
    }

    public func inputIDs(_ text: String, maxLength: Int?) -> (name: String, ids: [Int]) {
        ("input_ids", tokenizer.encode(text, maxLength: limit(maxLength)))
    }
}

/// ``BertInference`` with the tokenizer in front: texts are tokenized on the engine's worker threads.
final class BertTextInference: ClassifierEngine, @unchecked Sendable {
    private let engine: BertInference
    private let tokenizer: WordPieceTokenizer
    private let maxLength: Int

    init(_ engine: BertInference, tokenizer: WordPieceTokenizer, maxLength: Int) {
        self.engine = engine
        self.tokenizer = tokenizer
        self.maxLength = maxLength
    }

    func logits(count: Int, text: (Int) -> String, write: (Int, UnsafeBufferPointer<Float>) -> Void) {
        engine.run(count: count, output: .logits, sequence: { tokenizer.encode(text($0), maxLength: maxLength) }, write: write)
    }

    var workspaceGrowths: Int { engine.workspaceGrowths }
}

/// A tokenizer whose ids reach past the embedding table would crash mid-stream; refuse it at load time.
public func checkVocabulary(_ tokenizer: WordPieceTokenizer, fits config: BertConfig, folder: URL) throws {
    guard tokenizer.vocabulary.count <= config.vocabSize else {
        throw ModelError.invalidConfig(path: folder.appendingPathComponent("config.json").path, key: "vocab_size",
            detail: "\(config.vocabSize), but the tokenizer has \(tokenizer.vocabulary.count) tokens")
    }
}
