import DistillRuntime
import DistillTeachers
import Foundation

/// Builds runnable teachers from recipe entries and labels recipe texts through the store.
public enum RecipeTeachers {
    /// The store a recipe's LLM teachers share: `<output>/labels.sqlite`.
    public static func storeURL(_ recipe: Recipe) -> URL { recipe.output.appendingPathComponent("labels.sqlite") }

    /// A teacher for a recipe entry (`bert` or `openai`; `soft-labels` files are read, not run).
    public static func teacher(_ entry: Recipe.Teacher, labels: [Recipe.Label], maxLength: Int,
                               transport: any HTTPTransport = AsyncHTTPClientTransport(),
                               log: (@Sendable (String) -> Void)? = nil) async throws -> any Teacher {
        switch entry.kind {
        case let .bert(folder): return try BertTeacher(folder: folder, labels: labels.map(\.name), maxLength: maxLength)
        case let .openAI(spec): return try await OpenAITeacher.connect(spec: spec, labels: labels, transport: transport, log: log)
        case .softLabels:
            throw TeacherError.configuration(key: "kind", detail: "teacher '\(entry.name)' is a soft-labels file: it is read, not run")
        }
    }

    /// How a recipe teacher's lines share questions: an openai teacher's `group_by`; a bert teacher answers each line.
    public static func grouping(_ entry: Recipe.Teacher) -> LabelGrouping {
        if case let .openAI(spec) = entry.kind { return spec.groupBy }
        return .line
    }

    /// A `kind: openai` teacher's distributions for `texts`, asked through ``storeURL(_:)`` (nothing is asked twice);
    /// logs a summary. nil where the teacher gave no distribution.
    public static func labels(_ entry: Recipe.Teacher, texts: [String], recipe: Recipe, log: @escaping @Sendable (String) -> Void,
                              progress: @escaping @Sendable (LabelingJob.Progress) -> Void = { _ in },
                              summary report: (LabelingJob.Summary) -> Void = { _ in }) async throws -> [[Float]?] {
        let teacher = try await RecipeTeachers.teacher(entry, labels: recipe.labels, maxLength: recipe.training.maxLength,
                                                       transport: AsyncHTTPClientTransport(log: log), log: log)
        var job = LabelingJob(teacher: teacher, store: try LabelStore(url: storeURL(recipe)))
        job.grouping = grouping(entry)
        let (answers, summary) = try await job.run(texts, progress: progress)
        log("teacher \(entry.name): \(summary.keys) distinct lines, \(summary.questions) questions (by \(job.grouping.rawValue)), \(summary.cacheHits) from the store, \(summary.requests) requests, "
            + "\(summary.failures.values.reduce(0, +)) failed \(summary.failures.isEmpty ? "" : "\(summary.failures)")")
        if let spread = await (teacher as? OpenAITeacher)?.replicaSummary() { log("teacher \(entry.name): \(spread)") }
        report(summary)
        return answers.map { $0.label?.probabilities }
    }
}

extension RecipeTeachers {
    /// `count` rewrites of each of `texts` by the `openai` teacher `entry` (`augmentation.paraphrases`), stored in
    /// the recipe's label store (a rerun asks nothing again).
    public static func paraphrases(_ entry: Recipe.Teacher, texts: [String], count: Int, recipe: Recipe,
                                   log: @escaping @Sendable (String) -> Void) async throws -> [[String]] {
        guard case let .openAI(spec) = entry.kind else {
            throw TeacherError.configuration(key: "paraphrase_teacher", detail: "'\(entry.name)' is not an openai teacher")
        }
        let teacher = try await OpenAITeacher.connect(spec: spec, labels: recipe.labels, transport: AsyncHTTPClientTransport(log: log), log: log)
        return try await paraphrase(texts, count: count, teacher: teacher, store: try LabelStore(url: storeURL(recipe)), log: log)
    }

    /// The instruction sent for one line.
    public static func paraphraseInstruction(_ text: String) -> String {
        "Rewrite the following log line so that it says the same thing in different words. Keep its format, its severity and its "
            + "variables (addresses, numbers, paths, names). Reply with the rewritten line only.\n\n" + text
    }

    /// `count` paraphrases per text (distinct from the text, first line of each answer, quotes removed), through the store.
    public static func paraphrase(_ texts: [String], count: Int, teacher: OpenAITeacher, store: LabelStore,
                                  log: @Sendable (String) -> Void = { _ in }) async throws -> [[String]] {
        let storeTeacher = teacher.modelName + "|paraphrase-v1|seed=\(teacher.spec.seed)"
        var out: [[String]] = []
        var asked = 0, failed = 0
        for (i, text) in texts.enumerated() {
            let key = "n=\(count)|" + text
            if let stored = try store.generation(teacher: storeTeacher, key: key) { out.append(stored); continue }
            let (raw, failures) = try await teacher.generate(paraphraseInstruction(text), count: count, maxTokens: 96)
            asked += count
            failed += failures
            let cleaned = raw.compactMap { answer -> String? in
                let line = answer.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.first { !$0.isEmpty } ?? ""
                let unquoted = line.trimmingCharacters(in: CharacterSet(charactersIn: "\"'`"))
                return unquoted.isEmpty || unquoted == text ? nil : unquoted
            }
            try store.saveGeneration(teacher: storeTeacher, key: key, texts: cleaned, failed: failures)
            out.append(cleaned)
            if (i + 1) % 25 == 0 { log("paraphrases: \(i + 1)/\(texts.count) lines") }
        }
        log("paraphrases: \(out.reduce(0) { $0 + $1.count }) written for \(texts.count) lines (\(asked) asked now, \(failed) failed)")
        return out
    }
}
