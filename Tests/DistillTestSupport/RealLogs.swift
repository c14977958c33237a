import Foundation
import Synchronization

/// The committed real logs (Loghub 2k samples, `data/loghub/`).
public let realLogsFolder = projectRoot.appendingPathComponent("data/loghub")

/// The eight categories, in the order the real-logs recipes use.
public let realLogLabels = ["normal", "database", "network", "auth", "storage", "memory", "application", "configuration"]

/// Every raw line of every system's `<System>_2k.log`, in file order, a trailing `\r` removed (read here
/// independently of `LoghubCorpus`).
public func realLogLines() throws -> [String] {
    var lines: [String] = []
    for system in try FileManager.default.contentsOfDirectory(atPath: realLogsFolder.path).sorted() {
        let file = realLogsFolder.appendingPathComponent(system).appendingPathComponent("\(system)_2k.log")
        guard let data = FileManager.default.contents(atPath: file.path) else { continue }
        var rows = data.split(separator: 0x0A, omittingEmptySubsequences: false)
        if rows.last?.isEmpty == true { rows.removeLast() }
        lines += rows.map { row in String(decoding: row.last == 0x0D ? row.dropLast() : row, as: UTF8.self) }
    }
    return lines
}

/// Lines no real system should be able to crash Distill with: digit runs of every length up to 100 (bare, as
/// block ids, octets, ports, syslog priorities), a 63,000-byte line, control bytes, lone surrogate escapes in JSON.
public let hostileLogLines: [String] = {
    var lines: [String] = []
    for n in [1, 3, 4, 18, 19, 20, 39, 40, 64, 100] {
        let run = String(repeating: "9", count: n)
        lines.append("blk_-\(run) 10.0.0.\(run):\(run) <\(run)>1 2026-11-29T01:02:03Z host app - - - \(run)ms \(run)% 0x\(run) [\(run)::1]:\(run)")
        lines.append("{\"msg\":\"value \(run)\",\"level\":\"\(run)\",\"ts\":\(run)}")
    }
    lines.append(String(repeating: "A9.", count: 21_000))  // 63,000 bytes: under serve's 64 KiB --max-text-bytes
    lines.append("tab\tbell\u{07}escape\u{1B}[31mred\u{1B}[0m nul-free control bytes")
    lines.append("{\"log\":\"\\ud800 lone surrogate\\n\",\"stream\":\"stderr\"}")
    lines.append("ERROR 🚨 データベース接続失敗 connection to db-primary:5432 refused")
    // Envelopes of systems the committed samples do not hold (written in the shapes of Loghub's BGL, HPC,
    // Thunderbird, Windows CBS, OpenStack and Proxifier logs, Linux audit, logfmt and RFC 5424 with structured data).
    lines += [
        "- 1117838570 2005.06.03 R02-M1-N0-C:J12-U11 2005-06-03-15.42.50.675872 R02-M1-N0-C:J12-U11 RAS KERNEL FATAL data TLB error interrupt 0x" + String(repeating: "0", count: 80) + "1",
        "134681 node-246 unix.hw state_change.unavailable 1077804742 1 Component State Change: Component \\042alt0\\042 is in the unavailable state (HWID=1973)",
        "- 1131566462 2005.11.09 tbird-admin1 Nov 10 12:01:02 local@tbird-admin1 postfix/postdrop[10896]: warning: unable to look up public/pickup",
        "2016-09-28 04:30:31, Info                  CSI    00000001@2016/9/28:20:30:31.455 WcpInitialize (wcp.dll version 0.0.0.6) called (stack @0x7fed806eb5d)",
        "nova-api.log.1.2017-05-16_13:53:08 2017-05-16 00:00:00.008 25746 INFO nova.osapi_compute.wsgi.server [req-38101a0b-2096-447d-96ea-a692162415ae - - -] 10.11.10.1 \"GET /v2/servers HTTP/1.1\" status: 200 len: 1893 time: 0.2477829",
        "[10.30 16:49:07] chrome.exe - proxy.cse.cuhk.edu.hk:5070 close, 0 bytes sent, 0 bytes received, lifetime <1 sec",
        "type=SYSCALL msg=audit(1364481363.243:24287): arch=c000003e syscall=2 success=no exit=-13 a0=7fffd19c5592 comm=\"cat\" exe=\"/bin/cat\" key=(null)",
        "ts=2024-01-01T00:00:00Z level=error msg=\"disk quota exceeded\" err=\"ENOSPC\" latency=1.5e3ms size=18446744073709551616B",
        "<134>1 2024-01-01T00:00:00.000000+00:00 host app 1234 ID47 [exampleSDID@32473 iut=\"3\" eventID=\"1011\"] \u{FEFF}An application event",
        "{\"ts\":1700000000.123456789012345678901234567890,\"level\":\"warn\",\"msg\":\"retry 99999999999999999999999999999999 of 1e308 1e400 -0x7fffffffffffffff\"}",
    ]
    return lines
}()

private let trainedModel = Mutex<URL?>(nil)

/// A small n-gram bag student trained by `distill train` on every labelled real log line (8 systems), input
/// read as logs; trained once per test process and shared by the test targets. Returns the model folder.
public func realLogsModel() throws -> URL {
    try trainedModel.withLock { cached in
        if let cached, FileManager.default.fileExists(atPath: cached.appendingPathComponent("config.json").path) { return cached }
        let folder = temporaryFolder("real-logs-model")
        let split = folder.appendingPathComponent("split")
        let made = try runDistill(["loghub", "--data", realLogsFolder.path, "--out", split.path])
        guard made.status == 0 else { throw RealLogsError.command("loghub", made.output) }
        let recipe = """
        labels: [\(realLogLabels.joined(separator: ", "))]
        data:
          labelled: split/all.jsonl
          dev: split/dev.jsonl
          test: split/test-heldout.jsonl
        student:
          kind: ngram-bag
          buckets: 65536
          embedding_size: 32
        input: logs
        losses:
          class_weights: balanced
        training:
          epochs: 2
          batch_size: 64
          learning_rate: 0.01
          checkpoint_every: 1000
        seed: 7
        output: run
        """
        try recipe.write(to: folder.appendingPathComponent("recipe.yaml"), atomically: true, encoding: .utf8)
        let trained = try runDistill(["train", "--recipe", folder.appendingPathComponent("recipe.yaml").path, "--threads", "2"])
        guard trained.status == 0 else { throw RealLogsError.command("train", trained.output) }
        let model = folder.appendingPathComponent("run/final")
        cached = model
        return model
    }
}

public enum RealLogsError: Error, CustomStringConvertible {
    case command(String, String)
    public var description: String {
        switch self { case let .command(name, output): return "distill \(name) failed: \(output.suffix(2000))" }
    }
}
