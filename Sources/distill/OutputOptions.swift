import ArgumentParser
import Foundation
import Synchronization

/// How much a command writes to stderr. Machine output (stdout: JSON lines, reports) never changes.
enum Verbosity: Int, Sendable {
    /// Warnings and errors only.
    case quiet
    /// Notes and progress lines (rate, ETA), progress at most once or twice a second.
    case normal
    /// Every progress update.
    case verbose

    private static let current = Atomic<Int>(Verbosity.normal.rawValue)
    static var level: Verbosity {
        get { Verbosity(rawValue: current.load(ordering: .relaxed)) ?? .normal }
        set { current.store(newValue.rawValue, ordering: .relaxed) }
    }
}

/// `--quiet` / `--verbose` of the commands that talk while they work.
struct OutputOptions: ParsableArguments {
    @Flag(name: .shortAndLong, help: "Only warnings and errors on stderr (no progress lines or notes); stdout is unchanged.")
    var quiet = false

    @Flag(name: .shortAndLong, help: "Every progress update on stderr, not one or two a second.")
    var verbose = false

    func validate() throws {
        if quiet && verbose { throw ValidationError("--quiet and --verbose exclude each other") }
    }

    func apply() { Verbosity.level = quiet ? .quiet : verbose ? .verbose : .normal }
}

/// Words that make a line a warning `--quiet` keeps: lines from the library's logs are not typed, so a line that
/// says something failed, was refused, dropped or could not be done is never hidden.
private let warningWords = ["warning", "error", "fail", "refus", "drop", "cannot", "unreachable", "timed out", "gave up", "giving up"]

/// A note on stderr (a line a command prints while it works): dropped with `--quiet` unless it reads as a warning.
@Sendable func note(_ line: String) {
    if Verbosity.level == .quiet {
        let lower = line.lowercased()
        guard warningWords.contains(where: lower.contains) else { return }
    }
    FileHandle.standardError.write(Data((line + "\n").utf8))
}

/// A progress line on stderr, overwritten in place on a terminal: none with `--quiet`.
@Sendable func progressLine(_ line: String) {
    guard Verbosity.level != .quiet else { return }
    FileHandle.standardError.write(Data((line + (isatty(2) != 0 ? "\r" : "\n")).utf8))
}

/// Ends a run of in-place progress lines on a terminal.
func endProgressLines() {
    if Verbosity.level != .quiet, isatty(2) != 0 { FileHandle.standardError.write(Data("\n".utf8)) }
}
