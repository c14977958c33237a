import DistillCore
import DistillNN
import DistillRuntime
import DistillTeachers
import DistillText
import DistillTraining
import Foundation

extension RecipeRun {
    /// 4. The student, its embeddings started as the recipe says, and the hidden/attention losses of every
    /// white-box teacher (each teacher's mapped features stored once in FP16 when they fit).
    func student(_ examples: Examples) throws -> (Student, [IntermediateDistillation]) {
        // Hidden/attention losses: every white-box teacher, each with its own projections; the student then reads
        // text with the (first) white-box teacher's tokenizer so that positions line up.
        var whiteBox: [(Recipe.Teacher, URL)] = []
        if recipe.hiddenLoss != nil || recipe.attentionLoss != nil || recipe.valueRelationLoss != nil {
            for t in recipe.teachers { if case let .bert(folder) = t.kind { whiteBox.append((t, folder)) } }
        }
        let sharedTokenizer = try whiteBox.first.map { try WordPieceTokenizer.load(folder: $0.1) }
        let trainTexts = examples.train.map(\.text)
        let student = try DistillationRun.buildStudent(recipe, texts: trainTexts, lines: examples.lines.map { Int($0) }, tokenizer: sharedTokenizer)
        log("student: \(student.module.parameterCount) parameters")
        if case let .teacherStatic(name) = recipe.studentEmbeddings {
            let folder = try DistillationRun.bertTeacherFolder(recipe, name: name, key: "student.embeddings_from")
            let (teacherModel, teacherTokenizer) = try loadedTeachers.classifier(folder)
            log(try StudentEmbeddingInitialization.apply(to: student, teacher: teacherModel.bert, tokenizer: teacherTokenizer, texts: trainTexts))
        }
        var intermediates: [IntermediateDistillation] = []
        if let model = (student.model as? BertClassifier)?.model {
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
            let bytes = TeacherFeatureStore.estimatedBytes(examples: examples.train.count, sequenceLength: recipe.training.maxLength, hidden: c.hiddenSize,
                                                           heads: c.numAttentionHeads, hiddenLayers: d.hiddenLayers.count,
                                                           attentionLayers: d.attentionLayers.count + (d.valueRelationLayer == nil ? 0 : 1))
            guard bytes <= TeacherFeatureStore.maximumBytes, let teacherModel = d.teacher else {
                log("teacher \(t.name): features recomputed per batch (a store would take \(bytes >> 20) MiB)")
                continue
            }
            let key = String(Fingerprint.of(trainTexts + [folder.path, weightsIdentity(folder), "\(recipe.training.maxLength)", "\(d.hiddenLayers)", "\(d.attentionLayers)", "\(d.valueRelationLayer ?? -1)"]), radix: 16)
            let store = try TeacherFeatureStore.openOrBuild(
                url: recipe.output.appendingPathComponent("teachers/\(t.name).features.safetensors"), key: key, teacher: teacherModel,
                tokenizer: sharedTokenizer!, texts: trainTexts, hiddenLayers: d.hiddenLayers, attentionLayers: d.attentionLayers,
                valueRelationLayer: d.valueRelationLayer, maxLength: recipe.training.maxLength)
            log("teacher \(t.name): \(store.file.fileSize >> 10) KiB of FP16 features stored for \(examples.train.count) examples")
            d.useStore(store)
        }
        // Training holds no teacher it does not use: stored features let go of theirs, and so does the cache.
        loadedTeachers.removeAll()
        return (student, intermediates)
    }

    /// 6. The shipped model (`best/` when there was a dev set, else `final/`), its decision rule fitted on dev, the test
    /// report with the run checks (`report.json`, `report.md`, `report.html`) and the model cards.
    func report(_ data: RunData, examples: Examples, targets: Targets, config: TrainingConfig) async throws -> (URL, EvaluationReport?, RunChecks) {
        let labels = self.labels
        var report: EvaluationReport?
        let best = recipe.output.appendingPathComponent("best")
        let chosen = FileManager.default.fileExists(atPath: best.path) ? best : recipe.output.appendingPathComponent("final")
        let final = try Student.load(from: chosen)
        // The decision rule: fitted on the dev lines, saved beside the shipped weights, applied to the test report.
        var decisionFit: DecisionFit?
        if let settings = recipe.decision, !data.dev.isEmpty {
            let fit = DecisionFit.fit(settings, devProbabilities: final.probabilities(data.dev.map(\.text), maxLength: config.maxLength),
                                      devGold: data.dev.map { $0.label! }, labels: labels)
            try fit.rule.save(to: chosen)
            log(fit.markdown().split(separator: "\n").dropFirst(1).map { "decision: " + $0.dropFirst(2) }.joined(separator: "\n"))
            decisionFit = fit
        }
        if !data.test.isEmpty {
            let raw = final.probabilities(data.test.map(\.text), maxLength: config.maxLength)
            let gold = data.test.map { $0.label! }
            var r = EvaluationReport.compute(probabilities: raw, gold: gold, labels: labels)
            var studentAnswers = raw.map(argmax)
            if var fit = decisionFit {
                let (calibrated, decided) = fit.rule.apply(raw, labels: labels)
                fit.testECEBefore = r.expectedCalibrationError
                fit.testBelowFloor = fit.rule.minimumConfidence == nil ? nil : decided.filter(\.abstained).count
                studentAnswers = decided.map(\.index)
                r = EvaluationReport.compute(probabilities: calibrated, gold: gold, labels: labels, predicted: studentAnswers)
                r.decision = fit
                decisionFit = fit
            }
            r.parameters = final.module.parameterCount
            if !recipe.teachers.isEmpty {
                let (reports, aggregate) = try await teacherReports(data, reliability: targets.reliability)
                r.teacherReports = reports
                // The student's agreement with the teachers' aggregate, over the test lines they answered.
                let answered = aggregate.indices.filter { aggregate[$0] != nil }
                if !answered.isEmpty {
                    r.agreementWithTeacher = Double(answered.filter { argmax(aggregate[$0]!) == studentAnswers[$0] }.count) / Double(answered.count)
                }
            }
            report = r
        }
        let testExamples = data.test.map { TrainingExample(text: $0.text, label: $0.label) }
        let checks = try RunChecks.measure(recipe, student: final, gold: examples.train.filter { $0.label != nil }, dev: examples.dev, testReport: report, test: testExamples,
                               config: config, log: log)
        if var r = report {
            r.checks = checks
            report = r
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            try encoder.encode(r).write(to: recipe.output.appendingPathComponent("report.json"), options: .atomic)
            try Data(("# Test set\n\n```\n" + r.table() + "\n```\n\n" + Self.teachersMarkdown(r, normal: recipe.decision?.normalLabel ?? "normal") + checks.markdown()
                      + (decisionFit.map { "\n" + $0.markdown() } ?? "")).utf8)
                .write(to: recipe.output.appendingPathComponent("report.md"), options: .atomic)
            let page = ReportHTML.page(r, title: "\(recipe.file.deletingPathExtension().lastPathComponent): test set (\(chosen.lastPathComponent)/)",
                                       curves: ReportHTML.Curves.read(recipe.output.appendingPathComponent("train.jsonl")))
            try Data(page.utf8).write(to: recipe.output.appendingPathComponent("report.html"), options: .atomic)
        }
        // The models are saved: a card that cannot be written is a warning, not a failed run.
        do {
            try DistillationRun.writeModelCards(recipe, chosen: chosen, report: report, counts: [
            ("labelled", recipe.data.labelled, data.labelledLines), ("unlabelled", recipe.data.unlabelled, data.unlabelled.lines),
            ("dev", recipe.data.dev, data.dev.count), ("test", recipe.data.test, data.test.count),
            ])
        } catch {
            log("warning: no model card written: \(error.localizedDescription)")
        }
        return (chosen, report, checks)
    }

    /// Each teacher's report on the test lines it answered (an LLM asked through the run's label store, a BERT from
    /// its folder), and the aggregate's (under `aggregate` with several teachers; the weights and reliability of
    /// training). Also returns the aggregate distribution per test line (nil where no teacher answered).
    func teacherReports(_ data: RunData, reliability: [[Float]]?) async throws -> ([String: EvaluationReport], [[Float]?]) {
        let cache = recipe.output.appendingPathComponent("teachers/test")
        let gold = data.test.map { $0.label! }
        var reports: [String: EvaluationReport] = [:], perTeacher: [[[Float]?]] = []
        func report(_ rows: [[Float]?]) -> EvaluationReport? {
            let answered = rows.indices.filter { rows[$0] != nil }
            guard !answered.isEmpty else { return nil }
            return EvaluationReport.compute(probabilities: answered.map { rows[$0]! }, gold: answered.map { gold[$0] }, labels: labels)
        }
        for t in recipe.teachers {
            log("teacher \(t.name): scoring on the \(data.test.count) test lines")
            let rows = try await distributions(t, part: .test, texts: data.test.map(\.text), raw: data.rawTestTexts, cache: cache, announce: false)
            perTeacher.append(rows)
            if let r = report(rows) {
                reports[t.name] = r
                log(String(format: "teacher %@ on test: accuracy %.4f, macro-F1 %.4f (%d of %d lines answered)", t.name, r.accuracy, r.macroF1, r.examples, rows.count))
            } else {
                log("teacher \(t.name): no answer for any test line (a soft-labels file holds only the lines it was made for)")
            }
        }
        let combined = aggregateTeachers(perTeacher, weights: recipe.teachers.map(\.weight), strategy: recipe.aggregation, reliability: reliability)
        let aggregate = data.test.indices.map { i in perTeacher.contains { $0[i] != nil } ? combined[i] : nil }
        if recipe.teachers.count > 1, let r = report(aggregate) { reports["aggregate"] = r }
        return (reports, aggregate)
    }

    /// The student next to its teachers on the test lines, for `report.md` (empty without teachers).
    static func teachersMarkdown(_ r: EvaluationReport, normal: String) -> String {
        guard let teachers = r.teacherReports, !teachers.isEmpty else { return "" }
        func row(_ name: String, _ t: EvaluationReport) -> String {
            let (missed, falseAlarms) = t.alertRates(normal: normal)
            func pct(_ v: Double?) -> String { v.map { String(format: "%.1f%%", 100 * $0) } ?? "-" }
            return String(format: "| %@ | %d | %.4f | %.4f | %@ | %@ |", name, t.examples, t.accuracy, t.macroF1, pct(missed), pct(falseAlarms))
        }
        var lines = ["## Student and teachers on the test lines", "",
                     "| model | lines | accuracy | macro-F1 | missed alerts | false alarms |", "|---|---|---|---|---|---|", row("student", r)]
        lines += teachers.keys.sorted().map { row($0 == "aggregate" ? "teachers (aggregate)" : "teacher \($0)", teachers[$0]!) }
        if let a = r.agreementWithTeacher { lines += ["", String(format: "The student agrees with the teachers on %.1f%% of the test lines they answered.", 100 * a)] }
        return lines.joined(separator: "\n") + "\n\n"
    }
}
