import ArgumentParser
import DistillExamples
import Foundation

/// `distill loghub`: the committed real logs (Loghub 2k samples) as the real-logs protocol's JSONL files.
struct LoghubCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "loghub",
        abstract: "Split the Loghub real-log samples into labelled, unlabelled, dev and test JSONL files (the real-logs protocol).",
        discussion: """
        Writes into --out: labelled.jsonl (at most --per-template lines of each training template, with labels), \
        unlabelled.jsonl (the other lines of training templates, labels kept for reference under 'gold'), dev.jsonl (lines of \
        training templates and of dev-only templates), \
        test-heldout.jsonl (every line of the held-out templates: nothing trains or tunes on them), test-seen.jsonl \
        (unseen lines of training templates), all.jsonl and lines.txt (every line of every system, as JSONL and raw) and \
        split.json (counts and the held-out templates). Each JSONL record: text (the raw line), label, system, template.
        """
    )

    @Option(help: "Folder with one sub-folder per system (data/loghub).")
    var data = "data/loghub"

    @Option(help: "Output folder.")
    var out: String

    @Option(name: .customLong("held-out"), help: "Fraction of each system's templates held out for the test set.")
    var heldOut = LoghubSplit().heldOutFraction

    @Option(name: .customLong("per-template"), help: "Labelled lines per training template.")
    var perTemplate = LoghubSplit().perTemplate

    @Option(name: .customLong("dev-lines"), help: "Dev lines from training templates.")
    var devLines = LoghubSplit().devLines

    @Option(name: .customLong("dev-templates"), help: "Fraction of each system's templates whose lines are only in dev (held out from training and test).")
    var devTemplates = LoghubSplit().devTemplateFraction

    @Option(name: .customLong("dev-lines-per-template"), help: "Dev lines from each dev-only template at most.")
    var devLinesPerTemplate = LoghubSplit().devLinesPerTemplate

    @Option(name: .customLong("seen-test-lines"), help: "Test lines from training templates.")
    var seenTestLines = LoghubSplit().seenTestLines

    @Option(help: "Seed of the split.")
    var seed = LoghubSplit().seed

    func validate() throws {
        guard (0..<1).contains(heldOut) else { throw ValidationError("--held-out must be within [0, 1), got \(heldOut)") }
        guard (0..<1).contains(devTemplates), heldOut + devTemplates < 1 else {
            throw ValidationError("--dev-templates must be within [0, 1) and leave training templates with --held-out, got \(devTemplates)")
        }
        guard devLinesPerTemplate >= 1 else { throw ValidationError("--dev-lines-per-template must be at least 1") }
        guard perTemplate >= 1, devLines >= 0, seenTestLines >= 0 else {
            throw ValidationError("--per-template must be at least 1; --dev-lines and --seen-test-lines at least 0")
        }
    }

    func run() throws {
        let corpus = try LoghubCorpus(folder: URL(fileURLWithPath: data))
        var split = LoghubSplit()
        split.heldOutFraction = heldOut
        split.perTemplate = perTemplate
        split.devLines = devLines
        split.devTemplateFraction = devTemplates
        split.devLinesPerTemplate = devLinesPerTemplate
        split.seenTestLines = seenTestLines
        split.seed = seed
        let parts = split.split(corpus)
        print(try parts.write(to: URL(fileURLWithPath: out), corpus: corpus, seed: seed))
    }
}
