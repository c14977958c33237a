import DistillRuntime
import Foundation

/// Strict checks on request bodies: the media type, and (through ``StrictJSON``) duplicate keys and trailing commas.
public enum JSONBody {
    /// Media types the service reads, without parameters.
    static let mediaTypes: Set<String> = ["application/json", "application/x-ndjson", "application/ndjson", "application/jsonlines", "application/json-lines"]

    /// Parses `Content-Type`: the media type must be one of ``mediaTypes`` exactly and a `charset`, when given, utf-8.
    /// `protobuf` also admits `application/x-protobuf` (OTLP) and `application/msgpack` (Fluent Bit), for
    /// `/v1/logs`. Returns the media type.
    @discardableResult
    public static func checkContentType(_ header: String?, protobuf: Bool = false) throws -> String {
        let value = header ?? ""
        let parts = value.split(separator: ";", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
        guard let type = parts.first, mediaTypes.contains(type) || (protobuf && (type == OTLPLogsProtobuf.contentType || MessagePack.mediaTypes.contains(type))) else {
            throw ServeError(415, protobuf ? "Content-Type must be application/json, application/x-ndjson, application/msgpack (Fluent Bit) or application/x-protobuf (OTLP), got '\(value)'"
                                           : "Content-Type must be application/json, got '\(value)'")
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
        return type
    }

    /// Throws when an object in `json` (which `JSONSerialization` parsed) repeats a key or a list ends in a
    /// comma (``StrictJSON/problem(_:)``).
    static func checkStrict(_ json: some Collection<UInt8>, context: String = "the body") throws {
        if let problem = StrictJSON.problem(json) { throw ServeError.badRequest("\(context) \(problem)") }
    }
}
