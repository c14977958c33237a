import DistillCore
import DistillExamples
import DistillNN
import DistillRecipes
import DistillTeachers
import DistillTestSupport
import DistillText
@testable import DistillTraining
import Foundation
import Testing

@Suite("the n-gram bag's tape-free step: fastText's SGD and lazy Adam's gradients", .serialized)
struct BagStepTests {
    func bag(seed: UInt64 = 4) -> NGramBag {
        NGramBag(config: NGramBagConfig(featurizer: NGramFeaturizer(buckets: 512), embeddingSize: 8, labels: ["a", "b", "c"]), seed: seed)
    }

    /// Soft only, hard only, both, neither, weighted, and an empty text.
    let batch = [
        TrainingExample(text: "disk sda1 full on node 7", label: 1, teacher: [0.2, 0.7, 0.1], weight: 3),
        TrainingExample(text: "login failed for user bob", teacher: [0.1, 0.1, 0.8]),
        TrainingExample(text: "connection refused to postgres", label: 0),
        TrainingExample(text: "nothing to learn here"),
        TrainingExample(text: "", label: 2, weight: 2),
        TrainingExample(text: "disk sda1 full on node 7", teacher: [0.0, 1.0, 0.0], weight: 5),
    ]

    let alpha: Float = 0.3, temperature: Float = 2, classWeights: [Float] = [1, 2, 0.5], smoothing: Float = 0.1

    /// The tape's loss and gradients of `batch` (the embedding table's as rows when `rowSparse`).
    func tape(_ model: NGramBag, meanWeight: Float?, rowSparse: Bool = false) throws -> (Float, Gradients) {
        let parameters = model.namedParameters().map(\.tensor)
        return try valueAndGradient(of: parameters, rowSparse: rowSparse ? [model.embeddings.weight] : []) { () throws -> Tensor in
            let logits = model(batch.map(\.text))
            let targets = SoftTargets.probabilities(Tensor(shape: [batch.count, 3], scalars: batch.flatMap { $0.teacher ?? [1.0 / 3, 1.0 / 3, 1.0 / 3] }))
            return distillationLoss(studentLogits: logits, softTargets: targets, hasSoftTarget: batch.map { $0.teacher != nil },
                                    hardLabels: batch.map(\.label), alpha: alpha, temperature: temperature, classWeights: classWeights,
                                    labelSmoothing: smoothing, exampleWeights: batch.map(\.weight), meanWeight: meanWeight).total
        }
    }

    func loss(_ meanWeight: Float?) -> BagStep.Loss {
        BagStep.Loss(alpha: alpha, temperature: temperature, classWeights: classWeights, labelSmoothing: smoothing, meanWeight: meanWeight)
    }

    @Test("sgd: one step moves every weight by −lr·n·∇(the distillation loss), the tape's gradient; same loss",
          arguments: [nil, 2.5] as [Float?])
    func stepIsTheLossGradient(meanWeight: Float?) throws {
        let model = bag()
        let parameters = model.namedParameters().map(\.tensor)
        let counted = 5
        let (value, grads) = try tape(model, meanWeight: meanWeight)
        let before = parameters.map(\.scalars)
        let lr: Float = 0.05
        let loss = try BagStep(model: model, examples: batch).sgd(Array(batch.indices), learningRate: lr, loss: loss(meanWeight))
        #expect(abs(loss.total - value) < 1e-5, "\(loss.total) vs \(value)")
        var compared = 0
        for (k, p) in parameters.enumerated() {
            let g = grads[p]!.scalars
            for (j, (old, new)) in zip(before[k], p.scalars).enumerated() {
                let expected = -lr * Float(counted) * g[j]
                #expect(abs((new - old) - expected) <= 1e-6 + 1e-4 * abs(expected), "parameter \(k) element \(j): \(new - old) vs \(expected)")
                if g[j] != 0 { compared += 1 }
            }
        }
        #expect(compared > 100)
    }

    @Test("gradients: the tape's loss and gradients, the table's as the same rows", arguments: [nil, 2.5] as [Float?])
    func gradientsAreTheTapes(meanWeight: Float?) throws {
        let model = bag()
        let (value, expected) = try tape(model, meanWeight: meanWeight, rowSparse: true)
        let step = try BagStep(model: model, examples: batch)
        // Twice: the row slots are reset between batches.
        for _ in 0..<2 {
            let (loss, grads) = step.gradients(Array(batch.indices), loss: loss(meanWeight))
            #expect(abs(loss.total - value) < 1e-5, "\(loss.total) vs \(value)")
            guard case let .rows(rows)? = grads.value(of: model.embeddings.weight),
                  case let .rows(tapeRows)? = expected.value(of: model.embeddings.weight) else {
                Issue.record("the table's gradient is not row-sparse")
                return
            }
            #expect(rows.rows == tapeRows.rows)
            #expect(rows.rows.count > 20)
            for p in model.namedParameters().map(\.tensor) {
                let got = grads[p]!.scalars, want = expected[p]!.scalars
                #expect(got.count == want.count)
                for (j, (a, b)) in zip(got, want).enumerated() {
                    #expect(abs(a - b) <= 1e-7 + 1e-4 * abs(b), "element \(j): \(a) vs \(b)")
                }
            }
        }
        // A frozen classifier gets no gradient.
        model.classifier.freeze()
        let (_, frozen) = step.gradients(Array(batch.indices), loss: loss(meanWeight))
        #expect(frozen.value(of: model.classifier.weight) == nil && frozen.value(of: model.embeddings.weight) != nil)
    }

    @Test("gradients with more rows than one worker takes: the same bits with 1 and 2 threads and with features cached or not, and the tape's values")
    func manyRows() throws {
        var g = RandomGenerator(seed: 8)
        let words = (0..<400).map { i in "w\(i)x\(g.next() % 1000)" }
        let examples = (0..<32).map { i in
            TrainingExample(text: (0..<40).map { _ in words[Int(g.next() % 400)] }.joined(separator: " "), label: i % 3, teacher: i % 2 == 0 ? [0.2, 0.3, 0.5] : nil)
        }
        func gradients(featureCacheLimit: Int = BagStep.featureCacheLimit) throws -> (rows: [Int], values: [UInt32], tape: Gradients, model: NGramBag) {
            let model = NGramBag(config: NGramBagConfig(featurizer: NGramFeaturizer(buckets: 1 << 15), embeddingSize: 8, labels: ["a", "b", "c"]), seed: 6)
            let step = try BagStep(model: model, examples: examples, featureCacheLimit: featureCacheLimit)
            let (_, grads) = step.gradients(Array(examples.indices), loss: loss(nil))
            guard case let .rows(rows)? = grads.value(of: model.embeddings.weight) else { throw DistillError.checkpoint(path: "", detail: "not row-sparse") }
            return (rows.rows, rows.values.scalars.map(\.bitPattern), grads, model)
        }
        let two = try gradients()
        #expect(two.rows.count > 2 * 1024, "\(two.rows.count) rows: the test needs more than one worker's share")
        ComputeThreads.configure(threads: 1)
        let one = try gradients()
        ComputeThreads.configure()
        #expect(one.rows == two.rows && one.values == two.values)
        // Past the cache's budget the features are computed in the forward pass and the rows read after it.
        let uncached = try gradients(featureCacheLimit: 0)
        #expect(uncached.rows == two.rows && uncached.values == two.values)
        let (_, expected) = try valueAndGradient(of: two.model.namedParameters().map(\.tensor), rowSparse: [two.model.embeddings.weight]) { () throws -> Tensor in
            let targets = SoftTargets.probabilities(Tensor(shape: [examples.count, 3], scalars: examples.flatMap { $0.teacher ?? [1.0 / 3, 1.0 / 3, 1.0 / 3] }))
            return distillationLoss(studentLogits: two.model(examples.map(\.text)), softTargets: targets, hasSoftTarget: examples.map { $0.teacher != nil },
                                    hardLabels: examples.map(\.label), alpha: alpha, temperature: temperature, classWeights: classWeights,
                                    labelSmoothing: smoothing, exampleWeights: nil, meanWeight: nil).total
        }
        let got = two.tape[two.model.embeddings.weight]!.scalars, want = expected[two.model.embeddings.weight]!.scalars
        for (j, (a, b)) in zip(got, want).enumerated() where abs(a - b) > 1e-7 + 1e-4 * abs(b) {
            Issue.record("element \(j): \(a) vs \(b)")
            break
        }
    }

    @Test("a diverged run stops with an error naming the step and what to change")
    func diverges() throws {
        let train = (0..<64).map { i in TrainingExample(text: "event \(i % 5) on host \(i % 3)", label: i % 3) }
        var config = TrainingConfig()
        config.optimizer = .sgd
        config.learningRate = 1e30
        config.epochs = 20
        config.batchSize = 8
        let model = bag()
        let output = temporaryFolder()
        #expect { try DistillationTrainer(student: .ngramBag(model), config: config, train: train, output: output).run() } throws: { error in
            guard case let .diverged(_, step, _)? = error as? DistillError else { return false }
            return step > 0 && error.localizedDescription.contains("lower training.learning_rate")
        }
    }

    @Test("no example with a target: zero loss and no gradient")
    func nothingToLearn() throws {
        let examples = [TrainingExample(text: "nothing here"), TrainingExample(text: "")]
        let model = bag()
        let (loss, grads) = try BagStep(model: model, examples: examples).gradients([0, 1], loss: loss(nil))
        #expect(loss.total == 0 && grads.value(of: model.classifier.weight) == nil)
    }

    @Test("the same weights with 1 and 2 threads (sgd and Adam steps; slots combined in example order)")
    func threadsDoNotMatter() throws {
        func run() throws -> [[UInt32]] {
            let model = bag(seed: 9)
            let step = try BagStep(model: model, examples: batch)
            let optimizer = AdamW(learningRate: 0.01)
            for k in 0..<20 {
                let rotated = Array(Array(batch.indices)[(k % batch.count)...] + Array(batch.indices)[..<(k % batch.count)])
                let settings = BagStep.Loss(alpha: 0.5, temperature: 2, classWeights: nil, labelSmoothing: 0, meanWeight: nil)
                if k % 2 == 0 {
                    _ = step.sgd(rotated, learningRate: 0.1, loss: settings)
                } else {
                    optimizer.update(model.namedParameters(), gradients: step.gradients(rotated, loss: settings).gradients)
                }
            }
            return model.namedParameters().map { $0.tensor.scalars.map(\.bitPattern) }
        }
        let two = try run()
        ComputeThreads.configure(threads: 1)
        let one = try run()
        ComputeThreads.configure()
        #expect(one == two)
    }

    @Test("a bag with a hidden layer or a BERT student is refused; the recipe names the key")
    func refused() throws {
        let hidden = NGramBag(config: NGramBagConfig(featurizer: NGramFeaturizer(buckets: 64), embeddingSize: 4, hiddenSize: 4, labels: ["a", "b"]))
        #expect(throws: DistillError.self) { try BagStep(model: hidden, examples: batch) }
        let dir = temporaryFolder()
        let recipe = "labels: [a]\ndata:\n  labelled: x.jsonl\nstudent:\n  kind: bert\ntraining:\n  optimizer: sgd\n"
        try Data("{\"text\": \"x\", \"label\": \"a\"}\n".utf8).write(to: dir.appendingPathComponent("x.jsonl"))
        try Data(recipe.utf8).write(to: dir.appendingPathComponent("r.yaml"))
        #expect { try Recipe.load(dir.appendingPathComponent("r.yaml")) } throws: { error in
            error.localizedDescription.contains("key 'training.optimizer': sgd is fastText's optimizer")
        }
    }
}
