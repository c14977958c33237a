import DistillCore
import DistillExamples
import DistillRuntime
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The edge-runtime table of `make bench`: the demo's distilled students (F32 and int8) as `distill classify`
/// and `distill serve` run them — single-line latency, 100,000-line streams with and without the prediction
/// cache, an all-unique stream, peak RSS, model size, held-out accuracy — next to the peers measured in the
/// same run (results passed in as JSON).
struct EdgeBenchmark {
    /// The demo's output folder (`runs/demo`): `models/…` and `report.json`.
    var demo: URL
    /// The `distill` binary (for the RSS of a separate `distill classify` process).
    var binary: URL
    var peers: Peers?
    var streamLines = 100_000

    struct Peers: Decodable {
        /// `bench/load_test.sh`: wrk against `distill serve`.
        struct Serve: Decodable {
            let model: String, requests: Int, errors: Int, linesPerRequest: Int, seconds: Double
            let p50Milliseconds: Double, p99Milliseconds: Double, peakRSSBytes: Int, rssStartBytes: Int, rssEndBytes: Int
            /// What was posted (`classify`, `logs NDJSON`, `OTLP protobuf in`, …), 503 answers, and with `--forward` what reached the store.
            let label: String?, refused: Int?, forwardSent: Int?, forwardQueued: Int?, accepted: Int?
            enum CodingKeys: String, CodingKey {
                case model, requests, errors, seconds, linesPerRequest = "lines_per_request", p50Milliseconds = "p50_ms", p99Milliseconds = "p99_ms"
                case peakRSSBytes = "peak_rss_bytes", rssStartBytes = "rss_start_bytes", rssEndBytes = "rss_end_bytes"
                case label, refused, accepted, forwardSent = "forward_sent", forwardQueued = "forward_queued"
            }
            /// Lines taken in per second: requests the server answered 200 (503s carry none), or all wrk completed.
            var linesPerSecond: Double { Double((accepted ?? requests) * linesPerRequest) / max(seconds, 1e-9) }
        }
        /// A peer classifier timed on the same stream files (`bench/fasttext_peer.py`, `bench/onnx_peer.py`).
        struct Stream: Decodable {
            let name: String, version: String
            let singleP50Milliseconds: Double, singleP99Milliseconds: Double
            let realisticSeconds: Double, uniqueSeconds: Double
            let accuracy: Double?, sizeBytes: Int?
            enum CodingKeys: String, CodingKey {
                case name, version, accuracy, singleP50Milliseconds = "single_p50_ms", singleP99Milliseconds = "single_p99_ms"
                case realisticSeconds = "realistic_seconds", uniqueSeconds = "unique_seconds", sizeBytes = "size_bytes"
            }
        }
        /// One per load-test run (e.g. 100-line and single-line requests).
        var serve: [Serve] = []
        var streams: [Stream] = []
    }

    /// The two stream files the peers read too: repeated templates (a generated corpus) and lines made unique.
    static func writeStreams(to folder: URL, lines: Int) throws -> (realistic: URL, unique: URL) {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        var generator = LogCorpusGenerator(seed: 4242)
        generator.heldOutFraction = 0
        let realistic = generator.generate(count: lines).map(\.text)
        // A letters-only word per line survives masking, so every line is a distinct model text.
        let unique = realistic.enumerated().map { i, line in line + " req" + lettersOf(i) }
        let r = folder.appendingPathComponent("stream-realistic.txt"), u = folder.appendingPathComponent("stream-unique.txt")
        try Data((realistic.joined(separator: "\n") + "\n").utf8).write(to: r)
        try Data((unique.joined(separator: "\n") + "\n").utf8).write(to: u)
        return (r, u)
    }

    static func lettersOf(_ n: Int) -> String {
        var n = n, s = ""
        repeat { s.append(Character(Unicode.Scalar(UInt8(97 + n % 26)))); n /= 26 } while n > 0
        return s
    }

    struct Row {
        var model: String
        var sizeBytes: Int
        var accuracy: Double?
        var p50: Double, p99: Double
        var realisticCached: Double, realisticUncached: Double, unique: Double
        var hitRate: Double
        var classifyRSS: Int
    }

    func run(streams: (realistic: URL, unique: URL)) throws -> String {
        let realistic = try String(contentsOf: streams.realistic, encoding: .utf8).split(separator: "\n").map(String.init)
        let unique = try String(contentsOf: streams.unique, encoding: .utf8).split(separator: "\n").map(String.init)
        let report = try? JSONSerialization.jsonObject(with: Data(contentsOf: demo.appendingPathComponent("report.json"))) as? [String: Any]
        let accuracies = Dictionary(((report?["rows"] as? [[String: Any]]) ?? []).compactMap { r in
            (r["model"] as? String).map { ($0, r["accuracy"] as? Double ?? 0) } }, uniquingKeysWith: { a, _ in a })
        let models = [("n-gram bag, KD, F32", "bag-kd", Demo.bagStudent), ("n-gram bag, KD, int8", "bag-kd-int8", "\(Demo.bagStudent), int8"),
                      ("tiny BERT, KD, F32", "tiny-bert-kd", Demo.tinyBertStudent),
                      ("tiny BERT, KD, int8", "tiny-bert-kd-int8", "\(Demo.tinyBertStudent), int8")]
        var rows: [Row] = []
        for (name, folderName, reportName) in models {
            let folder = demo.appendingPathComponent("models/\(folderName)")
            guard FileManager.default.fileExists(atPath: folder.path) else { continue }
            let size = ((try? FileManager.default.attributesOfItem(atPath: folder.appendingPathComponent("model.safetensors").path))?[.size] as? Int) ?? 0
            // Single line, cache off: every call prepares, tokenizes and runs the model.
            let single = try Classifier.load(from: folder, cacheCapacity: 0)
            let latencies = single.singleLineMilliseconds(unique.prefix(2000))
            /// Median of three passes, each with a new classifier (an empty cache): one pass is ~0.2 s, where
            /// this shared machine's noise is ±20%.
            func stream(_ lines: [String], cache: Int) throws -> (Double, Double) {
                var times: [Double] = [], hitRate = 0.0
                for _ in 0..<3 {
                    let classifier = try Classifier.load(from: folder, cacheCapacity: cache)
                    let start = DispatchTime.now().uptimeNanoseconds
                    for s in stride(from: 0, to: lines.count, by: 4096) { _ = classifier.classify(Array(lines[s..<min(s + 4096, lines.count)])) }
                    times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
                    hitRate = classifier.cache?.statistics.hitRate ?? 0
                }
                return (times.sorted()[1], hitRate)
            }
            let (cached, hitRate) = try stream(realistic, cache: 100_000)
            let (uncached, _) = try stream(realistic, cache: 0)
            let (uniqueSeconds, _) = try stream(unique, cache: 100_000)
            rows.append(Row(model: name, sizeBytes: size, accuracy: accuracies[reportName], p50: latencies[latencies.count / 2],
                            p99: latencies[min(latencies.count - 1, latencies.count * 99 / 100)], realisticCached: cached, realisticUncached: uncached,
                            unique: uniqueSeconds, hitRate: hitRate, classifyRSS: try classifyPeakRSS(model: folder, input: streams.realistic)))
        }
        var table = TextTable(["model", "size", "held-out acc.", "1 line p50", "p99", "100k realistic", "no cache", "100k unique", "hit rate", "classify RSS"])
        func mb(_ b: Int) -> String { String(format: "%.2f MB", Double(b) / 1e6) }
        func ms(_ v: Double) -> String { String(format: "%.3f ms", v) }
        func sec(_ v: Double) -> String { String(format: "%.3f s", v) }
        for r in rows {
            table.add([r.model, mb(r.sizeBytes), r.accuracy.map { String(format: "%.4f", $0) } ?? "n/a", ms(r.p50), ms(r.p99), sec(r.realisticCached),
                       sec(r.realisticUncached), sec(r.unique), String(format: "%.3f", r.hitRate), mb(r.classifyRSS)])
        }
        for p in peers?.streams ?? [] {
            table.add(["\(p.name) \(p.version)", p.sizeBytes.map(mb) ?? "", p.accuracy.map { String(format: "%.4f", $0) } ?? "n/a", ms(p.singleP50Milliseconds),
                       ms(p.singleP99Milliseconds), "", sec(p.realisticSeconds), sec(p.uniqueSeconds), "", ""])
        }
        var out = table.render()
        out += "\n\(realistic.count) lines per stream; realistic = generated corpus (repeated templates), unique = each line made distinct after masking; median of 3 passes per stream; one process, \(ComputeThreads.count) compute threads."
        out += "\nGoals: 100k realistic < 0.25 s; p99 < 2 ms; RSS < 64 MB; int8 < 2 MB with <= 0.5 pt accuracy loss."
        // Ratios against the peers on the matching student.
        for p in peers?.streams ?? [] {
            let mine = rows.first { $0.model.hasPrefix(p.name.lowercased().contains("fasttext") ? "n-gram bag, KD, F32" : "tiny BERT, KD, F32") }
            if let mine {
                out += String(format: "\n%@ vs %@: single line p50 %.2fx, 100k realistic (no cache) %.2fx, 100k unique %.2fx (>1: Distill faster)",
                              mine.model, p.name, p.singleP50Milliseconds / mine.p50, p.realisticSeconds / mine.realisticUncached, p.uniqueSeconds / mine.unique)
            }
        }
        let serve = peers?.serve ?? []
        for s in serve where (s.label ?? "classify") == "classify" {
            out += String(format: "\ndistill serve under wrk (%@): %d requests of %d line%@ in %.1f s (%.0f lines/s), %d errors, p50 %.2f ms, p99 %.2f ms per request, RSS %@ at start, %@ at end, peak %@",
                          s.model, s.requests, s.linesPerRequest, s.linesPerRequest == 1 ? "" : "s", s.seconds, s.linesPerSecond,
                          s.errors, s.p50Milliseconds, s.p99Milliseconds, mb(s.rssStartBytes), mb(s.rssEndBytes), mb(s.peakRSSBytes))
        }
        if serve.isEmpty { out += "\ndistill serve: not measured (run through `make bench`, which runs bench/load_test.sh)" }
        out += Self.forwardingTable(serve.filter { ($0.label ?? "classify") != "classify" }, mb: mb)
        return out
    }

    /// `/v1/logs` under wrk (bench/forward_load.sh): intake formats, and what `--forward` costs against the same
    /// body without it, measured in the same run.
    static func forwardingTable(_ runs: [Peers.Serve], mb: (Int) -> String) -> String {
        guard !runs.isEmpty else { return "" }
        let base = runs.first { $0.label == "logs NDJSON" }
        var table = TextTable(["/v1/logs run", "lines/s", "vs NDJSON", "p50 ms", "p99 ms", "p99 added ms", "errors", "503s", "forwarded", "queued", "peak RSS"])
        for r in runs {
            table.add([r.label ?? "", String(format: "%.0f", r.linesPerSecond), base.map { String(format: "%.2fx", r.linesPerSecond / $0.linesPerSecond) } ?? "",
                       String(format: "%.2f", r.p50Milliseconds), String(format: "%.2f", r.p99Milliseconds),
                       base.map { String(format: "%+.2f", r.p99Milliseconds - $0.p99Milliseconds) } ?? "", String(r.errors), String(r.refused ?? 0),
                       String(r.forwardSent ?? 0), String(r.forwardQueued ?? 0), mb(r.peakRSSBytes)])
        }
        var out = "\n\n/v1/logs and --forward (\(runs.first.map { "\($0.linesPerRequest) records per request" } ?? ""), one serve process per run, 2 compute threads; "
        out += "the store is a loopback sink that answers at once; `forwarded` = records the store had when the run ended, `queued` = still waiting)\n"
        out += table.render()
        if let base, let loki = runs.first(where: { $0.label?.hasSuffix("--forward loki") == true }) {
            out += String(format: "\nForwarding to Loki keeps %.0f%% of the intake rate and adds %.2f ms to the p99 of a %d-record request.",
                          100 * loki.linesPerSecond / base.linesPerSecond, loki.p99Milliseconds - base.p99Milliseconds, base.linesPerRequest)
        }
        if let proto = runs.first(where: { $0.label == "OTLP protobuf in" }), let json = runs.first(where: { $0.label == "OTLP JSON in" }) {
            out += String(format: "\nOTLP intake: protobuf %.0f lines/s, JSON %.0f lines/s (protobuf %.2fx).", proto.linesPerSecond, json.linesPerSecond, proto.linesPerSecond / json.linesPerSecond)
        }
        return out
    }

    /// Peak resident set of `distill classify` over a stream file, as GNU time reports it for its child (the
    /// kernel keeps a spawning process's own high-water mark across exec, so this process cannot read it
    /// directly); 0 when /usr/bin/time is missing.
    func classifyPeakRSS(model: URL, input: URL) throws -> Int {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/time") else { return 0 }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/time")
        process.arguments = ["-f", "maxrss %M", binary.path, "classify", "--model", model.path, "--input", input.path]
        process.standardOutput = FileHandle(forWritingAtPath: "/dev/null")
        let errors = Pipe()
        process.standardError = errors
        try process.run()
        let text = String(decoding: try readToEndRetryingInterrupts(errors.fileHandleForReading), as: UTF8.self)
        process.waitUntilExit()
        guard let line = text.split(separator: "\n").last(where: { $0.hasPrefix("maxrss ") }), let kb = Int(line.dropFirst(7)) else { return 0 }
        return kb * 1024
    }
}
