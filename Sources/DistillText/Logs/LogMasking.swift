/// Which variable kinds the log normalizer replaces with typed placeholders.
public struct LogMasks: OptionSet, Sendable, Hashable, Codable {
    public let rawValue: Int
    public init(rawValue: Int) { self.rawValue = rawValue }

    /// IPv4/IPv6 addresses, with an optional port: `<IP>`, `<IP>:<PORT>`.
    public static let ip = LogMasks(rawValue: 1 << 0)
    /// Integers and decimals (a trailing `%` is kept): `<NUM>`.
    public static let number = LogMasks(rawValue: 1 << 1)
    /// `0x…` and long hexadecimal ids: `<HEX>`.
    public static let hex = LogMasks(rawValue: 1 << 2)
    public static let uuid = LogMasks(rawValue: 1 << 3)
    /// Unix and Windows paths: `<PATH>`.
    public static let path = LogMasks(rawValue: 1 << 4)
    public static let url = LogMasks(rawValue: 1 << 5)
    public static let email = LogMasks(rawValue: 1 << 6)
    /// Dates, times and ISO 8601 timestamps: `<TIME>`.
    public static let timestamp = LogMasks(rawValue: 1 << 7)
    /// `250ms`, `1.5s`, `3h`: `<DURATION>`.
    public static let duration = LogMasks(rawValue: 1 << 8)
    /// `512MiB`, `10GB`, `4096kB`: `<SIZE>`.
    public static let size = LogMasks(rawValue: 1 << 9)
    /// Kubernetes generated suffixes: `payments-7f9c8d6b5-x2k4q` → `payments-<POD>`.
    public static let pod = LogMasks(rawValue: 1 << 10)

    public static let all: LogMasks = [.ip, .number, .hex, .uuid, .path, .url, .email, .timestamp, .duration, .size, .pod]

    /// Recipe names of the masks.
    public static let names: [(String, LogMasks)] = [
        ("ip", .ip), ("number", .number), ("hex", .hex), ("uuid", .uuid), ("path", .path), ("url", .url), ("email", .email),
        ("timestamp", .timestamp), ("duration", .duration), ("size", .size), ("pod", .pod),
    ]
}

/// Replaces variable tokens of a log message with typed placeholders, scanning UTF-8 bytes once (no regular
/// expressions): the hot path of the log normalizer.
///
/// Tokens are cut at whitespace and at `"'()[]{},;<>=|`; each token (less trailing `.:!?`) is classified as URL,
/// email, path, UUID, timestamp, IP(:port), duration, size, hex, number or pod name, in that order, and replaced
/// when its mask is enabled. Bytes that are not valid UTF-8 pass through unchanged.
public struct LogMasker: Sendable {
    public var masks: LogMasks

    public init(masks: LogMasks = .all) { self.masks = masks }

    /// The masked text.
    public func mask(_ text: String) -> String { mask(Substring(text)) }

    /// The masked text of a substring (no copy when its storage is contiguous UTF-8, as native strings are).
    public func mask(_ text: Substring) -> String {
        var out = [UInt8]()
        let done: Void? = text.utf8.withContiguousStorageIfAvailable { bytes in
            out.reserveCapacity(bytes.count + 16)
            mask(bytes, into: &out)
        }
        if done == nil {
            let copy = Array(text.utf8)
            out.reserveCapacity(copy.count + 16)
            copy.withUnsafeBufferPointer { mask($0, into: &out) }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// The masked text of UTF-8 bytes.
    public func mask(_ bytes: UnsafeBufferPointer<UInt8>) -> String {
        var out = [UInt8]()
        out.reserveCapacity(bytes.count + 16)
        mask(bytes, into: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// Masks `bytes`, appending to `out`.
    public func mask(_ bytes: UnsafeBufferPointer<UInt8>, into out: inout [UInt8]) {
        let n = bytes.count
        var i = 0
        while i < n {
            let c = bytes[i]
            if c == 91, masks.contains(.ip), let (end, port) = bracketedIPv6(bytes, at: i) {
                out.append(contentsOf: port ? placeholder.ipPort : placeholder.ip)
                i = end
                continue
            }
            if isDelimiter(c) { out.append(c); i += 1; continue }
            var j = i
            while j < n && !isDelimiter(bytes[j]) { j += 1 }
            // Paths and URLs keep their query strings: extend past '=', '(' and the like up to a hard stop.
            if c == 47 || hasScheme(bytes, i, j) {
                while j < n && !isHardStop(bytes[j]) { j += 1 }
            }
            // Trailing sentence punctuation stays outside the token.
            var end = j
            while end > i + 1, isTrailingPunctuation(bytes[end - 1]) { end -= 1 }
            let token = UnsafeBufferPointer(rebasing: bytes[i..<end])
            if let placeholder = classify(token) {
                out.append(contentsOf: placeholder)
            } else {
                out.append(contentsOf: token)
            }
            if end < j { out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[end..<j])) }
            i = j
        }
    }

    /// `[v6]` or `[v6]:port` starting at `start`: the end index and whether a port follows.
    private func bracketedIPv6(_ b: UnsafeBufferPointer<UInt8>, at start: Int) -> (Int, Bool)? {
        var close = start + 1
        while close < b.count && close - start < 48 && b[close] != 93 { close += 1 }
        guard close < b.count, b[close] == 93, close > start + 2,
              ipv6(UnsafeBufferPointer(rebasing: b[(start + 1)..<close])) == false else { return nil }
        var end = close + 1
        if end + 1 < b.count, b[end] == 58, isDigit(b[end + 1]) {
            end += 1
            while end < b.count && isDigit(b[end]) { end += 1 }
            return (end, true)
        }
        return (end, false)
    }

    private func hasScheme(_ b: UnsafeBufferPointer<UInt8>, _ i: Int, _ j: Int) -> Bool {
        var k = i
        while k + 2 < j {
            if b[k] == 58 && b[k + 1] == 47 && b[k + 2] == 47 { return k > i }
            if !isLetter(b[k]) { return false }
            k += 1
        }
        return false
    }

    /// The placeholder for a token, or nil to keep it.
    func classify(_ t: UnsafeBufferPointer<UInt8>) -> [UInt8]? {
        let n = t.count
        guard n > 0 else { return nil }
        var digits = 0, letters = 0, hexLetters = 0, colons = 0, dots = 0, slashes = 0, ats = 0, dashes = 0, backslashes = 0
        for c in t {
            switch c {
            case 48...57: digits += 1
            case 97...102, 65...70: letters += 1; hexLetters += 1
            case 103...122, 71...90: letters += 1
            case 58: colons += 1
            case 46: dots += 1
            case 47: slashes += 1
            case 64: ats += 1
            case 45: dashes += 1
            case 92: backslashes += 1
            default: break
            }
        }
        if masks.contains(.url), colons > 0, slashes >= 2, let p = firstIndex(of: 58, in: t), p > 0, p + 2 < n, t[p + 1] == 47, t[p + 2] == 47,
           t[0..<p].allSatisfy(isLetter) {
            return placeholder.url
        }
        if masks.contains(.email), ats == 1, let p = firstIndex(of: 64, in: t), p > 0, p < n - 3,
           t[(p + 1)...].contains(46), t[..<p].allSatisfy({ isAlnum($0) || $0 == 46 || $0 == 95 || $0 == 45 || $0 == 43 }) {
            return placeholder.email
        }
        if masks.contains(.path) {
            if (t[0] == 47 && n > 1 && slashes >= 1 && (isAlnum(t[1]) || t[1] == 46 || t[1] == 95 || t[1] == 47 || t[1] == 126))
                || (n > 2 && t[0] == 126 && t[1] == 47)
                || (n > 2 && t[0] == 46 && t[1] == 47)
                || (n > 3 && isLetter(t[0]) && t[1] == 58 && t[2] == 92) {
                return placeholder.path
            }
        }
        if masks.contains(.uuid), n == 36, t[8] == 45, t[13] == 45, t[18] == 45, t[23] == 45,
           t.enumerated().allSatisfy({ [8, 13, 18, 23].contains($0.offset) || isHex($0.element) }) {
            return placeholder.uuid
        }
        if masks.contains(.timestamp), digits >= 4, isTimestamp(t) { return placeholder.time }
        if masks.contains(.ip) {
            if let port = ipv4(t) { return port ? placeholder.ipPort : placeholder.ip }
            if colons >= 2, let port = ipv6(t) { return port ? placeholder.ipPort : placeholder.ip }
            // An address glued to what follows: `10.251.30.85:50010:Got`, `10.0.0.1:rest`.
            if colons >= 1, dots >= 3, isDigit(t[0]), let glued = gluedIPv4(t) { return glued }
        }
        if digits > 0 && isDigit(t[0]) || (n > 1 && (t[0] == 45 || t[0] == 43) && isDigit(t[1])) {
            // number, then an optional unit
            var k = (t[0] == 45 || t[0] == 43) ? 1 : 0
            while k < n && isDigit(t[k]) { k += 1 }
            if k < n - 1 && t[k] == 46 && isDigit(t[k + 1]) { k += 1; while k < n && isDigit(t[k]) { k += 1 } }
            if k == n { return masks.contains(.number) ? placeholder.number : nil }
            let unit = UnsafeBufferPointer(rebasing: t[k..<n])
            if masks.contains(.duration), isDurationUnit(unit) { return placeholder.duration }
            if masks.contains(.size), isSizeUnit(unit) { return placeholder.size }
            if masks.contains(.number), unit.count == 1, unit[0] == 37 { return placeholder.percent }
        }
        if masks.contains(.hex) {
            if n > 2, t[0] == 48, t[1] == 120 || t[1] == 88, t[2...].allSatisfy(isHex) { return placeholder.hex }
            // Java identity hashes and short commit ids are 6-7 hex digits: at least 2 digits and a hex letter.
            if n >= 8, digits > 0, hexLetters > 0, digits + hexLetters == n { return placeholder.hex }
            if n >= 6, digits >= 2, hexLetters > 0, digits + hexLetters == n { return placeholder.hex }
        }
        if masks.contains(.pod), dashes >= 2, let cut = podSuffixStart(t) {
            return Array(t[..<cut]) + placeholder.pod
        }
        if masks.contains(.number), digits == n { return placeholder.number }
        if masks.contains(.number), digits > 0, let rewritten = maskDigitSegments(t) { return rewritten }
        return nil
    }

    /// Identifiers built from words and numbers — `blk_-38865049064139660`, `rdd_2_1`, `part-00296`,
    /// `host-10-105-160-95`, `1514038440000##7034` — with each number that stands as a segment of its own
    /// (between `_ - = : # @ / +` or the token's ends) replaced by `<NUM>`; a `-` between such a separator and
    /// the digits is the number's sign. Digits joined to letters (`sda1`, `ext4`, `x86`) stay. Nil when no
    /// segment is a number.
    private func maskDigitSegments(_ t: UnsafeBufferPointer<UInt8>) -> [UInt8]? {
        let n = t.count
        var out: [UInt8] = []
        var changed = false
        var k = 0
        while k < n {
            guard isDigit(t[k]) else { out.append(t[k]); k += 1; continue }
            var end = k
            while end < n && isDigit(t[end]) { end += 1 }
            let before: UInt8? = k > 0 ? t[k - 1] : nil
            let after: UInt8? = end < n ? t[end] : nil
            let opens = before.map(isSegmentSeparator) ?? true
            let closes = after.map(isSegmentSeparator) ?? true
            if opens && closes {
                // `blk_-123`: the sign joins the number.
                if before == 45, k >= 2, isSegmentSeparator(t[k - 2]), t[k - 2] != 45 { out.removeLast() }
                out.append(contentsOf: placeholder.number)
                changed = true
            } else {
                out.append(contentsOf: UnsafeBufferPointer(rebasing: t[k..<end]))
            }
            k = end
        }
        return changed ? out : nil
    }

    // MARK: token shapes

    /// `a.b.c.d` with optional `:port`; returns whether a port is present, nil if not IPv4.
    private func ipv4(_ t: UnsafeBufferPointer<UInt8>) -> Bool? {
        var parts = 0, k = 0, n = t.count
        var port = false
        if let c = lastIndex(of: 58, in: t) {
            guard c + 1 < n, t[(c + 1)...].allSatisfy(isDigit) else { return nil }
            port = true
            n = c
        }
        while k < n {
            var len = 0, value = 0
            // At most 3 digits an octet: a longer run (an HDFS block id has 19) is no address, and reading it
            // further would overflow.
            while k < n && isDigit(t[k]) {
                guard len < 3 else { return nil }
                value = value * 10 + Int(t[k] - 48); len += 1; k += 1
            }
            guard len >= 1, value <= 255 else { return nil }
            parts += 1
            if k < n { guard t[k] == 46, parts < 4 else { return nil }; k += 1 }
        }
        return parts == 4 && t[n - 1] != 46 ? port : nil
    }

    /// `a.b.c.d:rest` or `a.b.c.d:port:rest` with a non-empty rest: the address (and port) masked, the rest kept.
    private func gluedIPv4(_ t: UnsafeBufferPointer<UInt8>) -> [UInt8]? {
        var cuts: [Int] = []
        for k in 0..<t.count where t[k] == 58 && cuts.count < 2 { cuts.append(k) }
        // The longer prefix first, so that a port is taken with its address.
        for k in cuts.reversed() where k + 1 < t.count {
            if let port = ipv4(UnsafeBufferPointer(rebasing: t[..<k])) {
                return (port ? placeholder.ipPort : placeholder.ip) + [58] + Array(t[(k + 1)...])
            }
        }
        return nil
    }

    /// IPv6 (`::1`, `2001:db8::1`, `[fe80::1]:443`); returns whether a port is present.
    private func ipv6(_ t: UnsafeBufferPointer<UInt8>) -> Bool? {
        var body = t[...], port = false
        if t[0] == 91 {
            guard let close = firstIndex(of: 93, in: t) else { return nil }
            body = t[1..<close]
            if close + 1 < t.count {
                guard t[close + 1] == 58, close + 2 < t.count, t[(close + 2)...].allSatisfy(isDigit) else { return nil }
                port = true
            }
        }
        var groups = 0, run = 0, doubleColon = false, previousColon = false
        for c in body {
            if c == 58 {
                if previousColon { if doubleColon { return nil }; doubleColon = true }
                previousColon = true
                if run > 0 { groups += 1 }
                run = 0
            } else if isHex(c) {
                run += 1
                previousColon = false
                if run > 4 { return nil }
            } else if c == 46 {
                return nil  // embedded IPv4 forms are left alone
            } else {
                return nil
            }
        }
        if run > 0 { groups += 1 }
        guard groups <= 8, doubleColon || groups == 8, body.count >= 2 else { return nil }
        return port
    }

    /// `2026-11-29`, `2026-11-29T01:02:03.456Z`, `2026/11/29`, `01:02:03`, `01:02:03.456789`, `+01:00`-suffixed.
    private func isTimestamp(_ t: UnsafeBufferPointer<UInt8>) -> Bool {
        let n = t.count
        func digitsAt(_ p: Int, _ count: Int) -> Bool { p + count <= n && (p..<(p + count)).allSatisfy { isDigit(t[$0]) } }
        var k = 0
        if digitsAt(0, 4), n >= 10, t[4] == 45 || t[4] == 47, digitsAt(5, 2), t[7] == t[4], digitsAt(8, 2) {
            k = 10
            if k == n { return true }
            guard t[k] == 84 || t[k] == 95 else { return false }  // 'T' or '_'
            k += 1
        }
        guard digitsAt(k, 2), k + 2 < n, t[k + 2] == 58, digitsAt(k + 3, 2) else { return k == n && k > 0 }
        k += 5
        if k < n && t[k] == 58 { guard digitsAt(k + 1, 2) else { return false }; k += 3 }
        if k < n && (t[k] == 46 || t[k] == 44) { k += 1; while k < n && isDigit(t[k]) { k += 1 } }
        if k < n && t[k] == 90 { k += 1 }
        if k < n && (t[k] == 43 || t[k] == 45) { k += 1; while k < n && (isDigit(t[k]) || t[k] == 58) { k += 1 } }
        return k == n
    }

    /// The start of a Kubernetes generated suffix: `-[a-z0-9]{9,10}-[a-z0-9]{5}` (ReplicaSet pod) or a trailing
    /// `-[a-z0-9]{5}` (DaemonSet/Job pod) with at least one digit.
    private func podSuffixStart(_ t: UnsafeBufferPointer<UInt8>) -> Int? {
        guard let last = lastIndex(of: 45, in: t), t.count - last - 1 == 5 else { return nil }
        let tail = t[(last + 1)...]
        guard tail.allSatisfy({ isLowerAlnum($0) }), tail.contains(where: isDigit) else { return nil }
        if let previous = lastIndex(of: 45, in: UnsafeBufferPointer(rebasing: t[..<last])) {
            let middle = t[(previous + 1)..<last]
            if (9...10).contains(middle.count), middle.allSatisfy(isLowerAlnum), middle.contains(where: isDigit) { return previous + 1 }
        }
        return last + 1
    }

    private func isDurationUnit(_ u: UnsafeBufferPointer<UInt8>) -> Bool {
        durationUnits.contains { $0.elementsEqual(u) } || compoundDuration(u)
    }

    /// `1m30s`, `2h5m` after the leading number.
    private func compoundDuration(_ u: UnsafeBufferPointer<UInt8>) -> Bool {
        guard u.count >= 3, isHMS(u[0]) else { return false }
        var k = 0
        while k < u.count {
            guard isHMS(u[k]) else { return false }
            k += 1
            if k < u.count && u[k - 1] == 109 && u[k] == 115 { k += 1 }  // "ms"
            guard k == u.count || isDigit(u[k]) else { return false }
            while k < u.count && isDigit(u[k]) { k += 1 }
        }
        return true
    }

    private func isSizeUnit(_ u: UnsafeBufferPointer<UInt8>) -> Bool { sizeUnits.contains { $0.elementsEqual(u) } }
}

private enum placeholder {
    static let ip = Array("<IP>".utf8), ipPort = Array("<IP>:<PORT>".utf8), number = Array("<NUM>".utf8)
    static let percent = Array("<NUM>%".utf8), hex = Array("<HEX>".utf8), uuid = Array("<UUID>".utf8)
    static let path = Array("<PATH>".utf8), url = Array("<URL>".utf8), email = Array("<EMAIL>".utf8)
    static let time = Array("<TIME>".utf8), duration = Array("<DURATION>".utf8), size = Array("<SIZE>".utf8)
    static let pod = Array("<POD>".utf8)
}

private let durationUnits: [[UInt8]] = ["ns", "us", "µs", "ms", "s", "sec", "secs", "seconds", "m", "min", "mins", "minutes", "h", "hr", "hours", "d", "days"].map { Array($0.utf8) }
private let sizeUnits: [[UInt8]] = ["B", "b", "KB", "kB", "K", "KiB", "Ki", "MB", "M", "MiB", "Mi", "GB", "G", "GiB", "Gi", "TB", "T", "TiB", "Ti", "bytes", "kb", "mb", "gb"].map { Array($0.utf8) }

@inline(__always) private func isDelimiter(_ c: UInt8) -> Bool {
    switch c {
    case 32, 9, 10, 13, 34, 39, 40, 41, 91, 93, 123, 125, 44, 59, 60, 62, 61, 124: return true
    default: return false
    }
}
@inline(__always) private func isHardStop(_ c: UInt8) -> Bool {
    switch c {
    case 32, 9, 10, 13, 34, 39, 60, 62, 41, 93, 125, 44, 59: return true
    default: return false
    }
}
@inline(__always) private func isSegmentSeparator(_ c: UInt8) -> Bool {
    c == 95 || c == 45 || c == 61 || c == 58 || c == 35 || c == 64 || c == 47 || c == 43
}
@inline(__always) private func isTrailingPunctuation(_ c: UInt8) -> Bool { c == 46 || c == 58 || c == 33 || c == 63 }
@inline(__always) private func isHMS(_ c: UInt8) -> Bool { c == 104 || c == 109 || c == 115 }
@inline(__always) private func isDigit(_ c: UInt8) -> Bool { c >= 48 && c <= 57 }
@inline(__always) private func isLetter(_ c: UInt8) -> Bool { (c >= 97 && c <= 122) || (c >= 65 && c <= 90) }
@inline(__always) private func isAlnum(_ c: UInt8) -> Bool { isDigit(c) || isLetter(c) }
@inline(__always) private func isLowerAlnum(_ c: UInt8) -> Bool { isDigit(c) || (c >= 97 && c <= 122) }
@inline(__always) private func isHex(_ c: UInt8) -> Bool { isDigit(c) || (c >= 97 && c <= 102) || (c >= 65 && c <= 70) }
@inline(__always) private func firstIndex(of byte: UInt8, in t: UnsafeBufferPointer<UInt8>) -> Int? { t.firstIndex(of: byte) }
@inline(__always) private func lastIndex(of byte: UInt8, in t: UnsafeBufferPointer<UInt8>) -> Int? { t.lastIndex(of: byte) }
