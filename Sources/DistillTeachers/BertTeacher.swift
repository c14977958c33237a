import DistillCore
import DistillNN
import DistillRuntime
import DistillText
import DistillTraining
import Foundation

/// A local Hugging Face BERT-family classifier as a white-box teacher: distributions from its logits, and on
/// request the hidden states and attention maps of chosen layers.
///
/// The folder's `id2label` must contain every label of the run (extra teacher labels are dropped and the
/// distribution renormalized).
public final class BertTeacher: WhiteBoxTeacher, @unchecked Sendable {
    public let model: BertForSequenceClassification
    public let tokenizer: WordPieceTokenizer
    public let labels: [String]
    public let identity: String
    public let maxLength: Int
    public let preferredBatchSize = 32
    public let maxConcurrency = 1
    /// Teacher label index for each run label.
    private let mapping: [Int]
    /// One forward pass at a time (the model's buffers are shared); the engine parallelizes inside a pass.
    private let lock = NSLock()
    /// The tape-free engine that answers ``label(_:)`` (built once; features use the module).
    private let engine: StudentInference

    /// Raw lines become the model's text (its `distill_input`) in ``label(_:)`` and ``distributions(_:)``; nil
    /// when the caller passes prepared text (recipes prepare every line once, for teachers and student alike).
    public let preparer: TextInput.Preparer?

    /// Loads `folder` (config.json, model.safetensors, vocab.txt) and maps its labels onto `labels`; `name`
    /// (the recipe's teacher name) goes into errors. `preparingInput`: texts are raw lines, prepared as the
    /// folder's `distill_input` says (what `distill label --teacher bert:FOLDER` passes).
    public convenience init(folder: URL, labels: [String], maxLength: Int? = nil, name: String? = nil, preparingInput: Bool = false) throws {
        let loaded = try BertClassifier.load(folder: folder)
        let (model, tokenizer) = (loaded.model, loaded.tokenizer)
        try self.init(model: model, tokenizer: tokenizer, folder: folder, labels: labels, maxLength: maxLength, name: name, preparingInput: preparingInput)
    }

    /// A teacher over a classifier already loaded from `folder` (shared, not copied; see ``LoadedTeachers``).
    public init(model: BertForSequenceClassification, tokenizer: WordPieceTokenizer, folder: URL, labels: [String], maxLength: Int? = nil,
                name: String? = nil, preparingInput: Bool = false) throws {
        self.model = model
        self.tokenizer = tokenizer
        preparer = preparingInput ? model.input.flatMap { $0.kind == .raw ? nil : $0.preparer() } : nil
        let own = model.config.labels ?? []
        mapping = try labels.map { label in
            guard let i = own.firstIndex(of: label) else {
                throw DistillError.invalidData(file: folder.appendingPathComponent("config.json").path, line: 0,
                                               detail: "teacher\(name.map { " '\($0)'" } ?? "") has no label '\(label)' in id2label (it has: \(own.joined(separator: ", ")))")
            }
            return i
        }
        self.labels = labels
        self.maxLength = BertClassifier.tokenLimit(requested: maxLength, tokenizer: tokenizer, config: model.config)
        engine = StudentInference(.bert(model, tokenizer), maxLength: self.maxLength)
        identity = "bert:\(folder.standardizedFileURL.path)@\(weightsIdentity(folder))#\(self.maxLength)" + (preparer.map { "|input=\($0.input.kind.rawValue)" } ?? "")
    }

    public func label(_ texts: [String]) async throws -> [TeacherAnswer] {
        let started = Date()
        let rows = distributions(texts)
        let seconds = Date().timeIntervalSince(started) / Double(max(texts.count, 1))
        return rows.map { .labelled(TeacherLabel(probabilities: $0.probabilities, method: .logits, outsideMass: $0.outsideMass, latencySeconds: seconds)) }
    }

    /// Per text, the softmax over the run's labels (renormalized after dropping the teacher's other labels) and
    /// the mass those other labels had.
    public func distributions(_ texts: [String]) -> [(probabilities: [Float], outsideMass: Float)] {
        let rows = engine.probabilities(preparer.map { p in texts.map(p.prepare) } ?? texts)
        return rows.map { row in
            let mapped = mapping.map { row[$0] }
            let total = mapped.reduce(0, +)
            return (mapped.map { $0 / max(total, 1e-12) }, max(0, 1 - total))
        }
    }

    public func features(_ texts: [String], hiddenLayers: [Int], attentionLayers: [Int]) -> (batch: EncodedBatch, hidden: [Int: Tensor], attentions: [Int: Tensor]) {
        lock.withLock {
            let batch = tokenizer.encodeBatch(texts, maxLength: maxLength)
            let out = withoutGradients {
                model.bert(batch, outputHiddenStates: !hiddenLayers.isEmpty, outputAttentions: !attentionLayers.isEmpty)
            }
            var hidden: [Int: Tensor] = [:], attentions: [Int: Tensor] = [:]
            for l in hiddenLayers where out.hiddenStates.indices.contains(l) { hidden[l] = out.hiddenStates[l] }
            for l in attentionLayers where out.attentions.indices.contains(l) { attentions[l] = out.attentions[l] }
            return (batch, hidden, attentions)
        }
    }
}

/// Size and modification time of a model folder's weights: a teacher retrained in place gets a new cache key.
public func weightsIdentity(_ folder: URL) -> String {
    let attributes = try? FileManager.default.attributesOfItem(atPath: folder.appendingPathComponent("model.safetensors").path)
    let size = attributes?[.size] as? Int ?? -1
    let modified = (attributes?[.modificationDate] as? Date)?.timeIntervalSince1970 ?? -1
    return "\(size)@\(modified)"
}
