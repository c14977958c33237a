import DistillText
import Foundation
import Testing

@Suite("Log masking")
struct LogMaskingTests {
    let masker = LogMasker()

    @Test("every placeholder type", arguments: [
        ("connect to 10.0.3.17 failed", "connect to <IP> failed"),
        ("upstream 10.0.3.17:5432 refused", "upstream <IP>:<PORT> refused"),
        ("peer [2001:db8::7]:443 reset, fe80::1 down", "peer <IP>:<PORT> reset, <IP> down"),
        ("retry 3 of 5 took 1.25 units", "retry <NUM> of <NUM> took <NUM> units"),
        ("disk 97% full", "disk <NUM>% full"),
        ("addr 0x7ffd5e8c trace deadbeef01", "addr <HEX> trace <HEX>"),
        ("request 123e4567-e89b-12d3-a456-426614174000 done", "request <UUID> done"),
        ("open /var/lib/postgresql/data and C:\\Temp\\x.log", "open <PATH> and <PATH>"),
        ("see https://example.com/a?b=1 now", "see <URL> now"),
        ("mail ops@example.com today", "mail <EMAIL> today"),
        ("at 2026-11-29T01:02:03.456Z and 01:02:03 on 2026/11/29", "at <TIME> and <TIME> on <TIME>"),
        ("timeout after 5000ms, waited 1.5s, lease 1m30s", "timeout after <DURATION>, waited <DURATION>, lease <DURATION>"),
        ("limit 512MiB used 10GB of 4096kB", "limit <SIZE> used <SIZE> of <SIZE>"),
        ("pod payments-7f9c8d6b5-x2k4q restarted, node-exporter-8x7kq too", "pod payments-<POD> restarted, node-exporter-<POD> too"),
        ("pid=4242 user=alice", "pid=<NUM> user=alice"),
        ("Killed process 4242 (java).", "Killed process <NUM> (java)."),
        ("node-17 ready, kafka-0 leader", "node-<NUM> ready, kafka-<NUM> leader"),
        ("Receiving block blk_-3802183646922512795 src", "Receiving block blk_<NUM> src"),
        ("Block rdd_2_1 stored, wrote part-00296.", "Block rdd_<NUM>_<NUM> stored, wrote part-<NUM>."),
        ("host calvisitor-10-105-160-95 steps 1514038440000##7034##548365", "host calvisitor-<NUM>-<NUM>-<NUM>-<NUM> steps <NUM>##<NUM>##<NUM>"),
        ("token AppWindowToken{9f4ef63 token=a64f992}", "token AppWindowToken{<HEX> token=<HEX>}"),
        ("10.251.30.85:50010:Got exception, 10.0.0.1:up", "<IP>:<PORT>:Got exception, <IP>:up"),
    ])
    func placeholders(_ c: (String, String)) {
        #expect(masker.mask(c.0) == c.1)
    }

    @Test("words that look almost like variables are kept")
    func keeps() {
        for text in ["sda1 is ok", "version v2", "http status", "ext4 on x86", "the end.", "a/b", "deadbeef", "sha256 md5 log4j"] {
            #expect(masker.mask(text) == text, "\(text)")
        }
    }

    @Test("masks can be switched off one by one")
    func configurable() {
        #expect(LogMasker(masks: [.number]).mask("10.0.0.1 took 5 ms") == "10.0.0.1 took <NUM> ms")
        #expect(LogMasker(masks: []).mask("10.0.0.1 took 5ms") == "10.0.0.1 took 5ms")
        #expect(LogMasker(masks: LogMasks.all.subtracting(.ip)).mask("host 10.0.0.1") == "host 10.0.0.1")
    }
}

@Suite("Log envelopes")
struct LogEnvelopeTests {
    let n = LogNormalizer()

    @Test("JSON, syslog 5424 and 3164, klog, nginx error, access log, exceptions, plain")
    func envelopes() {
        var r = n.normalize(#"{"ts":"2026-11-29T01:02:03Z","level":"ERROR","logger":"db.pool","msg":"connection to 10.0.0.5:5432 refused","attempt":3}"#)
        #expect(r.format == .json && r.level == "error" && r.source == "db.pool" && r.masked == "connection to <IP>:<PORT> refused")
        r = n.normalize(#"<11>1 2026-11-29T01:02:03.003Z host-7 payments 4242 ID47 [exampleSDID@32473 iut="3"] charge 123 failed"#)
        #expect(r.format == .syslog5424 && r.level == "error" && r.source == "payments" && r.masked == "charge <NUM> failed")
        r = n.normalize("Nov 29 01:02:03 host-7 sshd[4242]: Failed password for root from 10.1.2.3 port 22 ssh2")
        #expect(r.format == .syslog3164 && r.source == "sshd" && r.masked == "Failed password for root from <IP> port <NUM> ssh2")
        r = n.normalize("<34>Nov  9 01:02:03 mymachine su: 'su root' failed on /dev/pts/8")
        #expect(r.format == .syslog3164 && r.level == "error" && r.source == "su" && r.masked == "'su root' failed on <PATH>")
        r = n.normalize("E1129 01:02:03.456789   12345 kubelet.go:2345] Liveness probe failed for pod payments-7f9c8d6b5-x2k4q")
        #expect(r.format == .klog && r.level == "error" && r.source == "kubelet.go" && r.masked == "Liveness probe failed for pod payments-<POD>")
        r = n.normalize("2026/11/29 01:02:03 [error] 1234#0: *5 upstream timed out (110: Connection timed out) while connecting to upstream")
        #expect(r.format == .nginxError && r.level == "error" && r.masked == "*5 upstream timed out (<NUM>: Connection timed out) while connecting to upstream")
        r = n.normalize(#"10.0.0.1 - - [29/Nov/2026:01:02:03 +0000] "GET /api/v1/orders?id=7 HTTP/1.1" 500 512 "-" "curl/8.0""#)
        #expect(r.format == .accessLog && r.masked.hasPrefix(#""GET <PATH> HTTP/1.1" <NUM> <NUM>"#))
        r = n.normalize(#"Exception in thread "main" java.lang.OutOfMemoryError: Java heap space"#)
        #expect(r.format == .javaException && r.source == "java.lang.OutOfMemoryError" && r.level == "error")
        r = n.normalize("ValueError: invalid literal for int() with base 10: 'abc'")
        #expect(r.format == .pythonException && r.source == "ValueError")
        r = n.normalize("Traceback (most recent call last):")
        #expect(r.format == .pythonException)
        r = n.normalize("WARN disk usage 91% on /data")
        #expect(r.format == .plain && r.level == "warning" && r.masked == "WARN disk usage <NUM>% on <PATH>")
    }

    @Test("pathological input: empty, whitespace, 1 MB, invalid UTF-8, binary, broken JSON")
    func pathological() {
        #expect(n.normalize("").masked == "" && n.normalize("").format == .plain)
        #expect(n.normalize("   ").format == .plain)
        let huge = String(repeating: "error 42 at 10.0.0.1 ", count: 50_000)  // ~1 MB
        let r = n.normalize(huge)
        #expect(r.masked.hasPrefix("error <NUM> at <IP> error") && r.masked.count < huge.count)
        let invalid = n.normalize(utf8: [0x66, 0x61, 0x69, 0x6C, 0x20, 0xFF, 0xFE, 0x20, 0x34, 0x32])
        #expect(invalid.masked == "fail \u{FFFD}\u{FFFD} <NUM>")
        let binary = n.normalize(utf8: (0..<256).map { UInt8($0) })
        #expect(!binary.masked.isEmpty)
        #expect(n.normalize(#"{"msg": "unterminated"#).format == .plain)
        #expect(n.normalize(#"{"a": [1, {"b": "}"}], "message": "ok \"quoted\" \u00e9"}"#).message == "ok \"quoted\" é")
        #expect(n.normalize("<999>garbage").format == .plain)
    }
}

@Suite("Log envelopes under mutation")
struct LogEnvelopeMutationTests {
    let n = LogNormalizer()
    static let samples = [
        #"{"ts":"2026-11-29T01:02:03Z","level":"ERROR","logger":"db.pool","msg":"connection to 10.0.0.5:5432 refused","attempt":3}"#,
        #"<11>1 2026-11-29T01:02:03.003Z host-7 payments 4242 ID47 [exampleSDID@32473 iut="3"] charge 123 failed"#,
        "Nov 29 01:02:03 host-7 sshd[4242]: Failed password for root from 10.1.2.3 port 22 ssh2",
        "E1129 01:02:03.456789   12345 kubelet.go:2345] Liveness probe failed for pod payments-7f9c8d6b5-x2k4q",
        "2026/11/29 01:02:03 [error] 1234#0: *5 upstream timed out (110: Connection timed out)",
        #"10.0.0.1 - - [29/Nov/2026:01:02:03 +0000] "GET /api/v1/orders?id=7 HTTP/1.1" 500 512 "-" "curl/8.0""#,
        #"Exception in thread "main" java.lang.OutOfMemoryError: Java heap space"#,
        "2026-11-29 01:02:03.123 UTC [12] LOG:  checkpoint starting: time",
        "[2026-11-29 07:54:55.797][61][warning][conn_handler] [main] all clusters initialized",
    ]

    /// Every prefix, every suffix and every one-byte insertion of a delimiter: the scanners never read past the line,
    /// the message of a non-JSON line is a part of it, and the masked text is the masker's output for that message.
    @Test("prefixes, suffixes and inserted delimiters of every envelope")
    func mutations() {
        var checked = 0
        var scratch: [UInt8] = []
        for sample in Self.samples {
            let bytes = Array(sample.utf8)
            var variants: [[UInt8]] = []
            for k in 0...bytes.count { variants.append(Array(bytes[..<k])); variants.append(Array(bytes[k...])) }
            for k in 0...bytes.count { for d in Array(#" :[]"<>{}-#\"#.utf8) { variants.append(Array(bytes[..<k]) + [d] + Array(bytes[k...])) } }
            for variant in variants {
                let line = String(decoding: variant, as: UTF8.self)
                let r = n.normalize(line)
                if r.format != .json { #expect(r.message.isEmpty || line.contains(r.message), "\(line)") }
                #expect(r.masked == n.masker.mask(r.message), "\(line)")
                if let level = r.level { #expect(level == level.lowercased(), "\(line)") }
                // The classification hot path writes the same model text without the intermediate strings.
                let masked = n.writeModelText(line, into: &scratch)
                #expect(String(decoding: scratch, as: UTF8.self) == TextInput.modelText(r), "\(line)")
                #expect(String(decoding: scratch[masked], as: UTF8.self) == r.masked, "\(line)")
                checked += 1
            }
        }
        #expect(checked > 10_000)
    }
}
