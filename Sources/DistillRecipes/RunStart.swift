import DistillTraining
import Foundation

/// What `distill train` does with a run folder that already holds a checkpoint: a run is never silently
/// started over.
public enum RunStart: Sendable, Equatable {
    /// A new run; a folder holding a checkpoint is refused (say ``resume`` or ``restart``).
    case new
    /// Continue from the folder's checkpoint (exactly: same weights as an uninterrupted run); new when there is none.
    case resume
    /// Discard the folder's checkpoint, models and reports and start over (teacher labels and stores are kept).
    case restart

    /// Throws when a ``new`` run would overwrite the checkpoint in `output`.
    public func check(_ output: URL) throws {
        guard self == .new, let checkpoint = DistillationTrainer.completeCheckpoint(in: output) else { return }
        let step = DistillationTrainer.checkpointStep(checkpoint)
        let finished = FileManager.default.fileExists(atPath: output.appendingPathComponent("final/config.json").path)
        throw DistillError.checkpoint(path: output.path,
            detail: "holds the checkpoint of \(finished ? "a finished" : "an unfinished") run (step \(step)); pass --resume to continue it or --restart to discard it and start over")
    }
}
