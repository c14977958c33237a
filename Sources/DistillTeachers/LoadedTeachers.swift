import DistillNN
import DistillRuntime
import DistillText
import Foundation

/// The `bert` teachers of one run, each read from its folder once and shared by every part of the run that reads
/// it: soft labels for the training and dev lines, static embeddings, hidden and attention losses. Those parts only
/// read the weights; a student cut from a teacher loads a copy of its own, which training changes.
public final class LoadedTeachers: @unchecked Sendable {
    private var loaded: [String: (model: BertForSequenceClassification, tokenizer: WordPieceTokenizer)] = [:]
    private let lock = NSLock()

    public init() {}

    /// The classifier and tokenizer in `folder`, loaded on first use.
    public func classifier(_ folder: URL) throws -> (model: BertForSequenceClassification, tokenizer: WordPieceTokenizer) {
        let key = folder.standardizedFileURL.path
        lock.lock()
        defer { lock.unlock() }
        if let hit = loaded[key] { return hit }
        let classifier = try BertClassifier.load(folder: folder)
        loaded[key] = (classifier.model, classifier.tokenizer)
        return (classifier.model, classifier.tokenizer)
    }

    /// Lets go of every loaded teacher (a run calls this once its student is built: training must not hold the
    /// teachers; a hidden or attention loss that recomputes features keeps its own reference).
    public func removeAll() {
        lock.lock()
        loaded.removeAll()
        lock.unlock()
    }

    /// Folders loaded so far (each once).
    public var count: Int {
        lock.lock()
        defer { lock.unlock() }
        return loaded.count
    }
}
