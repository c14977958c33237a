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
/// the message's variables (``LogMasker``). Hand-written scanners; any line, including empty, huge, binary or
/// non-UTF-8 input, yields a result.
public struct LogNormalizer: Sendable {
    public var masker: LogMasker

    public init(masks: LogMasks = .all) { masker = LogMasker(masks: masks) }

    /// Splits and masks `line`.
    public func normalize(_ line: String) -> NormalizedLog {
        var (format, level, source, message) = parseEnvelope(Substring(line))
        if level == nil { level = leadingLevel(message) }
        return NormalizedLog(format: format, level: level, source: source, message: String(message), masked: masker.mask(message))
    }

    /// Normalizes raw bytes (invalid UTF-8 is repaired with U+FFFD first).
    public func normalize(utf8 bytes: [UInt8]) -> NormalizedLog { normalize(String(decoding: bytes, as: UTF8.self)) }

    func parseEnvelope(_ s: Substring) -> (LogFormat, String?, String?, Substring) {
        var start = s.utf8.startIndex
        while start < s.utf8.endIndex, s.utf8[start] == 32 || s.utf8[start] == 9 { start = s.utf8.index(after: start) }
        let trimmed = Substring(s.utf8[start...])
        guard let first = trimmed.utf8.first else { return (.plain, nil, nil, trimmed) }
        // Dispatch on the first byte so each line tries only the envelopes it can be.
        switch first {
        case UInt8(ascii: "{"):
            if let json = parseJSON(trimmed) { return json }
        case UInt8(ascii: "<"):
            if let syslog = parseSyslogPRI(trimmed) { return syslog }
        case UInt8(ascii: "I"), UInt8(ascii: "W"), UInt8(ascii: "E"), UInt8(ascii: "F"):
            if let k = parseKlog(trimmed) { return k }
            if let e = parseException(trimmed) { return e }
        case 48...57:
            if let n = parseNginxError(trimmed) { return n }
            if let a = parseAccess(trimmed) { return a }
            if let t = parseTimestamped(trimmed) { return t }
        case UInt8(ascii: "["):
            if let t = parseTimestamped(trimmed) { return t }
        case 65...90:
            if let b = parseBSDSyslog(trimmed, severity: nil) { return b }
            if let e = parseException(trimmed) { return e }
        case 97...122:
            if let a = parseAccess(trimmed) { return a }
            if let e = parseException(trimmed) { return e }
        default:
            break
        }
        return (.plain, nil, nil, trimmed)
    }

    // MARK: JSON

    /// The string values of `msg`/`message`/`log`, `level`/`severity`/`lvl` and `logger`/`source`/`service` from a
    /// flat JSON object, read without building it.
    func parseJSON(_ s: Substring) -> (LogFormat, String?, String?, Substring)? {
        var message: String?, level: String?, source: String?
        var fields = 0
        var i = s.utf8.index(after: s.utf8.startIndex)
        let u = s.utf8
        func skipSpaces() { while i < u.endIndex, u[i] == 32 || u[i] == 9 { i = u.index(after: i) } }
        func readString() -> String? {
            guard i < u.endIndex, u[i] == 34 else { return nil }
            i = u.index(after: i)
            var bytes: [UInt8] = []
            while i < u.endIndex, u[i] != 34 {
                if u[i] == 92 {  // escape
                    i = u.index(after: i)
                    guard i < u.endIndex else { return nil }
                    switch u[i] {
                    case UInt8(ascii: "n"): bytes.append(10)
                    case UInt8(ascii: "t"): bytes.append(9)
                    case UInt8(ascii: "r"): bytes.append(13)
                    case UInt8(ascii: "u"):
                        var value: UInt32 = 0, k = 0
                        while k < 4 { i = u.index(after: i); guard i < u.endIndex, let h = hexValue(u[i]) else { return nil }; value = value * 16 + h; k += 1 }
                        bytes += Array(String(Unicode.Scalar(value).map(Character.init) ?? "\u{FFFD}").utf8)
                    default: bytes.append(u[i])
                    }
                } else {
                    bytes.append(u[i])
                }
                i = u.index(after: i)
            }
            guard i < u.endIndex else { return nil }
            i = u.index(after: i)
            return String(decoding: bytes, as: UTF8.self)
        }
        func skipValue() -> Bool {
            guard i < u.endIndex else { return false }
            if u[i] == 34 { return readString() != nil }
            var depth = 0
            while i < u.endIndex {
                let c = u[i]
                if c == 34 { if readString() == nil { return false }; continue }
                if c == 123 || c == 91 { depth += 1 } else if c == 125 || c == 93 { if depth == 0 { return true }; depth -= 1 } else if c == 44 && depth == 0 { return true }
                i = u.index(after: i)
            }
            return false
        }
        while true {
            skipSpaces()
            guard i < u.endIndex else { return nil }
            if u[i] == 125 { break }
            guard let key = readString() else { return nil }
            skipSpaces()
            guard i < u.endIndex, u[i] == 58 else { return nil }
            i = u.index(after: i)
            skipSpaces()
            if i < u.endIndex, u[i] == 34 {
                guard let value = readString() else { return nil }
                switch key.lowercased() {
                case "msg", "message", "log": message = message ?? value
                case "level", "severity", "lvl", "loglevel": level = value.lowercased()
                case "logger", "source", "service", "component", "caller": source = source ?? value
                default: break
                }
            } else if !skipValue() { return nil }
            fields += 1
            skipSpaces()
            guard i < u.endIndex else { return nil }
            if u[i] == 44 { i = u.index(after: i); continue }
            if u[i] == 125 { break }
            return nil
        }
        guard let message, fields > 0 else { return nil }
        return (.json, normalizedLevel(level), source, Substring(message))
    }

    // MARK: syslog

    /// `<PRI>1 TIMESTAMP HOST APP PROCID MSGID SD MSG` (RFC 5424) or `<PRI>` + RFC 3164.
    func parseSyslogPRI(_ s: Substring) -> (LogFormat, String?, String?, Substring)? {
        guard let close = s.firstIndex(of: ">"), s.distance(from: s.startIndex, to: close) <= 4,
              let pri = Int(s[s.index(after: s.startIndex)..<close]), pri >= 0, pri < 192 else { return nil }
        let severity = syslogSeverity[pri % 8]
        let rest = s[s.index(after: close)...]
        if rest.hasPrefix("1 ") {
            var fields = rest.dropFirst(2).split(separator: " ", maxSplits: 5, omittingEmptySubsequences: false)
            guard fields.count == 6 else { return nil }
            let app = fields[2] == "-" ? nil : String(fields[2])
            var msg = fields[5]
            if msg.hasPrefix("[") {  // structured data: [id k="v" ...]... up to the matching bracket(s)
                var depth = 0, inQuote = false, end = msg.startIndex
                for idx in msg.indices {
                    let c = msg[idx]
                    if c == "\"" { inQuote.toggle() }
                    if !inQuote { if c == "[" { depth += 1 } else if c == "]" { depth -= 1 } }
                    end = idx
                    if depth == 0 && !inQuote && msg.index(after: idx) < msg.endIndex && msg[msg.index(after: idx)] == " " { break }
                }
                msg = msg[msg.index(after: end)...]
            } else if msg.hasPrefix("- ") {
                msg = msg.dropFirst(2)
            } else if msg == "-" {
                msg = ""
            }
            fields.removeAll()
            return (.syslog5424, severity, app, msg.drop { $0 == " " })
        }
        return parseBSDSyslog(rest, severity: severity).map { ($0.0, $0.1, $0.2, $0.3) }
    }

    /// `Mmm dd hh:mm:ss host tag[pid]: message` (RFC 3164).
    func parseBSDSyslog(_ s: Substring, severity: String?) -> (LogFormat, String?, String?, Substring)? {
        let u = Array(s.utf8.prefix(16))
        guard u.count == 16, months.contains(where: { $0.elementsEqual(u[0..<3]) }), u[3] == 32,
              (u[4] == 32 || isDigitByte(u[4])), isDigitByte(u[5]), u[6] == 32, isDigitByte(u[7]), isDigitByte(u[8]), u[9] == 58,
              isDigitByte(u[10]), isDigitByte(u[11]), u[12] == 58, isDigitByte(u[13]), isDigitByte(u[14]), u[15] == 32 else { return nil }
        let afterTime = s.utf8.dropFirst(16)
        guard let hostEnd = afterTime.firstIndex(of: 32) else { return nil }
        let rest = afterTime[afterTime.index(after: hostEnd)...]
        // The tag runs to the first ": " and holds no space.
        var i = rest.startIndex
        while i < rest.endIndex, rest[i] != 32 {
            if rest[i] == 58, rest.index(after: i) < rest.endIndex, rest[rest.index(after: i)] == 32 {
                var tagEnd = i
                if let bracket = rest[rest.startIndex..<i].firstIndex(of: 91) { tagEnd = bracket }
                return (.syslog3164, severity, String(Substring(rest[rest.startIndex..<tagEnd])), Substring(rest[rest.index(i, offsetBy: 2)...]))
            }
            i = rest.index(after: i)
        }
        return (.syslog3164, severity, nil, Substring(rest))
    }

    // MARK: generic timestamp-prefixed lines

    func parseTimestamped(_ s: Substring) -> (LogFormat, String?, String?, Substring)? {
        let u = Array(s.utf8.prefix(40))
        var k = u.first == 91 ? 1 : 0
        func digits(_ n: Int) -> Bool {
            guard k + n <= u.count, (k..<(k + n)).allSatisfy({ isDigitByte(u[$0]) }) else { return false }
            k += n
            return true
        }
        func byte(_ b: UInt8) -> Bool { guard k < u.count, u[k] == b else { return false }; k += 1; return true }
        guard digits(4), byte(45), digits(2), byte(45), digits(2), k < u.count, u[k] == 84 || u[k] == 32 else { return nil }
        k += 1
        guard digits(2), byte(58), digits(2), byte(58), digits(2) else { return nil }
        if k < u.count, u[k] == 46 || u[k] == 44 { k += 1; while k < u.count, isDigitByte(u[k]) { k += 1 } }
        _ = byte(90)
        _ = byte(93)
        var rest = Substring(s.utf8.dropFirst(k))
        var level: String?
        // Up to six header fields: "UTC", [..] groups, numbers, "---", a level word.
        for _ in 0..<6 {
            rest = rest.drop { $0 == " " }
            guard let word = rest.split(separator: " ", maxSplits: 1).first else { break }
            if word.hasPrefix("[") {
                // Bracket groups, possibly several glued together: [12][warning][upstream]
                var groups = word
                while groups.hasPrefix("["), let close = groups.firstIndex(of: "]") {
                    let inner = groups[groups.index(after: groups.startIndex)..<close]
                    if level == nil, let l = normalizedLevel(String(inner)), knownLevels.contains(l) { level = l }
                    groups = groups[groups.index(after: close)...]
                }
                guard groups.isEmpty else { break }
            } else if word == "UTC" || word == "---" || word.allSatisfy(\.isNumber) {
                // skip
            } else if level == nil, let l = normalizedLevel(String(word.hasSuffix(":") ? word.dropLast() : word)), knownLevels.contains(l) {
                level = l
            } else if word.hasSuffix(":") && word.dropLast().allSatisfy({ $0.isUppercase }) && !word.dropLast().isEmpty {
                level = normalizedLevel(String(word.dropLast()))  // PostgreSQL's LOG:/FATAL:/PANIC:
            } else {
                break
            }
            rest = rest.dropFirst(word.count)
        }
        return (.timestamped, level, nil, rest.drop { $0 == " " })
    }

    // MARK: klog, nginx, access logs, exceptions

    /// `I1129 01:02:03.456789   12345 file.go:123] message`.
    func parseKlog(_ s: Substring) -> (LogFormat, String?, String?, Substring)? {
        let u = Array(s.utf8.prefix(22))
        guard u.count >= 22, [73, 87, 69, 70].contains(u[0]), (1...4).allSatisfy({ isDigitByte(u[$0]) }), u[5] == 32,
              isDigitByte(u[6]), isDigitByte(u[7]), u[8] == 58, isDigitByte(u[9]), isDigitByte(u[10]), u[11] == 58,
              let close = s.firstIndex(of: "]") else { return nil }
        let header = s[..<close]
        let source = header.split(separator: " ").last.map { String($0.split(separator: ":").first ?? $0) }
        let level = ["I": "info", "W": "warning", "E": "error", "F": "fatal"][String(s.first!)]
        return (.klog, level, source, s[s.index(after: close)...].drop { $0 == " " })
    }

    /// `2026/11/29 01:02:03 [error] 1234#0: *5 message`.
    func parseNginxError(_ s: Substring) -> (LogFormat, String?, String?, Substring)? {
        let u = Array(s.utf8.prefix(21))
        guard u.count == 21, isDigitByte(u[0]), u[4] == 47, u[7] == 47, u[10] == 32, u[13] == 58, u[19] == 32, u[20] == 91,
              let close = s.firstIndex(of: "]") else { return nil }
        let level = String(s[s.index(s.startIndex, offsetBy: 21)..<close]).lowercased()
        var rest = s[s.index(after: close)...].drop { $0 == " " }
        if let colon = rest.range(of: ": "), rest[..<colon.lowerBound].allSatisfy({ $0.isNumber || $0 == "#" }) { rest = rest[colon.upperBound...] }
        return (.nginxError, normalizedLevel(level), "nginx", rest)
    }

    /// `IP - user [date] "METHOD /path HTTP/1.1" status bytes "referer" "agent"` (combined/common log format).
    func parseAccess(_ s: Substring) -> (LogFormat, String?, String?, Substring)? {
        let u = s.utf8
        var spaces = 0
        var i = u.startIndex
        var scanned = 0
        while i < u.endIndex, u[i] != 91 {  // up to '['
            if u[i] == 32 { spaces += 1 }
            i = u.index(after: i)
            scanned += 1
            if scanned > 80 || spaces > 3 { return nil }
        }
        guard i < u.endIndex, spaces == 3, let close = u[i...].firstIndex(of: 93) else { return nil }
        let afterClose = u.index(after: close)
        guard afterClose < u.endIndex, u[afterClose] == 32, u.index(after: afterClose) < u.endIndex, u[u.index(after: afterClose)] == 34 else { return nil }
        return (.accessLog, nil, "http", Substring(u[u.index(after: afterClose)...]))
    }

    /// `java.lang.NullPointerException: …`, `Exception in thread "main" …`, `Traceback (most recent call last):`,
    /// `ValueError: …`.
    func parseException(_ s: Substring) -> (LogFormat, String?, String?, Substring)? {
        if s.hasPrefix("Traceback (most recent call last)") { return (.pythonException, "error", nil, s) }
        var body = s
        if body.hasPrefix("Exception in thread \""), let q = body.dropFirst(21).firstIndex(of: "\"") {
            body = body[body.index(after: q)...].drop { $0 == " " }
        }
        let head = body.prefix { $0 != ":" && $0 != " " }
        guard head.hasSuffix("Exception") || head.hasSuffix("Error"), let firstChar = head.first, firstChar.isLetter else { return nil }
        let format: LogFormat = head.contains(".") ? .javaException : .pythonException
        return (format, "error", String(head), s)
    }

    /// A level word opening a plain message: `ERROR …`, `[warn] …`, `level=info …`.
    func leadingLevel(_ s: Substring) -> String? {
        var word = s.utf8.prefix { $0 != 32 && $0 != 58 }
        guard word.count <= 16 else { return nil }
        if word.first == 91 && word.last == 93 { word = word.dropFirst().dropLast() }
        var lower = word.map { $0 >= 65 && $0 <= 90 ? $0 + 32 : $0 }
        if lower.starts(with: Array("level=".utf8)) { lower.removeFirst(6) }
        guard !lower.isEmpty, lower.allSatisfy({ $0 >= 97 && $0 <= 122 }) else { return nil }
        return normalizedLevel(String(decoding: lower, as: UTF8.self)).flatMap { knownLevels.contains($0) ? $0 : nil }
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
@inline(__always) private func isDigitByte(_ c: UInt8) -> Bool { c >= 48 && c <= 57 }
private func hexValue(_ c: UInt8) -> UInt32? {
    switch c {
    case 48...57: return UInt32(c - 48)
    case 97...102: return UInt32(c - 87)
    case 65...70: return UInt32(c - 55)
    default: return nil
    }
}
