import DistillText
import Foundation

/// A command that ran and failed (not a usage mistake): printed as "Error: <message>" with exit status 1 and no
/// usage text. Argument mistakes stay `ValidationError`s (usage text, exit status 64).
struct CommandFailure: Error, LocalizedError {
    let message: String
    init(_ message: String) { self.message = message }
    var errorDescription: String? { message }

    /// Writing standard output failed (a full disk, a closed descriptor, a reader that went away).
    static func standardOutput(_ error: any Error) -> CommandFailure {
        CommandFailure("cannot write standard output: \(fileErrorReason(error))")
    }
}
