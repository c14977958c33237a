import DistillNN
import DistillRuntime
import DistillText
import DistillTraining
import Foundation

extension RunChecks {
    /// Scores the shipped `student`, the teachers' dev distributions and a gold-only baseline trained here (in
    /// `output/baseline`) on the dev lines, and warns when the student or the teachers lose to the baseline, when
    /// a label of the dev or test gold labels is never predicted (the test side read from `testReport`'s
    /// confusion matrix), or when the student answers one label for every line.
    public static func measure(_ recipe: Recipe, student: Student, gold: [TrainingExample], dev: [TrainingExample], testReport: EvaluationReport?,
                               test: [TrainingExample] = [], config: TrainingConfig, log: (String) -> Void) throws -> RunChecks {
        let labels = recipe.labelNames
        var checks = RunChecks(warnings: [])
        func score(_ probabilities: [[Float]], _ examples: [TrainingExample]) -> RunChecks.Score {
            let r = EvaluationReport.compute(probabilities: probabilities, gold: examples.map { $0.label! }, labels: labels)
            let (missed, falseAlarms) = r.alertRates(normal: recipe.decision?.normalLabel ?? "normal")
            return RunChecks.Score(accuracy: r.accuracy, macroF1: r.macroF1, missedAlerts: missed, falseAlarms: falseAlarms)
        }
        let devGold = dev.filter { $0.label != nil }
        let devProbabilities = student.probabilities(devGold.map(\.text), maxLength: config.maxLength)
        if !devGold.isEmpty {
            checks.student = score(devProbabilities, devGold)
            if !recipe.teachers.isEmpty, devGold.allSatisfy({ $0.teacher != nil }) {
                checks.teachers = score(devGold.map { $0.teacher! }, devGold)
            }
        }
        let studentIsBaseline: Bool = {
            if case .ngramBag = recipe.student, recipe.teachers.isEmpty { return true }
            return false
        }()
        let goldLines = gold.filter { $0.label != nil }
        if !studentIsBaseline, !goldLines.isEmpty, !devGold.isEmpty {
            var baselineConfig = config
            baselineConfig.evaluateEvery = nil
            baselineConfig.learningRate = TrainingConfig.ngramBagLearningRate
            baselineConfig.earlyStoppingPatience = config.earlyStoppingPatience ?? 3
            baselineConfig.earlyStoppingMetric = .macroF1
            if config.epochExamples != nil {
                // Merged gold lines: their epoch as the run's, from their (capped) weights.
                baselineConfig.epochExamples = config.mergedEpochExamples(distinct: goldLines.count, lines: Int(goldLines.reduce(0) { $0 + $1.weight }))
            }
            let bag = NGramBag(config: NGramBagConfig(featurizer: NGramFeaturizer(buckets: 1 << 16), embeddingSize: 32, labels: labels),
                               seed: config.seed)
            let baselineFolder = recipe.output.appendingPathComponent("baseline")
            let trainer = try DistillationTrainer(student: .ngramBag(bag), config: baselineConfig,
                                                  train: goldLines.map { TrainingExample(text: $0.text, label: $0.label, weight: $0.weight) },
                                                  dev: devGold.map { TrainingExample(text: $0.text, label: $0.label) }, output: baselineFolder)
            log("gold-only baseline: an n-gram bag on the \(goldLines.count) labelled lines alone")
            try trainer.run(resume: false)
            let best = baselineFolder.appendingPathComponent("best")
            let baseline = try Student.load(from: FileManager.default.fileExists(atPath: best.path) ? best : baselineFolder.appendingPathComponent("final"))
            let baselineScore = score(baseline.probabilities(devGold.map(\.text), maxLength: config.maxLength), devGold)
            checks.goldBaseline = baselineScore
            checks.goldBaselineLines = goldLines.count
            let testGold = test.filter { $0.label != nil }
            if !testGold.isEmpty { checks.goldBaselineTest = score(baseline.probabilities(testGold.map(\.text), maxLength: config.maxLength), testGold) }
            if let s = checks.student, s.macroF1 < baselineScore.macroF1 {
                checks.warnings.append(String(format: "the student's dev macro-F1 %.4f is below the gold-only baseline's %.4f (an n-gram bag trained on the %d labelled lines alone, %@): the teachers or the distillation settings cost quality",
                                              s.macroF1, baselineScore.macroF1, goldLines.count, baselineFolder.path))
            }
            if let t = checks.teachers, t.macroF1 < baselineScore.macroF1 {
                checks.warnings.append(String(format: "the teachers' dev macro-F1 %.4f is below the gold-only baseline's %.4f: they teach less than the labelled lines do",
                                              t.macroF1, baselineScore.macroF1))
            }
        }
        // Labels the student never answers on the dev and test lines although their gold labels hold them: how
        // often each label is answered, from the dev predictions and the test report's confusion columns.
        var answers = [Int](repeating: 0, count: labels.count)
        for p in devProbabilities { answers[argmax(p)] += 1 }
        var present = Set(devGold.map { $0.label! })
        if let confusion = testReport?.confusion {
            for (gold, row) in confusion.enumerated() {
                if row.reduce(0, +) > 0 { present.insert(gold) }
                for (answer, count) in row.enumerated() { answers[answer] += count }
            }
        }
        let lines = answers.reduce(0, +)
        if lines > 0 {
            let answered = Set(answers.indices.filter { answers[$0] > 0 })
            let never = present.subtracting(answered).sorted().map { labels[$0] }
            if answered.count == 1, present.count > 1 {
                checks.warnings.append("the student answers '\(labels[answered.first!])' for every one of the \(lines) dev and test lines: it collapsed to one class")
            } else if !never.isEmpty {
                checks.warnings.append("labels never predicted on the dev and test lines although their gold labels hold them: \(never.joined(separator: ", "))")
            }
        }
        for warning in checks.warnings { log("warning: \(warning)") }
        return checks
    }
}
