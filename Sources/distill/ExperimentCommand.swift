import ArgumentParser
import DistillExamples
import Foundation

/// `distill experiment-kd`: the knowledge-distillation ablation (see docs/experiment-kd.md).
struct ExperimentCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "experiment-kd",
        abstract: "Train the same student four ways (hard only, + soft labels, + hidden/attention, two teachers) over seeds; print a Markdown table."
    )

    @Option(help: "Working folder for the runs.")
    var work: String = ".cache/experiment-kd"

    @Option(help: "Write the Markdown table here too.")
    var out: String?

    @Option(help: "Number of seeds.")
    var seeds: Int = 3

    @Option(help: "Optimizer steps per student.")
    var steps: Int = 300

    @OptionGroup var compute: ComputeOptions

    @OptionGroup var output: OutputOptions

    func run() throws {
        compute.apply()
        output.apply()
        var experiment = KDExperiment(work: URL(fileURLWithPath: work))
        experiment.seeds = (1...max(1, seeds)).map(UInt64.init)
        experiment.studentSteps = steps
        let started = Date()
        let rows = try experiment.run { note($0) }
        let table = KDExperiment.markdown(rows, seeds: experiment.seeds.count)
        print(table)
        note(String(format: "experiment-kd: %.0f s", Date().timeIntervalSince(started)))
        if let out { try Data((table + "\n").utf8).write(to: URL(fileURLWithPath: out), options: .atomic) }
    }
}
