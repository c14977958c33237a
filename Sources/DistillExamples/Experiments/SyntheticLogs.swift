import DistillCore

/// A small synthetic log corpus for experiments and tests until the log-domain generator lands: six classes,
/// eight message templates each with variable fields (IPs, ids, paths, numbers), some wording shared across
/// classes. A small labelled sample sees only some templates; a larger unlabelled sample sees all of them,
/// which is where a teacher's soft labels help.
public enum SyntheticLogs {
    public static let labels = ["database", "network", "auth", "disk", "memory", "normal"]

    static let templates: [[String]] = [
        ["ERROR connection to postgres at {ip}:5432 refused", "deadlock detected on table {word} while updating row {n}",
         "query timeout after {n}ms on database {word}", "replication lag {n}s on replica {host}",
         "mysql: too many connections (max {n})", "FATAL: remaining connection slots are reserved for superuser",
         "redis: MISCONF unable to persist snapshot to {path}", "transaction {hex} aborted: serialization failure"],
        ["upstream timed out while connecting to {ip}:{port}", "connection reset by peer {ip}:{port}",
         "DNS lookup failed for {host}: no such host", "TLS handshake error from {ip}: bad certificate",
         "no route to host {ip}", "kafka: broker {host} not available, retrying in {n}ms",
         "packet loss {n}% between {host} and {host}", "socket timeout reading from {ip}:{port}"],
        ["failed password for user {user} from {ip} port {port}", "token expired for session {hex}",
         "permission denied for {user} on {path}", "invalid API key {hex} from {ip}",
         "user {user} locked after {n} failed attempts", "JWT signature verification failed for {user}",
         "sudo: {user} : user NOT in sudoers", "OAuth callback state mismatch for {user}"],
        ["no space left on device {dev}", "disk usage {n}% on {path}", "I/O error on {dev} sector {n}",
         "filesystem {dev} remounted read-only", "inode exhaustion on {path}: {n} free",
         "smartd: {dev} reallocated sector count {n}", "write failed on {path}: quota exceeded", "fsck needed on {dev}"],
        ["Out of memory: killed process {n} ({word})", "memory usage {n}% on node {host}",
         "java.lang.OutOfMemoryError: Java heap space in {word}", "container {hex} OOMKilled (limit {n}Mi)",
         "malloc failed allocating {n} bytes", "swap usage {n}% on {host}", "GC overhead limit exceeded in {word}",
         "cgroup memory pressure high for pod {word}-{hex}"],
        ["GET {path} 200 {n}ms", "user {user} logged in from {ip}", "health check ok on {host}",
         "started worker {n} for queue {word}", "config reloaded from {path}", "backup completed in {n}s",
         "scheduled job {word} finished", "connection to {host} established"],
    ]

    /// `count` (text, label) pairs; `templatesPerClass` limits which templates appear (the first N of each class).
    public static func sample(count: Int, seed: UInt64, templatesPerClass: Int = 8, noise: Double = 0) -> [(String, Int)] {
        sampleWithTemplates(count: count, seed: seed, templatesPerClass: templatesPerClass, noise: noise).map { ($0.text, $0.label) }
    }

    /// Like ``sample(count:seed:templatesPerClass:noise:)`` with each line's template id (class × 8 + template):
    /// the ground truth for template mining.
    public static func sampleWithTemplates(count: Int, seed: UInt64, templatesPerClass: Int = 8, noise: Double = 0) -> [(text: String, label: Int, template: Int)] {
        var g = RandomGenerator(seed: seed)
        func pick<T>(_ xs: [T]) -> T { xs[Int(g.next() % UInt64(xs.count))] }
        let words = ["orders", "payments", "users", "inventory", "billing", "search", "sessions", "events"]
        let users = ["alice", "bob", "carol", "dave", "root", "admin", "svc-deploy"]
        let hosts = ["db-1", "api-7", "node-3", "cache-2", "edge-9", "worker-4"]
        let paths = ["/var/lib/postgresql", "/api/v1/orders", "/home/app", "/data", "/var/log/app.log", "/mnt/backup"]
        return (0..<count).map { _ in
            let label = Int(g.next() % UInt64(labels.count))
            let choice = Int(g.next() % UInt64(min(templatesPerClass, templates[label].count)))
            var text = templates[label][choice]
            for (key, value) in [("{ip}", { "10.\(g.next() % 256).\(g.next() % 256).\(g.next() % 256)" }),
                                 ("{port}", { "\(1024 + g.next() % 60000)" }), ("{n}", { "\(g.next() % 5000)" }),
                                 ("{hex}", { String(g.next() % 0xFFFFFF, radix: 16) }), ("{word}", { pick(words) }),
                                 ("{user}", { pick(users) }), ("{host}", { pick(hosts) }), ("{path}", { pick(paths) }),
                                 ("{dev}", { "/dev/sd\(["a", "b", "c"][Int(g.next() % 3)])\(g.next() % 4)" })] as [(String, () -> String)] {
                while let r = text.range(of: key) { text.replaceSubrange(r, with: value()) }
            }
            let shown = noise > 0 && Double(g.nextUniform()) < noise ? Int(g.next() % UInt64(labels.count)) : label
            return (text, shown, label * 8 + choice)
        }
    }
}
