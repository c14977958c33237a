import Foundation

/// Errors of the runtime: what a trained student's folder and its decision rule can get wrong.
public enum RuntimeError: Error, Equatable, LocalizedError {
    /// A decision rule (`decision.json`, a recipe's `decision` block or a command-line override) that cannot apply.
    case invalidDecisionRule(source: String, key: String, detail: String)
    /// Another process holds the folder's ``RunLock``.
    case busy(path: String, holder: String)
    /// The lock file of a ``RunLock`` cannot be opened or locked.
    case lockFile(path: String, detail: String)

    public var errorDescription: String? {
        switch self {
        case let .invalidDecisionRule(source, key, detail): return key.isEmpty ? "\(source): \(detail)" : "\(source): key '\(key)': \(detail)"
        case let .busy(path, holder):
            return "\(path): in use by \(holder); wait for it to finish or stop it (one train or label per run folder or store)"
        case let .lockFile(path, detail): return "\(path): \(detail)"
        }
    }
}
