import Foundation

// What several test targets need: where the repository and the `distill` binary are, scratch paths, and running
// the binary. One copy here instead of one per target.

/// The repository root.
public let projectRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

/// The `distill` binary under test: `DISTILL_BINARY` (`make test` builds a release binary from the same sources
/// just before the tests, for the compute-heavy command-line tests), else the debug build `swift test` makes.
public let distillBinary = ProcessInfo.processInfo.environment["DISTILL_BINARY"].map { URL(fileURLWithPath: $0) }
    ?? projectRoot.appendingPathComponent(".build/debug/distill")

/// A new empty folder under the temporary directory.
public func temporaryFolder(_ prefix: String = "distill") -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("\(prefix)-\(UUID().uuidString)")
    try! FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

/// A path under the temporary directory that does not exist yet, ending in `name`.
public func temporaryFile(_ name: String) -> URL {
    FileManager.default.temporaryDirectory.appendingPathComponent("distill-\(UUID().uuidString)-\(name)")
}

/// How a `distill` run ended and what it wrote.
public struct DistillRun: Sendable {
    public let status: Int32
    public let stdout: String
    public let stderr: String
    /// Both streams, standard output first (for failure messages and searches).
    public var output: String { stdout + stderr }
}

/// Runs the `distill` binary with `stdin` as its input. Its outputs go to files, so a chatty child can never
/// stall on a full pipe while the test waits for the other stream.
public func runDistill(_ arguments: [String], stdin: Data = Data()) throws -> DistillRun {
    let folder = temporaryFolder("run")
    defer { try? FileManager.default.removeItem(at: folder) }
    let input = folder.appendingPathComponent("stdin"), out = folder.appendingPathComponent("stdout"), err = folder.appendingPathComponent("stderr")
    try stdin.write(to: input)
    try Data().write(to: out)
    try Data().write(to: err)
    let process = Process()
    process.executableURL = distillBinary
    process.arguments = arguments
    process.standardInput = try FileHandle(forReadingFrom: input)
    process.standardOutput = try FileHandle(forWritingTo: out)
    process.standardError = try FileHandle(forWritingTo: err)
    try process.run()
    process.waitUntilExit()
    return DistillRun(status: process.terminationStatus, stdout: String(decoding: try Data(contentsOf: out), as: UTF8.self),
                      stderr: String(decoding: try Data(contentsOf: err), as: UTF8.self))
}

/// Starts `distill ARGS` in the background; standard output and error both go to `log` (read it after it ends).
public func startDistill(_ arguments: [String], log: URL) throws -> Process {
    let process = Process()
    process.executableURL = distillBinary
    process.arguments = arguments
    try Data().write(to: log)
    let handle = try FileHandle(forWritingTo: log)
    process.standardOutput = handle
    process.standardError = handle
    try process.run()
    return process
}

/// Log lines a run writes from any thread (a recipe run's `log` is `@Sendable`), kept in order.
public final class LogLines: @unchecked Sendable, CustomStringConvertible {
    private var stored: [String] = []
    private let lock = NSLock()

    public init() {}

    public func append(_ line: String) { lock.lock(); stored.append(line); lock.unlock() }
    public func clear() { lock.lock(); stored.removeAll(); lock.unlock() }
    public var lines: [String] { lock.lock(); defer { lock.unlock() }; return stored }
    public func contains(_ line: String) -> Bool { lines.contains(line) }
    public func contains(where predicate: (String) -> Bool) -> Bool { lines.contains(where: predicate) }
    public var description: String { "\(lines)" }
}
