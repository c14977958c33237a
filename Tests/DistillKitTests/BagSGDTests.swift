import DistillCore
@testable import DistillKit
import DistillNN
import DistillText
import DistillTestSupport
import Foundation
import Testing

@Suite("fastText's SGD for the n-gram bag", .serialized)
struct BagSGDTests {
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

    @Test("one step moves every weight by −lr·n·∇(the distillation loss), the tape's gradient; same loss",
          arguments: [nil, 2.5] as [Float?])
    func stepIsTheLossGradient(meanWeight: Float?) throws {
        let model = bag()
        let parameters = model.namedParameters().map(\.tensor)
        let alpha: Float = 0.3, temperature: Float = 2, classWeights: [Float] = [1, 2, 0.5], smoothing: Float = 0.1
        let classes = 3, counted = 5
        let (value, grads) = try valueAndGradient(of: parameters) { () throws -> Tensor in
            let logits = model(batch.map(\.text))
            let targets = SoftTargets.probabilities(Tensor(shape: [batch.count, classes], scalars: batch.flatMap { $0.teacher ?? [1.0 / 3, 1.0 / 3, 1.0 / 3] }))
            return distillationLoss(studentLogits: logits, softTargets: targets, hasSoftTarget: batch.map { $0.teacher != nil },
                                    hardLabels: batch.map(\.label), alpha: alpha, temperature: temperature, classWeights: classWeights,
                                    labelSmoothing: smoothing, exampleWeights: batch.map(\.weight), meanWeight: meanWeight).total
        }
        let before = parameters.map(\.scalars)
        let lr: Float = 0.05
        let loss = try BagSGD(model: model).step(batch, learningRate: lr, alpha: alpha, temperature: temperature,
                                                 classWeights: classWeights, labelSmoothing: smoothing, meanWeight: meanWeight)
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

    @Test("the same weights with 1 and 2 threads (updates applied in example order)")
    func threadsDoNotMatter() throws {
        func run() throws -> [[UInt32]] {
            let model = bag(seed: 9)
            let sgd = try BagSGD(model: model)
            for step in 0..<20 {
                let rotated = Array(batch[(step % batch.count)...] + batch[..<(step % batch.count)])
                _ = sgd.step(rotated, learningRate: 0.1, alpha: 0.5, temperature: 2, classWeights: nil, labelSmoothing: 0)
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
        #expect(throws: DistillError.self) { try BagSGD(model: hidden) }
        let dir = temporaryFolder()
        let recipe = "labels: [a]\ndata:\n  labelled: x.jsonl\nstudent:\n  kind: bert\ntraining:\n  optimizer: sgd\n"
        try Data("{\"text\": \"x\", \"label\": \"a\"}\n".utf8).write(to: dir.appendingPathComponent("x.jsonl"))
        try Data(recipe.utf8).write(to: dir.appendingPathComponent("r.yaml"))
        #expect { try Recipe.load(dir.appendingPathComponent("r.yaml")) } throws: { error in
            error.localizedDescription.contains("key 'training.optimizer': sgd is fastText's optimizer")
        }
    }
}
