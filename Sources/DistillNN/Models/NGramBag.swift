import DistillCore
import DistillText
import Foundation

/// Configuration of the n-gram bag student (`config.json` with `model_type: "distill-ngram-bag"`).
public struct NGramBagConfig: Codable, Equatable, Sendable {
    public var modelType = "distill-ngram-bag"
    public var featurizer: NGramFeaturizer
    public var embeddingSize: Int
    /// 0: no hidden layer (embedding bag straight into the classifier, as fastText).
    public var hiddenSize: Int
    public var id2label: [String: String]
    /// How raw lines become model text (`distill_input`); nil = as they are.
    public var input: TextInput?

    enum CodingKeys: String, CodingKey {
        case modelType = "model_type", featurizer, embeddingSize = "embedding_size", hiddenSize = "hidden_size", id2label
        case input = "distill_input"
    }

    public init(featurizer: NGramFeaturizer = NGramFeaturizer(), embeddingSize: Int = 64, hiddenSize: Int = 0, labels: [String]) {
        self.featurizer = featurizer
        self.embeddingSize = embeddingSize
        self.hiddenSize = hiddenSize
        id2label = Dictionary(uniqueKeysWithValues: labels.enumerated().map { (String($0.offset), $0.element) })
    }

    /// Label names in class order.
    public var labels: [String] { (0..<id2label.count).map { id2label[String($0)] ?? "LABEL_\($0)" } }

    /// Checks sizes; errors name the key.
    public func validate(path: String = "config") throws {
        guard modelType == "distill-ngram-bag" else {
            throw ModelError.invalidConfig(path: path, key: "model_type", detail: "expected distill-ngram-bag, found \(modelType)")
        }
        for (key, value, range) in [("featurizer.buckets", featurizer.buckets, ModelLimits.buckets),
                                    ("embedding_size", embeddingSize, ModelLimits.width), ("id2label", id2label.count, ModelLimits.labels)] {
            try ModelLimits.check(value, range, key: key, path: path)
        }
        if hiddenSize != 0 { try ModelLimits.check(hiddenSize, ModelLimits.width, key: "hidden_size", path: path) }
        let f = featurizer
        guard (1...8).contains(f.maxWordNGram) else {
            throw ModelError.invalidConfig(path: path, key: "featurizer.word_ngrams", detail: "must be in 1...8, got \(f.maxWordNGram)")
        }
        guard f.minCharNGram >= 0, f.maxCharNGram >= f.minCharNGram, f.maxCharNGram <= 16 else {
            throw ModelError.invalidConfig(path: path, key: "featurizer.max_char_ngram",
                                           detail: "char n-grams must satisfy 0 <= min_char_ngram <= max_char_ngram <= 16, got \(f.minCharNGram)...\(f.maxCharNGram)")
        }
        try checkLabelMaps(id2label: id2label, label2id: nil, path: path)
    }

    /// Checks the sizes against the tensors in `file` before the model is allocated from them.
    public func check(against file: SafetensorsFile, path: String) throws {
        try ModelLimits.check(file, tensor: "embeddings.weight", hasShape: [featurizer.buckets, embeddingSize],
                              keys: "featurizer.buckets, embedding_size", configPath: path)
        let width = hiddenSize > 0 ? hiddenSize : embeddingSize
        if hiddenSize > 0 {
            try ModelLimits.check(file, tensor: "hidden.weight", hasShape: [hiddenSize, embeddingSize], keys: "hidden_size", configPath: path)
        }
        try ModelLimits.check(file, tensor: "classifier.weight", hasShape: [id2label.count, width], keys: "id2label, hidden_size", configPath: path)
    }
}

/// The fastText-like student: hashed word/char n-gram buckets → mean embedding bag → optional ReLU hidden
/// layer → classifier. Parameters: `embeddings.weight`, `hidden.weight`/`hidden.bias`, `classifier.weight`/`classifier.bias`.
public final class NGramBag: Module {
    public private(set) var config: NGramBagConfig
    /// How raw lines become model text (saved as `distill_input`).
    public var input: TextInput? {
        get { config.input }
        set { config.input = newValue }
    }
    public let embeddings: Embedding
    public let hidden: Linear?
    public let classifier: Linear

    /// A randomly initialized model; `seed: nil` fills it with zeros instead (for loading weights right after:
    /// no random draws for a million-row table).
    public init(config: NGramBagConfig, seed: UInt64? = 0) {
        var g = RandomGenerator(seed: seed ?? 0)
        self.config = config
        let e = config.embeddingSize
        let scale: Float = seed == nil ? 0 : 1
        embeddings = Embedding(count: config.featurizer.buckets, width: e, std: scale * Self.initialEmbeddingStd(width: e), generator: &g)
        hidden = config.hiddenSize > 0 ? Linear(inputSize: e, outputSize: config.hiddenSize, std: scale * (2 / Float(e)).squareRoot(), generator: &g) : nil
        let width = config.hiddenSize > 0 ? config.hiddenSize : e
        classifier = Linear(inputSize: width, outputSize: config.id2label.count, std: scale * (1 / Float(width)).squareRoot(), generator: &g)
    }

    /// The spread of a random embedding row: 1 / width.
    public static func initialEmbeddingStd(width: Int) -> Float { 1 / Float(width) }
    /// ``initialEmbeddingStd(width:)`` of this model.
    public var initialEmbeddingStd: Float { Self.initialEmbeddingStd(width: config.embeddingSize) }

    public var children: [(String, ModuleChild)] {
        [("embeddings", .module(embeddings))] + (hidden.map { [("hidden", .module($0))] } ?? []) + [("classifier", .module(classifier))]
    }

    /// Logits `[texts, labels]` from featurized input (see ``NGramFeaturizer/batch(_:)``).
    public func callAsFunction(indices: [Int], offsets: [Int]) -> Tensor {
        var x = embeddingBagMean(embeddings.weight, indices: indices, offsets: offsets)
        if let hidden { x = relu(hidden(x)) }
        return classifier(x)
    }

    /// Logits for raw texts.
    public func callAsFunction(_ texts: [String]) -> Tensor {
        let (indices, offsets) = config.featurizer.batch(texts)
        return self(indices: indices, offsets: offsets)
    }
}

extension NGramBag: ClassifierModel {
    public static let modelType = "distill-ngram-bag"
    public static let kind = "ngram-bag"
    public static let folderFiles: Set<String> = ["config.json", "model.safetensors"]

    /// Reads the config (validated against the tensors before the table is allocated) and the weights.
    public static func load(folder: URL, config data: Data) throws -> any ClassifierModel {
        let configPath = folder.appendingPathComponent("config.json").path
        let config: NGramBagConfig
        do { config = try JSONDecoder().decode(NGramBagConfig.self, from: data) } catch let error as DecodingError {
            throw ModelError.invalidConfig(path: configPath, key: error.keyPath, detail: error.summary)
        }
        try config.validate(path: configPath)
        let file = try SafetensorsFile(url: folder.appendingPathComponent("model.safetensors"))
        try config.check(against: file, path: configPath)
        let model = NGramBag(config: config, seed: nil)
        try model.load(from: file)
        return model
    }

    public var module: any Module { self }
    public var labels: [String] { config.labels }

    /// nil: the bag reads whole lines.
    public func tokenLimit(requested: Int?) -> Int? { nil }

    public func logits(_ texts: [String], maxLength: Int?, context: ForwardContext) -> Tensor { self(texts) }

    public func inferenceEngine(maxLength: Int?) -> any ClassifierEngine { NGramBagInference(self) }

    public func write(into folder: URL, storage: SafetensorsWriter.StorageType, weights: [String: Tensor]?) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(config).write(to: folder.appendingPathComponent("config.json"), options: .atomic)
        try SafetensorsWriter.write(weights ?? stateDict(), to: folder.appendingPathComponent("model.safetensors"), as: storage, metadata: ["format": "distill"])
    }

    public var architectureSummary: String {
        let f = config.featurizer
        return "n-gram bag (fastText-like): \(f.buckets) hashed buckets of word 1-\(f.maxWordNGram) and char "
            + "\(f.minCharNGram)-\(f.maxCharNGram) grams, embeddings of \(config.embeddingSize)"
            + (config.hiddenSize > 0 ? ", a ReLU layer of \(config.hiddenSize)" : "") + ", mean over the line's features"
    }

    public func inputIDs(_ text: String, maxLength: Int?) -> (name: String, ids: [Int]) { ("feature_ids", config.featurizer.features(text)) }
}
