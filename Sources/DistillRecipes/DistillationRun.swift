import DistillCore
import DistillNN
import DistillRuntime
import DistillTeachers
import DistillText
import DistillTraining
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
        /// What the LLM teachers were asked, per teacher and part of the data, in the order asked.
        public var labelling: [LabellingCost]
    }

    /// Runs `recipe`: its data, its teachers (an `openai` teacher asked through the run's label store, a `bert`
    /// teacher read once from its folder), the student, training (resumable), the test report and the model cards.
    ///
    /// - Parameter start: what to do with a run folder that already holds a checkpoint (``RunStart``).
    /// - Parameter labelingProgress: told how an LLM teacher's questions advance.
    /// - Throws: ``RuntimeError/busy(path:holder:)`` when another process runs in the same folder.
    public static func execute(_ recipe: Recipe, start: RunStart, log: @escaping @Sendable (String) -> Void = { _ in },
                               progress: ((TrainingProgress) -> Void)? = nil,
                               labelingProgress: @escaping @Sendable (LabelingJob.Progress) -> Void = { _ in }) async throws -> Outcome {
        let lock = try RunLock.runFolder(recipe.output)
        defer { withExtendedLifetime(lock) {} }
        try start.check(recipe.output)
        try TeacherPreparation.fineTune(recipe) { log($0) }
        let run = RecipeRun(recipe: recipe, log: log, labelingProgress: labelingProgress)
        var data = try await run.readData()
        let targets = try await run.teacherTargets(&data)
        let examples = run.examples(data, targets: targets)
        let (student, intermediates) = try run.student(examples)
        var config = recipe.training
        config.epochExamples = examples.epochExamples
        // Positions must line up with every white-box teacher: the student reads no more than they can.
        config.maxLength = ([recipe.training.maxLength] + intermediates.map { $0.teacherConfig.maxPositionEmbeddings }).min()!
        let trainer = try DistillationTrainer(student: student, config: config, train: examples.train, dev: examples.dev, output: recipe.output,
                                              intermediates: intermediates)
        try trainer.run(resume: start == .resume, progress: progress)
        if trainer.stoppedEarly {
            log("early stopping: \(trainer.evaluationsWithoutImprovement) dev evaluations without a better \(config.earlyStoppingMetric.rawValue); "
                + "stopped at step \(trainer.step) of \(trainer.totalSteps), best/ holds the best dev model")
        }
        let (chosen, report, checks) = try await run.report(data, examples: examples, targets: targets, config: config)
        return Outcome(student: student, test: report, teacherAgreement: targets.agreement, model: chosen, checks: checks,
                       labelling: run.labelling.costs)
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
            guard let teacher = try Student.load(from: folder).model as? BertClassifier else {
                throw RecipeError(file: recipe.file.path, line: 0, key: "student.from_teacher", detail: "\(folder.path) is not a BERT folder")
            }
            let (model, teacherTokenizer) = (teacher.model, teacher.tokenizer)
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
