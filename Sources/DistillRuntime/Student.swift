import DistillCore
import DistillNN
import DistillText
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A student: a classifier (any registered ``ClassifierModel``) saved as, and loaded from, a Hugging Face-style
/// folder — `config.json` (with `model_type` and `id2label`), `model.safetensors`, and whatever else the
/// architecture reads (a BERT's `vocab.txt` and `tokenizer_config.json`). A saved student loads back
/// bit-identically, and a BERT student loads in Hugging Face `transformers` as `BertForSequenceClassification`.
public struct Student {
    /// The architecture and its weights.
    public let model: any ClassifierModel

    public init(_ model: any ClassifierModel) { self.model = model }

    /// A BERT student.
    public static func bert(_ model: BertForSequenceClassification, _ tokenizer: WordPieceTokenizer) -> Student {
        Student(BertClassifier(model, tokenizer))
    }

    /// An n-gram bag student.
    public static func ngramBag(_ model: NGramBag) -> Student { Student(model) }

    /// The model's parameter tree.
    public var module: any Module { model.module }

    /// Label names in class order.
    public var labels: [String] { model.labels }

    /// How raw lines become this model's text (`distill_input` in its config; `raw` when absent).
    public var input: TextInput { model.input ?? .raw }

    /// Tokens per line the model reads unless told otherwise: a BERT folder's `model_max_length` (at most its
    /// `max_position_embeddings`); nil for the n-gram bag, which reads whole lines.
    public var maxLength: Int? { model.tokenLimit(requested: nil) }

    /// `requested` tokens (nil: ``maxLength``), within the model's positions; nil for a model that reads whole lines.
    public func maxLength(requested: Int?) -> Int? { model.tokenLimit(requested: requested) }

    /// Class logits `[texts, labels]` (inference mode), truncating token inputs to `maxLength` tokens (nil: the
    /// folder's, ``maxLength``).
    public func logits(_ texts: [String], maxLength: Int? = nil) -> Tensor {
        model.logits(texts, maxLength: maxLength, context: .inference)
    }

    /// Class probabilities per text, on the tape-free inference engine (``StudentInference``). Builds the engine
    /// (and its workspaces) for this call; callers that classify again and again keep a ``StudentInference``.
    public func probabilities(_ texts: [String], maxLength: Int? = nil) -> [[Float]] {
        StudentInference(self, maxLength: maxLength).probabilities(texts)
    }

    /// The files of a folder Distill writes a model into: what ``save(to:storage:weights:)`` writes for every
    /// registered architecture (``ClassifierModel/folderFiles``), what Distill adds beside it (decision rule, model
    /// card and its facts, quantization report, fine-tuning stamp) and what `distill export` writes (tokenizer files,
    /// remote code, ONNX graph).
    public static var modelFolderFiles: Set<String> {
        ClassifierModels.registered.reduce(into: [
            "decision.json", "README.md", "model_card.json", "quantization.json", "finetune.json", "modeling_distill.py", "tokenizer.json",
            "special_tokens_map.json", "model.onnx",
        ]) { $0.formUnion($1.folderFiles) }
    }

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
        let allowed = modelFolderFiles
        let foreign = entries.filter { name in
            var isSubfolder: ObjCBool = false
            _ = fm.fileExists(atPath: folder.appendingPathComponent(name).path, isDirectory: &isSubfolder)
            return isSubfolder.boolValue || !allowed.contains(name)
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

    private func write(into folder: URL, storage: SafetensorsWriter.StorageType, weights: [String: Tensor]?) throws {
        try model.write(into: folder, storage: storage, weights: weights)
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

    /// Loads a student folder, choosing the architecture from `config.json`'s `model_type` (``ClassifierModels``). If
    /// `folder` is missing because a save was interrupted between its two renames, the complete staged or previous
    /// copy beside it is used.
    public static func load(from folder: URL) throws -> Student {
        let folder = recoveredFolder(folder)
        try checkModelFolder(folder)
        return Student(try ClassifierModels.load(folder: folder))
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
