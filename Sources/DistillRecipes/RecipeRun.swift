import DistillCore
import DistillNN
import DistillRuntime
import DistillTeachers
import DistillText
import DistillTraining
import Foundation

/// The stages of ``DistillationRun/execute(_:start:log:progress:labelingProgress:)``, in the order it runs them.
struct RecipeRun {
    let recipe: Recipe
    let log: @Sendable (String) -> Void
    let labelingProgress: @Sendable (LabelingJob.Progress) -> Void
    /// Each `bert` teacher read from its folder once, for labels, static embeddings and intermediate losses.
    let loadedTeachers = LoadedTeachers()
    /// What asking the LLM teachers cost, as the stages ask them.
    let labelling = LabellingLedger()
    var labels: [String] { recipe.labelNames }

    /// The run's lines: labelled (with augmented copies and paraphrases at `augmentedRange`), the distinct unlabelled
    /// texts, dev and test, all prepared as the recipe's `input` says; the raw texts stored soft labels are keyed by.
    struct RunData {
        var labelled: [DataRecord]
        var augmentedRange: Range<Int>
        var paraphraseCount = 0
        var unlabelled: DistinctLines
        var dev: [DataRecord], test: [DataRecord]
        var rawTrainTexts: [String], rawDevTexts: [String], rawTestTexts: [String]
        /// Lines read from `data.labelled` (before copies).
        var labelledLines: Int { augmentedRange.lowerBound }
        var trainTexts: [String] { labelled.map(\.text) + unlabelled.entries.map(\.text) }
    }

    /// The teachers' aggregate distribution per training and dev text (nil where no teacher gave one) and each
    /// teacher's agreement with the aggregate.
    struct Targets {
        var train: [[Float]?], dev: [[Float]?]
        var agreement: [String: Double] = [:]
        /// Per teacher and label, the dev F1 that scales its votes (`aggregation: class-reliability`).
        var reliability: [[Float]]?
    }

    /// What the student trains on.
    struct Examples {
        var train: [TrainingExample], dev: [TrainingExample]
        /// Lines per training example (for the student's vocabulary counts).
        var lines: [Float]
        var epochExamples: Int?
    }

    /// 1. The data: labelled lines with their rule-based copies and LLM paraphrases, the unlabelled file streamed into
    /// its distinct prepared texts, dev and test.
    func readData() async throws -> RunData {
        var labelled = try recipe.data.labelled.map { try readDataset($0, labels: labels, requireLabel: true) } ?? []
        var augmentedRange = labelled.count..<labelled.count
        if let options = recipe.augmentation, options.copies > 0 {
            // Augmented copies keep their source line's label; they join the labelled set (and the teachers label them).
            let augmenter = LogAugmenter(options: options, seed: recipe.training.seed)
            let copies = labelled.enumerated().flatMap { i, r in augmenter.augment(r.text, index: i).map { DataRecord(text: $0, label: r.label, line: r.line) } }
            augmentedRange = labelled.count..<(labelled.count + copies.count)
            labelled += copies
            log("augmentation: \(copies.count) copies of \(augmentedRange.lowerBound) labelled lines")
        }
        var paraphraseCount = 0
        if recipe.paraphrases > 0, let name = recipe.paraphraseTeacher, let teacher = recipe.teachers.first(where: { $0.name == name }) {
            let sources = Array(labelled[0..<augmentedRange.lowerBound])
            let written = try await RecipeTeachers.paraphrases(teacher, texts: sources.map(\.text), count: recipe.paraphrases, recipe: recipe, log: log)
            let copies = zip(sources, written).flatMap { r, ps in ps.map { DataRecord(text: $0, label: r.label, line: r.line) } }
            labelled += copies
            augmentedRange = augmentedRange.lowerBound..<labelled.count
            paraphraseCount = copies.count
            log("augmentation: \(copies.count) LLM paraphrases of \(sources.count) labelled lines by \(name)")
        }
        // Teachers and student read prepared lines (after augmentation, which works on raw lines).
        let preparer = recipe.input.kind != .raw ? recipe.input.preparer() : nil
        let unlabelled = try recipe.data.unlabelled.map {
            try DistinctLines.read($0, labels: labels, requireLabel: false, readLabels: false, merging: recipe.training.duplicates == .merge,
                                   prepare: preparer.map { p in { p.prepare($0) } })
        } ?? DistinctLines(merging: false)
        var dev = try recipe.data.dev.map { try readDataset($0, labels: labels, requireLabel: true) } ?? []
        var test = try recipe.data.test.map { try readDataset($0, labels: labels, requireLabel: true) } ?? []
        // Stored soft labels (`distill label` output) are keyed by the raw lines they were asked for; a distinct
        // unlabelled text is asked as its first raw line.
        let rawTrainTexts = labelled.map(\.text) + unlabelled.entries.map(\.raw), rawDevTexts = dev.map(\.text), rawTestTexts = test.map(\.text)
        if let preparer {
            func prepare(_ records: inout [DataRecord]) { for i in records.indices { records[i].text = preparer.prepare(records[i].text) } }
            prepare(&labelled); prepare(&dev); prepare(&test)
            log("input: \(recipe.input.kind.rawValue) (masks: \(recipe.input.masks.joined(separator: ", ")))")
        }
        let data = RunData(labelled: labelled, augmentedRange: augmentedRange, paraphraseCount: paraphraseCount, unlabelled: unlabelled, dev: dev, test: test,
                        rawTrainTexts: rawTrainTexts, rawDevTexts: rawDevTexts, rawTestTexts: rawTestTexts)
        try checkData(data)
        return data
    }

    /// Logs the counts; warns about empty files; refuses a run with nothing to train on.
    private func checkData(_ data: RunData) throws {
        let unlabelled = data.unlabelled
        log("data: \(data.labelled.count) labelled, \(unlabelled.lines) unlabelled"
            + (unlabelled.merging ? " (\(unlabelled.entries.count) distinct texts)" : "") + ", \(data.dev.count) dev, \(data.test.count) test")
        for (key, url, count) in [("labelled", recipe.data.labelled, data.labelledLines), ("unlabelled", recipe.data.unlabelled, unlabelled.lines),
                                  ("dev", recipe.data.dev, data.dev.count), ("test", recipe.data.test, data.test.count)] where url != nil && count == 0 {
            log("warning: data.\(key) (\(url!.path)) holds no lines")
        }
        guard !data.labelled.isEmpty || (!unlabelled.entries.isEmpty && !recipe.teachers.isEmpty) else {
            throw RecipeError(file: recipe.file.path, line: 0, key: "data",
                              detail: "nothing to train on: no labelled lines\(recipe.teachers.isEmpty ? " and no teachers" : ", and no unlabelled lines for the teachers")")
        }
    }

    /// One teacher's distributions for `texts` (`raw`: the same lines as written): an `openai` teacher through the
    /// run's label store, a `bert` teacher or a stored soft-labels file through the soft-label cache in `cache` (``teacherDistributions``).
    func distributions(_ t: Recipe.Teacher, part: LabellingCost.Part, texts: [String], raw: [String], cache: URL, announce: Bool) async throws -> [[Float]?] {
        // Stored soft labels and LLMs read the raw lines: files are keyed by them, and an LLM understands a line as
        // written (its store is keyed as `distill label --recipe` asks); a BERT teacher reads prepared text.
        if case .openAI = t.kind {
            let ledger = labelling
            return try await RecipeTeachers.labels(t, texts: raw, recipe: recipe, log: log, progress: labelingProgress) { summary in
                ledger.append(LabellingCost(teacher: t.name, part: part, summary: summary))
            }
        }
        let readsRaw: Bool = { if case .bert = t.kind { return false }; return true }()
        let started = Date()
        var lastLine = Date.distantPast
        let log = self.log
        return try teacherDistributions(t, texts: readsRaw ? raw : texts, labels: labels, cacheFolder: cache, maxLength: recipe.training.maxLength,
                                        loaded: loadedTeachers) { done, total in
            // A progress line every 2 s (and the last): labelling thousands of lines with a BERT takes a while.
            guard announce, Date().timeIntervalSince(lastLine) >= 2 || done == total else { return }
            lastLine = Date()
            let seconds = Date().timeIntervalSince(started), rate = Double(done) / max(seconds, 1e-9)
            log(String(format: "teacher %@: %d/%d texts · %.0f texts/s · %@", t.name, done, total, rate,
                       done == total ? String(format: "done in %.1f s", seconds) : String(format: "ETA %.0f s", Double(total - done) / max(rate, 1e-9))))
        }
    }

    /// 2. Each teacher labels the training texts (and the dev set, for reliability and agreement), cached per run
    /// folder; the distributions are aggregated, and augmented lines the teachers no longer give their label dropped
    /// (from `data`). Writes `teachers.json`.
    func teacherTargets(_ data: inout RunData) async throws -> Targets {
        var targets = Targets(train: [[Float]?](repeating: nil, count: data.trainTexts.count), dev: [[Float]?](repeating: nil, count: data.dev.count))
        guard !recipe.teachers.isEmpty else { return targets }
        let cache = recipe.output.appendingPathComponent("teachers")
        var perTeacher: [[[Float]?]] = [], perTeacherDev: [[[Float]?]] = []
        for t in recipe.teachers {
            log("teacher \(t.name): labelling \(data.trainTexts.count) texts")
            let rows = try await distributions(t, part: .train, texts: data.trainTexts, raw: data.rawTrainTexts, cache: cache, announce: true)
            if case .softLabels = t.kind {
                let found = rows.filter { $0 != nil }.count
                log("teacher \(t.name): stored soft labels for \(found) of \(rows.count) training texts")
                if found == 0 && !rows.isEmpty {
                    throw RecipeError(file: recipe.file.path, line: 0, key: "teachers",
                                      detail: "'\(t.name)' holds no soft label for any training text: its file must have a line {\"text\": …, \"probabilities\": …} per raw training line")
                }
            }
            perTeacher.append(rows)
            perTeacherDev.append(try await distributions(t, part: .dev, texts: data.dev.map(\.text), raw: data.rawDevTexts, cache: cache.appendingPathComponent("dev"),
                                                         announce: false))
        }
        let reliability = recipe.aggregation == .classReliability
            ? classReliability(devDistributions: perTeacherDev, devLabels: data.dev.map { $0.label! }, classes: labels.count) : nil
        // A teacher that has no distribution for an example does not take part in it; examples no teacher covers keep
        // no soft target.
        let aggregate = aggregateTeachers(perTeacher, weights: recipe.teachers.map(\.weight), strategy: recipe.aggregation, reliability: reliability)
        for i in targets.train.indices where perTeacher.contains(where: { $0[i] != nil }) { targets.train[i] = aggregate[i] }
        targets.reliability = reliability
        let augmentationCounts = filterAugmented(&data, targets: &targets, aggregate: aggregate)
        for (t, a) in zip(recipe.teachers, teacherAgreement(perTeacher, aggregate: aggregate)) { targets.agreement[t.name] = a }
        let devAggregate = aggregateTeachers(perTeacherDev, weights: recipe.teachers.map(\.weight), strategy: recipe.aggregation, reliability: reliability)
        targets.dev = data.dev.indices.map { i in perTeacherDev.contains { $0[i] != nil } ? devAggregate[i] : nil }
        var summary: [String: Any] = ["aggregation": recipe.aggregation.rawValue, "agreement_with_aggregate": targets.agreement]
        if let augmentationCounts { summary["augmentation"] = augmentationCounts }
        try JSONSerialization.data(withJSONObject: summary, options: [.prettyPrinted, .sortedKeys])
            .write(to: recipe.output.appendingPathComponent("teachers.json"), options: .atomic)
        return targets
    }

    /// The teacher filter of augmentation: an augmented line stays only if the teachers still give its label.
    private func filterAugmented(_ data: inout RunData, targets: inout Targets, aggregate: [[Float]]) -> [String: Int]? {
        guard let threshold = recipe.augmentationTeacherFilter ?? (data.paraphraseCount > 0 ? 0.5 : nil), !data.augmentedRange.isEmpty else { return nil }
        let indices = Array(data.augmentedRange)
        let (kept, dropped) = filterByTeacher(indices.map { aggregate[$0] }, labels: indices.map { data.labelled[$0].label! }, threshold: threshold)
        let keep = Set(kept.map { indices[$0] })
        var filteredLabelled: [DataRecord] = [], filteredTargets: [[Float]?] = []
        for i in 0..<data.labelled.count where !data.augmentedRange.contains(i) || keep.contains(i) {
            filteredLabelled.append(data.labelled[i])
            filteredTargets.append(targets.train[i])
        }
        filteredTargets += targets.train[data.labelled.count...]
        data.labelled = filteredLabelled
        targets.train = filteredTargets
        log("augmentation: teacher filter kept \(kept.count), dropped \(dropped)")
        return ["made": indices.count, "kept": kept.count, "dropped": dropped, "paraphrases": data.paraphraseCount]
    }

    /// 3. Training examples (gold and teacher targets), identical prepared texts merged into one weighted example
    /// unless the recipe keeps duplicates; the dev examples.
    func examples(_ data: RunData, targets: Targets) -> Examples {
        var train: [TrainingExample] = []
        for (i, r) in data.labelled.enumerated() { train.append(TrainingExample(text: r.text, label: r.label, teacher: targets.train[i])) }
        for (j, e) in data.unlabelled.entries.enumerated() {
            train.append(TrainingExample(text: e.text, teacher: targets.train[data.labelled.count + j], weight: Float(e.count)))
        }
        var lines = train.map(\.weight)
        var epochExamples: Int?
        if recipe.training.duplicates == .merge {
            (train, lines) = mergeDuplicateExamples(train, cap: recipe.training.duplicateWeightCap)
            let lineCount = Int(lines.reduce(0, +))
            epochExamples = recipe.training.mergedEpochExamples(distinct: train.count, lines: lineCount)
            log(String(format: "training: %d distinct examples for %d lines (weights capped at %g), %d examples an epoch",
                       train.count, lineCount, recipe.training.duplicateWeightCap, epochExamples!))
        }
        let dev = data.dev.enumerated().map { TrainingExample(text: $0.element.text, label: $0.element.label, teacher: targets.dev[$0.offset]) }
        return Examples(train: train, dev: dev, lines: lines, epochExamples: epochExamples)
    }
}
