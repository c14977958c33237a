import DistillCore
import DistillText

/// A mix of log lines in the envelopes the normalizer parses (JSON, RFC 3164/5424 syslog, klog, nginx error,
/// access log, plain), around 120 bytes each, for the normalizer benchmark and its Drain3 peer.
public enum LogSample {
    public static func lines(count: Int, seed: UInt64) -> [String] {
        let messages = SyntheticLogs.sample(count: count, seed: seed).map(\.0)
        var g = RandomGenerator(seed: seed &+ 1)
        let levels = ["info", "warn", "error", "debug"]
        return messages.enumerated().map { i, m in
            let t = "2026-11-29T01:\(10 + Int(g.next() % 50)):\(10 + Int(g.next() % 50)).\(100 + Int(g.next() % 900))Z"
            switch i % 7 {
            case 0: return #"{"ts":"\#(t)","level":"\#(levels[i % 4])","logger":"app.worker","msg":"\#(m)","pid":\#(g.next() % 30000)}"#
            case 1: return "Nov 29 01:\(10 + Int(g.next() % 50)):\(10 + Int(g.next() % 50)) node-\(g.next() % 20) app[\(g.next() % 30000)]: \(m)"
            case 2: return "<\(g.next() % 192)>1 \(t) node-\(g.next() % 20) payments \(g.next() % 30000) - - \(m)"
            case 3: return "E1129 01:02:03.\(100_000 + Int(g.next() % 900_000))   \(g.next() % 30000) controller.go:\(g.next() % 900)] \(m)"
            case 4: return "2026/11/29 01:02:03 [error] \(g.next() % 9000)#0: *\(g.next() % 999) \(m)"
            case 5: return #"10.0.\#(g.next() % 256).\#(g.next() % 256) - - [29/Nov/2026:01:02:03 +0000] "GET /api/v1/orders?id=\#(g.next() % 99999) HTTP/1.1" 500 \#(g.next() % 9999)"#
            default: return "\(t) \(levels[i % 4].uppercased()) \(m)"
            }
        }
    }
}
