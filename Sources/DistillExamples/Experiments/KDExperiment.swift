import DistillCore
import DistillNN
import DistillRuntime
import DistillText
import DistillTraining
import Foundation

/// The knowledge-distillation ablation behind `make experiment-kd`: the same small student trained four ways,
/// over several seeds, scored on held-out data.
///
/// (a) hard labels only, on a small labelled set that covers 3 of the 8 message templates of each class;
/// (b) + soft labels from a teacher on unlabelled data covering every template;
/// (c) + hidden-state and attention losses from that teacher;
/// (d) two teachers (soft labels aggregated by weighted mean; intermediate losses from both).
/// The teachers are BERT classifiers trained here on a large labelled set with 30% of its labels replaced at random; all models share one WordPiece
/// vocabulary so that intermediate losses line up.
public struct KDExperiment {
    public var seeds: [UInt64] = [1, 2, 3]
    public var labelledCount = 60
    public var labelledTemplates = 3
    public var unlabelledCount = 800
    public var testCount = 600
    public var studentSteps = 300
    /// Fraction of the teachers' training labels replaced by a random class, so teachers are good, not perfect.
    public var teacherLabelNoise = 0.3
    public var work: URL

    public init(work: URL) { self.work = work }

    public struct Row { public var name: String; public var accuracy: [Double]; public var macroF1: [Double]; public var agreement: [Double] }

    /// The ablation's shared parts: the tokenizer, both teachers and their answers on the test lines.
    private struct Setup {
        var tokenizer: WordPieceTokenizer
        var teacherA: Student, encoderA: BertModel
        var teacherB: Student, encoderB: BertModel
        var test: [(String, Int)]
        /// Teacher A's answers on the test lines (for the agreement column).
        var teacherTest: [Int]
    }

    /// Trains both teachers, then each of the four students per seed; one row per configuration.
    public func run(log: (String) -> Void) throws -> [Row] {
        let teacherData = SyntheticLogs.sample(count: 2400, seed: 100, noise: teacherLabelNoise)
        let test = SyntheticLogs.sample(count: testCount, seed: 200)
        var tokenizer = try WordPieceTokenizer(vocabulary: WordPieceTrainer(vocabularySize: 1500, minimumFrequency: 2).train(teacherData.map(\.0)))
        tokenizer.modelMaxLength = 48
        let (teacherA, encoderA) = try trainTeacher("A", layers: 4, hidden: 64, heads: 4, data: teacherData[0..<1600], seed: 11, tokenizer: tokenizer, test: test, log: log)
        let (teacherB, encoderB) = try trainTeacher("B", layers: 2, hidden: 48, heads: 4, data: teacherData[800..<2400], seed: 12, tokenizer: tokenizer, test: test, log: log)
        let setup = Setup(tokenizer: tokenizer, teacherA: teacherA, encoderA: encoderA, teacherB: teacherB, encoderB: encoderB, test: test,
                          teacherTest: Self.probabilities(teacherA, test.map(\.0)).map(argmax))
        var rows = ["(a) hard labels only", "(b) + teacher soft labels", "(c) + hidden & attention losses", "(d) two teachers"]
            .map { Row(name: $0, accuracy: [], macroF1: [], agreement: []) }
        for seed in seeds {
            let labelled = SyntheticLogs.sample(count: labelledCount, seed: 1000 + seed, templatesPerClass: labelledTemplates)
            let unlabelled = SyntheticLogs.sample(count: unlabelledCount, seed: 2000 + seed).map(\.0)
            let allTexts = labelled.map(\.0) + unlabelled
            let softA = Self.probabilities(teacherA, allTexts), softB = Self.probabilities(teacherB, allTexts)
            let softAB = aggregateTeachers([softA, softB], weights: [1, 1], strategy: .weightedMean)
            for variant in 0..<4 {
                var train = labelled.map { TrainingExample(text: $0.0, label: $0.1) }
                if variant >= 1 {
                    let soft = variant == 3 ? softAB : softA
                    for i in train.indices { train[i].teacher = soft[i] }
                    train += unlabelled.enumerated().map { TrainingExample(text: $0.element, teacher: soft[labelled.count + $0.offset]) }
                }
                let report = try trainStudent(variant: variant, seed: seed, train: train, setup: setup)
                rows[variant].accuracy.append(report.accuracy)
                rows[variant].macroF1.append(report.macroF1)
                rows[variant].agreement.append(report.agreementWithTeacher ?? 0)
                log(String(format: "seed %d %@: accuracy %.4f, macro-F1 %.4f, agreement %.4f", seed, rows[variant].name, report.accuracy, report.macroF1,
                           report.agreementWithTeacher ?? 0))
            }
        }
        return rows
    }

    static func probabilities(_ s: Student, _ texts: [String]) -> [[Float]] { s.probabilities(texts, maxLength: 48) }

    /// A BERT teacher of the given size trained on `data` (hard labels), scored on the test lines.
    private func trainTeacher(_ name: String, layers: Int, hidden: Int, heads: Int, data: ArraySlice<(String, Int)>, seed: UInt64,
                              tokenizer: WordPieceTokenizer, test: [(String, Int)], log: (String) -> Void) throws -> (Student, BertModel) {
        var config = BertConfig(vocabSize: tokenizer.vocabulary.count, hiddenSize: hidden, numHiddenLayers: layers, numAttentionHeads: heads,
                                intermediateSize: 4 * hidden, maxPositionEmbeddings: 48, labels: SyntheticLogs.labels)
        config.distillPooling = .mean
        let model = BertForSequenceClassification(config: config, seed: seed)
        let teacher = Student.bert(model, tokenizer)
        var t = TrainingConfig()
        t.epochs = 2
        t.batchSize = 32
        t.learningRate = 2e-3
        t.warmupSteps = 30
        t.maxLength = 48
        t.seed = seed
        let trainer = try DistillationTrainer(student: teacher, config: t, train: data.map { TrainingExample(text: $0.0, label: $0.1) },
                                              output: work.appendingPathComponent("teacher-\(name)"))
        try trainer.run()
        let acc = trainer.evaluate(test.map { TrainingExample(text: $0.0, label: $0.1) })
        log(String(format: "teacher %@ (%dx%d): test accuracy %.4f, macro-F1 %.4f", name, layers, hidden, acc.accuracy, acc.macroF1))
        return (teacher, model.bert)
    }

    /// Configuration `variant` (0 a ... 3 d) of the 2x32 student for one seed, trained on `train`, scored on the test lines.
    private func trainStudent(variant: Int, seed: UInt64, train: [TrainingExample], setup: Setup) throws -> EvaluationReport {
        let labels = SyntheticLogs.labels
        var config = BertConfig(vocabSize: setup.tokenizer.vocabulary.count, hiddenSize: 32, numHiddenLayers: 2, numAttentionHeads: 2,
                                intermediateSize: 64, maxPositionEmbeddings: 48, labels: labels)
        config.distillPooling = .mean
        let student = Student.bert(BertForSequenceClassification(config: config, seed: seed &* 31), setup.tokenizer)
        var intermediates: [IntermediateDistillation] = []
        if variant >= 2 {
            intermediates.append(try IntermediateDistillation(name: "A", teacher: setup.encoderA, student: config, layerMap: nil,
                                                              hiddenWeight: 1, attentionWeight: 1, seed: seed))
        }
        if variant == 3 {
            intermediates.append(try IntermediateDistillation(name: "B", teacher: setup.encoderB, student: config, layerMap: nil,
                                                              hiddenWeight: 1, attentionWeight: 1, seed: seed + 100))
        }
        var t = TrainingConfig()
        t.epochs = 1000
        t.maxSteps = studentSteps
        t.batchSize = 32
        t.learningRate = 3e-3
        t.warmupSteps = 20
        t.alpha = 0.5
        t.temperature = .constant(2)
        t.maxLength = 48
        t.seed = seed
        let name = ["a", "b", "c", "d"][variant]
        try DistillationTrainer(student: student, config: t, train: train, output: work.appendingPathComponent("student-\(name)-\(seed)"),
                                intermediates: intermediates).run()
        return EvaluationReport.compute(probabilities: Self.probabilities(student, setup.test.map(\.0)), gold: setup.test.map(\.1), labels: labels,
                                        teacherPredictions: setup.teacherTest)
    }

    /// The Markdown table: mean ± standard deviation over seeds.
    public static func markdown(_ rows: [Row], seeds: Int) -> String {
        func cell(_ v: [Double]) -> String {
            let mean = v.reduce(0, +) / Double(max(v.count, 1))
            let sd = (v.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(max(v.count - 1, 1))).squareRoot()
            return String(format: "%.2f ± %.2f", 100 * mean, 100 * sd)
        }
        var lines = ["| configuration | accuracy (%) | macro-F1 (%) | agreement with teacher A (%) |", "|---|---|---|---|"]
        for r in rows { lines.append("| \(r.name) | \(cell(r.accuracy)) | \(cell(r.macroF1)) | \(cell(r.agreement)) |") }
        lines.append("")
        lines.append("Mean ± sample standard deviation over \(seeds) seeds (student initialization, labelled/unlabelled samples, data order).")
        return lines.joined(separator: "\n")
    }
}
