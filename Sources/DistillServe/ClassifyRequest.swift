import DistillRuntime
import Foundation

/// `POST /v1/classify` body: `{"texts": ["…", …], "top_k": 3}` (`top_k` optional). Unknown fields are refused
/// so that a typo (`"text"`) fails loudly instead of classifying nothing.
public struct ClassifyRequest: Sendable {
    public var texts: [String]
    public var topK: Int?

    static let fields: Set<String> = ["texts", "top_k"]

    /// Decodes and checks a body; a ``ServeError`` says what is wrong (and which status answers it).
    public static func parse(_ body: [UInt8], options: ServeOptions) throws -> ClassifyRequest {
        try checkBody(body)
        let object = try jsonObject(body)
        guard let dictionary = object as? [String: Any] else { throw ServeError.badRequest("the body must be a JSON object {\"texts\": [...]}") }
        if let unknown = dictionary.keys.sorted().first(where: { !fields.contains($0) }) {
            throw ServeError.badRequest("unknown field '\(unknown)'; the fields are texts, top_k")
        }
        guard let raw = dictionary["texts"] else { throw ServeError.badRequest("missing field 'texts' (an array of strings)") }
        guard let items = raw as? [Any] else { throw ServeError.badRequest("'texts' must be an array of strings") }
        guard !items.isEmpty else { throw ServeError.badRequest("'texts' is empty; send 1 to \(options.maxBatch) texts") }
        guard items.count <= options.maxBatch else {
            throw ServeError.tooLarge("\(items.count) texts in one request; the limit is \(options.maxBatch) (--max-batch)")
        }
        var texts: [String] = []
        texts.reserveCapacity(items.count)
        for (i, item) in items.enumerated() {
            guard let text = item as? String else { throw ServeError.badRequest("texts[\(i)] is not a string") }
            guard text.utf8.count <= options.maxTextBytes else {
                throw ServeError.tooLarge("texts[\(i)] has \(text.utf8.count) bytes; the limit is \(options.maxTextBytes) (--max-text-bytes)")
            }
            texts.append(text)
        }
        var topK: Int?
        if let k = dictionary["top_k"] {
            guard let n = k as? Int, n >= 1 else { throw ServeError.badRequest("'top_k' must be a positive integer") }
            topK = n
        }
        return ClassifyRequest(texts: texts, topK: topK)
    }
}

/// A body is non-empty UTF-8 (JSONSerialization alone would also accept UTF-16/32).
func checkBody(_ body: [UInt8]) throws {
    guard !body.isEmpty else { throw ServeError.badRequest("the body is empty") }
    guard String(validating: body, as: UTF8.self) != nil else { throw ServeError.badRequest("the body is not valid UTF-8") }
}

/// Parses a body ``checkBody(_:)`` accepted.
func jsonObject(_ body: [UInt8]) throws -> Any {
    let object: Any
    do { object = try JSONSerialization.jsonObject(with: Data(body), options: [.fragmentsAllowed]) } catch {
        throw ServeError.badRequest("the body is " + StrictJSON.parseFailure(error, json: String(decoding: body, as: UTF8.self)))
    }
    try JSONBody.checkStrict(body)
    return object
}
