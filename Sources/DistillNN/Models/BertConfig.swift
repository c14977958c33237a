import DistillText
import Foundation

/// `hidden_act`: the activation of a BERT layer's feed-forward block (as candle's `HiddenAct`).
public enum HiddenActivation: String, Codable, Sendable, CaseIterable {
    /// The exact (erf) GELU, as BERT and Hugging Face's `"gelu"`.
    case gelu
    case relu
}

/// The fields of a Hugging Face `BertConfig` (`config.json`) that define the architecture and labels.
///
/// Reading ignores keys it does not know (HF configs carry many); writing emits these keys plus
/// `model_type: "bert"`. Sizes come from the file, so the same code builds MiniLM (6x384) and a 2x128 student.
public struct BertConfig: Codable, Equatable, Sendable {
    public var vocabSize: Int
    public var hiddenSize: Int
    public var numHiddenLayers: Int
    public var numAttentionHeads: Int
    public var intermediateSize: Int
    public var hiddenAct: HiddenActivation = .gelu
    public var hiddenDropoutProb: Float = 0.1
    public var attentionProbsDropoutProb: Float = 0.1
    public var maxPositionEmbeddings: Int = 512
    public var typeVocabSize: Int = 2
    public var layerNormEps: Float = 1e-12
    public var initializerRange: Float = 0.02
    public var padTokenId: Int = 0
    /// Class index (as a string, as HF writes it) → label name.
    public var id2label: [String: String]?
    public var label2id: [String: Int]?
    public var architectures: [String]?
    public var modelType: String = "bert"
    /// Distill's pooling for the classification head (`distill_pooling`); nil is HF's pooler.
    public var distillPooling: Pooling?
    /// How raw lines become model text (`distill_input`); nil = as they are.
    public var distillInput: TextInput?
    /// Only "absolute" position embeddings are implemented.
    public var positionEmbeddingType: String = "absolute"

    enum CodingKeys: String, CodingKey {
        case vocabSize = "vocab_size", hiddenSize = "hidden_size", numHiddenLayers = "num_hidden_layers"
        case numAttentionHeads = "num_attention_heads", intermediateSize = "intermediate_size", hiddenAct = "hidden_act"
        case hiddenDropoutProb = "hidden_dropout_prob", attentionProbsDropoutProb = "attention_probs_dropout_prob"
        case maxPositionEmbeddings = "max_position_embeddings", typeVocabSize = "type_vocab_size"
        case layerNormEps = "layer_norm_eps", initializerRange = "initializer_range", padTokenId = "pad_token_id"
        case id2label, label2id, architectures, modelType = "model_type", distillPooling = "distill_pooling"
        case distillInput = "distill_input"
        case positionEmbeddingType = "position_embedding_type"
    }

    public init(vocabSize: Int, hiddenSize: Int, numHiddenLayers: Int, numAttentionHeads: Int, intermediateSize: Int,
                maxPositionEmbeddings: Int = 512, labels: [String]? = nil) {
        self.vocabSize = vocabSize
        self.hiddenSize = hiddenSize
        self.numHiddenLayers = numHiddenLayers
        self.numAttentionHeads = numAttentionHeads
        self.intermediateSize = intermediateSize
        self.maxPositionEmbeddings = maxPositionEmbeddings
        if let labels { self.labels = labels }
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        vocabSize = try c.decode(Int.self, forKey: .vocabSize)
        hiddenSize = try c.decode(Int.self, forKey: .hiddenSize)
        numHiddenLayers = try c.decode(Int.self, forKey: .numHiddenLayers)
        numAttentionHeads = try c.decode(Int.self, forKey: .numAttentionHeads)
        intermediateSize = try c.decode(Int.self, forKey: .intermediateSize)
        let activation = try c.decodeIfPresent(String.self, forKey: .hiddenAct) ?? HiddenActivation.gelu.rawValue
        guard let hiddenAct = HiddenActivation(rawValue: activation) else {
            throw DecodingError.dataCorruptedError(forKey: .hiddenAct, in: c, debugDescription:
                "'\(activation)' is not supported (use \(HiddenActivation.allCases.map(\.rawValue).joined(separator: " or ")))")
        }
        self.hiddenAct = hiddenAct
        hiddenDropoutProb = try c.decodeIfPresent(Float.self, forKey: .hiddenDropoutProb) ?? 0.1
        attentionProbsDropoutProb = try c.decodeIfPresent(Float.self, forKey: .attentionProbsDropoutProb) ?? 0.1
        maxPositionEmbeddings = try c.decodeIfPresent(Int.self, forKey: .maxPositionEmbeddings) ?? 512
        typeVocabSize = try c.decodeIfPresent(Int.self, forKey: .typeVocabSize) ?? 2
        layerNormEps = try c.decodeIfPresent(Float.self, forKey: .layerNormEps) ?? 1e-12
        initializerRange = try c.decodeIfPresent(Float.self, forKey: .initializerRange) ?? 0.02
        padTokenId = try c.decodeIfPresent(Int.self, forKey: .padTokenId) ?? 0
        id2label = try c.decodeIfPresent([String: String].self, forKey: .id2label)
        label2id = try c.decodeIfPresent([String: Int].self, forKey: .label2id)
        architectures = try c.decodeIfPresent([String].self, forKey: .architectures)
        modelType = try c.decodeIfPresent(String.self, forKey: .modelType) ?? "bert"
        if let raw = try c.decodeIfPresent(String.self, forKey: .distillPooling) {
            guard let pooling = Pooling(rawValue: raw) else {
                throw DecodingError.dataCorruptedError(forKey: .distillPooling, in: c,
                                                       debugDescription: "'\(raw)' is not one of \(Pooling.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            distillPooling = pooling
        }
        distillInput = try c.decodeIfPresent(TextInput.self, forKey: .distillInput)
        positionEmbeddingType = try c.decodeIfPresent(String.self, forKey: .positionEmbeddingType) ?? "absolute"
    }

    /// Label names in class-index order (from `id2label`), or nil.
    public var labels: [String]? {
        get {
            guard let id2label, !id2label.isEmpty else { return nil }
            return (0..<id2label.count).map { id2label[String($0)] ?? "LABEL_\($0)" }
        }
        set {
            guard let newValue else { id2label = nil; label2id = nil; return }
            id2label = Dictionary(uniqueKeysWithValues: newValue.enumerated().map { (String($0.offset), $0.element) })
            label2id = Dictionary(newValue.enumerated().map { ($0.element, $0.offset) }, uniquingKeysWith: { a, _ in a })
        }
    }

    /// Reads and validates `config.json`; errors name the file and key.
    public static func read(from url: URL) throws -> BertConfig {
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw ModelError.io(path: url.path, detail: "cannot read: \(fileErrorReason(error))")
        }
        let config: BertConfig
        do { config = try JSONDecoder().decode(BertConfig.self, from: data) } catch let error as DecodingError {
            throw ModelError.invalidConfig(path: url.path, key: error.keyPath, detail: error.summary)
        }
        try config.validate(path: url.path)
        return config
    }

    /// `id2label` keys are exactly 0..<count with distinct names, and `label2id` (when present) is its inverse.
    func validateLabels(path: String) throws {
        guard let id2label else { return }
        try ModelLimits.check(id2label.count, ModelLimits.labels, key: "id2label", path: path)
        try checkLabelMaps(id2label: id2label, label2id: label2id, path: path)
    }

    /// Checks the model's sizes against the tensors in `file` (named with `prefix`, e.g. `bert.`) before
    /// the model is allocated from them.
    public func check(against file: SafetensorsFile, prefix: String, path: String) throws {
        let h = hiddenSize
        try ModelLimits.check(file, tensor: prefix + "embeddings.word_embeddings.weight", hasShape: [vocabSize, h], keys: "vocab_size, hidden_size", configPath: path)
        try ModelLimits.check(file, tensor: prefix + "embeddings.position_embeddings.weight", hasShape: [maxPositionEmbeddings, h],
                              keys: "max_position_embeddings", configPath: path)
        try ModelLimits.check(file, tensor: prefix + "embeddings.token_type_embeddings.weight", hasShape: [typeVocabSize, h],
                              keys: "type_vocab_size", configPath: path)
        try ModelLimits.check(file, tensor: prefix + "encoder.layer.0.intermediate.dense.weight", hasShape: [intermediateSize, h],
                              keys: "intermediate_size", configPath: path)
        let layerPrefix = prefix + "encoder.layer."
        let stored = Set(file.names.compactMap { name -> Int? in
            guard name.hasPrefix(layerPrefix) else { return nil }
            return Int(name.dropFirst(layerPrefix.count).prefix { $0 != "." })
        })
        if !stored.isEmpty && numHiddenLayers > stored.count {
            throw ModelError.invalidConfig(path: path, key: "num_hidden_layers",
                detail: "is \(numHiddenLayers), but \(file.path) holds \(stored.count) layers")
        }
    }

    /// Writes `config.json` (pretty, sorted keys), atomically.
    public func write(to url: URL) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try atomicWrite(try encoder.encode(self), to: url)
    }

    /// Checks sizes and the activation; the error names the key.
    public func validate(path: String = "config") throws {
        for (key, value, range) in [("vocab_size", vocabSize, ModelLimits.vocabulary), ("hidden_size", hiddenSize, ModelLimits.width),
                                    ("num_hidden_layers", numHiddenLayers, ModelLimits.layers),
                                    ("num_attention_heads", numAttentionHeads, ModelLimits.heads),
                                    ("intermediate_size", intermediateSize, ModelLimits.intermediate),
                                    ("max_position_embeddings", maxPositionEmbeddings, ModelLimits.positions),
                                    ("type_vocab_size", typeVocabSize, ModelLimits.typeVocabulary)] {
            try ModelLimits.check(value, range, key: key, path: path)
        }
        guard (0..<vocabSize).contains(padTokenId) else {
            throw ModelError.invalidConfig(path: path, key: "pad_token_id", detail: "must be in 0..<vocab_size (\(vocabSize)), got \(padTokenId)")
        }
        try validateLabels(path: path)
        guard hiddenSize % numAttentionHeads == 0 else {
            throw ModelError.invalidConfig(path: path, key: "num_attention_heads",
                                           detail: "hidden_size \(hiddenSize) is not divisible by \(numAttentionHeads) heads")
        }
        guard modelType == "bert" else {
            throw ModelError.invalidConfig(path: path, key: "model_type", detail: "'\(modelType)' is not a BERT model (expected bert)")
        }
        guard positionEmbeddingType == "absolute" else {
            throw ModelError.invalidConfig(path: path, key: "position_embedding_type", detail: "'\(positionEmbeddingType)' is not supported (only absolute)")
        }
    }
}

extension DecodingError {
    /// The dotted key path the error is about (`featurizer.word_ngrams`), for messages that name the key.
    public var keyPath: String {
        let path: [CodingKey]
        switch self {
        case let .keyNotFound(key, ctx): path = ctx.codingPath + [key]
        case let .typeMismatch(_, ctx), let .valueNotFound(_, ctx), let .dataCorrupted(ctx): path = ctx.codingPath
        @unknown default: path = []
        }
        return path.isEmpty ? "(root)" : path.map { $0.intValue.map(String.init) ?? $0.stringValue }.joined(separator: ".")
    }

    /// A short human description.
    public var summary: String {
        switch self {
        case .keyNotFound: return "required key is missing"
        case let .typeMismatch(type, ctx): return "expected \(type): \(ctx.debugDescription)"
        case let .valueNotFound(type, _): return "expected a \(type), found null"
        case let .dataCorrupted(ctx): return ctx.debugDescription
        @unknown default: return "\(self)"
        }
    }
}
