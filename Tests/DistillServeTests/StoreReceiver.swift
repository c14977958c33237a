import DistillTestSupport
import Foundation

/// `scripts/store_receiver.py` on loopback: a stand-in log store that decodes what `--forward` sends with the real
/// parsers (opentelemetry-proto for OTLP) and writes every record it received to a JSONL file.
final class StoreReceiver {
    let process = Process()
    let port: Int
    let file: URL

    /// `arguments`: faults (`--fail 429,503`, `--always 400`, `--retry-after 1`, `--delay 0.2`).
    init(port: Int = 0, arguments: [String] = []) throws {
        file = temporaryFile("received.jsonl")
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", projectRoot.appendingPathComponent("scripts/store_receiver.py").path, "--port", String(port), "--out", file.path] + arguments
        process.environment = ProcessInfo.processInfo.environment.merging(["PYTHONPATH": otelPythonPath]) { $1 }
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        guard let found = waitForPort(output, announcedAs: "receiving on http://127.0.0.1:", while: process) else {
            process.terminate()
            throw CocoaError(.executableLoad, userInfo: [NSLocalizedDescriptionKey: "store_receiver.py did not start (is opentelemetry-proto in \(otelPythonPath)? make assets)"])
        }
        self.port = found
    }

    var url: String { "http://127.0.0.1:\(port)" }

    /// Everything received so far: `{"kind", "path", "record"}` per record.
    func received(kind: String? = nil) -> [[String: Any]] {
        guard let data = FileManager.default.contents(atPath: file.path) else { return [] }
        return data.split(separator: 10).compactMap { (try? JSONSerialization.jsonObject(with: Data($0))) as? [String: Any] }
            .filter { kind == nil || $0["kind"] as? String == kind }
    }

    /// The records of `kind` once there are at least `count` (or what arrived within `timeout` seconds).
    func records(_ kind: String, count: Int, timeout: Double = 60) async -> [[String: Any]] {
        let deadline = Date().addingTimeInterval(timeout)
        var rows = received(kind: kind)
        while rows.count < count, Date() < deadline {
            try? await Task.sleep(for: .milliseconds(100))
            rows = received(kind: kind)
        }
        return rows.compactMap { $0["record"] as? [String: Any] }
    }

    /// SIGKILL: a child started from the test process may have SIGTERM blocked.
    func stop() {
        guard process.isRunning else { return }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    deinit { stop() }
}

/// The cached OpenTelemetry Python packages (`scripts/fetch_assets.sh otel`).
let otelPythonPath = projectRoot.appendingPathComponent(".cache/pip/otel").path

/// The value of one series in a Prometheus exposition text (`name{labels}` exactly as written), nil if absent.
func metricValue(_ text: String, _ series: String) -> Double? {
    for line in text.split(separator: "\n") where line.hasPrefix(series + " ") {
        return Double(line.dropFirst(series.count + 1).split(separator: " ").first ?? "")
    }
    return nil
}
