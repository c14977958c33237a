import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One writer per run folder or label store: an exclusive `flock` on a lock file holding the owner's pid,
/// host and start time. The kernel drops the lock when its process exits in any way (kill -9 included), so a
/// stale file never blocks the next run; a second `distill train` or `distill label` meanwhile is refused,
/// naming the owner.
public final class RunLock: @unchecked Sendable {
    /// The lock file.
    public let url: URL
    private let fd: Int32

    /// Takes the lock on `url` (created if missing) or throws ``RuntimeError/busy(path:holder:)`` at once.
    public init(_ url: URL) throws {
        self.url = url
        try? FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        let fd = open(url.path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw RuntimeError.lockFile(path: url.path, detail: "cannot open the lock file: \(String(cString: strerror(errno)))")
        }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            let reason = errno
            let holder = (try? String(contentsOf: url, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
            close(fd)
            if reason == EWOULDBLOCK {
                throw RuntimeError.busy(path: url.deletingLastPathComponent().path, holder: holder.flatMap { $0.isEmpty ? nil : $0 } ?? "another process")
            }
            throw RuntimeError.lockFile(path: url.path, detail: "cannot lock: \(String(cString: strerror(reason)))")
        }
        self.fd = fd
        var host = [CChar](repeating: 0, count: 256)
        gethostname(&host, host.count - 1)
        let owner = "pid \(getpid()) on \(String(decoding: host.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)) since \(ISO8601DateFormatter().string(from: Date()))\n"
        _ = ftruncate(fd, 0)
        _ = owner.withCString { pwrite(fd, $0, strlen($0), 0) }
    }

    /// The lock of a run folder (`<folder>/.lock`).
    public static func runFolder(_ folder: URL) throws -> RunLock { try RunLock(folder.appendingPathComponent(".lock")) }

    deinit {
        flock(fd, LOCK_UN)
        close(fd)
    }
}
