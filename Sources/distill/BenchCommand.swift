import ArgumentParser
import DistillExamples
import DistillText
import Foundation

/// `distill bench`: speed tables against peers measured in the same run.
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Benchmark the engine (GEMM, transformer block) against raw BLAS and numpy."
    )

    @OptionGroup var compute: ComputeOptions

    @Option(help: "JSON with peer results measured in the same run (bench/numpy_matmul.py, bench/torch_minilm.py); repeatable.")
    var peers: [String] = []

    @Option(name: .customLong("minilm"), help: "all-MiniLM-L6-v2 folder: adds the model forward benchmark.")
    var miniLM: String?

    @Option(help: "Timing trials per GEMM shape (the median is reported).")
    var trials: Int = 5

    @Option(help: "Transformer-block steps to time.")
    var blockSteps: Int = 5

    @Option(name: .customLong("log-sample"), help: "Log lines file for the normalizer benchmark; written first if missing.")
    var logSample: String?

    @Flag(name: .customLong("write-log-sample"), help: "Only write the --log-sample file (for the Drain3 peer) and exit.")
    var writeLogSample = false

    @Option(help: "Comma-separated sections to run: gemm, block, minilm, train, logs, miner, edge (default: all; edge needs --edge).")
    var only: String?

    @Option(help: "The demo's output folder (runs/demo): adds the edge-runtime table for its students.")
    var edge: String?

    @Option(name: .customLong("edge-peers"), help: "JSON with peer results for the edge table (load test, fastText, ONNX Runtime); repeatable.")
    var edgePeers: [String] = []

    @Flag(name: .customLong("write-streams"), help: "Only write the edge stream files into --edge's bench/ folder (for the peers) and exit.")
    var writeStreams = false

    func validate() throws {
        let sections: Set<String> = ["gemm", "block", "minilm", "train", "logs", "miner", "edge"]
        if let only, !Set(only.split(separator: ",").map(String.init)).isSubset(of: sections) {
            throw ValidationError("--only takes gemm, block, minilm, train, logs, miner, edge (comma-separated), got \(only)")
        }
        if writeStreams && edge == nil { throw ValidationError("--write-streams needs --edge") }
        guard trials >= 1, blockSteps >= 1 else { throw ValidationError("--trials and --block-steps must be at least 1") }
    }

    func run() throws {
        compute.apply()
        if let edge {
            let folder = URL(fileURLWithPath: edge)
            let streamFolder = folder.appendingPathComponent("bench")
            let realistic = streamFolder.appendingPathComponent("stream-realistic.txt"), unique = streamFolder.appendingPathComponent("stream-unique.txt")
            var streams = (realistic: realistic, unique: unique)
            if writeStreams || !FileManager.default.fileExists(atPath: realistic.path) || !FileManager.default.fileExists(atPath: unique.path) {
                streams = try EdgeBenchmark.writeStreams(to: streamFolder, lines: 100_000)
            }
            if writeStreams { return }
            if only.map({ $0.split(separator: ",").contains("edge") }) ?? true {
                var bench = EdgeBenchmark(demo: folder, binary: URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath())
                var peers = EdgeBenchmark.Peers()
                for path in edgePeers {
                    let data = try Data(contentsOf: URL(fileURLWithPath: path))
                    if let serve = try? JSONDecoder().decode(EdgeBenchmark.Peers.Serve.self, from: data) { peers.serve.append(serve) }
                    else if let stream = try? JSONDecoder().decode(EdgeBenchmark.Peers.Stream.self, from: data) { peers.streams.append(stream) }
                    else { throw ValidationError("--edge-peers \(path): neither a load-test nor a stream peer result") }
                }
                bench.peers = peers
                print("Edge runtime: the demo's students in distill classify / serve\n" + (try bench.run(streams: streams)) + "\n")
            }
            if only == "edge" { return }
        }
        if let logSample, !FileManager.default.fileExists(atPath: logSample) || writeLogSample {
            try Data((LogSample.lines(count: 200_000, seed: 7).joined(separator: "\n") + "\n").utf8).write(to: URL(fileURLWithPath: logSample))
            let mining = SyntheticLogs.sampleWithTemplates(count: 50_000, seed: 9).map { "\($0.template)\t\($0.text)" }
            try Data((mining.joined(separator: "\n") + "\n").utf8).write(to: URL(fileURLWithPath: logSample + ".miner.tsv"))
            if writeLogSample { return }
        }
        var bench = EngineBenchmark()
        if let logSample {
            bench.logLines = try String(contentsOfFile: logSample, encoding: .utf8).split(separator: "\n").map(String.init)
            if let tsv = try? String(contentsOfFile: logSample + ".miner.tsv", encoding: .utf8) {
                bench.minerSample = tsv.split(separator: "\n").compactMap { line in
                    let parts = line.split(separator: "\t", maxSplits: 1)
                    return parts.count == 2 ? (Int(parts[0]) ?? -1, String(parts[1])) : nil
                }
            }
        }
        bench.trials = trials
        bench.blockSteps = blockSteps
        if let only { bench.sections = Set(only.split(separator: ",").map(String.init)) }
        var merged = EngineBenchmark.Peers()
        for path in peers {
            do {
                let p = try JSONDecoder().decode(EngineBenchmark.Peers.self, from: Data(contentsOf: URL(fileURLWithPath: path)))
                merged.numpy = p.numpy ?? merged.numpy
                merged.torch = p.torch ?? merged.torch
                merged.torchTrain = p.torchTrain ?? merged.torchTrain
                merged.drain3 = p.drain3 ?? merged.drain3
                merged.drain3Miner = p.drain3Miner ?? merged.drain3Miner
            } catch {
                throw ValidationError("--peers \(path): cannot read peer results: \(fileErrorReason(error))")
            }
        }
        bench.peers = merged
        bench.miniLM = miniLM.map { URL(fileURLWithPath: $0) }
        print(bench.run())
    }
}
