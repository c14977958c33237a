import DistillCore
import DistillNN
import DistillRuntime
import DistillText
import Foundation

/// Runs a recipe end to end: read data, label it with the teachers (cached), aggregate, build the student,
/// train (resumable), evaluate on the test set and write `report.json` / `report.md` / `report.html` in the run folder.
public enum DistillationRun {
    /// What a finished run produced.
    public struct Outcome {
        public var student: Student
        public var test: EvaluationReport?
        public var teacherAgreement: [String: Double]
        /// The folder to ship: `best/` (best dev score) when there was a dev set, else `final/`; the test report
        /// is this model's.
        public var model: URL
        /// The student, the teachers and the gold-only baseline on the dev lines, and the run's warnings.
        public var checks: RunChecks
    }

    ///
    /// - Parameter externalTeachers: labels `kind: openai` teachers (the command line passes DistillTeachers' labeller).
    /// - Parameter start: what to do with a run folder that already holds a checkpoint (``RunStart``).
    /// - Throws: ``RuntimeError/busy(path:holder:)`` when another process runs in the same folder.
    public static func execute(_ recipe: Recipe, start: RunStart, log: (String) -> Void = { _ in },
                               progress: ((TrainingProgress) -> Void)? = nil, externalTeachers: ExternalTeacherLabeler? = nil,
                               paraphraser: ExternalParaphraser? = nil) throws -> Outcome {
        let lock = try RunLock.runFolder(recipe.output)
        defer { withExtendedLifetime(lock) {} }
        try start.check(recipe.output)
        let labels = recipe.labelNames
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
            guard let paraphraser else {
                throw RecipeError(file: recipe.file.path, line: 0, key: "augmentation.paraphrases", detail: "LLM paraphrases need the distill command line or DistillTeachers")
            }
            let sources = Array(labelled[0..<augmentedRange.lowerBound])
            let written = try paraphraser(teacher, sources.map(\.text), recipe.paraphrases)
            let copies = zip(sources, written).flatMap { r, ps in ps.map { DataRecord(text: $0, label: r.label, line: r.line) } }
            labelled += copies
            augmentedRange = augmentedRange.lowerBound..<labelled.count
            paraphraseCount = copies.count
            log("augmentation: \(copies.count) LLM paraphrases of \(sources.count) labelled lines by \(name)")
        }
        // Teachers and student read prepared lines (after augmentation, which works on raw lines).
        let preparer = recipe.input.kind != .raw ? recipe.input.preparer() : nil
        // The unlabelled file is streamed into its distinct prepared texts: it may hold millions of lines.
        let unlabelled = try recipe.data.unlabelled.map {
            try DistinctLines.read($0, labels: labels, requireLabel: false, readLabels: false, merging: recipe.training.duplicates == .merge,
                                   prepare: preparer.map { p in { p.prepare($0) } })
        } ?? DistinctLines(merging: false)
        var dev = try recipe.data.dev.map { try readDataset($0, labels: labels, requireLabel: true) } ?? []
        var test = try recipe.data.test.map { try readDataset($0, labels: labels, requireLabel: true) } ?? []
        // Stored soft labels (`distill label` output) are keyed by the raw lines they were asked for; a distinct
        // unlabelled text is asked as its first raw line.
        let rawTrainTexts = labelled.map(\.text) + unlabelled.entries.map(\.raw), rawDevTexts = dev.map(\.text)
        if let preparer {
            func prepare(_ records: inout [DataRecord]) { for i in records.indices { records[i].text = preparer.prepare(records[i].text) } }
            prepare(&labelled); prepare(&dev); prepare(&test)
            log("input: \(recipe.input.kind.rawValue) (masks: \(recipe.input.masks.joined(separator: ", ")))")
        }
        log("data: \(labelled.count) labelled, \(unlabelled.lines) unlabelled"
            + (unlabelled.merging ? " (\(unlabelled.entries.count) distinct texts)" : "") + ", \(dev.count) dev, \(test.count) test")
        for (key, url, count) in [("labelled", recipe.data.labelled, augmentedRange.lowerBound), ("unlabelled", recipe.data.unlabelled, unlabelled.lines),
                                  ("dev", recipe.data.dev, dev.count), ("test", recipe.data.test, test.count)] where url != nil && count == 0 {
            log("warning: data.\(key) (\(url!.path)) holds no lines")
        }
        guard !labelled.isEmpty || (!unlabelled.entries.isEmpty && !recipe.teachers.isEmpty) else {
            throw RecipeError(file: recipe.file.path, line: 0, key: "data",
                              detail: "nothing to train on: no labelled lines\(recipe.teachers.isEmpty ? " and no teachers" : ", and no unlabelled lines for the teachers")")
        }

        // Teachers label the training texts (and the dev set, for reliability and agreement); cached per run folder.
        // Each `bert` teacher is read from its folder once, for labels, static embeddings and intermediate losses.
        let loadedTeachers = LoadedTeachers()
        var trainTexts = labelled.map(\.text) + unlabelled.entries.map(\.text)
        var trainTargets = [[Float]?](repeating: nil, count: trainTexts.count)
        var devTargets = [[Float]?](repeating: nil, count: dev.count)
        var augmentationCounts: [String: Int]?
        var agreement: [String: Double] = [:]
        if !recipe.teachers.isEmpty {
            let cache = recipe.output.appendingPathComponent("teachers")
            var perTeacher: [[[Float]?]] = []
            var perTeacherDev: [[[Float]?]] = []
            for t in recipe.teachers {
                log("teacher \(t.name): labelling \(trainTexts.count) texts")
                // Stored soft labels and LLMs read the raw lines: files are keyed by them, and an LLM understands a line
                // as written (its store is keyed as `distill label --recipe` asks); a BERT teacher reads prepared text.
                let readsRaw: Bool = { if case .bert = t.kind { return false }; return true }()
                let stored: Bool = { if case .softLabels = t.kind { return true }; return false }()
                let started = Date()
                var lastLine = Date.distantPast
                let rows = try teacherDistributions(t, texts: readsRaw ? rawTrainTexts : trainTexts, labels: labels, cacheFolder: cache,
                                                    maxLength: recipe.training.maxLength, external: externalTeachers, loaded: loadedTeachers) { done, total in
                    // A progress line every 2 s (and the last): labelling thousands of lines with a BERT takes a while.
                    guard Date().timeIntervalSince(lastLine) >= 2 || done == total else { return }
                    lastLine = Date()
                    let seconds = Date().timeIntervalSince(started), rate = Double(done) / max(seconds, 1e-9)
                    log(String(format: "teacher %@: %d/%d texts · %.0f texts/s · %@", t.name, done, total, rate,
                               done == total ? String(format: "done in %.1f s", seconds) : String(format: "ETA %.0f s", Double(total - done) / max(rate, 1e-9))))
                }
                if stored {
                    let found = rows.filter { $0 != nil }.count
                    log("teacher \(t.name): stored soft labels for \(found) of \(rows.count) training texts")
                    if found == 0 && !rows.isEmpty {
                        throw RecipeError(file: recipe.file.path, line: 0, key: "teachers",
                                          detail: "'\(t.name)' holds no soft label for any training text: its file must have a line {\"text\": …, \"probabilities\": …} per raw training line")
                    }
                }
                perTeacher.append(rows)
                perTeacherDev.append(try teacherDistributions(t, texts: readsRaw ? rawDevTexts : dev.map(\.text), labels: labels, cacheFolder: cache.appendingPathComponent("dev"),
                                                             maxLength: recipe.training.maxLength, external: externalTeachers, loaded: loadedTeachers))
            }
            var reliability: [[Float]]?
            if recipe.aggregation == .classReliability {
                reliability = classReliability(devDistributions: perTeacherDev, devLabels: dev.map { $0.label! }, classes: labels.count)
            }
            // A teacher that has no distribution for an example does not take part in it; examples no teacher
            // covers keep no soft target.
            let covered = (0..<trainTexts.count).map { i in perTeacher.contains { $0[i] != nil } }
            let aggregate = aggregateTeachers(perTeacher, weights: recipe.teachers.map(\.weight), strategy: recipe.aggregation, reliability: reliability)
            for i in 0..<trainTexts.count where covered[i] { trainTargets[i] = aggregate[i] }
            if let threshold = recipe.augmentationTeacherFilter ?? (paraphraseCount > 0 ? 0.5 : nil), !augmentedRange.isEmpty {
                // Teacher-based filter: an augmented line stays only if the teachers still give its label.
                let indices = Array(augmentedRange)
                let (kept, dropped) = filterByTeacher(indices.map { aggregate[$0] }, labels: indices.map { labelled[$0].label! }, threshold: threshold)
                let keep = Set(kept.map { indices[$0] })
                var filteredLabelled: [DataRecord] = [], filteredTargets: [[Float]?] = []
                for i in 0..<labelled.count where !augmentedRange.contains(i) || keep.contains(i) {
                    filteredLabelled.append(labelled[i])
                    filteredTargets.append(trainTargets[i])
                }
                filteredTargets += trainTargets[labelled.count...]
                labelled = filteredLabelled
                trainTargets = filteredTargets
                augmentationCounts = ["made": indices.count, "kept": kept.count, "dropped": dropped, "paraphrases": paraphraseCount]
                log("augmentation: teacher filter kept \(kept.count), dropped \(dropped)")
            }
            let agreements = teacherAgreement(perTeacher, aggregate: aggregate)
            for (t, a) in zip(recipe.teachers, agreements) { agreement[t.name] = a }
            let devCovered = (0..<dev.count).map { i in perTeacherDev.contains { $0[i] != nil } }
            let devAggregate = aggregateTeachers(perTeacherDev, weights: recipe.teachers.map(\.weight), strategy: recipe.aggregation, reliability: reliability)
            devTargets = (0..<dev.count).map { devCovered[$0] ? devAggregate[$0] : nil }
            var summary: [String: Any] = ["aggregation": recipe.aggregation.rawValue, "agreement_with_aggregate": agreement]
            if let augmentationCounts { summary["augmentation"] = augmentationCounts }
            try JSONSerialization.data(withJSONObject: summary, options: [.prettyPrinted, .sortedKeys])
                .write(to: recipe.output.appendingPathComponent("teachers.json"), options: .atomic)
        }
        var train: [TrainingExample] = []
        for (i, r) in labelled.enumerated() { train.append(TrainingExample(text: r.text, label: r.label, teacher: trainTargets[i])) }
        for (j, e) in unlabelled.entries.enumerated() {
            train.append(TrainingExample(text: e.text, teacher: trainTargets[labelled.count + j], weight: Float(e.count)))
        }
        // Lines per example (for the student's vocabulary counts): one each unless duplicates are merged.
        var lines = train.map(\.weight)
        var epochExamples: Int?
        if recipe.training.duplicates == .merge {
            (train, lines) = mergeDuplicateExamples(train, cap: recipe.training.duplicateWeightCap)
            let lineCount = Int(lines.reduce(0, +))
            epochExamples = recipe.training.mergedEpochExamples(distinct: train.count, lines: lineCount)
            log(String(format: "training: %d distinct examples for %d lines (weights capped at %g), %d examples an epoch",
                       train.count, lineCount, recipe.training.duplicateWeightCap, epochExamples!))
        }
        trainTexts = train.map(\.text)
        let devExamples = dev.enumerated().map { TrainingExample(text: $0.element.text, label: $0.element.label, teacher: devTargets[$0.offset]) }

        // Hidden/attention losses: every white-box teacher, each with its own projections; the student then reads
        // text with the (first) white-box teacher's tokenizer so that positions line up.
        var whiteBox: [(Recipe.Teacher, URL)] = []
        if recipe.hiddenLoss != nil || recipe.attentionLoss != nil || recipe.valueRelationLoss != nil {
            for t in recipe.teachers { if case let .bert(folder) = t.kind { whiteBox.append((t, folder)) } }
        }
        let sharedTokenizer = try whiteBox.first.map { try WordPieceTokenizer.load(folder: $0.1) }
        let student = try buildStudent(recipe, texts: trainTexts, lines: lines.map { Int($0) }, tokenizer: sharedTokenizer)
        log("student: \(student.module.parameterCount) parameters")
        if case let .teacherStatic(name) = recipe.studentEmbeddings {
            let folder = try bertTeacherFolder(recipe, name: name, key: "student.embeddings_from")
            let (teacherModel, teacherTokenizer) = try loadedTeachers.classifier(folder)
            log(try StudentEmbeddingInitialization.apply(to: student, teacher: teacherModel.bert, tokenizer: teacherTokenizer, texts: trainTexts))
        }
        var intermediates: [IntermediateDistillation] = []
        if case let .bert(model, _) = student {
            for (i, (t, folder)) in whiteBox.enumerated() {
                let (teacherClassifier, teacherTokenizer) = try loadedTeachers.classifier(folder)
                let teacherModel = teacherClassifier.bert
                guard teacherTokenizer.vocabulary == sharedTokenizer!.vocabulary else {
                    throw RecipeError(file: recipe.file.path, line: 0, key: "teachers[\(i)]",
                                      detail: "white-box teachers must share one vocabulary for hidden/attention losses")
                }
                intermediates.append(try IntermediateDistillation(
                    name: t.name, teacher: teacherModel, student: model.config, layerMap: recipe.layerMap,
                    hiddenWeight: (recipe.hiddenLoss?.weight ?? 0).scaled(by: t.weight),
                    hiddenKind: recipe.hiddenLoss?.kind ?? .standard,
                    attentionWeight: (recipe.attentionLoss?.weight ?? 0).scaled(by: t.weight),
                    attentionKind: recipe.attentionLoss?.kind ?? .standard,
                    valueRelationWeight: (recipe.valueRelationLoss?.weight ?? 0).scaled(by: t.weight),
                    seed: recipe.training.seed &+ UInt64(i)))
            }
        }
        // Store each white-box teacher's mapped features once (FP16) when they fit the limit; else recompute per batch.
        for (d, (t, folder)) in zip(intermediates, whiteBox) {
            let c = d.teacherConfig
            let bytes = TeacherFeatureStore.estimatedBytes(examples: train.count, sequenceLength: recipe.training.maxLength, hidden: c.hiddenSize,
                                                           heads: c.numAttentionHeads, hiddenLayers: d.hiddenLayers.count,
                                                           attentionLayers: d.attentionLayers.count + (d.valueRelationLayer == nil ? 0 : 1))
            guard bytes <= TeacherFeatureStore.maximumBytes, let teacherModel = d.teacher else {
                log("teacher \(t.name): features recomputed per batch (a store would take \(bytes >> 20) MiB)")
                continue
            }
            let key = String(Fingerprint.of(train.map(\.text) + [folder.path, weightsIdentity(folder), "\(recipe.training.maxLength)", "\(d.hiddenLayers)", "\(d.attentionLayers)", "\(d.valueRelationLayer ?? -1)"]), radix: 16)
            let store = try TeacherFeatureStore.openOrBuild(
                url: recipe.output.appendingPathComponent("teachers/\(t.name).features.safetensors"), key: key, teacher: teacherModel,
                tokenizer: sharedTokenizer!, texts: train.map(\.text), hiddenLayers: d.hiddenLayers, attentionLayers: d.attentionLayers,
                valueRelationLayer: d.valueRelationLayer, maxLength: recipe.training.maxLength)
            log("teacher \(t.name): \(store.file.fileSize >> 10) KiB of FP16 features stored for \(train.count) examples")
            d.useStore(store)
        }
        var config = recipe.training
        config.epochExamples = epochExamples
        // Positions must line up with every white-box teacher: the student reads no more than they can.
        config.maxLength = ([recipe.training.maxLength] + intermediates.map { $0.teacherConfig.maxPositionEmbeddings }).min()!
        let trainer = try DistillationTrainer(student: student, config: config, train: train, dev: devExamples, output: recipe.output,
                                              intermediates: intermediates)
        try trainer.run(resume: start == .resume, progress: progress)
        if trainer.state.stoppedEarly {
            log("early stopping: \(trainer.state.evaluationsWithoutImprovement) dev evaluations without a better \(config.earlyStoppingMetric.rawValue); "
                + "stopped at step \(trainer.state.step) of \(trainer.totalSteps), best/ holds the best dev model")
        }

        var report: EvaluationReport?
        let best = recipe.output.appendingPathComponent("best")
        let chosen = FileManager.default.fileExists(atPath: best.path) ? best : recipe.output.appendingPathComponent("final")
        let final = try Student.load(from: chosen)
        // The decision rule: fitted on the dev lines, saved beside the shipped weights, applied to the test report.
        var decisionFit: DecisionFit?
        if let settings = recipe.decision, !dev.isEmpty {
            let fit = DecisionFit.fit(settings, devProbabilities: final.probabilities(dev.map(\.text), maxLength: config.maxLength),
                                      devGold: dev.map { $0.label! }, labels: labels)
            try fit.rule.save(to: chosen)
            log(fit.markdown().split(separator: "\n").dropFirst(1).map { "decision: " + $0.dropFirst(2) }.joined(separator: "\n"))
            decisionFit = fit
        }
        if !test.isEmpty {
            let raw = final.probabilities(test.map(\.text), maxLength: config.maxLength)
            let gold = test.map { $0.label! }
            var r = EvaluationReport.compute(probabilities: raw, gold: gold, labels: labels)
            if var fit = decisionFit {
                let (calibrated, decided) = fit.rule.apply(raw, labels: labels)
                fit.testECEBefore = r.expectedCalibrationError
                fit.testBelowFloor = fit.rule.minimumConfidence == nil ? nil : decided.filter(\.abstained).count
                r = EvaluationReport.compute(probabilities: calibrated, gold: gold, labels: labels, predicted: decided.map(\.index))
                r.decision = fit
                decisionFit = fit
            }
            r.parameters = final.module.parameterCount
            report = r
        }
        let checks = try check(recipe, student: final, gold: train.filter { $0.label != nil }, dev: devExamples, testReport: report,
                               config: config, log: log)
        if var r = report {
            r.checks = checks
            report = r
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            try encoder.encode(r).write(to: recipe.output.appendingPathComponent("report.json"), options: .atomic)
            try Data(("# Test set\n\n```\n" + r.table() + "\n```\n\n" + checks.markdown() + (decisionFit.map { "\n" + $0.markdown() } ?? "")).utf8)
                .write(to: recipe.output.appendingPathComponent("report.md"), options: .atomic)
            let page = ReportHTML.page(r, title: "\(recipe.file.deletingPathExtension().lastPathComponent): test set (\(chosen.lastPathComponent)/)",
                                       curves: ReportHTML.Curves.read(recipe.output.appendingPathComponent("train.jsonl")))
            try Data(page.utf8).write(to: recipe.output.appendingPathComponent("report.html"), options: .atomic)
        }
        // The models are saved: a card that cannot be written is a warning, not a failed run.
        do {
            try writeModelCards(recipe, chosen: chosen, report: report, counts: [
            ("labelled", recipe.data.labelled, augmentedRange.lowerBound), ("unlabelled", recipe.data.unlabelled, unlabelled.lines),
            ("dev", recipe.data.dev, dev.count), ("test", recipe.data.test, test.count),
            ])
        } catch {
            log("warning: no model card written: \(error.localizedDescription)")
        }
        return Outcome(student: student, test: report, teacherAgreement: agreement, model: chosen, checks: checks)
    }

    /// A model card (`README.md` + `model_card.json`) in `best/` and `final/`: the recipe's teachers and data, and
    /// the test report in the folder that was tested.
    static func writeModelCards(_ recipe: Recipe, chosen: URL, report: EvaluationReport?, counts: [(String, URL?, Int)]) throws {
        let name = recipe.file.deletingPathExtension().lastPathComponent
        let teachers = recipe.teachers.map { t -> String in
            let kind: String
            switch t.kind {
            case let .bert(url): kind = "BERT classifier `\(url.lastPathComponent)` (white-box: logits)"
            case let .softLabels(url): kind = "stored distributions `\(url.lastPathComponent)`"
            case let .openAI(spec): kind = "LLM `\(spec.model)` behind an OpenAI-compatible API"
            }
            return "`\(t.name)`: \(kind), weight \(t.weight)"
        }
        let data = counts.compactMap { key, url, count in url.map { "\(key): `\($0.lastPathComponent)`, \(count) lines" } }
            + (recipe.input.kind == .logs ? ["input: log-normalized (masks: \(recipe.input.masks.joined(separator: ", ")))"] : [])
        for folder in ["best", "final"].map({ recipe.output.appendingPathComponent($0) }) where FileManager.default.fileExists(atPath: folder.path) {
            let tested = folder.standardizedFileURL == chosen.standardizedFileURL
            let student = try Student.load(from: folder)
            let facts = ModelCard.Facts(title: "\(name) (\(folder.lastPathComponent)/)", teachers: teachers, data: data, report: tested ? report : nil)
            try ModelCard(facts, model: .init(student), decision: try DecisionRule.load(folder: folder)).write(into: folder)
        }
    }

    /// The folder of the recipe's `kind: bert` teacher `name` (the student's `key` names it).
    static func bertTeacherFolder(_ recipe: Recipe, name: String, key: String) throws -> URL {
        guard let teacher = recipe.teachers.first(where: { $0.name == name }), case let .bert(folder) = teacher.kind else {
            throw RecipeError(file: recipe.file.path, line: 0, key: key, detail: "'\(name)' is not a `kind: bert` teacher")
        }
        return folder
    }

    /// The student the recipe describes, initialized from the seed (deterministic, so a resumed run rebuilds it
    /// identically before loading its checkpoint).
    /// - Parameter lines: per text, the lines it stands for (word frequencies of a trained vocabulary count them).
    static func buildStudent(_ recipe: Recipe, texts: [String], lines: [Int], tokenizer shared: WordPieceTokenizer? = nil) throws -> Student {
        switch recipe.student {
        case let .bert(layers, hidden, heads, intermediate, vocabularySize, pooling):
            let vocabulary = shared?.vocabulary ?? {
                let trainer = WordPieceTrainer(vocabularySize: vocabularySize, minimumFrequency: 2)
                return trainer.train(wordCounts: trainer.countWords(zip(texts, lines).map { $0 }))
            }()
            var config = BertConfig(vocabSize: vocabulary.count, hiddenSize: hidden, numHiddenLayers: layers, numAttentionHeads: heads,
                                    intermediateSize: intermediate, maxPositionEmbeddings: max(recipe.training.maxLength, 8), labels: recipe.labelNames)
            config.distillPooling = pooling
            try config.validate(path: recipe.file.path)
            var tokenizer = try shared ?? WordPieceTokenizer(vocabulary: vocabulary, source: "student vocabulary")
            tokenizer.modelMaxLength = recipe.training.maxLength
            if recipe.input.kind != .raw { config.distillInput = recipe.input }
            return .bert(BertForSequenceClassification(config: config, seed: recipe.training.seed), tokenizer)
        case let .bertFromTeacher(name, count, teacherLayers):
            let folder = try bertTeacherFolder(recipe, name: name, key: "student.from_teacher")
            guard case let .bert(model, teacherTokenizer) = try Student.load(from: folder) else {
                throw RecipeError(file: recipe.file.path, line: 0, key: "student.from_teacher", detail: "\(folder.path) is not a BERT folder")
            }
            guard model.config.labels == recipe.labelNames else {
                throw RecipeError(file: recipe.file.path, line: 0, key: "student.from_teacher",
                                  detail: "teacher '\(name)' has the labels \(model.config.labels ?? []) but the recipe \(recipe.labelNames); a student cut from a teacher keeps its head, so they must agree in order")
            }
            let layers = teacherLayers ?? BertForSequenceClassification.evenlySpacedLayers(count, of: model.config.numHiddenLayers)
            let cut: BertForSequenceClassification
            do { cut = try model.keepingLayers(layers, maxPositions: max(recipe.training.maxLength, 8)) } catch {
                throw RecipeError(file: recipe.file.path, line: 0, key: "student.teacher_layers", detail: error.localizedDescription)
            }
            cut.input = recipe.input.kind != .raw ? recipe.input : nil
            var tokenizer = teacherTokenizer
            tokenizer.modelMaxLength = recipe.training.maxLength
            return .bert(cut, tokenizer)
        case let .ngramBag(featurizer, embeddingSize, hiddenSize):
            var config = NGramBagConfig(featurizer: featurizer, embeddingSize: embeddingSize, hiddenSize: hiddenSize, labels: recipe.labelNames)
            if recipe.input.kind != .raw { config.input = recipe.input }
            try config.validate(path: recipe.file.path)
            return .ngramBag(NGramBag(config: config, seed: recipe.training.seed))
        }
    }
}
