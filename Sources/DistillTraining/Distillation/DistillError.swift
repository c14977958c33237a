import Foundation

/// Errors of training and distillation: data, layer maps, checkpoints, a diverged run (recipes have `RecipeError`).
public enum DistillError: Error, Equatable, LocalizedError {
    case invalidLayerMap(index: Int, detail: String)
    case invalidData(file: String, line: Int, detail: String)
    case checkpoint(path: String, detail: String)
    /// A resumed run's checkpoint (`path`, its state file) was written by a run with another recipe or data.
    case checkpointOfAnotherRun(path: String)
    /// The training loss stopped being a finite number (`output` is the run folder).
    case diverged(output: String, step: Int, loss: Float)

    public var errorDescription: String? {
        switch self {
        case let .invalidLayerMap(index, detail): return "layer_map[\(index)]: \(detail)"
        case let .invalidData(file, line, detail): return "\(file):\(line): \(detail)"
        case let .checkpoint(path, detail): return "\(path): \(detail)"
        case let .checkpointOfAnotherRun(path):
            return "\(path): this checkpoint belongs to a run with another recipe or data; start without --resume (or use another output folder)"
        case let .diverged(output, step, loss):
            return "\(output): training diverged at step \(step) (loss \(loss)); lower training.learning_rate or set training.clip_norm, "
                + "then rerun with --restart (the last checkpoint holds weights from before)"
        }
    }
}
