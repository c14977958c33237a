import ArgumentParser
import DistillCore
import DistillRuntime
#if canImport(Glibc)
import Glibc
#endif

/// The `distill` command line: one file per subcommand.
@main
struct Distill: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "distill",
        abstract: "Distill large teachers into tiny, fast log classifiers.",
        version: distillVersion,
        subcommands: [GenerateLogsCommand.self, LoghubCommand.self, InitCommand.self, TrainCommand.self, EvalCommand.self, ClassifyCommand.self, QuantizeCommand.self, ExportCommand.self, ReportCommand.self, ServeCommand.self, EncodeCommand.self, InspectCommand.self, PrepareCommand.self, VocabCommand.self, LabelCommand.self, TeacherCommand.self, ExperimentCommand.self, BenchCommand.self, DemoCommand.self]
    )

    /// Runs the command, first re-executing once with `OPENBLAS_CORETYPE` set when OpenBLAS did not recognise
    /// the CPU (see ``BLASKernel/recommendedCoreType(environment:loadedCore:cpuInfo:)``); set
    /// `OPENBLAS_CORETYPE` yourself to keep any kernel.
    static func main() async {
        #if os(Linux)
        if let core = BLASKernel.recommendedCoreType() {
            setenv("OPENBLAS_CORETYPE", core, 1)
            execv("/proc/self/exe", CommandLine.unsafeArgv)
            // execv returned: carry on with the kernel already loaded.
        }
        #endif
        do {
            var command = try parseAsRoot()
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            exit(withError: error)
        }
    }
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
