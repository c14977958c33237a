import DistillCore
import DistillText
import Foundation

/// Generates realistic multi-service log lines with labels: 14 sources (kubelet, nginx, PostgreSQL, MySQL, Redis,
/// Kafka, JVM and Python services, sshd/PAM, kernel, systemd, CoreDNS, Envoy, generic apps), 200+ templates with
/// each source's own envelope, realistic variable values, a mostly-normal label mix, optional label noise, and a
/// held-out-template split: templates marked `test` never appear in `train` lines.
public struct LogCorpusGenerator: Sendable {
    /// One generated line.
    public struct Record: Codable, Sendable, Equatable {
        public var text: String
        public var label: String
        /// The label before noise was applied (equal to `label` without noise).
        public var trueLabel: String
        public var source: String
        /// Index of the template in ``LogCorpusGenerator/templates``.
        public var template: Int
        /// Paraphrase family: templates that say the same thing in other words.
        public var family: Int
        /// "train" or "test" (held-out templates).
        public var split: String
    }

    public var seed: UInt64
    /// Share of `normal` lines (the rest is spread evenly over the other labels).
    public var normalShare = 0.6
    /// Fraction of lines whose label is replaced by a random other label.
    public var labelNoise = 0.0
    /// Fraction of each label's templates held out for the test split (at least one when the label has 3+).
    public var heldOutFraction = 0.2

    public init(seed: UInt64) { self.seed = seed }

    /// All templates, in a fixed order (a template's index is its id).
    public static var templates: [LogTemplate] { logTemplates }

    /// Which templates are held out: per label, a seeded choice of `heldOutFraction` of its templates.
    public func heldOutTemplates() -> Set<Int> {
        var g = RandomGenerator(seed: seed ^ 0x5EED_5EED)
        var out = Set<Int>()
        for label in LogTaxonomy.labels {
            var ids = logTemplates.indices.filter { logTemplates[$0].label == label }
            ids.shuffle(using: &g)
            let k = ids.count >= 3 ? max(1, Int((Double(ids.count) * heldOutFraction).rounded())) : 0
            out.formUnion(ids.prefix(k))
        }
        return out
    }

    /// `count` records; lines of held-out templates are marked `test`.
    public func generate(count: Int) -> [Record] {
        var g = RandomGenerator(seed: seed)
        let held = heldOutTemplates()
        let byLabel = Dictionary(grouping: logTemplates.indices, by: { logTemplates[$0].label })
        let others = LogTaxonomy.labels.filter { $0 != "normal" }
        var records: [Record] = []
        records.reserveCapacity(count)
        for _ in 0..<count {
            let label = Double(g.nextUniform()) < normalShare ? "normal" : others[Int(g.next() % UInt64(others.count))]
            let candidates = byLabel[label]!
            let id = candidates[Int(g.next() % UInt64(candidates.count))]
            let t = logTemplates[id]
            let message = fill(t.text, &g)
            let text = envelope(source: t.source, label: label, message: message, &g)
            var shown = label
            if labelNoise > 0 && Double(g.nextUniform()) < labelNoise {
                let alternatives = LogTaxonomy.labels.filter { $0 != label }
                shown = alternatives[Int(g.next() % UInt64(alternatives.count))]
            }
            records.append(Record(text: text, label: shown, trueLabel: label, source: t.source, template: id, family: t.family,
                                  split: held.contains(id) ? "test" : "train"))
        }
        return records
    }

    // MARK: variables and envelopes

    func fill(_ template: String, _ g: inout RandomGenerator) -> String {
        substitutePlaceholders(template, open: "{", close: "}") { value(String($0), &g) }
    }

    func value(_ kind: String, _ g: inout RandomGenerator) -> String {
        func pick(_ xs: [String]) -> String { xs[Int(g.next() % UInt64(xs.count))] }
        func num(_ upper: UInt64) -> UInt64 { g.next() % upper }
        switch kind {
        case "ip": return "10.\(num(256)).\(num(256)).\(1 + num(254))"
        case "port": return "\(1024 + num(64000))"
        case "pid": return "\(100 + num(60000))"
        case "n": return "\(num([10, 100, 10_000, 1_000_000][Int(num(4))]))"
        case "code": return pick(["1", "2", "127", "137", "139", "143"])
        case "ms": return pick(["\(num(900))ms", "\(num(30)).\(num(10))s", "\(1 + num(5000))ms"])
        case "pct": return "\(num(100)).\(num(10))%"
        case "size": return pick(["\(64 * (1 + num(64)))Mi", "\(1 + num(16))Gi", "\(num(4096))MB", "\(1 + num(32))GB"])
        case "host": return pick(["db-\(num(9))", "api-\(num(20))", "cache-\(num(4))", "worker-\(num(50))", "edge-\(num(9)).eu-west-1", "broker-\(num(6))"])
        case "node": return "ip-10-0-\(num(255))-\(num(255)).ec2.internal"
        case "pod": return pick(["payments", "checkout", "orders", "search", "auth", "gateway"]) + "-\(String(num(0xFFFF_FFFF), radix: 36).prefix(9))-\(String(num(60_000_000), radix: 36).prefix(5))"
        case "ns": return pick(["default", "prod", "staging", "kube-system", "monitoring"])
        case "user": return pick(["alice", "bob", "root", "admin", "deploy", "ubuntu", "svc-ci", "postgres", "guest", "oracle"])
        case "path": return pick(["/api/v1/orders/\(num(99999))", "/var/lib/data/\(num(99))", "/home/\(pick(["app", "ubuntu"]))/.cache", "/srv/uploads/\(num(9999)).bin",
                                  "/checkout", "/api/v2/users/\(num(9999))/profile", "/healthz", "/metrics"])
        case "table": return pick(["orders", "users", "payments", "inventory", "sessions", "events", "audit_log"])
        case "db": return pick(["app", "billing", "analytics", "auth"])
        case "topic": return pick(["orders", "payments", "clicks", "audit", "events"])
        case "uuid":
            let h = String(format: "%08x-%04x-%04x-%04x-%012llx", UInt32(truncatingIfNeeded: g.next()), UInt16(truncatingIfNeeded: g.next()),
                           UInt16(truncatingIfNeeded: g.next()), UInt16(truncatingIfNeeded: g.next()), g.next() & 0xFFFF_FFFF_FFFF)
            return h
        case "hex": return String(g.next() & 0xFFFF_FFFF, radix: 16)
        case "dev": return pick(["sda", "sdb", "nvme0n1", "xvdf"]) + "\(num(4))"
        case "nic": return pick(["eth0", "ens5", "eno1", "bond0"])
        case "svc": return pick(["payments", "inventory", "billing", "notifier", "search", "gateway", "nginx", "sshd", "kafka"])
        case "image": return pick(["registry.local/app", "nginx", "postgres", "redis"]) + ":\(num(20)).\(num(10))"
        case "class": return pick(["OrderService", "PaymentClient", "UserRepository", "CacheManager", "SessionStore"])
        case "env": return pick(["DATABASE_URL", "REDIS_HOST", "API_TOKEN", "LOG_LEVEL", "KAFKA_BROKERS"])
        case "word": return pick(["alpha", "main", "worker", "sync", "export", "cleanup", "indexer", "report", "batch", "retry"])
        default: return kind
        }
    }

    func envelope(source: String, label: String, message: String, _ g: inout RandomGenerator) -> String {
        let hh = String(format: "%02d", g.next() % 24), mm = String(format: "%02d", g.next() % 60), ss = String(format: "%02d", g.next() % 60)
        let ms = String(format: "%03d", g.next() % 1000), micro = String(format: "%06d", g.next() % 1_000_000)
        let host = "node-\(g.next() % 40)"
        let bad = label != "normal"
        switch source {
        case "kubelet":
            return "\(bad ? "E" : "I")1129 \(hh):\(mm):\(ss).\(micro)    \(1000 + g.next() % 9000) \(["kubelet.go", "pod_workers.go", "prober.go"][Int(g.next() % 3)]):\(g.next() % 3000)] \(message)"
        case "nginx":
            if message.hasPrefix("\"") {
                return "10.\(g.next() % 256).\(g.next() % 256).\(g.next() % 256) - - [29/Nov/2026:\(hh):\(mm):\(ss) +0000] \(message) \"-\" \"Mozilla/5.0\""
            }
            return "2026/11/29 \(hh):\(mm):\(ss) [\(bad ? "error" : "notice")] \(g.next() % 9000)#0: *\(g.next() % 99999) \(message)"
        case "postgres":
            let hasLevel = ["ERROR:", "FATAL:", "PANIC:", "LOG:"].contains { message.hasPrefix($0) }
            return "2026-11-29 \(hh):\(mm):\(ss).\(ms) UTC [\(100 + g.next() % 60000)] \(hasLevel ? "" : "LOG:  ")\(message)"
        case "mysql":
            return "2026-11-29T\(hh):\(mm):\(ss).\(micro)Z \(g.next() % 200) \(message)"
        case "redis":
            return "\(1 + g.next() % 9):M 29 Nov 2026 \(hh):\(mm):\(ss).\(ms) \(bad ? "#" : "*") \(message)"
        case "kafka":
            return "[2026-11-29 \(hh):\(mm):\(ss),\(ms)] \(bad ? "ERROR" : "INFO") \(message) (kafka.server.\(["ReplicaManager", "KafkaApis", "LogManager"][Int(g.next() % 3)]))"
        case "jvm":
            return "2026-11-29 \(hh):\(mm):\(ss).\(ms) \(bad ? "ERROR" : " INFO") 1 --- [nio-8080-exec-\(g.next() % 10)] c.e.\(["orders", "billing", "api"][Int(g.next() % 3)]).App : \(message)"
        case "python", "app":
            let level = bad ? (label == "configuration" ? "warning" : "error") : "info"
            if g.next() % 2 == 0 {
                let object: [String: Any] = ["ts": "2026-11-29T\(hh):\(mm):\(ss).\(ms)Z", "level": level, "service": source == "app" ? value("svc", &g) : "api", "msg": message]
                return String(decoding: (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data(), as: UTF8.self)
            }
            return "2026-11-29 \(hh):\(mm):\(ss),\(ms) \(level.uppercased()) [\(source == "app" ? value("svc", &g) : "uvicorn")] \(message)"
        case "sshd":
            return "Nov 29 \(hh):\(mm):\(ss) \(host) sshd[\(100 + g.next() % 60000)]: \(message)"
        case "kernel":
            return "Nov 29 \(hh):\(mm):\(ss) \(host) kernel: [\(g.next() % 900_000).\(micro)] \(message)"
        case "systemd":
            return "Nov 29 \(hh):\(mm):\(ss) \(host) systemd[1]: \(message)"
        case "coredns":
            return "2026-11-29T\(hh):\(mm):\(ss).\(ms)Z \(message)"
        case "envoy":
            return "[2026-11-29 \(hh):\(mm):\(ss).\(ms)][\(g.next() % 64)][\(bad ? "warning" : "info")][\(["upstream", "router", "conn_handler", "main"][Int(g.next() % 4)])] \(message)"
        default:
            return message
        }
    }
}

