import DistillCore
import DistillNN
import DistillRuntime
import DistillText
import Foundation

/// One line of progress: what the trainer reports after each step.
public struct TrainingProgress: Sendable {
    public var step: Int, totalSteps: Int, epoch: Int
    public var loss: Float, soft: Float, hard: Float
    public var learningRate: Float
    public var stepsPerSecond: Double
    public var secondsRemaining: Double

    /// `step 120/900  epoch 1  loss 0.4213 (soft 0.3120, hard 0.5311)  lr 4.1e-04  12.3 steps/s  ETA 1m03s`
    public var line: String {
        let eta = secondsRemaining.isFinite ? String(format: "%dm%02ds", Int(secondsRemaining) / 60, Int(secondsRemaining) % 60) : "?"
        return String(format: "step %d/%d  epoch %d  loss %.4f (soft %.4f, hard %.4f)  lr %.1e  %.1f steps/s  ETA %@",
                      step, totalSteps, epoch, loss, soft, hard, learningRate, stepsPerSecond, eta)
    }
}

/// Trains a student on stored teacher outputs and gold labels with AdamW, warmup + linear decay, clipping,
/// length-bucketed shuffled batches, periodic dev evaluation with early stopping, a JSON-lines log and
/// checkpoints from which a run resumes exactly (same weights as an uninterrupted run). The best evaluation's
/// weights are kept in memory and written to `best/` with each checkpoint and at the end.
///
/// A bag without a hidden layer trains without the tape (``BagStep``): the same loss and gradients, computed from
/// features extracted once per training example.
///
/// Everything random — data order, dropout — derives from `config.seed` and is saved in checkpoints with the
/// optimizer state and the position in the data.
public final class DistillationTrainer {
    public let student: Student
    public let config: TrainingConfig
    public let train: [TrainingExample]
    public let dev: [TrainingExample]
    /// Run folder: `checkpoint/`, `best/`, `final/`, `train.jsonl`.
    public let output: URL

    let optimizer: AdamW
    let context: ForwardContext
    var lastIntermediate: (hidden: Float, attention: Float) = (0, 0)
    var state: TrainingState
    /// Steps taken so far.
    public var step: Int { state.step }
    /// Whether early stopping ended the run.
    public var stoppedEarly: Bool { state.stoppedEarly }
    /// Dev evaluations in a row without a better score.
    public var evaluationsWithoutImprovement: Int { state.evaluationsWithoutImprovement }
    public let totalSteps: Int
    let batchesPerEpoch: Int

    /// Set by tests to stop after this step as if killed (no final checkpoint or model written).
    public var stopAfterStep: Int?
    /// Called after each dev evaluation with the step, the epoch and the report.
    public var onEvaluation: ((_ step: Int, _ epoch: Int, EvaluationReport) -> Void)?
    /// Hidden/attention distillation from white-box teachers (BERT students only), each with its projections.
    public let intermediates: [IntermediateDistillation]
    /// The student plus the projections: what is optimized and checkpointed.
    let trainable: TrainableSet
    /// The tape-free step of a bag without a hidden layer: fastText's SGD (``TrainingConfig/Optimizer/sgd``) or the
    /// gradients for lazy Adam (sparse embedding updates). nil: the tape's gradients.
    let bagStep: BagStep?
    /// The training examples' mean weight when they are not all 1 (merged duplicates): the loss's normalizer.
    let meanWeight: Float?
    /// The student's weights at the best dev evaluation, kept in memory and written to `best/` with the next
    /// checkpoint (a copy costs a few milliseconds; writing a bag's 67 MB at every improvement cost a third of its loop).
    var bestWeights: [String: Tensor] = [:]
    /// Whether ``bestWeights`` holds an evaluation that `best/` does not have yet.
    var bestUnsaved = false
    /// The bag's table rows that lazy Adam moved since ``bestWeights`` last copied the table (one bit per row): the
    /// next copy takes only these rows, the same bits as a whole copy. nil: copy the whole table (the SGD step and
    /// the tape's move rows this set does not see).
    var tableRowsMoved: [UInt64]?

    public init(student: Student, config: TrainingConfig, train: [TrainingExample], dev: [TrainingExample] = [], output: URL,
                intermediates: [IntermediateDistillation] = []) throws {
        if !intermediates.isEmpty, !(student.model is BertClassifier) {
            throw DistillError.invalidData(file: "recipe", line: 0, detail: "hidden and attention losses need a BERT student")
        }
        guard !train.isEmpty else { throw DistillError.invalidData(file: "training set", line: 0, detail: "no training examples") }
        let classes = student.labels.count
        for (i, e) in (train + dev).enumerated() {
            let (file, line) = i < train.count ? ("training set", i + 1) : ("dev set", i - train.count + 1)
            if let l = e.label, l < 0 || l >= classes {
                throw DistillError.invalidData(file: file, line: line, detail: "label index \(l) is outside the \(classes) labels")
            }
            if !(e.weight > 0 && e.weight.isFinite) {
                throw DistillError.invalidData(file: file, line: line, detail: "example weight \(e.weight) must be a finite number > 0")
            }
            if let t = e.teacher, t.count != classes {
                throw DistillError.invalidData(file: "training set", line: i + 1, detail: "teacher distribution has \(t.count) values for \(classes) labels")
            }
        }
        if let weights = config.classWeights, weights.count != classes {
            throw DistillError.invalidData(file: "recipe", line: 0, detail: "training.class_weights has \(weights.count) values for \(classes) labels")
        }
        self.student = student
        var config = config
        if config.classWeights == nil, let balance = config.classBalance {
            config.classWeights = balance.weights(labels: train.map(\.label), classes: classes, counts: train.map(\.weight))
        }
        self.config = config
        self.train = train
        self.dev = dev
        self.output = output
        self.intermediates = intermediates
        trainable = TrainableSet(student: student.module, intermediates: intermediates)
        meanWeight = train.contains { $0.weight != 1 } ? train.reduce(0) { $0 + $1.weight } / Float(train.count) : nil
        switch (config.optimizer, student.model as? NGramBag) {
        case let (.sgd, model?):
            guard model.hidden == nil else {
                throw DistillError.invalidData(file: "recipe", line: 0, detail: "training.optimizer sgd needs an n-gram bag without a hidden layer (hidden_size: 0)")
            }
            bagStep = try BagStep(model: model, examples: train)
        case (.sgd, nil): throw DistillError.invalidData(file: "recipe", line: 0, detail: "training.optimizer sgd is for n-gram bag students")
        case let (.adamw, model?) where model.hidden == nil && model.classifier.bias != nil && config.embeddingUpdates == .sparse:
            bagStep = try BagStep(model: model, examples: train)
        case (.adamw, _): bagStep = nil
        }
        optimizer = AdamW(learningRate: config.learningRate, weightDecay: config.weightDecay)
        context = ForwardContext(training: true, seed: config.seed &+ 1)
        batchesPerEpoch = ((config.epochExamples ?? train.count) + config.batchSize - 1) / config.batchSize
        totalSteps = min(config.maxSteps ?? .max, batchesPerEpoch * config.epochs)
        state = TrainingState(dropoutGenerator: context.generator.state)
    }

    var checkpointFolder: URL { output.appendingPathComponent("checkpoint") }

    /// Identifies the run's configuration and data; a checkpoint of another run is refused on resume.
    var fingerprint: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let configJSON = (try? encoder.encode(config)).map { String(decoding: $0, as: UTF8.self) } ?? ""
        let parts = [configJSON] + train.map { "\($0.text)\u{1}\($0.label ?? -1)\u{1}\($0.teacher?.description ?? "")\($0.weight == 1 ? "" : "\u{1}\($0.weight)")" }
            + trainable.namedParameters().map { "\($0.name)\($0.tensor.shape)" }
        return String(Fingerprint.of(parts), radix: 16)
    }
    var logURL: URL { output.appendingPathComponent("train.jsonl") }

    /// Runs to the end (or early stop), resuming from `output/checkpoint` when `resume` is true and one exists.
    /// Returns the last dev evaluation, if any.
    /// The loop's parallel calls run on a ``WorkerTeam``: a small step makes thousands of them a second.
    @discardableResult
    public func run(resume: Bool = false, progress: ((TrainingProgress) -> Void)? = nil) throws -> EvaluationReport? {
        try WorkerTeam.run { try runLoop(resume: resume, progress: progress) }
    }

    private func runLoop(resume: Bool, progress: ((TrainingProgress) -> Void)?) throws -> EvaluationReport? {
        try prepareOutput(resume: resume)
        var log = try LogWriter(url: logURL)
        context.generator = RandomGenerator(state: state.dropoutGenerator)
        let schedule = LearningRateSchedule.warmupLinearDecay(peak: config.learningRate, warmupSteps: config.warmupSteps, totalSteps: totalSteps)
        let parameters = trainable.trainableParameters
        var lastReport: EvaluationReport?
        let started = Date()
        var lastCheckpoint = started
        let startStep = state.step
        training: while state.step < totalSteps && !state.stoppedEarly {
            let order = epochBatches(epoch: state.epoch)
            while state.batch < order.count && state.step < totalSteps {
                let temperature = config.temperature.value(at: state.step)
                optimizer.learningRate = schedule.learningRate(at: state.step)
                let (loss, parts) = try trainBatch(order[state.batch], temperature: temperature, parameters: parameters)
                guard [loss, parts.soft, parts.hard, lastIntermediate.hidden, lastIntermediate.attention].allSatisfy(\.isFinite) else {
                    try log.flush()
                    throw DistillError.diverged(output: output.path, step: state.step + 1, loss: loss)
                }
                state.step += 1
                state.batch += 1
                state.dropoutGenerator = context.generator.state
                try logStep(&log, loss: loss, parts: parts, temperature: temperature)
                if let progress {
                    let rate = Double(state.step - startStep) / max(Date().timeIntervalSince(started), 1e-9)
                    progress(TrainingProgress(step: state.step, totalSteps: totalSteps, epoch: state.epoch, loss: loss, soft: parts.soft,
                                              hard: parts.hard, learningRate: optimizer.learningRate, stepsPerSecond: rate,
                                              secondsRemaining: Double(totalSteps - state.step) / max(rate, 1e-9)))
                }
                let evaluateNow = config.evaluateEvery.map { state.step % $0 == 0 } ?? (state.batch == order.count)
                if evaluateNow && !dev.isEmpty { lastReport = try evaluateOnDev(&log) }
                let checkpointDue = config.checkpointEvery.map { evaluateNow || state.step % $0 == 0 }
                    ?? (Date().timeIntervalSince(lastCheckpoint) >= config.checkpointSeconds)
                if state.stoppedEarly || checkpointDue {
                    try log.flush()
                    try saveCheckpoint()
                    lastCheckpoint = Date()
                }
                if let stop = stopAfterStep, state.step >= stop { try log.flush(); return lastReport }
                if state.stoppedEarly { break training }
            }
            if state.batch >= order.count { state.epoch += 1; state.batch = 0 }
        }
        try log.flush()
        try saveCheckpoint()
        try student.save(to: output.appendingPathComponent("final"))
        return lastReport
    }

    /// Resumes from a complete checkpoint when asked and one exists; otherwise clears what an earlier run left in
    /// the folder. Either way the step log ends at the run's step.
    private func prepareOutput(resume: Bool) throws {
        try FileManager.default.createDirectory(at: output, withIntermediateDirectories: true)
        if resume, let folder = completeCheckpoint() {
            try loadCheckpoint(from: folder)
        } else {
            // A fresh run: nothing of an earlier run in this folder may leak into this one.
            for name in ["train.jsonl", "checkpoint", "best", "final", "report.json", "report.md"] {
                try? FileManager.default.removeItem(at: output.appendingPathComponent(name))
            }
            removeStaleCheckpointFolders()
        }
        state.fingerprint = fingerprint
        try truncateLog(after: state.step)
    }

    /// One optimizer step on the examples at `indices`: the bag's tape-free step (SGD or lazy Adam) or the tape's,
    /// clipped and applied. Returns the loss and its soft and hard parts.
    private func trainBatch(_ indices: [Int], temperature: Float, parameters: [NamedParameter]) throws -> (Float, (soft: Float, hard: Float)) {
        let bagLoss = BagStep.Loss(alpha: config.alpha.value(at: state.step), temperature: temperature, classWeights: config.classWeights,
                                   labelSmoothing: config.labelSmoothing, meanWeight: meanWeight)
        if let bagStep, config.optimizer == .sgd {
            tableRowsMoved = nil
            let r = bagStep.sgd(indices, learningRate: optimizer.learningRate, loss: bagLoss)
            return (r.total, (r.soft, r.hard))
        }
        var gradients: Gradients
        let loss: Float, parts: (soft: Float, hard: Float)
        if let bagStep {
            let (r, grads) = bagStep.gradients(indices, loss: bagLoss)
            (loss, parts, gradients) = (r.total, (r.soft, r.hard), grads)
        } else {
            let (value, lossParts, grads) = try step(indices.map { train[$0] }, indices: indices, temperature: temperature, parameters: parameters)
            (loss, parts, gradients) = (value, (lossParts.soft, lossParts.hard), grads)
        }
        if let clip = config.clipNorm { clipGradientsByGlobalNorm(&gradients, maxNorm: clip) }
        optimizer.update(parameters, gradients: gradients)
        noteRowsMoved(gradients)
        return (loss, parts)
    }

    /// The step's line in `train.jsonl` (with the intermediate losses when the run has them).
    private func logStep(_ log: inout LogWriter, loss: Float, parts: (soft: Float, hard: Float), temperature: Float) throws {
        var values: KeyValuePairs<String, Float> = ["loss": loss, "soft": parts.soft, "hard": parts.hard, "lr": optimizer.learningRate, "temperature": temperature]
        if !intermediates.isEmpty {
            values = ["loss": loss, "soft": parts.soft, "hard": parts.hard, "lr": optimizer.learningRate, "temperature": temperature,
                      "hidden": lastIntermediate.hidden, "attention": lastIntermediate.attention]
        }
        try log.appendStep(step: state.step, epoch: state.epoch, values: values)
    }

    /// Evaluates on dev, logs it, keeps the best weights and counts toward early stopping.
    private func evaluateOnDev(_ log: inout LogWriter) throws -> EvaluationReport {
        let report = evaluate(dev)
        onEvaluation?(state.step, state.epoch, report)
        try log.append(["step": state.step, "eval": ["accuracy": report.accuracy, "macro_f1": report.macroF1,
                                                      "agreement": report.agreementWithTeacher ?? -1]])
        let value = metric(report)
        if value > state.bestMetric {
            state.bestMetric = value
            state.evaluationsWithoutImprovement = 0
            keepBest()
        } else {
            state.evaluationsWithoutImprovement += 1
        }
        if let patience = config.earlyStoppingPatience, state.evaluationsWithoutImprovement >= patience {
            state.stoppedEarly = true
        }
        return report
    }

    /// Forward + backward of one batch: the distillation loss of the student's logits.
    func step(_ batch: [TrainingExample], indices: [Int], temperature: Float, parameters: [NamedParameter]) throws -> (Float, DistillationLoss, Gradients) {
        let classes = student.labels.count
        let uniform = [Float](repeating: 1 / Float(classes), count: classes)
        let anySoft = batch.contains { $0.teacher != nil }
        let targets = anySoft ? SoftTargets.probabilities(Tensor(shape: [batch.count, classes], scalars: batch.flatMap { $0.teacher ?? uniform })) : nil
        var parts: DistillationLoss?
        var hidden: Float = 0, attention: Float = 0
        let (value, grads) = try valueAndGradient(of: parameters.map(\.tensor), rowSparse: rowSparseTables) { () throws -> Tensor in
            var extra: Tensor?
            let logits: Tensor
            if let bert = student.model as? BertClassifier, !intermediates.isEmpty {
                let encoded = bert.tokenizer.encodeBatch(batch.map(\.text), maxLength: bert.tokenLimit(requested: config.maxLength))
                let out = bert.model(encoded, outputHiddenStates: true, outputAttentions: true,
                                outputValues: intermediates.contains { $0.needsValues }, context: context)
                logits = out.logits
                for d in intermediates {
                    let (l, h, a) = try d.loss(student: out.encoder, batch: encoded, indices: indices, step: state.step)
                    hidden += h
                    attention += a
                    extra = extra.map { $0 + l } ?? l
                }
            } else {
                logits = trainingLogits(batch.map(\.text))
            }
            let loss = distillationLoss(studentLogits: logits, softTargets: targets, hasSoftTarget: batch.map { $0.teacher != nil },
                                        hardLabels: batch.map(\.label), alpha: config.alpha.value(at: state.step), temperature: temperature,
                                        classWeights: config.classWeights, labelSmoothing: config.labelSmoothing,
                                        exampleWeights: meanWeight == nil ? nil : batch.map(\.weight), meanWeight: meanWeight)
            parts = loss
            return extra.map { loss.total + $0 } ?? loss.total
        }
        lastIntermediate = (hidden, attention)
        return (value, parts!, grads)
    }

    /// The tables whose gradient stays row-sparse (``TrainingConfig/embeddingUpdates``): the bag's embedding table.
    /// A BERT student's tables stay dense: its step is bound by the matrix products, not by the table.
    var rowSparseTables: [Tensor] {
        guard config.embeddingUpdates == .sparse, let model = student.model as? NGramBag else { return [] }
        return [model.embeddings.weight]
    }

    func trainingLogits(_ texts: [String]) -> Tensor {
        student.model.logits(texts, maxLength: config.maxLength, context: context)
    }

    /// Evaluates on `examples` (inference mode) against gold labels and, where present, the teacher's argmax.
    public func evaluate(_ examples: [TrainingExample]) -> EvaluationReport {
        EvaluationReport.evaluate(student, on: examples, maxLength: config.maxLength)
    }

    /// Marks the bag's table rows that a lazy Adam update moved (``tableRowsMoved``); any other update of the table
    /// forgets the set.
    private func noteRowsMoved(_ gradients: Gradients) {
        guard let table = (student.model as? NGramBag)?.embeddings.weight, let gradient = gradients.value(of: table) else { return }
        guard case let .rows(g) = gradient, tableRowsMoved != nil else {
            tableRowsMoved = nil
            return
        }
        for row in g.rows { tableRowsMoved![row >> 6] |= 1 << UInt64(row & 63) }
    }

    /// Copies the student's weights into ``bestWeights`` (the same buffers each time; of the bag's table, only the
    /// rows moved since the last copy when they are known).
    func keepBest() {
        let table = (student.model as? NGramBag)?.embeddings.weight
        for (name, tensor) in student.module.stateDict() {
            if let kept = bestWeights[name], kept.shape == tensor.shape {
                if tensor === table, let moved = tableRowsMoved {
                    let d = tensor.shape[1]
                    for (word, bits) in moved.enumerated() where bits != 0 {
                        var rest = bits
                        while rest != 0 {
                            let at = (word << 6 | rest.trailingZeroBitCount) * d
                            (kept.storage.pointer + at).update(from: tensor.storage.pointer + at, count: d)
                            rest &= rest - 1
                        }
                    }
                } else {
                    kept.storage.pointer.update(from: tensor.storage.pointer, count: tensor.count)
                }
            } else {
                bestWeights[name] = tensor.copy()
            }
            if tensor === table { tableRowsMoved = [UInt64](repeating: 0, count: (tensor.shape[0] + 63) / 64) }
        }
        bestUnsaved = true
    }

    /// Writes ``bestWeights`` to `best/` when it holds an evaluation not yet written.
    func saveBest() throws {
        guard bestUnsaved else { return }
        try student.save(to: output.appendingPathComponent("best"), weights: bestWeights)
        bestUnsaved = false
    }

    func metric(_ r: EvaluationReport) -> Double {
        switch config.earlyStoppingMetric {
        case .macroF1: return r.macroF1
        case .accuracy: return r.accuracy
        case .agreement: return r.agreementWithTeacher ?? r.accuracy
        }
    }

    /// The batches of `epoch` as example indices: shuffled with a generator seeded by (seed, epoch), sorted by
    /// length inside windows of `bucketWindow` batches, then the batches shuffled. An epoch longer than the
    /// examples (``TrainingConfig/epochExamples``) is several shuffled passes, cut to its length. A pure function of
    /// the epoch, so a resumed run sees the same batches.
    func epochBatches(epoch: Int) -> [[Int]] {
        var g = RandomGenerator(seed: config.seed ^ (0x9E37_79B9 &* UInt64(epoch + 1)))
        var indices = Array(train.indices)
        indices.shuffle(using: &g)
        let length = config.epochExamples ?? train.count
        while indices.count < length {
            var pass = Array(train.indices)
            pass.shuffle(using: &g)
            indices += pass.prefix(length - indices.count)
        }
        let window = max(1, config.bucketWindow) * config.batchSize
        var batches: [[Int]] = []
        for start in stride(from: 0, to: indices.count, by: window) {
            let chunk = indices[start..<min(start + window, indices.count)].sorted {
                (train[$0].text.utf8.count, $0) < (train[$1].text.utf8.count, $1)
            }
            for b in stride(from: 0, to: chunk.count, by: config.batchSize) {
                batches.append(Array(chunk[(chunk.startIndex + b)..<min(chunk.startIndex + b + config.batchSize, chunk.endIndex)]))
            }
        }
        batches.shuffle(using: &g)
        return batches
    }
}
