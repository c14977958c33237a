import DistillCore
import Testing

/// One row of the gradient-check table: builds inputs with a seeded generator and the function of them.
struct GradCase: CustomTestStringConvertible, Sendable {
    let name: String
    /// Finite-difference step; smaller for functions with large curvature (1/p terms).
    var step: Float = 1e-2
    let build: @Sendable (inout RandomGenerator) -> (inputs: [Tensor], function: () -> Tensor)
    var testDescription: String { name }

    init(_ name: String, step: Float = 1e-2, _ build: @escaping @Sendable (inout RandomGenerator) -> (inputs: [Tensor], function: () -> Tensor)) {
        self.name = name
        self.step = step
        self.build = build
    }
}

/// The bound every op must meet: max |analytic - numeric| / max(|analytic|, |numeric|, 1e-2) <= 2e-2, with
/// central differences of step 1e-2 (2e-3 where stated) on Float32 inputs of magnitude ~1.
let gradientTolerance = 2e-2

private func normal(_ shape: [Int], _ g: inout RandomGenerator) -> Tensor { Tensor.randomNormal(shape, using: &g) }
private func positive(_ shape: [Int], _ g: inout RandomGenerator) -> Tensor { Tensor.randomUniform(shape, low: 0.5, high: 2, using: &g) }
/// Values at least 0.1 away from zero (for kinks at 0 such as ReLU).
private func awayFromZero(_ shape: [Int], _ g: inout RandomGenerator) -> Tensor {
    let t = Tensor.randomNormal(shape, using: &g)
    t.withUnsafeMutableBufferPointer { b in for i in b.indices { b[i] = b[i] >= 0 ? b[i] + 0.1 : b[i] - 0.1 } }
    return t
}
/// Distinct values spaced 0.1 apart in random order (so max has a clear winner).
private func spaced(_ shape: [Int], _ g: inout RandomGenerator) -> Tensor {
    var values = (0..<Shapes.count(shape)).map { Float($0) * 0.1 - 1 }
    values.shuffle(using: &g)
    return Tensor(shape: shape, scalars: values)
}
/// A dimension in 1...upper (odd sizes included), drawn from the case's generator.
private func dim(_ g: inout RandomGenerator, _ upper: Int = 6) -> Int { 1 + Int(g.next() % UInt64(upper)) }

let gradCases: [GradCase] = [
    // MARK: matmul
    GradCase("matmul 2-D") { g in let a = normal([dim(&g) + 2, 5], &g), b = normal([5, 3], &g); return ([a, b], { matmul(a, b) }) },
    GradCase("matmul transposeA") { g in let a = normal([5, 4], &g), b = normal([5, 3], &g); return ([a, b], { matmul(a, b, transposeA: true) }) },
    GradCase("matmul transposeB") { g in let a = normal([4, 5], &g), b = normal([3, 5], &g); return ([a, b], { matmul(a, b, transposeB: true) }) },
    GradCase("matmul transposeA+B") { g in let a = normal([5, 4], &g), b = normal([3, 5], &g); return ([a, b], { matmul(a, b, transposeA: true, transposeB: true) }) },
    GradCase("matmul batched rank 3") { g in let a = normal([3, 4, 5], &g), b = normal([3, 5, 2], &g); return ([a, b], { matmul(a, b) }) },
    GradCase("matmul batched rank 4, transposeB") { g in let a = normal([2, 3, 4, 5], &g), b = normal([2, 3, 6, 5], &g); return ([a, b], { matmul(a, b, transposeB: true) }) },
    GradCase("matmul rank 3 x shared rank 2") { g in let a = normal([2, 3, 5], &g), b = normal([5, 4], &g); return ([a, b], { matmul(a, b) }) },
    GradCase("matmul rank 3 transposeA x shared") { g in let a = normal([2, 5, 3], &g), b = normal([5, 4], &g); return ([a, b], { matmul(a, b, transposeA: true) }) },
    // MARK: broadcasting arithmetic
    GradCase("add same shape") { g in let a = normal([3, 7], &g), b = normal([3, 7], &g); return ([a, b], { a + b }) },
    GradCase("add broadcast [3,1,5]+[4,1]") { g in let a = normal([3, 1, 5], &g), b = normal([4, 1], &g); return ([a, b], { a + b }) },
    GradCase("subtract broadcast [7]-[3,7]") { g in let a = normal([7], &g), b = normal([3, 7], &g); return ([a, b], { a - b }) },
    GradCase("multiply broadcast [2,3,4]*[3,1]") { g in let a = normal([2, 3, 4], &g), b = normal([3, 1], &g); return ([a, b], { a * b }) },
    GradCase("multiply by scalar tensor") { g in let a = normal([2, dim(&g)], &g), b = normal([], &g); return ([a, b], { a * b }) },
    GradCase("divide broadcast [4,5]/[5]") { g in let a = normal([4, 5], &g), b = positive([5], &g); return ([a, b], { a / b }) },
    GradCase("divide [1,5]/[3,1]") { g in let a = normal([1, 5], &g), b = positive([3, 1], &g); return ([a, b], { a / b }) },
    GradCase("scale") { g in let a = normal([3, 5], &g); return ([a], { scale(a, by: -1.7) }) },
    GradCase("shift and negate") { g in let a = normal([3, 5], &g); return ([a], { -shift(a, by: 0.3) }) },
    // MARK: reductions
    GradCase("sum all") { g in let a = normal([3, 4, 5], &g); return ([a], { sum(a) }) },
    GradCase("sum axis 1") { g in let a = normal([3, 4, 5], &g); return ([a], { sum(a, axes: [1]) }) },
    GradCase("sum axes [0,2] keepDims") { g in let a = normal([3, 4, 5], &g); return ([a], { sum(a, axes: [0, 2], keepDims: true) }) },
    GradCase("mean last axis") { g in let a = normal([dim(&g), 7], &g); return ([a], { mean(a, axes: [-1]) }) },
    GradCase("mean all") { g in let a = normal([3, 5], &g); return ([a], { mean(a) }) },
    GradCase("max last axis") { g in let a = spaced([4, 5], &g); return ([a], { max(a, axes: [-1]) }) },
    GradCase("max axis 0 keepDims") { g in let a = spaced([4, 3, 2], &g); return ([a], { max(a, axes: [0], keepDims: true) }) },
    // MARK: layout
    GradCase("reshape") { g in let a = normal([3, 4], &g); return ([a], { a.reshaped([2, -1, 3]) * a.reshaped([2, 2, 3]) }) },
    GradCase("permute [2,0,1]") { g in let a = normal([2, 3, 4], &g); return ([a], { permute(a, [2, 0, 1]) }) },
    GradCase("permute heads [0,2,1,3]") { g in let a = normal([2, 5, 3, 4], &g); return ([a], { permute(a, [0, 2, 1, 3]) }) },
    GradCase("transpose last two") { g in let a = normal([3, 4, 5], &g); return ([a], { transpose(a) }) },
    GradCase("concat axis 1") { g in
        let a = normal([2, 3, 4], &g), b = normal([2, 1, 4], &g), c = normal([2, 2, 4], &g)
        return ([a, b, c], { concat([a, b, c], axis: 1) })
    },
    GradCase("concat last axis") { g in let a = normal([3, 2], &g), b = normal([3, 5], &g); return ([a, b], { concat([a, b], axis: -1) }) },
    GradCase("slice axis 1") { g in let a = normal([3, 7, 2], &g); return ([a], { slice(a, axis: 1, 2..<5) }) },
    GradCase("embedding with repeated ids") { g in
        let table = normal([7, 5], &g)
        return ([table], { embedding(table, indices: [3, 0, 3, 6, 1, 3], shape: [2, 3]) })
    },
    GradCase("embeddingBagMean with repeats and an empty bag") { g in
        let table = normal([9, 4], &g)
        return ([table], { embeddingBagMean(table, indices: [1, 4, 4, 8, 0, 2, 2, 2], offsets: [0, 3, 3, 5]) })
    },
    // MARK: element-wise math
    GradCase("exp") { g in let a = normal([3, 5], &g); return ([a], { exp(a) }) },
    GradCase("log") { g in let a = positive([3, 5], &g); return ([a], { log(a) }) },
    GradCase("sqrt") { g in let a = positive([3, 5], &g); return ([a], { sqrt(a) }) },
    GradCase("tanh") { g in let a = normal([3, 5], &g); return ([a], { tanh(a) }) },
    GradCase("relu") { g in let a = awayFromZero([4, 5], &g); return ([a], { relu(a) }) },
    GradCase("gelu (erf)") { g in let a = scale(normal([4, 5], &g), by: 2); return ([a], { gelu(a) }) },
    GradCase("sigmoid") { g in let a = scale(normal([4, 5], &g), by: 3); return ([a], { sigmoid(a) }) },
    // MARK: normalization, softmax, attention
    GradCase("softmax") { g in let a = normal([3, 2, 7], &g); return ([a], { softmax(a) }) },
    GradCase("logSoftmax") { g in let a = normal([4, 9], &g); return ([a], { logSoftmax(a) }) },
    GradCase("layerNorm") { g in
        let x = normal([3, 4, 6], &g), gamma = normal([6], &g), beta = normal([6], &g)
        return ([x, gamma, beta], { layerNorm(x, gamma: gamma, beta: beta, epsilon: 1e-5) })
    },
    GradCase("dropout p=0.3 (fixed seed)") { g in
        let x = normal([5, 8], &g)
        return ([x], { var rng = RandomGenerator(seed: 9); return dropout(x, probability: 0.3, generator: &rng) })
    },
    GradCase("maskedFill with broadcast mask") { g in
        let x = normal([2, 3, 4], &g), mask = Tensor(shape: [3, 1], scalars: [0, 1, 0])
        return ([x], { maskedFill(x, mask: mask, value: -5) })
    },
    GradCase("attentionProbabilities + padding mask") { g in
        let q = normal([2, 3, 4, 5], &g), k = normal([2, 3, 6, 5], &g)
        let mask = additiveAttentionMask(paddingMask: Tensor(shape: [2, 6], scalars: [1, 1, 1, 1, 0, 0, 1, 1, 1, 1, 1, 1]))
        return ([q, k], { attentionProbabilities(query: q, key: k, mask: mask) })
    },
    GradCase("scaledDotProductAttention output") { g in
        let q = normal([2, 2, 5, 4], &g), k = normal([2, 2, 5, 4], &g), v = normal([2, 2, 5, 3], &g)
        let mask = additiveAttentionMask(paddingMask: Tensor(shape: [2, 5], scalars: [1, 1, 1, 0, 0, 1, 1, 1, 1, 1]))
        return ([q, k, v], { scaledDotProductAttention(query: q, key: k, value: v, mask: mask).output })
    },
    GradCase("attention output + probabilities, dropout") { g in
        let q = normal([1, 2, 4, 3], &g), k = normal([1, 2, 4, 3], &g), v = normal([1, 2, 4, 3], &g)
        return ([q, k, v], {
            var rng = RandomGenerator(seed: 3)
            let (o, p) = scaledDotProductAttention(query: q, key: k, value: v, dropout: 0.2, generator: &rng, returnProbabilities: true)
            return concat([o, p!], axis: -1)
        })
    },
    // MARK: losses
    GradCase("softmaxCrossEntropy") { g in let z = normal([5, 4], &g); return ([z], { softmaxCrossEntropy(logits: z, targets: [0, 3, 1, 1, 2]) }) },
    GradCase("softmaxCrossEntropy weights + smoothing + ignore") { g in
        let z = normal([6, 4], &g)
        return ([z], { softmaxCrossEntropy(logits: z, targets: [0, 3, -100, 1, 2, 2], classWeights: [0.5, 2, 1, 1.5], labelSmoothing: 0.1) })
    },
    GradCase("softmaxCrossEntropy per example (none)") { g in
        let z = normal([4, 3], &g)
        return ([z], { softmaxCrossEntropy(logits: z, targets: [2, 0, 1, 1], labelSmoothing: 0.2, reduction: .perExample) })
    },
    GradCase("klDivergence teacher logits T=2 (both sides)") { g in
        let s = normal([4, 5], &g), t = normal([4, 5], &g)
        return ([s, t], { klDivergence(studentLogits: s, teacherLogits: t, temperature: 2) })
    },
    GradCase("klDivergence teacher logits T=1 sum") { g in
        let s = normal([3, 6], &g), t = normal([3, 6], &g)
        return ([s], { klDivergence(studentLogits: s, teacherLogits: t, reduction: .sum) })
    },
    GradCase("klDivergence teacher probabilities T=3 (both sides)", step: 2e-3) { g in
        let s = normal([3, 4], &g), p = softmax(normal([3, 4], &g))
        return ([s, p], { klDivergence(studentLogits: s, teacherProbabilities: p, temperature: 3) })
    },
    GradCase("klDivergence teacher probabilities with zeros") { g in
        let s = normal([2, 4], &g), p = Tensor(shape: [2, 4], scalars: [0.7, 0, 0.3, 0, 0, 0, 1, 0])
        return ([s], { klDivergence(studentLogits: s, teacherProbabilities: p, temperature: 2, reduction: .perExample) })
    },
    GradCase("meanSquaredError") { g in let a = normal([3, 5], &g), b = normal([3, 5], &g); return ([a, b], { meanSquaredError(a, b) }) },
    GradCase("cosineSimilarity") { g in let a = normal([4, 6], &g), b = normal([4, 6], &g); return ([a, b], { cosineSimilarity(a, b) }) },
    GradCase("binaryCrossEntropy (logits, soft targets)") { g in
        let z = scale(normal([3, 4], &g), by: 2), t = Tensor.randomUniform([3, 4], using: &g)
        return ([z, t], { binaryCrossEntropy(logits: z, targets: t) })
    },
    GradCase("binaryCrossEntropy none") { g in
        let z = normal([2, 3], &g), t = Tensor.randomUniform([2, 3], using: &g)
        return ([z], { binaryCrossEntropy(logits: z, targets: t, reduction: .perExample) })
    },
    // MARK: composition
    GradCase("transformer-style block (composed)") { g in
        let x = normal([2, 3, 8], &g), w = scale(normal([8, 8], &g), by: 0.3), gamma = positive([8], &g), beta = normal([8], &g)
        return ([x, w, gamma, beta], {
            let h = gelu(matmul(x, w))
            let heads = permute(h.reshaped([2, 3, 2, 4]), [0, 2, 1, 3])
            let att = scaledDotProductAttention(query: heads, key: heads, value: heads).output
            let merged = permute(att, [0, 2, 1, 3]).reshaped([2, 3, 8])
            return layerNorm(x + merged, gamma: gamma, beta: beta, epsilon: 1e-5)
        })
    },
]

@Suite("Gradient checks (central differences, every op)")
struct GradientCheckTests {
    @Test(arguments: gradCases)
    func gradientMatchesFiniteDifferences(_ c: GradCase) {
        var generator = RandomGenerator(seed: 1234)
        let (inputs, function) = c.build(&generator)
        let results = GradientCheck.check(inputs, step: c.step, function)
        #expect(results.count == inputs.count)
        for r in results {
            #expect(r.checkedElements > 0)
            #expect(r.maxRelativeError <= gradientTolerance, "\(c.name): \(r)")
        }
    }

    @Test("the checker catches a wrong gradient")
    func checkerDetectsBug() {
        // A deliberately wrong backward: identity forward recorded with a doubled gradient.
        var g = RandomGenerator(seed: 1)
        let x = Tensor.randomNormal([3, 3], using: &g)
        let results = GradientCheck.check([x]) { scale(x, by: 1) + scale(x, by: 1) - x.detached() }
        // Forward is x + x - x = x, analytic gradient is 2 (detached term has none): must be flagged.
        #expect(results[0].maxRelativeError > 0.4)
    }
}
