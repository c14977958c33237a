import DistillCore
import DistillText
import DistillTraining
import Foundation

/// Rule-based augmentation of log lines: new variable values of the same type, token dropout, log-domain
/// synonym swaps and envelope changes. Each copy keeps the meaning — and so the label — of its source line.
public struct LogAugmenter: Sendable {
    /// Which rules run (the recipe's `augmentation` block).
    public struct Options: Sendable, Equatable {
        /// Copies made per source line.
        public var copies = 2
        public var resampleVariables = true
        /// Probability of dropping each plain word (never a placeholder; at least two words stay).
        public var tokenDropout: Double = 0.1
        public var synonyms = true
        public var envelopes = true
        public init() {}
    }

    public var options: Options
    public var seed: UInt64
    let masker = LogMasker()
    let normalizer = LogNormalizer()

    public init(options: Options = Options(), seed: UInt64) {
        self.options = options
        self.seed = seed
    }

    /// `options.copies` augmented versions of `line` (deterministic for a seed, the line and its index).
    public func augment(_ line: String, index: Int = 0) -> [String] {
        var g = RandomGenerator(seed: seed ^ (UInt64(truncatingIfNeeded: index) &* 0x9E37_79B9_7F4A_7C15))
        let parsed = normalizer.normalize(line)
        return (0..<options.copies).map { _ in
            // With resampling, rules work on the masked message and placeholders get new values at the end;
            // without, on the original words (variables, i.e. words with digits, are never dropped).
            var words = (options.resampleVariables ? parsed.masked : parsed.message).split(separator: " ").map(String.init)
            if options.synonyms {
                words = words.flatMap { w -> [String] in
                    let key = w.lowercased()
                    guard let choices = logSynonyms[key], g.nextUniform() < 0.5 else { return [w] }
                    return choices[Int(g.next() % UInt64(choices.count))].split(separator: " ").map(String.init)
                }
            }
            if options.tokenDropout > 0 && words.count > 3 {
                var kept = words.filter { w in w.hasPrefix("<") || w.contains(where: \.isNumber) || Double(g.nextUniform()) >= options.tokenDropout }
                if kept.count < 2 { kept = words }
                words = kept
            }
            var message = words.joined(separator: " ")
            if options.resampleVariables { message = fillPlaceholders(message, &g) }
            if options.envelopes { return wrap(message, level: parsed.level, source: parsed.source, &g) }
            return message
        }
    }

    /// Replaces typed placeholders with new values of the same type.
    func fillPlaceholders(_ masked: String, _ g: inout RandomGenerator) -> String {
        substitutePlaceholders(masked, open: "<", close: ">") { kind in
            func n(_ upper: UInt64) -> UInt64 { g.next() % upper }
            switch kind {
            case "IP": return "10.\(n(256)).\(n(256)).\(1 + n(254))"
            case "PORT": return "\(1024 + n(64000))"
            case "NUM": return "\(n(10_000))"
            case "HEX": return "0x" + String(g.next() & 0xFFFF_FFFF, radix: 16)
            case "UUID": return UUID(uuid: (UInt8(n(256)), UInt8(n(256)), UInt8(n(256)), UInt8(n(256)), UInt8(n(256)), UInt8(n(256)), 0x40, UInt8(n(256)),
                                            0x80, UInt8(n(256)), UInt8(n(256)), UInt8(n(256)), UInt8(n(256)), UInt8(n(256)), UInt8(n(256)), UInt8(n(256)))).uuidString.lowercased()
            case "PATH": return ["/var/lib/app/\(n(99))", "/data/\(n(9999)).log", "/api/v1/items/\(n(9999))", "/tmp/\(n(999))"][Int(n(4))]
            case "URL": return "https://svc-\(n(20)).internal/api/\(n(99))"
            case "EMAIL": return ["ops", "alice", "noreply"][Int(n(3))] + "@example.com"
            case "TIME": return "2026-11-\(10 + n(19))T\(10 + n(13)):\(10 + n(49)):\(10 + n(49))Z"
            case "DURATION": return ["\(n(900))ms", "\(1 + n(30))s", "\(1 + n(9))m"][Int(n(3))]
            case "SIZE": return ["\(1 + n(512))MiB", "\(1 + n(16))GB", "\(n(4096))kB"][Int(n(3))]
            case "POD": return String(n(0xFFFF_FFFF), radix: 36).prefix(9) + "-" + String(n(60_000_000), radix: 36).prefix(5)
            default: return "<\(kind)>"
            }
        }
    }

    func wrap(_ message: String, level: String?, source: String?, _ g: inout RandomGenerator) -> String {
        let lvl = level ?? "info", src = source ?? "app"
        let time = "2026-11-29T\(10 + g.next() % 13):\(10 + g.next() % 49):\(10 + g.next() % 49)Z"
        switch g.next() % 4 {
        case 0:
            let object: [String: Any] = ["ts": time, "level": lvl, "logger": src, "msg": message]
            return String(decoding: (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data(), as: UTF8.self)
        case 1: return "Nov 29 0\(g.next() % 10):1\(g.next() % 10):2\(g.next() % 10) node-\(g.next() % 30) \(src)[\(100 + g.next() % 9000)]: \(message)"
        case 2: return "\(lvl == "error" ? "E" : lvl == "warning" ? "W" : "I")1129 01:02:03.\(100_000 + g.next() % 900_000)   \(g.next() % 9000) \(src).go:\(g.next() % 900)] \(message)"
        default: return "\(time) \(lvl.uppercased()) [\(src)] \(message)"
        }
    }
}

/// Log-domain synonyms: words an operator would use interchangeably.
let logSynonyms: [String: [String]] = [
    "error": ["failure", "fault"], "failed": ["unsuccessful", "errored"], "failure": ["error", "fault"],
    "connection": ["conn", "connectivity"], "refused": ["rejected", "denied"], "denied": ["refused", "rejected"],
    "timeout": ["time-out", "timed out"], "timed": ["ran"], "database": ["db", "DB"], "db": ["database"],
    "unable": ["cannot", "could not"], "cannot": ["can't", "unable to"], "disk": ["volume", "drive"],
    "memory": ["RAM", "mem"], "user": ["account"], "invalid": ["bad", "malformed"], "unavailable": ["down", "not available"],
    "started": ["launched", "began"], "completed": ["finished", "done"], "exceeded": ["over", "above"],
    "request": ["call", "req"], "server": ["host", "node"], "restarting": ["rebooting", "relaunching"],
    "killed": ["terminated", "stopped"], "missing": ["absent", "not found"], "ok": ["healthy", "fine"],
]

/// Keeps the augmented examples whose teacher probability of their source label is at least `threshold`;
/// returns the kept indices and how many were dropped.
public func filterByTeacher(_ probabilities: [[Float]], labels: [Int], threshold: Float) -> (kept: [Int], dropped: Int) {
    var kept: [Int] = []
    for (i, p) in probabilities.enumerated() where argmax(p) == labels[i] && p[labels[i]] >= threshold { kept.append(i) }
    return (kept, probabilities.count - kept.count)
}
