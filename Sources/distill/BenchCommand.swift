import ArgumentParser
import Foundation

/// `distill bench`: speed tables against peers measured in the same run.
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Benchmark the engine (GEMM, transformer block) against raw BLAS and numpy."
    )

    @OptionGroup var compute: ComputeOptions

    @Option(help: "JSON with peer results measured in the same run (written by bench/numpy_matmul.py).")
    var peers: String?

    @Option(help: "Timing trials per GEMM shape (the median is reported).")
    var trials: Int = 5

    @Option(help: "Transformer-block steps to time.")
    var blockSteps: Int = 5

    func validate() throws {
        guard trials >= 1, blockSteps >= 1 else { throw ValidationError("--trials and --block-steps must be at least 1") }
    }

    func run() throws {
        compute.apply()
        var bench = EngineBenchmark()
        bench.trials = trials
        bench.blockSteps = blockSteps
        if let peers {
            do {
                bench.peers = try JSONDecoder().decode(EngineBenchmark.Peers.self, from: Data(contentsOf: URL(fileURLWithPath: peers)))
            } catch {
                throw ValidationError("--peers \(peers): cannot read peer results: \(error.localizedDescription)")
            }
        }
        print(bench.run())
    }
}
