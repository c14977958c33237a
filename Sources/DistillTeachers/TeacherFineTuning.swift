import DistillCore
import DistillNN
import DistillRuntime
import DistillText
import DistillTraining
import Foundation

/// Fine-tunes a BERT-family checkpoint (Hugging Face folder) into a classifier teacher: a new head for the
/// labels, optionally frozen embeddings and lower layers, class-weighted cross-entropy (square root of balanced, by default), AdamW with
/// warmup and linear decay, dev metrics per epoch and early stopping on dev macro-F1; the best epoch (by dev
/// macro-F1, else the last) is saved as a Hugging Face folder
/// (`config.json` with `id2label`, `model.safetensors`, `vocab.txt`, `tokenizer_config.json`).
public struct TeacherFineTuning {
    public var base: URL
    public var labels: [String]
    public var train: [DataRecord]
    public var dev: [DataRecord]
    public var output: URL
    /// Embeddings and the first N encoder layers keep their weights.
    public var freezeLayers = 0
    /// At most this many epochs; with a dev set, training stops after ``patience`` epochs without a better
    /// dev macro-F1.
    public var epochs = Defaults.epochs
    /// Epochs without a better dev macro-F1 before stopping (nil: run every epoch).
    public var patience: Int? = Defaults.patience
    /// Class weights of the loss: on real logs an unweighted loss lets rare categories collapse into `normal`, and
    /// fully balanced weights (about 100x for a class with one labelled line) made dev macro-F1 fall after epoch 3
    /// (0.99 -> 0.79); the square root kept dev at 1.0.
    public var classBalance = Defaults.classBalance

    /// The defaults, declared once for the library and `distill teacher finetune`.
    public enum Defaults {
        public static let epochs = 8
        public static let patience = 3
        public static let classBalance = ClassBalance.sqrt
        /// At 1e-4 the teacher is better on real logs (dev and test, `make bench-teacher-variants`), but the students
        /// distilled from it were not (README, "The students of the 1e-4 teacher"), so 5e-5 stays.
        public static let learningRate: Float = 5e-5
        public static let batchSize = 16
        public static let maxLength = 64
        public static let pooling = Pooling.mean
    }
    public var learningRate = Defaults.learningRate
    public var batchSize = Defaults.batchSize
    public var maxLength = Defaults.maxLength
    /// `mean` for sentence-transformers checkpoints (all-MiniLM-L6-v2's pooler was never trained), else `pooler` or `cls`.
    public var pooling = Defaults.pooling
    /// How raw lines become the model's text; saved with the teacher (`distill_input`), so a recipe with the same
    /// `input` and `distill classify` feed it what it was fine-tuned on.
    public var input: TextInput = .raw
    public var seed: UInt64 = 1

    public init(base: URL, labels: [String], train: [DataRecord], dev: [DataRecord], output: URL) {
        self.base = base
        self.labels = labels
        self.train = train
        self.dev = dev
        self.output = output
    }

    /// Dev metrics after one epoch.
    public struct Epoch: Sendable, Codable, Equatable {
        public var epoch: Int
        public var step: Int
        public var accuracy: Double
        public var macroF1: Double
    }

    public struct Result: Sendable, Codable, Equatable {
        public var epochs: [Epoch]
        /// Dev metrics of the saved model (nil without a dev set).
        public var dev: Epoch?
        public var parameters: Int
        public var trainableParameters: Int
        public var seconds: Double
    }

    /// Where a fine-tuning into `output` keeps its work files: the sibling `.NAME.work`.
    public static func workFolder(for output: URL) -> URL {
        output.deletingLastPathComponent().appendingPathComponent(".\(output.lastPathComponent).work")
    }

    /// Runs the fine-tuning; work files (checkpoints, `train.jsonl`) go to the sibling `.NAME.work`, removed once the
    /// model is saved. Resumable: a killed run started again continues from its last checkpoint.
    public func run(resume: Bool = true, progress: ((TrainingProgress) -> Void)? = nil, onEpoch: ((Epoch) -> Void)? = nil) throws -> Result {
        let started = Date()
        guard !train.isEmpty else { throw DistillError.invalidData(file: "training set", line: 0, detail: "no training lines") }
        // Refused now rather than after the training: the save at the end replaces `output` whole.
        if base.isSameOrInside(output) {
            throw DistillError.invalidData(file: output.path, line: 0, detail: "holds the checkpoint being fine-tuned (\(base.path)): name another output folder")
        }
        try Student.checkReplaceable(output)
        let model = try BertForSequenceClassification.load(folder: base, newHead: true, labels: labels, pooling: pooling, seed: seed)
        guard (0...model.config.numHiddenLayers).contains(freezeLayers) else {
            throw DistillError.invalidData(file: base.path, line: 0,
                                           detail: "--freeze-layers \(freezeLayers) is outside 0...\(model.config.numHiddenLayers) (the model's layers)")
        }
        if freezeLayers > 0 {
            model.freeze(prefix: "bert.embeddings.")
            for l in 0..<freezeLayers { model.freeze(prefix: "bert.encoder.layer.\(l).") }
        }
        var tokenizer = try WordPieceTokenizer.load(folder: base)
        try checkVocabulary(tokenizer, fits: model.config, folder: base)
        tokenizer.modelMaxLength = min(maxLength, model.config.maxPositionEmbeddings)
        if input.kind != .raw { model.input = input }
        let preparer = input.preparer()
        let train = train.map { DataRecord(text: preparer.prepare($0.text), label: $0.label, line: $0.line) }
        let dev = dev.map { DataRecord(text: preparer.prepare($0.text), label: $0.label, line: $0.line) }
        let student = Student.bert(model, tokenizer)
        var config = TrainingConfig()
        config.epochs = epochs
        config.batchSize = batchSize
        config.learningRate = learningRate
        config.maxLength = min(maxLength, model.config.maxPositionEmbeddings)
        config.alpha = 0  // hard labels only
        config.seed = seed
        config.classBalance = classBalance
        config.earlyStoppingPatience = dev.isEmpty ? nil : patience
        config.earlyStoppingMetric = .macroF1
        config.warmupSteps = max(1, (train.count + batchSize - 1) / batchSize * epochs / 10)
        let stepsPerEpoch = (train.count + batchSize - 1) / batchSize
        config.evaluateEvery = dev.isEmpty ? nil : stepsPerEpoch
        config.checkpointEvery = max(1, stepsPerEpoch)
        let work = Self.workFolder(for: output)
        let trainer = try DistillationTrainer(student: student, config: config, train: train.map { TrainingExample(text: $0.text, label: $0.label) },
                                              dev: dev.map { TrainingExample(text: $0.text, label: $0.label) }, output: work)
        var epochsSeen: [Epoch] = []
        trainer.onEvaluation = { step, _, report in
            let e = Epoch(epoch: (step + stepsPerEpoch - 1) / stepsPerEpoch, step: step, accuracy: report.accuracy, macroF1: report.macroF1)
            epochsSeen.append(e)
            onEpoch?(e)
        }
        try trainer.run(resume: resume, progress: progress)
        let best = work.appendingPathComponent("best")
        let chosen = try Student.load(from: FileManager.default.fileExists(atPath: best.path) ? best : work.appendingPathComponent("final"))
        try chosen.save(to: output)
        var devResult: Epoch?
        if !dev.isEmpty {
            let r = EvaluationReport.evaluate(chosen, on: dev.map { TrainingExample(text: $0.text, label: $0.label) }, maxLength: config.maxLength)
            devResult = Epoch(epoch: epochsSeen.max { $0.macroF1 < $1.macroF1 }?.epoch ?? epochs, step: 0, accuracy: r.accuracy, macroF1: r.macroF1)
        }
        // The model is saved: the checkpoints that made a killed fine-tuning resumable (hundreds of MB) go.
        try? FileManager.default.removeItem(at: work)
        let trainable = model.trainableParameters.reduce(0) { $0 + $1.tensor.count }
        return Result(epochs: epochsSeen, dev: devResult, parameters: model.parameterCount, trainableParameters: trainable,
                      seconds: Date().timeIntervalSince(started))
    }
}
