import DistillRuntime
import Foundation

/// The bodies log shippers' HTTP outputs send to `POST /v1/logs`: a JSON array of records (Vector's `http` sink
/// with `codec: json`, Fluent Bit's `http` output with `format json`), newline-delimited records (Vector with
/// `framing: newline_delimited`, Fluent Bit `format json_lines`) or concatenated records with no separator
/// (Fluent Bit `format json_stream`), or MessagePack events (Fluent Bit `format msgpack`). Each record is an object carrying the line in one of the configured
/// fields (`message`, `log`, `msg`); a bare string counts as `{"message": string}`.
///
/// A record without a usable line (no such field, or a line over `--max-text-bytes`) does not fail the batch —
/// shippers do not retry a 400 and the whole batch would be lost: it is passed through with
/// `distill.error` saying why, and is not classified.
public struct LogRecords {
    public enum Framing: Sendable { case array, lines }

    /// One record and what to classify in it.
    public struct Record {
        public var fields: [String: Any]
        /// The field the line was read from.
        public var lineField: String?
        /// The log line, trailing line breaks removed (a shipper's `log` field often ends in `\n`); nil when skipped.
        public var text: String?
        /// Why the record is not classified.
        public var skipped: Skip?
    }

    /// Why a record passes through unlabelled.
    public enum Skip: String, Sendable, CaseIterable {
        case noText = "no_text", tooLong = "too_long"
    }

    public var framing: Framing
    public var records: [Record]
    /// The lines to classify, in record order (records that are skipped have none).
    public var texts: [String] { records.compactMap(\.text) }

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
            for segment in topLevelValues(body) {
                let bytes = body[segment.range]
                do { items.append(try JSONSerialization.jsonObject(with: Data(bytes), options: [.fragmentsAllowed])) } catch {
                    throw ServeError.badRequest("record \(items.count) (line \(segment.line) of the body) is "
                                                + StrictJSON.parseFailure(error, json: String(decoding: bytes, as: UTF8.self)))
                }
                try JSONBody.checkStrict(bytes, context: "record \(items.count - 1) (line \(segment.line) of the body)")
                if items.count > options.maxBatch { break }
            }
        }
        return try LogRecords(framing: framing, records: records(items, options: options))
    }

    /// Fluent Bit's `format msgpack` (its default): events decoded by ``MessagePack``; answered as NDJSON.
    public static func parseMessagePack(_ body: [UInt8], options: ServeOptions) throws -> LogRecords {
        let items: [Any]
        do { items = try MessagePack.fluentBitRecords(body, limit: options.maxBatch) } catch {
            throw ServeError.badRequest("the msgpack body does not decode: \(error.localizedDescription)")
        }
        return try LogRecords(framing: .lines, records: records(items, options: options))
    }

    /// Decoded items (objects, or strings meaning `{"message": string}`) as records.
    static func records(_ items: [Any], options: ServeOptions) throws -> [Record] {
        guard !items.isEmpty else { throw ServeError.badRequest("no records in the body") }
        guard items.count <= options.maxBatch else {
            throw ServeError.tooLarge("more than \(options.maxBatch) records in one request (--max-batch)")
        }
        var records: [Record] = []
        records.reserveCapacity(items.count)
        for (i, item) in items.enumerated() {
            let fields: [String: Any]
            if let s = item as? String { fields = ["message": s] } else if let o = item as? [String: Any] { fields = o } else {
                throw ServeError.badRequest("record \(i) is a JSON \(StrictJSON.kind(of: item)), neither an object nor a string")
            }
            guard let field = options.logFields.first(where: { fields[$0] is String }), let raw = fields[field] as? String else {
                records.append(Record(fields: fields, lineField: nil, text: nil, skipped: .noText))
                continue
            }
            let text = trimmingLineBreaks(raw)
            guard text.utf8.count <= options.maxTextBytes else {
                records.append(Record(fields: fields, lineField: field, text: nil, skipped: .tooLong))
                continue
            }
            records.append(Record(fields: fields, lineField: field, text: text, skipped: nil))
        }
        return records
    }

    /// The message a skipped record carries in `distill.error`.
    public static func message(_ skip: Skip, options: ServeOptions, otlp: Bool = false) -> String {
        switch skip {
        case .noText where otlp:
            return "the body is neither a string nor a key-value list with " + options.logFields.map { "'\($0)'" }.joined(separator: ", ") + " (--log-field); not classified"
        case .noText: return "no string field " + options.logFields.map { "'\($0)'" }.joined(separator: ", ") + " (--log-field); not classified"
        case .tooLong: return "the line is longer than \(options.maxTextBytes) bytes (--max-text-bytes); not classified"
        }
    }

    /// `line` without trailing `\n` / `\r\n` (what shippers leave on a `log` field), so it gets the same template.
    static func trimmingLineBreaks(_ line: String) -> String {
        var end = line.utf8.endIndex
        while end > line.utf8.startIndex {
            let before = line.utf8.index(before: end)
            guard line.utf8[before] == 10 || line.utf8[before] == 13 else { break }
            end = before
        }
        return end == line.utf8.endIndex ? line : String(line[..<end])
    }

    /// The byte ranges of the top-level JSON values of `body`, separated by whitespace or nothing at all
    /// (NDJSON and concatenated JSON), each with the line it starts on. Objects and arrays end at their matching
    /// bracket (outside strings), strings at their closing quote, other values at whitespace or a bracket.
    static func topLevelValues(_ body: [UInt8]) -> [(range: Range<Int>, line: Int)] {
        var out: [(Range<Int>, Int)] = []
        var i = 0, line = 1
        let n = body.count
        while i < n {
            while i < n, [32, 9, 10, 13].contains(body[i]) {
                if body[i] == 10 { line += 1 }
                i += 1
            }
            guard i < n else { break }
            let start = i, startLine = line
            switch body[i] {
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                var depth = 0, inString = false, escaped = false
                scan: while i < n {
                    let b = body[i]
                    if b == 10 { line += 1 }
                    i += 1
                    if inString {
                        if escaped { escaped = false } else if b == UInt8(ascii: "\\") { escaped = true } else if b == UInt8(ascii: "\"") { inString = false }
                        continue
                    }
                    switch b {
                    case UInt8(ascii: "\""): inString = true
                    case UInt8(ascii: "{"), UInt8(ascii: "["): depth += 1
                    case UInt8(ascii: "}"), UInt8(ascii: "]"):
                        depth -= 1
                        if depth == 0 { break scan }
                    default: break
                    }
                }
            case UInt8(ascii: "\""):
                i += 1
                var escaped = false
                while i < n {
                    let b = body[i]
                    i += 1
                    if escaped { escaped = false } else if b == UInt8(ascii: "\\") { escaped = true } else if b == UInt8(ascii: "\"") { break }
                }
            default:
                while i < n, ![32, 9, 10, 13, UInt8(ascii: "{"), UInt8(ascii: "["), UInt8(ascii: "\"")].contains(body[i]) { i += 1 }
            }
            out.append((start..<i, startLine))
        }
        return out
    }
}
