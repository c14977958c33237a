import Foundation

/// The bodies log shippers' HTTP outputs send to `POST /v1/logs`: a JSON array of records (Vector's `http` sink
/// with `codec: json`, Fluent Bit's `http` output with `format json`) or newline-delimited records (Vector with
/// `framing: newline_delimited`, Fluent Bit `format json_lines`). Each record is an object carrying the line in
/// one of the configured fields (`message`, `log`, `msg`); a bare string counts as `{"message": string}`.
public struct LogRecords {
    public enum Framing: Sendable { case array, lines }

    public var framing: Framing
    public var records: [[String: Any]]
    /// Each record's log line.
    public var texts: [String]

    /// Decodes and checks a body; a ``ServeError`` says what is wrong (and which status answers it).
    public static func parse(_ body: [UInt8], options: ServeOptions) throws -> LogRecords {
        try checkBody(body)
        let firstByte = body.first { $0 != 32 && $0 != 9 && $0 != 10 && $0 != 13 }
        var items: [Any] = []
        let framing: Framing
        if firstByte == UInt8(ascii: "[") {
            framing = .array
            guard let array = try jsonObject(body) as? [Any] else { throw ServeError.badRequest("the body must be a JSON array of records") }
            items = array
        } else {
            framing = .lines
            var lineNumber = 0
            for line in body.split(separator: 10, omittingEmptySubsequences: false) {
                lineNumber += 1
                guard line.contains(where: { $0 != 32 && $0 != 9 && $0 != 13 }) else { continue }
                do { items.append(try JSONSerialization.jsonObject(with: Data(line), options: [.fragmentsAllowed])) } catch {
                    throw ServeError.badRequest("line \(lineNumber) of the body is not valid JSON: \(jsonErrorDetail(error))")
                }
                try JSONBody.checkStrict(line, context: "line \(lineNumber) of the body")
                if items.count > options.maxBatch { break }
            }
        }
        guard !items.isEmpty else { throw ServeError.badRequest("no records in the body") }
        guard items.count <= options.maxBatch else {
            throw ServeError.tooLarge("more than \(options.maxBatch) records in one request (--max-batch)")
        }
        var records: [[String: Any]] = [], texts: [String] = []
        records.reserveCapacity(items.count)
        texts.reserveCapacity(items.count)
        for (i, item) in items.enumerated() {
            let record: [String: Any]
            if let s = item as? String { record = ["message": s] } else if let o = item as? [String: Any] { record = o } else {
                throw ServeError.badRequest("record \(i) is neither an object nor a string")
            }
            guard let text = options.logFields.lazy.compactMap({ record[$0] as? String }).first else {
                throw ServeError.badRequest("record \(i) has no string field \(options.logFields.map { "'\($0)'" }.joined(separator: ", ")) (--log-field)")
            }
            guard text.utf8.count <= options.maxTextBytes else {
                throw ServeError.tooLarge("record \(i) has a \(text.utf8.count)-byte line; the limit is \(options.maxTextBytes) (--max-text-bytes)")
            }
            records.append(record)
            texts.append(text)
        }
        return LogRecords(framing: framing, records: records, texts: texts)
    }
}
