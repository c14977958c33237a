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
