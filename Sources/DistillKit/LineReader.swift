import Foundation

/// Reads a file or standard input line by line as raw bytes, so that invalid UTF-8 can be reported with
/// its line number instead of being silently replaced. Lines end at `\n` (a trailing `\r` is dropped).
public final class LineReader {
    /// One input line: its 1-based number and text, or nil text when the bytes are not valid UTF-8.
    public struct Line { public let number: Int; public let text: String? }

    private let handle: FileHandle
    private var buffer = Data()
    private var atEnd = false
    private var number = 0
    /// Display name for messages ("-" is standard input).
    public let name: String

    /// Opens `path`, or standard input for "-".
    public init(path: String) throws {
        if path == "-" {
            handle = .standardInput
            name = "<stdin>"
        } else {
            guard let h = FileHandle(forReadingAtPath: path) else {
                throw CocoaError(.fileReadNoSuchFile, userInfo: [NSLocalizedDescriptionKey: "\(path): cannot open for reading"])
            }
            handle = h
            name = path
        }
    }

    /// The next line, or nil at end of input.
    public func next() -> Line? {
        while true {
            if let newline = buffer.firstIndex(of: UInt8(ascii: "\n")) {
                var bytes = buffer[buffer.startIndex..<newline]
                buffer.removeSubrange(buffer.startIndex...newline)
                if bytes.last == UInt8(ascii: "\r") { bytes = bytes.dropLast() }
                return line(bytes)
            }
            if atEnd {
                guard !buffer.isEmpty else { return nil }
                let rest = buffer
                buffer.removeAll()
                return line(rest[...])
            }
            let chunk = handle.availableData
            if chunk.isEmpty { atEnd = true } else { buffer.append(chunk) }
        }
    }

    private func line(_ bytes: Data.SubSequence) -> Line {
        number += 1
        return Line(number: number, text: String(validating: bytes, as: UTF8.self))
    }
}
