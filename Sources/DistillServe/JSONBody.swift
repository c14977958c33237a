import Foundation

/// Strict checks on request bodies that `JSONSerialization` lets through: the media type, duplicate keys
/// (which it resolves silently, last one winning: `{"texts": ["a"], "texts": ["b"]}` would classify only "b")
/// and trailing commas (`[1, 2,]`, not JSON).
enum JSONBody {
    /// Media types the service reads, without parameters.
    static let mediaTypes: Set<String> = ["application/json", "application/x-ndjson", "application/ndjson", "application/jsonlines", "application/json-lines"]

    /// Parses `Content-Type`: the media type must be one of ``mediaTypes`` exactly and a `charset`, when given, utf-8.
    static func checkContentType(_ header: String?) throws {
        let value = header ?? ""
        let parts = value.split(separator: ";", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
        guard let type = parts.first, mediaTypes.contains(type) else {
            throw ServeError(415, "Content-Type must be application/json (or application/x-ndjson for /v1/logs), got '\(value)'")
        }
        for parameter in parts.dropFirst() where !parameter.isEmpty {
            let pair = parameter.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard pair.count == 2 else { throw ServeError(415, "Content-Type parameter '\(parameter)' is not name=value") }
            if pair[0] == "charset" {
                let charset = pair[1].trimmingCharacters(in: CharacterSet(charactersIn: "\""))
                guard charset == "utf-8" || charset == "utf8" else {
                    throw ServeError(415, "Content-Type charset must be utf-8, got '\(charset)' (bodies are read as UTF-8)")
                }
            }
        }
    }

    /// Throws when an object in `json` (which `JSONSerialization` parsed) repeats a key or a list ends in a
    /// comma, naming the key and the byte offset.
    static func checkStrict(_ json: some Collection<UInt8>, context: String = "the body") throws {
        var stack: [Set<[UInt8]>?] = []  // a key set per open object; nil for an array
        var expectKey = false
        var afterComma = false
        var index = json.startIndex
        var offset = 0
        func advance() { index = json.index(after: index); offset += 1 }
        while index != json.endIndex {
            let byte = json[index]
            if afterComma, byte == UInt8(ascii: "}") || byte == UInt8(ascii: "]") {
                throw ServeError.badRequest("\(context) is not valid JSON: a trailing comma before '\(Character(UnicodeScalar(byte)))' at byte \(offset)")
            }
            if ![32, 9, 10, 13].contains(byte) { afterComma = byte == UInt8(ascii: ",") }
            switch byte {
            case UInt8(ascii: "{"): stack.append([]); expectKey = true; advance()
            case UInt8(ascii: "["): stack.append(nil); expectKey = false; advance()
            case UInt8(ascii: "}"), UInt8(ascii: "]"): _ = stack.popLast(); expectKey = false; advance()
            case UInt8(ascii: ","): expectKey = stack.last.map { $0 != nil } ?? false; advance()
            case UInt8(ascii: "\""):
                let start = offset
                var token: [UInt8] = [byte]
                advance()
                var escaped = false
                while index != json.endIndex {
                    let b = json[index]
                    token.append(b)
                    advance()
                    if escaped { escaped = false } else if b == UInt8(ascii: "\\") { escaped = true } else if b == UInt8(ascii: "\"") { break }
                }
                if expectKey, stack.last != nil {
                    let key = token.contains(UInt8(ascii: "\\")) ? decoded(token) : Array(token.dropFirst().dropLast())
                    if stack[stack.count - 1]!.insert(key).inserted == false {
                        throw ServeError.badRequest("\(context) repeats the key '\(String(decoding: key, as: UTF8.self))' (at byte \(start)); each key may appear once per object")
                    }
                    expectKey = false
                }
            default: advance()
            }
        }
    }

    /// The UTF-8 of a JSON string token with escapes (`"te\u0078ts"` → `texts`).
    private static func decoded(_ token: [UInt8]) -> [UInt8] {
        let wrapped = Data([UInt8(ascii: "[")] + token + [UInt8(ascii: "]")])
        guard let array = try? JSONSerialization.jsonObject(with: wrapped) as? [String], let s = array.first else { return token }
        return Array(s.utf8)
    }
}
