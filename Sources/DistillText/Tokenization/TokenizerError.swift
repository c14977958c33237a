import Foundation

/// Why a tokenizer could not be loaded or used. Messages name the file (and line) or token.
public enum TokenizerError: Error, Equatable, LocalizedError {
    case cannotRead(path: String, reason: String)
    case invalidVocabulary(path: String, line: Int, detail: String)
    case invalidTokenizerJSON(path: String, key: String, detail: String)
    case missingSpecialToken(token: String, source: String)

    public var errorDescription: String? {
        switch self {
        case let .cannotRead(path, reason): return "\(path): cannot read: \(reason)"
        case let .invalidVocabulary(path, line, detail): return "\(path):\(line): \(detail)"
        case let .invalidTokenizerJSON(path, key, detail): return "\(path): key '\(key)': \(detail)"
        case let .missingSpecialToken(token, source): return "\(source): the vocabulary has no \(token) token"
        }
    }
}
