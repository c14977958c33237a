import Foundation

/// JSON checks `JSONSerialization` does not make, and messages that say what is wrong with a line.
///
/// `JSONSerialization` resolves duplicate keys silently (the last one wins: `{"texts": ["a"], "texts": ["b"]}`
/// would classify only "b") and accepts trailing commas (`[1, 2,]`, not JSON).
public enum StrictJSON {
    /// Why `json` (which `JSONSerialization` parsed) is not strict JSON — a repeated key or a trailing comma,
    /// with its byte offset — or nil when it is.
    public static func problem(_ json: some Collection<UInt8>) -> String? {
        var stack: [Set<[UInt8]>?] = []  // a key set per open object; nil for an array
        var expectKey = false, afterComma = false
        var index = json.startIndex
        var offset = 0
        func advance() { index = json.index(after: index); offset += 1 }
        while index != json.endIndex {
            let byte = json[index]
            if afterComma, byte == UInt8(ascii: "}") || byte == UInt8(ascii: "]") {
                return "has a trailing comma before '\(Character(UnicodeScalar(byte)))' at byte \(offset) (not JSON)"
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
                        return "repeats the key '\(String(decoding: key, as: UTF8.self))' (at byte \(start)); each key may appear once per object"
                    }
                    expectKey = false
                }
            default: advance()
            }
        }
        return nil
    }

    /// Why `JSONSerialization` refused `json`, with the position Foundation gives and a hint for unpaired
    /// surrogate escapes (`"\ud800"`, which Foundation reports as an unexpected end of file).
    public static func parseFailure(_ error: any Error, json: String) -> String {
        let ns = error as NSError
        var detail = (ns.userInfo[NSDebugDescriptionErrorKey] as? String) ?? ns.localizedDescription
        if json.range(of: #"\\u[dD][89abAB][0-9a-fA-F]{2}(?!\\u[dD][c-fC-F])"#, options: .regularExpression) != nil
            || json.range(of: #"(?<!\\u[dD][89abAB][0-9a-fA-F]{2})\\u[dD][c-fC-F][0-9a-fA-F]{2}"#, options: .regularExpression) != nil {
            detail += " (it holds an unpaired UTF-16 surrogate escape such as \\ud800, which is not a character)"
        }
        return "not valid JSON: " + detail
    }

    /// A parsed line as an object, or what it is instead ("a JSON array", "an empty line").
    public static func object(_ line: String) -> Result<[String: Any], LineProblem> {
        if line.allSatisfy(\.isWhitespace) { return .failure(LineProblem("an empty line, not a JSON object")) }
        let value: Any
        do { value = try JSONSerialization.jsonObject(with: Data(line.utf8), options: [.fragmentsAllowed]) } catch {
            return .failure(LineProblem(parseFailure(error, json: line)))
        }
        guard let object = value as? [String: Any] else { return .failure(LineProblem("a JSON \(kind(of: value)), not an object")) }
        if let problem = problem(line.utf8) { return .failure(LineProblem(problem)) }
        return .success(object)
    }

    /// The string field `field` of a JSON-object line, or why there is none.
    public static func stringField(_ field: String, of line: String) -> Result<String, LineProblem> {
        switch object(line) {
        case let .failure(problem): return .failure(problem)
        case let .success(object):
            guard let value = object[field] else {
                let keys = object.keys.sorted().prefix(8).map { "'\($0)'" }.joined(separator: ", ")
                return .failure(LineProblem("no '\(field)' field (the object has \(keys.isEmpty ? "no keys" : keys))"))
            }
            guard let text = value as? String else { return .failure(LineProblem("'\(field)' is a \(kind(of: value)), not a string")) }
            return .success(text)
        }
    }

    /// "string", "number", "array", … for messages.
    /// What a number `JSONSerialization` (or any `NSNumber` maker) produced holds: `true`/`false` are numbers
    /// there, told apart only by their Objective-C type code.
    public enum NumberKind: Sendable { case bool, float, unsigned, signed }

    public static func numberKind(_ n: NSNumber) -> NumberKind {
        switch String(cString: n.objCType) {
        case "c", "B": return .bool
        case "f", "d": return .float
        case "Q": return .unsigned
        default: return .signed
        }
    }

    public static func kind(of value: Any) -> String {
        switch value {
        case is String: return "string"
        case is [Any]: return "array"
        case is [String: Any]: return "object"
        case is NSNull: return "null"
        case is Bool where !(value is Int) || String(cString: (value as! NSNumber).objCType) == "c": return "boolean"
        case is NSNumber: return "number"
        default: return "value"
        }
    }

    /// The UTF-8 of a JSON string token with escapes (`"te\u0078ts"` → `texts`).
    private static func decoded(_ token: [UInt8]) -> [UInt8] {
        let wrapped = Data([UInt8(ascii: "[")] + token + [UInt8(ascii: "]")])
        guard let array = try? JSONSerialization.jsonObject(with: wrapped) as? [String], let s = array.first else { return token }
        return Array(s.utf8)
    }
}

/// What is wrong with one line (the caller adds the file and line number).
public struct LineProblem: Error, Equatable, Sendable {
    public let message: String
    public init(_ message: String) { self.message = message }
}
