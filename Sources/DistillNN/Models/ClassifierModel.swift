import DistillCore
import DistillText
import Foundation

/// A text classifier architecture Distill trains, saves and serves, named by the `model_type` of its folder's
/// `config.json`.
///
/// Everything a command does with a trained student — load, save, classify on the tape-free engine, describe in a
/// model card, print its input ids — and the trainer's step go through this protocol, so a new architecture that
/// conforms and joins ``ClassifierModels/registered`` works with `classify`, `eval`, `quantize`, `prepare`, `serve`
/// and the trainer. A recipe builds a new student from its own `student.kind` settings (`Recipe.StudentSpec` and
/// `DistillationRun.buildStudent`). Features that exist for one architecture only (hidden-state and attention
/// losses, the exports, static-embedding initialisation, the bag's sparse training step) ask for the concrete type.
public protocol ClassifierModel: AnyObject {
    /// `config.json`'s `model_type` for this architecture.
    static var modelType: String { get }
    /// A short name for messages and the `kind` label of the `distill_model_info` metric (for the built-in
    /// architectures, the recipe's `student.kind`).
    static var kind: String { get }
    /// The files this architecture writes into its folder (what ``write(into:storage:weights:)`` writes).
    static var folderFiles: Set<String> { get }
    /// Loads a folder whose `config.json` (read into `config`) names ``modelType``. Errors name the file and key.
    static func load(folder: URL, config: Data) throws -> any ClassifierModel

    /// The parameter tree.
    var module: any Module { get }
    /// Label names in class order.
    var labels: [String] { get }
    /// How raw lines become this model's text (`distill_input` in its config); nil: raw lines.
    var input: TextInput? { get }
    /// Tokens read per line for `requested` (nil: the folder's own limit), within the model's positions; nil for a
    /// model that reads whole lines.
    func tokenLimit(requested: Int?) -> Int?
    /// Class logits `[texts, labels]` on the tape; `context` says whether dropout is on.
    func logits(_ texts: [String], maxLength: Int?, context: ForwardContext) -> Tensor
    /// A tape-free engine over these weights (shared, not copied); `maxLength` as in ``tokenLimit(requested:)``.
    func inferenceEngine(maxLength: Int?) -> any ClassifierEngine
    /// Writes `config.json`, `model.safetensors` (`weights` instead of the module's own when given) and any
    /// tokenizer files into `folder`.
    func write(into folder: URL, storage: SafetensorsWriter.StorageType, weights: [String: Tensor]?) throws
    /// One sentence on the architecture (model cards).
    var architectureSummary: String { get }
    /// The ids the model reads for one prepared text and the name `distill prepare` prints them under
    /// (`input_ids`, `feature_ids`).
    func inputIDs(_ text: String, maxLength: Int?) -> (name: String, ids: [Int])
}

/// A classifier's tape-free inference: logits for many texts, computed on worker threads.
public protocol ClassifierEngine: AnyObject, Sendable {
    /// Logits of `count` texts; `text(i)` and `write(i, logits)` are called on worker threads for disjoint `i`
    /// (`logits` valid only during the call).
    func logits(count: Int, text: (Int) -> String, write: (Int, UnsafeBufferPointer<Float>) -> Void)
    /// Buffer (re)allocations the engine's workspaces made so far.
    var workspaceGrowths: Int { get }
}

/// The architectures a student folder may hold, by `model_type`.
public enum ClassifierModels {
    /// Every architecture Distill loads. A new one is added here and nowhere else.
    public static var registered: [any ClassifierModel.Type] { [BertClassifier.self, NGramBag.self] }

    /// The architecture whose ``ClassifierModel/modelType`` is `modelType`.
    public static func type(named modelType: String) -> (any ClassifierModel.Type)? {
        registered.first { $0.modelType == modelType }
    }

    /// Loads a model folder (already checked to hold `config.json` and weights) by its `config.json`'s `model_type`.
    public static func load(folder: URL) throws -> any ClassifierModel {
        let configURL = folder.appendingPathComponent("config.json")
        let data: Data
        do { data = try Data(contentsOf: configURL) } catch {
            throw ModelError.io(path: configURL.path, detail: "cannot read: \(fileErrorReason(error))")
        }
        guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw ModelError.invalidConfig(path: configURL.path, key: "(root)", detail: "not a JSON object")
        }
        let modelType = object["model_type"] as? String ?? "missing"
        guard let architecture = type(named: modelType) else {
            let known = registered.map { $0.modelType }.joined(separator: ", ")
            throw ModelError.unsupported(path: configURL.path, detail: "model_type '\(modelType)' is not a Distill student (\(known))")
        }
        return try architecture.load(folder: folder, config: data)
    }
}
