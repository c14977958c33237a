import Foundation

/// The largest sizes a model configuration may declare. A `config.json` (or recipe) is checked against these
/// before anything is allocated, so a corrupt or hostile number gives an error naming the key and the limit
/// instead of an allocation that kills the process (or a serving process on reload). Each is far above any
/// BERT-family or n-gram model in use: the point is to refuse nonsense, not to cap real models.
public enum ModelLimits {
    /// `vocab_size` (multilingual BERTs have about 250,000 tokens).
    public static let vocabulary = 1...1_000_000
    /// `featurizer.buckets` of the n-gram bag (the default is 262,144).
    public static let buckets = 1...(1 << 24)
    /// `hidden_size`, `embedding_size` (BERT-large: 1,024).
    public static let width = 1...16_384
    /// `intermediate_size` (BERT-large: 4,096).
    public static let intermediate = 1...65_536
    /// `num_hidden_layers`.
    public static let layers = 1...128
    /// `num_attention_heads`.
    public static let heads = 1...256
    /// `max_position_embeddings`.
    public static let positions = 1...65_536
    /// `type_vocab_size`.
    public static let typeVocabulary = 1...1_024
    /// Labels in `id2label`.
    public static let labels = 1...10_000
    /// Tokens per line a BERT model is asked to read (`--max-length`, a recipe's `max_length`).
    public static let tokensPerLine = 8...8192

    /// Throws ``ModelError/invalidConfig(path:key:detail:)`` unless `value` is in `range`.
    public static func check(_ value: Int, _ range: ClosedRange<Int>, key: String, path: String) throws {
        guard range.contains(value) else {
            throw ModelError.invalidConfig(path: path, key: key, detail: "must be in \(range.lowerBound)...\(range.upperBound), got \(value)")
        }
    }

    /// Throws unless the weights file's tensor `name` (when present) has `shape`: the config's sizes must agree
    /// with the file before the model is built from them (a file bounds what it can honestly declare).
    public static func check(_ file: SafetensorsFile, tensor name: String, hasShape shape: [Int], keys: String, configPath: String) throws {
        guard let entry = file.entry(name), entry.shape != shape else { return }
        throw ModelError.invalidConfig(path: configPath, key: keys,
            detail: "declares \(name) of shape \(shape), but \(file.path) holds \(entry.shape)")
    }
}

/// Throws a clear error when `folder` is a file (`--model run/final/config.json`) or missing, before any of
/// its files is opened (which would report `config.json/config.json`).
public func checkModelFolder(_ folder: URL) throws {
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: folder.path, isDirectory: &isDirectory) else {
        throw ModelError.io(path: folder.path, detail: "no such model folder")
    }
    guard isDirectory.boolValue else {
        let parent = folder.deletingLastPathComponent().path
        throw ModelError.io(path: folder.path, detail: "is a file, not a model folder; give the folder holding config.json and model.safetensors"
                            + (["config.json", "model.safetensors"].contains(folder.lastPathComponent) ? " (\(parent))" : ""))
    }
}
