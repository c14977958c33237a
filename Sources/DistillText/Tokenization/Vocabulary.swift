import Foundation

/// A WordPiece vocabulary: token ↔ id.
public struct Vocabulary: Sendable, Equatable {
    public static func == (a: Vocabulary, b: Vocabulary) -> Bool { a.tokens == b.tokens }

    /// Tokens in id order.
    public let tokens: [String]
    /// Keyed by UTF-8 bytes: Swift's `String` equality is canonical equivalence ("é" == "e\u{301}"), while
    /// Hugging Face compares bytes.
    private let ids: [[UInt8]: Int]

    /// Builds from tokens in id order; for a repeated token the last id wins, as Hugging Face's readers do.
    public init(tokens: [String]) {
        self.tokens = tokens
        var ids: [[UInt8]: Int] = [:]
        for (i, t) in tokens.enumerated() { ids[Array(t.utf8)] = i }
        self.ids = ids
    }

    public var count: Int { tokens.count }
    public func id(_ token: String) -> Int? { ids[Array(token.utf8)] }
    /// The id of a token given as UTF-8 bytes.
    public func id(utf8 bytes: [UInt8]) -> Int? { ids[bytes] }
    public func token(_ id: Int) -> String? { id >= 0 && id < tokens.count ? tokens[id] : nil }

    /// Reads `vocab.txt`: one token per line, id = line number - 1. Invalid UTF-8 names the line.
    public static func read(vocabTxt url: URL) throws -> Vocabulary {
        let data: Data
        do { data = try Data(contentsOf: url) } catch { throw TokenizerError.cannotRead(path: url.path, reason: fileErrorReason(error)) }
        var tokens: [String] = []
        var line = 1
        for raw in data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false) {
            var bytes = raw
            if bytes.last == UInt8(ascii: "\r") { bytes = bytes.dropLast() }
            guard let token = String(validating: bytes, as: UTF8.self) else {
                throw TokenizerError.invalidVocabulary(path: url.path, line: line, detail: "not valid UTF-8")
            }
            tokens.append(token)
            line += 1
        }
        if tokens.last == "" { tokens.removeLast() }  // trailing newline
        guard !tokens.isEmpty else { throw TokenizerError.invalidVocabulary(path: url.path, line: 1, detail: "the vocabulary is empty") }
        return Vocabulary(tokens: tokens)
    }

    /// Writes `vocab.txt`.
    public func write(vocabTxt url: URL) throws {
        try Data((tokens.joined(separator: "\n") + "\n").utf8).write(to: url, options: .atomic)
    }
}
