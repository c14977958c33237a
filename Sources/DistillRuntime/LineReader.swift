import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Reads a file or standard input line by line as raw bytes, so that invalid UTF-8 or an over-long line can
/// be reported with its line number instead of being silently replaced or exhausting memory. Lines end at
/// `\n` (a trailing `\r` is dropped). Memory stays bounded by ``maximumLineBytes`` plus one read chunk.
public final class LineReader {
    /// Why a line has no text.
    public enum Problem: Equatable, Sendable {
        case invalidUTF8
        /// Longer than the limit; the bytes were skipped up to the next newline.
        case tooLong(bytes: Int, limit: Int)

        public var message: String {
            switch self {
            case .invalidUTF8: return "not valid UTF-8"
            case let .tooLong(bytes, limit): return "line of \(bytes) bytes exceeds the limit of \(limit) bytes per line"
            }
        }
    }

    /// One input line: its 1-based number and text, or the problem that kept it from having text.
    public struct Line {
        public let number: Int
        public let text: String?
        public let problem: Problem?
    }

    /// Errors reading the input itself (not a line's content).
    public struct ReadError: Error, LocalizedError {
        public let name: String, line: Int, reason: String
        public var errorDescription: String? { "\(name): read failed after line \(line): \(reason)" }
    }

    private let handle: FileHandle
    private var buffer: [UInt8] = []
    /// Bytes asked of each read(2).
    static let chunkBytes = 1 << 20
    /// The first byte of `buffer` not yet returned.
    private var start = 0
    private var scanned = 0           // bytes of `buffer` already known to hold no newline
    private var skipping = false      // inside an over-long line, discarding until its newline
    private var skippedBytes = 0
    private var atEnd = false
    private var number = 0
    /// Display name for messages ("<stdin>" for standard input).
    public let name: String
    /// Lines longer than this many bytes are reported as ``Problem/tooLong(bytes:limit:)`` (default 8 MiB).
    public let maximumLineBytes: Int

    /// Opens `path`, or standard input for "-". Directories and unreadable files throw, naming the path.
    public init(path: String, maximumLineBytes: Int = 8 << 20) throws {
        self.maximumLineBytes = maximumLineBytes
        if path == "-" {
            handle = .standardInput
            name = "<stdin>"
        } else {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue,
                  let h = FileHandle(forReadingAtPath: path) else {
                throw ReadError(name: path, line: 0, reason: "cannot open for reading (missing, a directory, or no permission)")
            }
            handle = h
            name = path
        }
    }

    /// Whether ``next()`` can return a line without reading more input (a complete line is buffered, or the
    /// input has ended). A streaming consumer flushes its batch when this is false, so a slow producer
    /// (`tail -f | distill classify`) gets answers at its own pace instead of waiting for a full batch.
    public var hasBufferedLine: Bool {
        atEnd || buffer[max(scanned, start)...].contains(UInt8(ascii: "\n"))
    }

    /// The next line, or nil at end of input.
    public func next() throws -> Line? {
        while true {
            // Lines are cut from `buffer[start...]`; consumed bytes are dropped only before the next read, so a
            // 64 KiB chunk of short lines costs one move, not one per line.
            if let newline = buffer[max(scanned, start)...].firstIndex(of: UInt8(ascii: "\n")) {
                let bytes = buffer[start..<newline]
                start = newline + 1
                scanned = start
                if skipping {
                    skipping = false
                    let total = skippedBytes + bytes.count
                    skippedBytes = 0
                    return finish(problem: .tooLong(bytes: total, limit: maximumLineBytes))
                }
                if bytes.count > maximumLineBytes { return finish(problem: .tooLong(bytes: bytes.count, limit: maximumLineBytes)) }
                return line(bytes)
            }
            scanned = buffer.count
            if buffer.count - start > maximumLineBytes {
                skipping = true
                skippedBytes += buffer.count - start
                buffer.removeAll(keepingCapacity: true)
                start = 0
                scanned = 0
            }
            if atEnd {
                if skipping {
                    skipping = false
                    let total = skippedBytes + buffer.count - start
                    skippedBytes = 0
                    buffer.removeAll()
                    start = 0
                    scanned = 0
                    return finish(problem: .tooLong(bytes: total, limit: maximumLineBytes))
                }
                guard start < buffer.count else { return nil }
                let rest = buffer[start...]
                defer { buffer.removeAll(); start = 0; scanned = 0 }
                if rest.count > maximumLineBytes { return finish(problem: .tooLong(bytes: rest.count, limit: maximumLineBytes)) }
                return line(rest)
            }
            if start > 0 {
                buffer.removeSubrange(0..<start)
                scanned -= start
                start = 0
            }
            // One read(2): it returns what is available (a pipe's few lines, a file's next MiB) instead of waiting
            // for a full chunk as FileHandle.read(upToCount:) does, so lines from a slow producer flow at once.
            let old = buffer.count
            buffer.reserveCapacity(old + Self.chunkBytes)
            var got = 0
            buffer.append(contentsOf: repeatElement(0, count: Self.chunkBytes))
            while true {
                got = buffer.withUnsafeMutableBytes { read(handle.fileDescriptor, $0.baseAddress! + old, Self.chunkBytes) }
                if got >= 0 || errno != EINTR { break }
            }
            buffer.removeSubrange((old + max(got, 0))...)
            if got < 0 { throw ReadError(name: name, line: number, reason: String(cString: strerror(errno))) }
            if got == 0 { atEnd = true }
        }
    }

    private func line(_ bytes: ArraySlice<UInt8>) -> Line {
        var bytes = bytes
        if bytes.last == UInt8(ascii: "\r") { bytes = bytes.dropLast() }
        number += 1
        if let text = String(validating: bytes, as: UTF8.self) { return Line(number: number, text: text, problem: nil) }
        return Line(number: number, text: nil, problem: .invalidUTF8)
    }

    private func finish(problem: Problem) -> Line {
        number += 1
        return Line(number: number, text: nil, problem: problem)
    }
}

/// `FileHandle.read(upToCount:)`, retried when a signal interrupts the system call (EINTR).
public func readRetryingInterrupts(_ handle: FileHandle, upToCount count: Int) throws -> Data? {
    while true {
        do { return try handle.read(upToCount: count) } catch {
            let underlying = (error as NSError).userInfo[NSUnderlyingErrorKey] as? NSError
            if (error as NSError).code == Int(EINTR) || underlying?.code == Int(EINTR) { continue }
            throw error
        }
    }
}

/// Everything left in `handle`, retrying interrupted reads.
public func readToEndRetryingInterrupts(_ handle: FileHandle) throws -> Data {
    var out = Data()
    while let chunk = try readRetryingInterrupts(handle, upToCount: 1 << 16), !chunk.isEmpty { out.append(chunk) }
    return out
}
