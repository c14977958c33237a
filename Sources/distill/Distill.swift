import ArgumentParser
import DistillCore

/// The `distill` command line: one file per subcommand.
@main
struct Distill: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "distill",
        abstract: "Distill large teachers into tiny, fast log classifiers.",
        version: "0.1.0",
        subcommands: [GenerateLogsCommand.self, InitCommand.self, TrainCommand.self, EvalCommand.self, ClassifyCommand.self, QuantizeCommand.self, ServeCommand.self, EncodeCommand.self, InspectCommand.self, VocabCommand.self, LabelCommand.self, TeacherCommand.self, ExperimentCommand.self, BenchCommand.self, DemoCommand.self]
    )
}

/// Options shared by every compute-heavy subcommand.
struct ComputeOptions: ParsableArguments {
    @Option(help: "CPU threads for compute (BLAS and parallel loops). Default: all cores.")
    var threads: Int?

    func validate() throws {
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1, got \(threads)") }
    }

    /// Applies the thread budget before any compute runs.
    func apply() { ComputeThreads.configure(threads: threads) }
}
