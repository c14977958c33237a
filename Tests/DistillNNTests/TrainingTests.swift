import DistillCore
import DistillNN
import Foundation
import Testing

/// Two interleaved spirals, the classic non-linear toy problem.
func spirals(pointsPerClass n: Int, seed: UInt64) -> (x: Tensor, y: [Int]) {
    var g = RandomGenerator(seed: seed)
    var xs: [Float] = [], ys: [Int] = []
    for cls in 0..<2 {
        for i in 0..<n {
            let r = Float(i) / Float(n) * 5 + 0.2
            let t = 1.75 * Float(i) / Float(n) * 2 * .pi + Float(cls) * .pi
            xs += [r * Foundation.cos(t) + 0.1 * g.nextNormal(), r * Foundation.sin(t) + 0.1 * g.nextNormal()]
            ys.append(cls)
        }
    }
    return (Tensor(shape: [2 * n, 2], scalars: xs), ys)
}

/// A 2-hidden-layer MLP written with the raw ops (the module system arrives with the models issue).
struct MLP {
    let w1, b1, w2, b2, w3, b3: Tensor
    init(hidden: Int, classes: Int, generator g: inout RandomGenerator) {
        w1 = Tensor.randomNormal([2, hidden], std: 0.5, using: &g); b1 = Tensor(zeros: [hidden])
        w2 = Tensor.randomNormal([hidden, hidden], std: (1 / Float(hidden)).squareRoot(), using: &g); b2 = Tensor(zeros: [hidden])
        w3 = Tensor.randomNormal([hidden, classes], std: (1 / Float(hidden)).squareRoot(), using: &g); b3 = Tensor(zeros: [classes])
    }
    var parameters: [NamedParameter] {
        [("l1.weight", w1), ("l1.bias", b1), ("l2.weight", w2), ("l2.bias", b2), ("l3.weight", w3), ("l3.bias", b3)].map { NamedParameter($0.0, $0.1) }
    }
    func logits(_ x: Tensor, dropout p: Float = 0, generator: inout RandomGenerator) -> Tensor {
        let h1 = tanh(matmul(x, w1) + b1)
        let h2 = dropout(relu(matmul(h1, w2) + b2), probability: p, generator: &generator)
        return matmul(h2, w3) + b3
    }
}

@Suite("Training")
struct TrainingTests {
    @Test("a 2-layer MLP learns two spirals to >= 95% train accuracy with AdamW")
    func spiralsLearned() {
        let (x, y) = spirals(pointsPerClass: 200, seed: 3)
        var g = RandomGenerator(seed: 11)
        let model = MLP(hidden: 64, classes: 2, generator: &g)
        let opt = AdamW(learningRate: 0.02, weightDecay: 1e-4)
        let schedule = LearningRateSchedule.warmupCosineDecay(peak: 0.02, warmupSteps: 50, totalSteps: 1500, minimum: 0.002)
        var firstLoss: Float = 0, lastLoss: Float = 0
        for step in 0..<1500 {
            var (loss, grads) = valueAndGradient(of: model.parameters.map(\.tensor)) {
                softmaxCrossEntropy(logits: model.logits(x, generator: &g), targets: y)
            }
            clipGradientsByGlobalNorm(&grads, maxNorm: 5)
            opt.learningRate = schedule.learningRate(at: step)
            opt.update(model.parameters, gradients: grads)
            if step == 0 { firstLoss = loss }
            lastLoss = loss
        }
        let predictions = withoutGradients { model.logits(x, generator: &g) }
        var correct = 0
        for i in 0..<y.count {
            let row = Array(predictions.scalars[(2 * i)..<(2 * i + 2)])
            if (row[1] > row[0] ? 1 : 0) == y[i] { correct += 1 }
        }
        let accuracy = Double(correct) / Double(y.count)
        #expect(accuracy >= 0.95, "train accuracy \(accuracy), loss \(firstLoss) -> \(lastLoss)")
        #expect(lastLoss < firstLoss / 4)
    }

    /// 20 AdamW steps of a small attention model with dropout; returns the losses' bit patterns.
    func twentySteps(seed: UInt64) -> [UInt32] {
        var g = RandomGenerator(seed: seed)
        let (b, s, d, h) = (4, 6, 16, 2)
        let emb = Tensor.randomNormal([30, d], std: 0.1, using: &g)
        let wq = Tensor.randomNormal([d, d], std: 0.2, using: &g), wk = Tensor.randomNormal([d, d], std: 0.2, using: &g)
        let wv = Tensor.randomNormal([d, d], std: 0.2, using: &g), wo = Tensor.randomNormal([d, 3], std: 0.2, using: &g)
        let gamma = Tensor(repeating: 1, shape: [d]), beta = Tensor(zeros: [d])
        let params = [("emb", emb), ("wq", wq), ("wk", wk), ("wv", wv), ("wo", wo), ("ln.weight", gamma), ("ln.bias", beta)].map { NamedParameter($0.0, $0.1) }
        let opt = AdamW(learningRate: 0.01)
        let ids = (0..<(b * s)).map { _ in Int(g.next() % 30) }
        let pad = Tensor(shape: [b, s], scalars: (0..<(b * s)).map { $0 % s < s - ($0 / s) ? 1 : 0 })
        let mask = additiveAttentionMask(paddingMask: pad)
        let labels = (0..<b).map { $0 % 3 }
        var losses: [UInt32] = []
        for _ in 0..<20 {
            let (loss, grads) = valueAndGradient(of: params.map(\.tensor)) { () -> Tensor in
                let x = embedding(emb, indices: ids, shape: [b, s])
                func heads(_ t: Tensor) -> Tensor { permute(t.reshaped([b, s, h, d / h]), [0, 2, 1, 3]) }
                let att = scaledDotProductAttention(query: heads(matmul(x, wq)), key: heads(matmul(x, wk)), value: heads(matmul(x, wv)),
                                                    mask: mask, dropout: 0.1, generator: &g).output
                let merged = permute(att, [0, 2, 1, 3]).reshaped([b, s, d])
                let y = layerNorm(dropout(x + merged, probability: 0.1, generator: &g), gamma: gamma, beta: beta)
                let pooled = mean(y, axes: [1])
                return softmaxCrossEntropy(logits: matmul(pooled, wo), targets: labels, labelSmoothing: 0.1)
            }
            opt.update(params, gradients: grads)
            losses.append(loss.bitPattern)
        }
        return losses
    }

    @Test("same seed gives bit-identical losses over 20 steps, with 1 or 2 threads")
    func determinism() {
        let a = twentySteps(seed: 77)
        let b = twentySteps(seed: 77)
        #expect(a == b)
        #expect(Set(a).count > 10, "losses should change from step to step")
        #expect(twentySteps(seed: 78) != a)
        ComputeThreads.configure(threads: 1)
        let single = twentySteps(seed: 77)
        ComputeThreads.configure()
        #expect(single == a)
    }
}
