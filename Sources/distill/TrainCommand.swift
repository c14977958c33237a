import ArgumentParser
import DistillExamples
import DistillRecipes
import Foundation

/// `distill train`: run a recipe.
struct TrainCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Distil a student as a recipe describes (resumable with --resume after an interruption; --restart starts over)."
    )

    @Option(help: "Recipe file (YAML); `distill init` writes an example.")
    var recipe: String

    @Flag(help: "Continue from the run folder's checkpoint (exactly: same weights as an uninterrupted run).")
    var resume = false

    @Flag(help: "Discard the run folder's checkpoint, models and reports and start over (teacher labels are kept). A folder with a checkpoint needs --resume or --restart.")
    var restart = false

    func validate() throws {
        if resume && restart { throw ValidationError("--resume and --restart exclude each other") }
    }

    @OptionGroup var compute: ComputeOptions

    @OptionGroup var output: OutputOptions

    func run() async throws {
        compute.apply()
        output.apply()
        let recipe = try Recipe.load(URL(fileURLWithPath: self.recipe))
        var lastPrint = Date.distantPast
        let outcome = try await DistillationRun.execute(recipe, start: resume ? .resume : restart ? .restart : .new, log: note, progress: { p in
            // One progress line per second (and the last one; every one with --verbose), overwritten in place on a terminal.
            guard Verbosity.level == .verbose || Date().timeIntervalSince(lastPrint) >= 1 || p.step == p.totalSteps else { return }
            lastPrint = Date()
            progressLine(p.line)
        }, labelingProgress: labelingProgressPrinter())
        endProgressLines()
        if let test = outcome.test { print(test.table()) }
        print("model: \(outcome.model.path)\(outcome.test == nil ? "" : "   (the test report above is this model's)")")
    }
}

/// `distill init`: write the commented example recipe.
struct InitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "init", abstract: "Write a commented example recipe.")

    @Option(help: "Where to write it.")
    var out: String = "recipe.yaml"

    @Flag(help: "Overwrite an existing file.")
    var force = false

    func run() throws {
        if FileManager.default.fileExists(atPath: out) && !force {
            throw ValidationError("\(out) exists; pass --force to overwrite it")
        }
        try Data(recipeTemplate.utf8).write(to: URL(fileURLWithPath: out), options: .atomic)
        print("wrote \(out)")
    }
}
