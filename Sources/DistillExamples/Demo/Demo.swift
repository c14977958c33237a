import DistillRecipes
import DistillRuntime
import DistillTeachers
import DistillTraining
import Foundation

/// The end-to-end demo (`distill demo`) on real logs: the committed Loghub samples split with whole templates held
/// out, then the recipes of `examples/demo/` run in order through ``DistillationRun`` — the path `distill train`
/// takes — and one table of every teacher, student and gold-only baseline on the held-out templates.
///
/// - zero-label path (`zero-label.yaml`, with an LLM): the LLM labels the unlabelled lines, one question per
///   template, and an n-gram bag learns from its answers alone; no hand-labelled line anywhere.
/// - few-label path (`few-label-bag.yaml`, `few-label-tiny-bert.yaml`): all-MiniLM-L6-v2 fine-tuned on the few
///   hand-labelled lines (once, shared), then an n-gram bag and a tiny BERT distilled from it on the unlabelled lines.
public struct Demo {
    /// The folder of the demo's recipes (`examples/demo`).
    public var recipes: URL
    /// The real logs (`data/loghub`).
    public var logs: URL
    /// all-MiniLM-L6-v2 (a Hugging Face folder), the checkpoint the few-label path fine-tunes.
    public var minilm: URL
    public var output: URL
    /// The LLM of the zero-label path: an OpenAI-compatible base URL (…/v1) and model name; nil skips that path.
    public var llmURL: String?
    public var llmModel = "default"
    /// The LLM's name in the table.
    public var llmName = "LLM"
    /// One epoch everywhere and only these systems (nil: all): a smoke run of every stage.
    public var quick = false
    public var systems: [String]?

    public init(recipes: URL, logs: URL, minilm: URL, output: URL) {
        self.recipes = recipes
        self.logs = logs
        self.minilm = minilm
        self.output = output
    }

    /// One recipe of the demo and how its rows are named.
    struct Step {
        var file: String
        /// The folder name under `models/` of the shipped student (its int8 copy adds `-int8`).
        var model: String
        var student: String
        var path: Path
        enum Path: String { case zeroLabel = "zero-label", fewLabel = "few-label" }
    }

    /// The few-label students' row names in the report (`distill bench edge` reads their rows); an int8 copy's row
    /// adds ", int8".
    public static let bagStudent = "n-gram bag, distilled"
    public static let tinyBertStudent = "tiny BERT 2x128, distilled (KD, soft labels only)"

    static let steps = [
        Step(file: "zero-label.yaml", model: "bag-zero-label", student: "n-gram bag from the LLM's answers alone", path: .zeroLabel),
        Step(file: "few-label-bag.yaml", model: "bag-kd", student: bagStudent, path: .fewLabel),
        Step(file: "few-label-tiny-bert.yaml", model: "tiny-bert-kd", student: tinyBertStudent, path: .fewLabel),
    ]

    /// Runs the split and the recipes, writes `report.json`, `report.md` and `report.html` and returns the result.
    public func run(log: @escaping @Sendable (String) -> Void,
                    labelingProgress: @escaping @Sendable (LabelingJob.Progress) -> Void = { _ in }) async throws -> Result {
        let started = Date()
        try checkOutput()
        let split = try writeSplit(log: log)
        var result = Result(date: ISO8601DateFormatter().string(from: Date()),
                            machine: "\(ProcessInfo.processInfo.activeProcessorCount) cores, \(ProcessInfo.processInfo.physicalMemory >> 30) GiB",
                            wallSeconds: 0, split: split, rows: [], notes: [])
        var teachersSeen = Set<String>()
        for step in Self.steps {
            if step.path == .zeroLabel && llmURL == nil {
                result.notes.append("zero-label path skipped: no LLM (`--llm-teacher URL`; `make demo` starts one)")
                log("demo: \(step.file) skipped (no --llm-teacher)")
                continue
            }
            let recipe = try load(step)
            log("demo: \(step.file) -> \(recipe.output.path)")
            let stepStarted = Date()
            let outcome: DistillationRun.Outcome
            do {
                outcome = try await DistillationRun.execute(recipe, start: .resume, log: log, labelingProgress: labelingProgress)
            } catch DistillError.checkpointOfAnotherRun {
                // The demo owns its run folders: a recipe changed since the last demo (an update) trains again.
                log("demo: \(step.file) changed since the last demo in \(output.path): its run starts over")
                outcome = try await DistillationRun.execute(recipe, start: .restart, log: log, labelingProgress: labelingProgress)
            }
            let seconds = Date().timeIntervalSince(stepStarted)
            try addRows(step, recipe: recipe, outcome: outcome, seconds: seconds, teachersSeen: &teachersSeen, into: &result, log: log)
        }
        try writeBenchData()
        result.wallSeconds = Date().timeIntervalSince(started)
        try result.write(to: output)
        return result
    }

    /// The demo writes `split/`, `runs/`, `teachers/`, `models/`, `data/` and its reports into `output` and replaces
    /// what an earlier demo left there, so `output` must be new, empty or an earlier demo's (it has `split/`).
    func checkOutput() throws {
        let entries = ((try? FileManager.default.contentsOfDirectory(atPath: output.path)) ?? []).sorted()
        var isFolder: ObjCBool = true
        if FileManager.default.fileExists(atPath: output.path, isDirectory: &isFolder), !isFolder.boolValue {
            throw DemoError.foreignOutput(path: output.path, entries: ["it is a file"])
        }
        if !entries.isEmpty && !entries.contains("split") { throw DemoError.foreignOutput(path: output.path, entries: entries) }
    }

    /// The demo's recipe `step`, its variables set (`DEMO`, `MINILM`, `LLM_URL`, `LLM_MODEL`); `quick` shortens it.
    func load(_ step: Step) throws -> Recipe {
        let variables = ["DEMO": output.standardizedFileURL.path, "MINILM": minilm.standardizedFileURL.path,
                         "LLM_URL": llmURL ?? "http://127.0.0.1:1/v1", "LLM_MODEL": llmModel]
        var recipe = try Recipe.load(recipes.appendingPathComponent(step.file), variables: variables)
        if quick {
            recipe.training.epochs = 1
            for i in recipe.teachers.indices where recipe.teachers[i].fineTune != nil { recipe.teachers[i].fineTune!.epochs = 1 }
        }
        return recipe
    }

    /// Splits the real logs into `split/` (whole templates held out; a few labelled lines per training template).
    func writeSplit(log: (String) -> Void) throws -> SplitCounts {
        var corpus = try LoghubCorpus(folder: logs)
        if let systems {
            let unknown = systems.filter { !corpus.systems.contains($0) }
            guard unknown.isEmpty else {
                throw DemoError.unknownSystems(unknown, available: corpus.systems)
            }
            corpus.lines = corpus.lines.filter { systems.contains($0.system) }
            corpus.systems = corpus.systems.filter { systems.contains($0) }
        }
        let splitter = LoghubSplit()
        let parts = splitter.split(corpus)
        log(try parts.write(to: output.appendingPathComponent("split"), corpus: corpus, seed: splitter.seed))
        return SplitCounts(systems: corpus.systems, lines: corpus.lines.count, labelled: parts.labelled.count, unlabelled: parts.unlabelled.count,
                           dev: parts.dev.count, test: parts.heldOut.count, heldOutTemplates: parts.heldOutTemplates.count,
                           unlabelledTemplates: Set(parts.unlabelled.map(\.templateKey)).count)
    }

    /// The files the edge benchmark's peers read (`make bench`): `data/train.jsonl` (the hand-labelled lines, as a
    /// user without Distill would train on) and `data/heldout.jsonl` (the held-out test lines).
    func writeBenchData() throws {
        let data = output.appendingPathComponent("data")
        try FileManager.default.createDirectory(at: data, withIntermediateDirectories: true)
        for (from, to) in [("labelled.jsonl", "train.jsonl"), ("test-heldout.jsonl", "heldout.jsonl")] {
            let target = data.appendingPathComponent(to)
            try? FileManager.default.removeItem(at: target)
            try FileManager.default.copyItem(at: output.appendingPathComponent("split/\(from)"), to: target)
        }
    }
}

/// Why the demo cannot run.
public enum DemoError: Error, LocalizedError, Equatable {
    case unknownSystems([String], available: [String])
    case noReport(recipe: String)
    case foreignOutput(path: String, entries: [String])

    public var errorDescription: String? {
        switch self {
        case let .unknownSystems(names, available):
            "--systems: \(names.joined(separator: ", ")) not among the logs' systems (\(available.joined(separator: ", ")))"
        case let .noReport(recipe):
            "\(recipe): the run has no test report (the demo's recipes need data.test)"
        case let .foreignOutput(path, entries):
            "--out \(path): holds files that are not an earlier demo's (\(entries.prefix(5).joined(separator: ", "))\(entries.count > 5 ? ", …" : "")); the demo replaces what it writes there: name a new or empty folder"
        }
    }
}
