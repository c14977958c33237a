import ArgumentParser
import DistillExamples
import DistillRecipes
import DistillRuntime
import DistillTeachers
import DistillText
import DistillTraining
import Foundation

/// `distill label`: label a dataset with teachers (`run`, the default), or merge label stores (`merge`).
struct LabelCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "label",
        abstract: LabelRunCommand.configuration.abstract,
        discussion: "`distill label OPTIONS` is `distill label run OPTIONS`: see `distill label run --help` for its options.",
        subcommands: [LabelRunCommand.self, LabelMergeCommand.self],
        defaultSubcommand: LabelRunCommand.self
    )
}

/// `distill label [run]`: label a dataset with teachers through the SQLite soft-label store.
struct LabelRunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Label texts with teachers (LLM over an OpenAI-compatible API, local BERT, or several); resumable, never asks twice.",
        discussion: """
        Every answer is committed to a SQLite store as it arrives; texts already stored (by teacher, prompt version and \
        normalized text) are not sent again, so a killed run started again continues and ends with the same output.

        Recipe mode labels the recipe's data with each bert/openai teacher into <output>/labels/<teacher>.jsonl \
        (store: <output>/labels.sqlite, which `distill train` then reuses):
          distill label --recipe recipe.yaml
        Direct mode:
          distill label --teacher openai:http://127.0.0.1:8080/v1 --labels labels.txt --input logs.jsonl --out labelled.jsonl
        Several --teacher options make an ensemble (weighted mean, --weights).
        Sharded (e.g. a Kubernetes Indexed Job, deploy/kubernetes/label-job.yaml): each shard labels the templates \
        that hash to it into its own store, then the stores are merged and one unsharded run writes the output \
        from the merged store without asking the teacher again:
          distill label --shard 0/2 --store shard-0.sqlite --out shard-0.jsonl …   (and 1/2)
          distill label merge shard-0.sqlite shard-1.sqlite --out labels.sqlite
          distill label --store labels.sqlite --out labelled.jsonl …
        """
    )

    @Option(help: "Recipe file: label its data with its teachers.")
    var recipe: String?

    @Option(name: .customLong("teacher"), help: "openai:BASE_URL (…/v1; replicas of one model: openai:URL,URL,…) or bert:FOLDER; repeat for an ensemble.")
    var teachers: [String] = []

    @Option(help: "Comma-separated weights, one per --teacher (default: equal).")
    var weights: String?

    @Option(help: "Label file (one `name` or `name: description` per line; JSON list also accepted) or a comma-separated list.")
    var labels: String?

    @Option(help: "Input: JSONL (field --field) or plain text lines (.txt/.log).")
    var input: String?

    @Option(help: "Text field of JSONL input.")
    var field = "text"

    @Option(help: "Output JSONL, one line per input line.")
    var out: String?

    @Option(help: "SQLite store (default: labels.sqlite beside --out).")
    var store: String?

    @OptionGroup var llm: LLMOptions

    @Option(name: .customLong("max-length"), parsing: .unconditional, help: "BERT: tokens per text (default: the model folder's model_max_length).")
    var maxLength: Int?

    @OptionGroup var compute: ComputeOptions

    @OptionGroup var output: OutputOptions

    @Option(name: .customLong("group-by"), help: "Lines that share one question: template (one call per template; the default for LLMs), line (per level and masked message; the default for BERT) or text (every distinct text).")
    var groupBy: LabelGrouping?

    @Flag(name: .customLong("no-dedup"), help: .hidden)
    var noDedup = false  // before --group-by: the same as --group-by text

    @Flag(name: .customLong("retry-failed"), help: "Ask again for stored off-label, malformed and rejected answers.")
    var retryFailed = false

    @Option(help: "Label only shard I of N (I from 0, as Kubernetes' JOB_COMPLETION_INDEX): the lines whose template hashes to I; --out gets those lines. Give each shard its own --store (default labels-shard-I-of-N.sqlite beside --out), then `distill label merge`.", transform: { try LabelShard(parsing: $0) })
    var shard: LabelShard?

    func validate() throws {
        if let maxLength { try SizeLimits.check(maxLength, SizeLimits.maxLength, flag: "--max-length") }
        if llm.examples == nil && llm.nearestExamples != nil {
            throw ValidationError("--nearest-examples needs --examples FILE (the labelled lines to choose from)")
        }
        if shard != nil && recipe != nil {
            throw ValidationError("--shard labels direct-mode input (--teacher --input --out); a recipe's data is labelled whole")
        }
        if recipe == nil {
            guard !teachers.isEmpty, labels != nil, input != nil, out != nil else {
                throw ValidationError("give --recipe FILE, or --teacher SPEC --labels FILE --input FILE --out FILE")
            }
        } else if !teachers.isEmpty || input != nil {
            throw ValidationError("--recipe labels the recipe's data with its teachers: leave out --teacher and --input")
        }
    }

    func run() async throws {
        compute.apply()
        output.apply()
        if let recipe { try await runRecipe(URL(fileURLWithPath: recipe)); return }
        let labelSet = try readLabelSet(labels!)
        let inputURL = URL(fileURLWithPath: input!)
        let texts = try readTexts(inputURL, field: field)
        let outURL = URL(fileURLWithPath: out!)
        let defaultStore = shard.map { "labels-shard-\($0.index)-of-\($0.count).sqlite" } ?? "labels.sqlite"
        let storeURL = self.store.map { URL(fileURLWithPath: $0) } ?? outURL.deletingLastPathComponent().appendingPathComponent(defaultStore)
        // One labelling process per store (a second would ask the teacher the same questions).
        let lock = try RunLock(storeURL.appendingPathExtension("lock"))
        defer { withExtendedLifetime(lock) {} }
        let store = try LabelStore(url: storeURL)
        let weightValues = try weights.map { w in
            try w.split(separator: ",").map { s -> Float in
                guard let v = Float(s.trimmingCharacters(in: .whitespaces)), v >= 0 else { throw ValidationError("--weights: '\(s)' is not a number >= 0") }
                return v
            }
        } ?? [Float](repeating: 1, count: teachers.count)
        guard weightValues.count == teachers.count else { throw ValidationError("--weights needs \(teachers.count) values, one per --teacher") }
        // Each member through the store on its own (changing a weight asks nothing again), then combined.
        // A shard's lines are the same for every member: they are chosen by template, whatever the grouping.
        var perTeacher: [[TeacherAnswer]] = []
        var members: [any Teacher] = []
        var lines = Array(texts.indices)
        for spec in teachers {
            let teacher = try await makeTeacher(spec, labels: labelSet)
            members.append(teacher)
            let (shardLines, answers) = try await label(texts, with: teacher, store: store, name: spec, shard: shard)
            lines = shardLines
            perTeacher.append(answers)
        }
        let identities = members.map(\.identity)
        let answers = members.count == 1 ? perTeacher[0] : try EnsembleTeacher(members: members, weights: weightValues).combine(perTeacher)
        try LabelingJob.export(texts: lines.map { texts[$0] }, answers: answers, labels: labelSet.map(\.name),
                               teacher: identities.joined(separator: " + "), to: outURL)
        let of = shard.map { " (shard \($0) of \(texts.count) lines; store \(storeURL.path))" } ?? ""
        note("wrote \(answers.count) lines to \(outURL.path)\(of) (\(answers.filter { $0.failure != nil }.count) failed)")
    }

    /// Labels the recipe's labelled, unlabelled and dev texts with each bert/openai teacher.
    func runRecipe(_ url: URL) async throws {
        let recipe = try Recipe.load(url)
        let labels = recipe.labelNames
        var texts: [String] = []
        for file in [recipe.data.labelled, recipe.data.unlabelled, recipe.data.dev].compactMap({ $0 }) {
            texts += try readDataset(file, labels: labels, requireLabel: false, readLabels: false).map(\.text)
        }
        // The run folder's lock: no `distill train` of the same recipe meanwhile.
        let lock = try RunLock.runFolder(recipe.output)
        defer { withExtendedLifetime(lock) {} }
        try TeacherPreparation.fineTune(recipe, log: note)
        let store = try LabelStore(url: RecipeTeachers.storeURL(recipe))
        var ran = 0
        for entry in recipe.teachers {
            if case .softLabels = entry.kind { continue }
            let teacher = try await RecipeTeachers.teacher(entry, labels: recipe.labels, maxLength: recipe.training.maxLength,
                                                           transport: AsyncHTTPClientTransport(log: standardErrorLine), log: standardErrorLine)
            // A bert teacher reads the recipe's prepared text, as in `distill train`; LLMs the raw lines.
            let inputs = if case .bert = entry.kind, recipe.input.kind != .raw { texts.map(recipe.input.preparer().prepare) } else { texts }
            let answers = try await label(inputs, with: teacher, store: store, name: entry.name, grouping: RecipeTeachers.grouping(entry)).answers
            let out = recipe.output.appendingPathComponent("labels/\(entry.name).jsonl")
            try LabelingJob.export(texts: texts, answers: answers, labels: labels, teacher: teacher.identity, to: out)
            note("\(entry.name): wrote \(out.path)")
            ran += 1
        }
        if ran == 0 { throw ValidationError("the recipe has no bert or openai teacher to run") }
    }

    /// Labels `texts` (the lines of `shard` only, when given) with one teacher; returns the lines labelled
    /// (indices into `texts`) and their answers.
    func label(_ texts: [String], with teacher: any Teacher, store: LabelStore, name: String, grouping: LabelGrouping? = nil,
               shard: LabelShard? = nil) async throws -> (lines: [Int], answers: [TeacherAnswer]) {
        var job = LabelingJob(teacher: teacher, store: store)
        // An LLM asks once per template; a local BERT answers every line (it is cheap and sees each line's words).
        job.grouping = grouping ?? (noDedup ? .text : groupBy) ?? (teacher is BertTeacher ? .line : .standard)
        job.retryFailed = retryFailed
        note("\(name): \(teacher.identity)" + (shard.map { ", shard \($0)" } ?? ""))
        let lines: [Int], answers: [TeacherAnswer], summary: LabelingJob.Summary
        if let shard {
            (lines, answers, summary) = try await job.run(texts, shard: shard, progress: labelingProgressPrinter())
        } else {
            (answers, summary) = try await job.run(texts, progress: labelingProgressPrinter())
            lines = Array(texts.indices)
        }
        endProgressLines()
        let failures = summary.failures.isEmpty ? "none" : summary.failures.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
        note(String(format: "%@: %d texts, %d distinct lines, %d questions (by %@), %d from the store, %d requests, failures: %@, mean outside mass %.3f, %.1f s",
                    name, summary.texts, summary.keys, summary.questions, job.grouping.rawValue, summary.cacheHits, summary.requests, failures,
                    summary.meanOutsideMass, summary.seconds))
        if let spread = await (teacher as? OpenAITeacher)?.replicaSummary() { note("\(name): \(spread)") }
        // Machine-readable summary on stdout, one JSON line per teacher (`distill label … | jq` reads it).
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        print(String(decoding: try encoder.encode(summary), as: UTF8.self))
        return (lines, answers)
    }

    func makeTeacher(_ spec: String, labels: [Recipe.Label]) async throws -> any Teacher {
        if spec.hasPrefix("bert:") {
            return try BertTeacher(folder: URL(fileURLWithPath: String(spec.dropFirst(5))), labels: labels.map(\.name), maxLength: maxLength,
                                   preparingInput: true)
        }
        guard spec.hasPrefix("openai:") else { throw ValidationError("--teacher '\(spec)': expected openai:BASE_URL or bert:FOLDER") }
        // Replicas of one server: openai:URL,URL,…
        let urls = spec.dropFirst(7).split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        guard !urls.isEmpty else { throw ValidationError("--teacher '\(spec)': expected openai:BASE_URL (or several, comma-separated)") }
        let s = llm.spec(baseURLs: urls)
        return try await OpenAITeacher.connect(spec: s, labels: labels, transport: AsyncHTTPClientTransport(log: standardErrorLine), log: standardErrorLine)
    }
}

extension LabelGrouping: ExpressibleByArgument {}

/// Label names (and descriptions) from a file or a comma-separated list.
func readLabelSet(_ argument: String) throws -> [Recipe.Label] {
    let url = URL(fileURLWithPath: argument)
    guard FileManager.default.fileExists(atPath: url.path) else {
        let names = argument.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        guard names.count >= 2, !argument.contains("/") else { throw ValidationError("--labels: no file '\(argument)', and not a list of at least 2 names") }
        return names.map { Recipe.Label(name: $0) }
    }
    let text: String
    do { text = try String(contentsOf: url, encoding: .utf8) } catch { throw ValidationError("\(url.path): cannot read as UTF-8: \(fileErrorReason(error))") }
    var labels: [Recipe.Label] = []
    if url.pathExtension == "json" {
        guard let list = (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [Any] else {
            throw ValidationError("\(url.path): expected a JSON list of names or {\"name\", \"description\"} objects")
        }
        for (i, item) in list.enumerated() {
            if let name = item as? String { labels.append(Recipe.Label(name: name)) } else if let o = item as? [String: Any], let name = o["name"] as? String {
                labels.append(Recipe.Label(name: name, description: o["description"] as? String ?? ""))
            } else { throw ValidationError("\(url.path): item \(i) is neither a name nor an object with 'name'") }
        }
    } else {
        for (n, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            var line = raw.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") { continue }
            if line.hasPrefix("- ") { line = String(line.dropFirst(2)) }
            let parts = line.split(separator: ":", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard let name = parts.first, !name.isEmpty, !name.contains(" ") else { throw ValidationError("\(url.path):\(n + 1): expected 'name' or 'name: description'") }
            labels.append(Recipe.Label(name: name, description: parts.count > 1 ? parts[1] : ""))
        }
    }
    guard labels.count >= 2 else { throw ValidationError("\(url.path): needs at least 2 labels") }
    guard Set(labels.map(\.name)).count == labels.count else { throw ValidationError("\(url.path): label names must be unique") }
    return labels
}

/// The texts of a JSONL (field) or plain-text file (.txt, .log: one per line, blank lines skipped); problems name file:line.
func readTexts(_ url: URL, field: String) throws -> [String] {
    if ["txt", "log"].contains(url.pathExtension) {
        let reader: LineReader
        do { reader = try LineReader(path: url.path) } catch { throw DistillError.invalidData(file: url.path, line: 0, detail: "cannot open: \(fileErrorReason(error))") }
        var out: [String] = []
        while let line = try reader.next() {
            if let problem = line.problem { throw DistillError.invalidData(file: url.path, line: line.number, detail: problem.message) }
            if let t = line.text, !t.allSatisfy(\.isWhitespace) { out.append(t) }
        }
        return out
    }
    return try readDataset(url, labels: [], field: field, requireLabel: false, readLabels: false).map(\.text)
}

/// Prints the labelling progress line to stderr at most twice a second (overwritten in place on a terminal).
func labelingProgressPrinter() -> @Sendable (LabelingJob.Progress) -> Void {
    let state = ProgressThrottle()
    return { p in
        guard Verbosity.level == .verbose || state.shouldPrint(final: p.done == p.total) else { return }
        progressLine("  " + p.line)
    }
}

final class ProgressThrottle: @unchecked Sendable {
    private let lock = NSLock()
    private var last = Date.distantPast
    func shouldPrint(final: Bool) -> Bool {
        lock.withLock {
            let now = Date()
            guard final || now.timeIntervalSince(last) >= (isatty(2) != 0 ? 0.5 : 5) else { return false }
            last = now
            return true
        }
    }
}

/// Writes one line to standard error (the teacher transport's notices).
@Sendable func standardErrorLine(_ line: String) { FileHandle.standardError.write(Data((line + "\n").utf8)) }
