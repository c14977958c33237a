/// The envelope a log line came in.
public enum LogFormat: String, Sendable, Codable, CaseIterable {
    case json, syslog5424, syslog3164, klog, accessLog = "access-log", nginxError = "nginx-error"
    case javaException = "java-exception", pythonException = "python-exception"
    /// A line that starts with a date-time (ISO 8601 or `YYYY-MM-DD hh:mm:ss`, optionally bracketed), then
    /// optional `[..]` fields, numbers and a level word: PostgreSQL, MySQL, Kafka, Envoy, logback, Python logging.
    case timestamped
    case plain
}

/// A log line split into its envelope fields and its masked message.
public struct NormalizedLog: Sendable, Equatable {
    public var format: LogFormat
    /// Lowercased severity when the envelope carries one (`error`, `warning`, `info`, …).
    public var level: String?
    /// Program, logger or component when the envelope names one.
    public var source: String?
    /// The message without its envelope.
    public var message: String
    /// The message with variables replaced by typed placeholders.
    public var masked: String
}

/// Parses common log envelopes — JSON (`msg`/`message`/`log` and `level`/`severity`), RFC 5424 and RFC 3164
/// syslog, klog, nginx/Apache access and nginx error lines, Java and Python exception first lines — and masks
/// the message's variables (``LogMasker``). Hand-written scanners over the line's UTF-8 bytes with integer
/// offsets (no `String.Index` walking, no regular expressions); any line, including empty, huge, binary or
/// non-UTF-8 input, yields a result.
public struct LogNormalizer: Sendable {
    public var masker: LogMasker

    public init(masks: LogMasks = .all) { masker = LogMasker(masks: masks) }

    /// Splits and masks `line`.
    public func normalize(_ line: String) -> NormalizedLog {
        if let result = line.utf8.withContiguousStorageIfAvailable({ normalize(validUTF8: $0) }) { return result }
        return Array(line.utf8).withUnsafeBufferPointer { normalize(validUTF8: $0) }
    }

    /// Writes the model text of `line` — `level source masked` as ``TextInput/modelText(_:)`` builds it — into
    /// `out` (replacing its contents) and returns where the masked message is in it. The hot path of
    /// classification: no ``NormalizedLog``, no intermediate strings.
    public func writeModelText(_ line: String, into out: inout [UInt8]) -> Range<Int> {
        out.removeAll(keepingCapacity: true)
        if let range = line.utf8.withContiguousStorageIfAvailable({ writeModelText(validUTF8: $0, into: &out) }) { return range }
        return Array(line.utf8).withUnsafeBufferPointer { writeModelText(validUTF8: $0, into: &out) }
    }

    private func writeModelText(validUTF8 b: Bytes, into out: inout [UInt8]) -> Range<Int> {
        var envelope = parseEnvelope(b)
        func write(_ message: Bytes) -> Range<Int> {
            if envelope.level == nil { envelope.level = leadingLevel(message) }
            if let level = envelope.level { out.append(contentsOf: level.utf8); out.append(32) }
            if let source = envelope.source { out.append(contentsOf: source.utf8); out.append(32) }
            let start = out.count
            masker.mask(message, into: &out)
            return start..<out.count
        }
        switch envelope.message {
        case .range(let range): return write(Bytes(rebasing: b[range]))
        case .decoded(let bytes): return bytes.withUnsafeBufferPointer { write($0) }
        }
    }

    /// Normalizes raw bytes (invalid UTF-8 is repaired with U+FFFD first).
    public func normalize(utf8 bytes: [UInt8]) -> NormalizedLog { normalize(String(decoding: bytes, as: UTF8.self)) }

    private func normalize(validUTF8 b: Bytes) -> NormalizedLog {
        var envelope = parseEnvelope(b)
        switch envelope.message {
        case .range(let range):
            let message = Bytes(rebasing: b[range])
            if envelope.level == nil { envelope.level = leadingLevel(message) }
            return NormalizedLog(format: envelope.format, level: envelope.level, source: envelope.source,
                                 message: String(decoding: message, as: UTF8.self), masked: masker.mask(message))
        case .decoded(let bytes):
            return bytes.withUnsafeBufferPointer { message in
                if envelope.level == nil { envelope.level = leadingLevel(message) }
                return NormalizedLog(format: envelope.format, level: envelope.level, source: envelope.source,
                                     message: String(decoding: message, as: UTF8.self), masked: masker.mask(message))
            }
        }
    }

    typealias Bytes = UnsafeBufferPointer<UInt8>

    /// Where the message is: a byte range of the line, or bytes decoded from a JSON string with escapes.
    enum MessageBytes { case range(Range<Int>), decoded([UInt8]) }

    struct Envelope {
        var format: LogFormat
        var level: String?
        var source: String?
        var message: MessageBytes
        init(_ format: LogFormat, _ level: String?, _ source: String?, _ message: Range<Int>) {
            (self.format, self.level, self.source, self.message) = (format, level, source, .range(message))
        }
        init(_ format: LogFormat, _ level: String?, _ source: String?, decoded: [UInt8]) {
            (self.format, self.level, self.source, self.message) = (format, level, source, .decoded(decoded))
        }
    }

    func parseEnvelope(_ b: Bytes) -> Envelope {
        var start = 0
        while start < b.count, b[start] == 32 || b[start] == 9 { start += 1 }
        guard start < b.count else { return Envelope(.plain, nil, nil, start..<b.count) }
        // Dispatch on the first byte so each line tries only the envelopes it can be.
        switch b[start] {
        case UInt8(ascii: "{"):
            if let json = parseJSON(b, start) { return json }
        case UInt8(ascii: "<"):
            if let syslog = parseSyslogPRI(b, start) { return syslog }
        case UInt8(ascii: "I"), UInt8(ascii: "W"), UInt8(ascii: "E"), UInt8(ascii: "F"):
            if let k = parseKlog(b, start) { return k }
            if let e = parseException(b, start) { return e }
        case 48...57:
            if let n = parseNginxError(b, start) { return n }
            if let a = parseAccess(b, start) { return a }
            if let t = parseTimestamped(b, start) { return t }
        case UInt8(ascii: "["):
            if let t = parseTimestamped(b, start) { return t }
        case 65...90:
            if let s = parseBSDSyslog(b, start, severity: nil) { return s }
            if let e = parseException(b, start) { return e }
        case 97...122:
            if let a = parseAccess(b, start) { return a }
            if let e = parseException(b, start) { return e }
        default:
            break
        }
        return Envelope(.plain, nil, nil, start..<b.count)
    }

    // MARK: JSON

    /// The string values of `msg`/`message`/`log`, `level`/`severity`/`lvl` and `logger`/`source`/`service` from a
    /// flat JSON object, read without building it.
    func parseJSON(_ u: Bytes, _ start: Int) -> Envelope? {
        var message: MessageBytes?, level: String?, source: String?
        var fields = 0
        var scan = JSONScanner(u: u, i: start + 1)
        while true {
            scan.skipSpaces()
            guard let c = scan.current else { return nil }
            if c == 125 { break }
            guard let key = scan.readString() else { return nil }
            scan.skipSpaces()
            guard scan.current == 58 else { return nil }
            scan.i += 1
            scan.skipSpaces()
            if scan.current == 34 {
                guard let value = scan.readString() else { return nil }
                switch jsonKey(key, u) {
                case .message: if message == nil { message = value }
                case .level: level = scan.text(value).lowercased()
                case .source: if source == nil { source = scan.text(value) }
                case .other: break
                }
            } else if !scan.skipValue() { return nil }
            fields += 1
            scan.skipSpaces()
            guard let next = scan.current else { return nil }
            if next == 44 { scan.i += 1; continue }
            if next == 125 { break }
            return nil
        }
        guard let message, fields > 0 else { return nil }
        switch message {
        case .range(let r): return Envelope(.json, normalizedLevel(level), source, r)
        case .decoded(let bytes): return Envelope(.json, normalizedLevel(level), source, decoded: bytes)
        }
    }

    /// A cursor over the bytes of a JSON object: strings (raw ranges when they have no escapes), skipped values.
    struct JSONScanner {
        let u: Bytes
        var i: Int
        var n: Int { u.count }
        /// The byte at the cursor (nil at the end).
        var current: UInt8? { i < n ? u[i] : nil }

        mutating func skipSpaces() { while i < n, u[i] == 32 || u[i] == 9 { i += 1 } }

        /// A string at the cursor: its content range when it has no escapes, else its decoded bytes.
        mutating func readString() -> MessageBytes? {
            guard i < n, u[i] == 34 else { return nil }
            i += 1
            let contentStart = i
            while i < n, u[i] != 34, u[i] != 92 { i += 1 }
            guard i < n else { return nil }
            if u[i] == 34 { i += 1; return .range(contentStart..<(i - 1)) }
            var bytes = Array(u[contentStart..<i])
            while i < n, u[i] != 34 {
                if u[i] == 92 {  // escape
                    i += 1
                    guard i < n else { return nil }
                    switch u[i] {
                    case UInt8(ascii: "n"): bytes.append(10)
                    case UInt8(ascii: "t"): bytes.append(9)
                    case UInt8(ascii: "r"): bytes.append(13)
                    case UInt8(ascii: "u"):
                        var value: UInt32 = 0, k = 0
                        while k < 4 { i += 1; guard i < n, let h = hexValue(u[i]) else { return nil }; value = value * 16 + h; k += 1 }
                        bytes += Array(String(Unicode.Scalar(value).map(Character.init) ?? "\u{FFFD}").utf8)
                    default: bytes.append(u[i])
                    }
                } else {
                    bytes.append(u[i])
                }
                i += 1
            }
            guard i < n else { return nil }
            i += 1
            return .decoded(bytes)
        }

        func text(_ value: MessageBytes) -> String {
            switch value {
            case .range(let r): return String(decoding: Bytes(rebasing: u[r]), as: UTF8.self)
            case .decoded(let bytes): return String(decoding: bytes, as: UTF8.self)
            }
        }

        /// Moves past one value (any nesting); false when the object ends first or is malformed.
        mutating func skipValue() -> Bool {
            guard i < n else { return false }
            if u[i] == 34 { return readString() != nil }
            var depth = 0
            while i < n {
                let c = u[i]
                if c == 34 { if readString() == nil { return false }; continue }
                if c == 123 || c == 91 { depth += 1 } else if c == 125 || c == 93 { if depth == 0 { return true }; depth -= 1 } else if c == 44 && depth == 0 { return true }
                i += 1
            }
            return false
        }
    }

    /// Which envelope field a JSON key names (ASCII case-insensitive).
    private func jsonKey(_ key: MessageBytes, _ u: Bytes) -> JSONKey {
        switch key {
        case .range(let r): return jsonKeyKind(Bytes(rebasing: u[r]))
        case .decoded(let bytes): return bytes.withUnsafeBufferPointer(jsonKeyKind)
        }
    }

    // MARK: syslog

    /// `<PRI>1 TIMESTAMP HOST APP PROCID MSGID SD MSG` (RFC 5424) or `<PRI>` + RFC 3164.
    func parseSyslogPRI(_ u: Bytes, _ start: Int) -> Envelope? {
        let n = u.count
        var close = start + 1, pri = 0
        while close < n, close - start <= 4, isDigitByte(u[close]) { pri = pri * 10 + Int(u[close] - 48); close += 1 }
        guard close < n, close - start <= 4, close > start + 1, u[close] == 62, pri < 192 else { return nil }
        let severity = syslogSeverity[pri % 8]
        let rest = close + 1
        guard rest + 1 < n, u[rest] == 49, u[rest + 1] == 32 else { return parseBSDSyslog(u, rest, severity: severity) }
        // TIMESTAMP HOST APP PROCID MSGID, then the rest.
        var fieldStarts: [Int] = [], k = rest + 2
        fieldStarts.reserveCapacity(6)
        fieldStarts.append(k)
        while fieldStarts.count < 6, k < n {
            if u[k] == 32 { fieldStarts.append(k + 1) }
            k += 1
        }
        guard fieldStarts.count == 6 else { return nil }
        let appRange = fieldStarts[2]..<(fieldStarts[3] - 1)
        let app: String? = appRange.count == 1 && u[appRange.lowerBound] == 45 ? nil : String(decoding: Bytes(rebasing: u[appRange]), as: UTF8.self)
        var msg = fieldStarts[5]
        if msg < n, u[msg] == 91 {  // structured data: [id k="v" ...]... up to the matching bracket(s)
            var depth = 0, inQuote = false, end = msg
            var idx = msg
            while idx < n {
                let c = u[idx]
                if c == 34 { inQuote.toggle() }
                if !inQuote { if c == 91 { depth += 1 } else if c == 93 { depth -= 1 } }
                end = idx
                if depth == 0 && !inQuote && idx + 1 < n && u[idx + 1] == 32 { break }
                idx += 1
            }
            msg = end + 1
        } else if msg + 1 < n, u[msg] == 45, u[msg + 1] == 32 {
            msg += 2
        } else if msg + 1 == n, u[msg] == 45 {
            msg = n
        }
        while msg < n, u[msg] == 32 { msg += 1 }
        return Envelope(.syslog5424, severity, app, msg..<n)
    }

    /// `Mmm dd hh:mm:ss host tag[pid]: message` (RFC 3164).
    func parseBSDSyslog(_ u: Bytes, _ s: Int, severity: String?) -> Envelope? {
        let n = u.count
        guard n - s >= 16, months.contains(where: { $0[0] == u[s] && $0[1] == u[s + 1] && $0[2] == u[s + 2] }), u[s + 3] == 32,
              (u[s + 4] == 32 || isDigitByte(u[s + 4])), isDigitByte(u[s + 5]), u[s + 6] == 32, isDigitByte(u[s + 7]), isDigitByte(u[s + 8]),
              u[s + 9] == 58, isDigitByte(u[s + 10]), isDigitByte(u[s + 11]), u[s + 12] == 58, isDigitByte(u[s + 13]),
              isDigitByte(u[s + 14]), u[s + 15] == 32 else { return nil }
        var hostEnd = s + 16
        while hostEnd < n, u[hostEnd] != 32 { hostEnd += 1 }
        guard hostEnd < n else { return nil }
        let rest = hostEnd + 1
        // The tag runs to the first ": " and holds no space.
        var i = rest
        while i < n, u[i] != 32 {
            if u[i] == 58, i + 1 < n, u[i + 1] == 32 {
                var tagEnd = i
                if let bracket = (rest..<i).first(where: { u[$0] == 91 }) { tagEnd = bracket }
                return Envelope(.syslog3164, severity, String(decoding: Bytes(rebasing: u[rest..<tagEnd]), as: UTF8.self), (i + 2)..<n)
            }
            i += 1
        }
        return Envelope(.syslog3164, severity, nil, rest..<n)
    }

    // MARK: generic timestamp-prefixed lines

    func parseTimestamped(_ u: Bytes, _ start: Int) -> Envelope? {
        let n = u.count
        let limit = min(n, start + 40)
        var k = u[start] == 91 ? start + 1 : start
        func digits(_ count: Int) -> Bool {
            guard k + count <= limit else { return false }
            for p in k..<(k + count) where !isDigitByte(u[p]) { return false }
            k += count
            return true
        }
        func byte(_ b: UInt8) -> Bool { guard k < limit, u[k] == b else { return false }; k += 1; return true }
        guard digits(4), byte(45), digits(2), byte(45), digits(2), k < limit, u[k] == 84 || u[k] == 32 else { return nil }
        k += 1
        guard digits(2), byte(58), digits(2), byte(58), digits(2) else { return nil }
        if k < limit, u[k] == 46 || u[k] == 44 { k += 1; while k < limit, isDigitByte(u[k]) { k += 1 } }
        _ = byte(90)
        _ = byte(93)
        var rest = k
        var level: String?
        // Up to six header fields: "UTC", [..] groups, numbers, "---", a level word.
        for _ in 0..<6 {
            while rest < n, u[rest] == 32 { rest += 1 }
            guard rest < n else { break }
            var wordEnd = rest
            while wordEnd < n, u[wordEnd] != 32 { wordEnd += 1 }
            let word = Bytes(rebasing: u[rest..<wordEnd])
            if word[0] == 91 {
                // Bracket groups, possibly several glued together: [12][warning][upstream]
                var g = 0
                while g < word.count, word[g] == 91, let close = (g..<word.count).first(where: { word[$0] == 93 }) {
                    if level == nil, let l = knownLevel(Bytes(rebasing: word[(g + 1)..<close])) { level = l }
                    g = close + 1
                }
                guard g == word.count else { break }
            } else if equals(word, "UTC") || equals(word, "---") || word.allSatisfy(isDigitByte) {
                // skip
            } else if level == nil, let l = knownLevel(word.last == 58 ? Bytes(rebasing: word.dropLast()) : word) {
                level = l
            } else if word.count > 1, word.last == 58, word.dropLast().allSatisfy({ $0 >= 65 && $0 <= 90 }) {
                level = normalizedLevel(String(decoding: Bytes(rebasing: word.dropLast()), as: UTF8.self))  // PostgreSQL's LOG:/FATAL:/PANIC:
            } else {
                break
            }
            rest = wordEnd
        }
        while rest < n, u[rest] == 32 { rest += 1 }
        return Envelope(.timestamped, level, nil, rest..<n)
    }

    // MARK: klog, nginx, access logs, exceptions

    /// `I1129 01:02:03.456789   12345 file.go:123] message`.
    func parseKlog(_ u: Bytes, _ s: Int) -> Envelope? {
        let n = u.count
        guard n - s >= 22, [73, 87, 69, 70].contains(u[s]), (1...4).allSatisfy({ isDigitByte(u[s + $0]) }), u[s + 5] == 32,
              isDigitByte(u[s + 6]), isDigitByte(u[s + 7]), u[s + 8] == 58, isDigitByte(u[s + 9]), isDigitByte(u[s + 10]), u[s + 11] == 58,
              let close = (s..<n).first(where: { u[$0] == 93 }) else { return nil }
        // The source is the header's last word up to its first ':' (file.go:123 -> file.go).
        var wordEnd = close
        while wordEnd > s, u[wordEnd - 1] == 32 { wordEnd -= 1 }
        var wordStart = wordEnd
        while wordStart > s, u[wordStart - 1] != 32 { wordStart -= 1 }
        var source: String?
        if wordStart < wordEnd {
            var a = wordStart
            while a < wordEnd, u[a] == 58 { a += 1 }
            var b = a
            while b < wordEnd, u[b] != 58 { b += 1 }
            let piece = a < wordEnd ? a..<b : wordStart..<wordEnd
            source = String(decoding: Bytes(rebasing: u[piece]), as: UTF8.self)
        }
        let level: String
        switch u[s] {
        case 73: level = "info"
        case 87: level = "warning"
        case 69: level = "error"
        default: level = "fatal"
        }
        var message = close + 1
        while message < n, u[message] == 32 { message += 1 }
        return Envelope(.klog, level, source, message..<n)
    }

    /// `2026/11/29 01:02:03 [error] 1234#0: *5 message`.
    func parseNginxError(_ u: Bytes, _ s: Int) -> Envelope? {
        let n = u.count
        guard n - s >= 21, isDigitByte(u[s]), u[s + 4] == 47, u[s + 7] == 47, u[s + 10] == 32, u[s + 13] == 58, u[s + 19] == 32,
              u[s + 20] == 91, let close = ((s + 21)..<n).first(where: { u[$0] == 93 }) else { return nil }
        let level = String(decoding: Bytes(rebasing: u[(s + 21)..<close]), as: UTF8.self).lowercased()
        var rest = close + 1
        while rest < n, u[rest] == 32 { rest += 1 }
        // "1234#0: " (pid#tid) is dropped.
        var k = rest
        while k < n, isDigitByte(u[k]) || u[k] == 35 { k += 1 }
        if k + 1 < n, u[k] == 58, u[k + 1] == 32 { rest = k + 2 }
        return Envelope(.nginxError, normalizedLevel(level), "nginx", rest..<n)
    }

    /// `IP - user [date] "METHOD /path HTTP/1.1" status bytes "referer" "agent"` (combined/common log format).
    func parseAccess(_ u: Bytes, _ s: Int) -> Envelope? {
        let n = u.count
        var spaces = 0, i = s, scanned = 0
        while i < n, u[i] != 91 {  // up to '['
            if u[i] == 32 { spaces += 1 }
            i += 1
            scanned += 1
            if scanned > 80 || spaces > 3 { return nil }
        }
        guard i < n, spaces == 3, let close = (i..<n).first(where: { u[$0] == 93 }) else { return nil }
        guard close + 2 < n, u[close + 1] == 32, u[close + 2] == 34 else { return nil }
        return Envelope(.accessLog, nil, "http", (close + 2)..<n)
    }

    /// `java.lang.NullPointerException: …`, `Exception in thread "main" …`, `Traceback (most recent call last):`,
    /// `ValueError: …`.
    func parseException(_ u: Bytes, _ s: Int) -> Envelope? {
        let n = u.count
        if hasPrefix(u, s, traceback) { return Envelope(.pythonException, "error", nil, s..<n) }
        var body = s
        if hasPrefix(u, s, exceptionInThread), let q = ((s + 21)..<n).first(where: { u[$0] == 34 }) {
            body = q + 1
            while body < n, u[body] == 32 { body += 1 }
        }
        var headEnd = body
        while headEnd < n, u[headEnd] != 58, u[headEnd] != 32 { headEnd += 1 }
        let head = Bytes(rebasing: u[body..<headEnd])
        guard hasSuffix(head, exceptionWord) || hasSuffix(head, errorWord), let first = head.first else { return nil }
        if first < 128 {
            guard (first >= 65 && first <= 90) || (first >= 97 && first <= 122) else { return nil }
        } else {
            guard String(decoding: head, as: UTF8.self).first?.isLetter == true else { return nil }
        }
        let format: LogFormat = head.contains(46) ? .javaException : .pythonException
        return Envelope(format, "error", String(decoding: head, as: UTF8.self), s..<n)
    }

    /// A level word opening a plain message: `ERROR …`, `[warn] …`, `level=info …`.
    func leadingLevel(_ s: Bytes) -> String? {
        var end = 0
        while end < s.count, s[end] != 32, s[end] != 58 { end += 1 }
        guard end <= 16 else { return nil }
        var a = 0, b = end
        if end >= 2, s[0] == 91, s[end - 1] == 93 { a = 1; b = end - 1 }
        if b - a >= 6, (0..<6).allSatisfy({ asciiLowercased(s[a + $0]) == levelEquals[$0] }) { a += 6 }
        return knownLevel(Bytes(rebasing: s[a..<b]), lettersOnly: true)
    }

    /// The normalized level if `word` (ASCII, any case) is one of the known level words.
    private func knownLevel(_ word: Bytes, lettersOnly: Bool = false) -> String? {
        guard !word.isEmpty, word.count <= 16 else { return nil }
        if lettersOnly, !word.allSatisfy({ ($0 >= 65 && $0 <= 90) || ($0 >= 97 && $0 <= 122) }) { return nil }
        return normalizedLevel(String(decoding: word, as: UTF8.self)).flatMap { knownLevels.contains($0) ? $0 : nil }
    }

    func normalizedLevel(_ level: String?) -> String? {
        guard let l = level?.lowercased() else { return nil }
        switch l {
        case "warn", "warning", "w": return "warning"
        case "err", "error", "e", "crit", "critical", "alert", "emerg", "emergency", "severe": return "error"
        case "fatal", "f", "panic": return "fatal"
        case "info", "information", "notice", "i", "log", "note": return "info"
        case "debug", "trace", "d", "fine", "finer": return "debug"
        default: return l
        }
    }
}

private let knownLevels: Set<String> = ["warning", "error", "fatal", "info", "debug"]
private let syslogSeverity = ["fatal", "error", "error", "error", "warning", "info", "info", "debug"]
private let months: [[UInt8]] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"].map { Array($0.utf8) }
private let traceback = Array("Traceback (most recent call last)".utf8)
private let exceptionInThread = Array("Exception in thread \"".utf8)
private let exceptionWord = Array("Exception".utf8), errorWord = Array("Error".utf8)
private let levelEquals = Array("level=".utf8)
private enum JSONKey { case message, level, source, other }
private let jsonKeyTable: [([UInt8], JSONKey)] = [
    ("msg", JSONKey.message), ("message", .message), ("log", .message), ("level", .level), ("severity", .level), ("lvl", .level),
    ("loglevel", .level), ("logger", .source), ("source", .source), ("service", .source), ("component", .source), ("caller", .source),
].map { (name: String, kind: JSONKey) in (Array(name.utf8), kind) }
private func jsonKeyKind(_ key: UnsafeBufferPointer<UInt8>) -> JSONKey {
    guard key.count <= 9 else { return .other }
    for (name, kind) in jsonKeyTable where name.count == key.count {
        if zip(name, key).allSatisfy({ $0 == asciiLowercased($1) }) { return kind }
    }
    return .other
}
@inline(__always) private func isDigitByte(_ c: UInt8) -> Bool { c >= 48 && c <= 57 }
@inline(__always) private func asciiLowercased(_ c: UInt8) -> UInt8 { c >= 65 && c <= 90 ? c + 32 : c }
private func hasPrefix(_ u: UnsafeBufferPointer<UInt8>, _ at: Int, _ prefix: [UInt8]) -> Bool {
    guard u.count - at >= prefix.count else { return false }
    for k in 0..<prefix.count where u[at + k] != prefix[k] { return false }
    return true
}
private func hasSuffix(_ u: UnsafeBufferPointer<UInt8>, _ suffix: [UInt8]) -> Bool {
    guard u.count >= suffix.count else { return false }
    return hasPrefix(u, u.count - suffix.count, suffix)
}
private func equals(_ u: UnsafeBufferPointer<UInt8>, _ word: StaticString) -> Bool {
    u.count == word.utf8CodeUnitCount && u.elementsEqual(UnsafeBufferPointer(start: word.utf8Start, count: word.utf8CodeUnitCount))
}
private func hexValue(_ c: UInt8) -> UInt32? {
    switch c {
    case 48...57: return UInt32(c - 48)
    case 97...102: return UInt32(c - 87)
    case 65...70: return UInt32(c - 55)
    default: return nil
    }
}
