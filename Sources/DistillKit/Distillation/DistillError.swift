import Foundation

/// Errors of the distillation layer (recipes, data, layer maps, checkpoints).
public enum DistillError: Error, Equatable, LocalizedError {
    case invalidLayerMap(index: Int, detail: String)
    case invalidData(file: String, line: Int, detail: String)
    case checkpoint(path: String, detail: String)
    /// A decision rule (`decision.json`, a recipe's `decision` block or a command-line override) that cannot apply.
    case invalidDecisionRule(source: String, key: String, detail: String)
    /// Another process holds the folder's ``RunLock``.
    case busy(path: String, holder: String)
    /// The training loss stopped being a finite number (`output` is the run folder).
    case diverged(output: String, step: Int, loss: Float)

    public var errorDescription: String? {
        switch self {
        case let .invalidLayerMap(index, detail): return "layer_map[\(index)]: \(detail)"
        case let .invalidData(file, line, detail): return "\(file):\(line): \(detail)"
        case let .checkpoint(path, detail): return "\(path): \(detail)"
        case let .invalidDecisionRule(source, key, detail): return key.isEmpty ? "\(source): \(detail)" : "\(source): key '\(key)': \(detail)"
        case let .busy(path, holder):
            return "\(path): in use by \(holder); wait for it to finish or stop it (one train or label per run folder or store)"
        case let .diverged(output, step, loss):
            return "\(output): training diverged at step \(step) (loss \(loss)); lower training.learning_rate or set training.clip_norm, "
                + "then rerun with --restart (the last checkpoint holds weights from before)"
        }
    }
}
