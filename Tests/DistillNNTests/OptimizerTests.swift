import CVectorKernels
import DistillCore
import DistillNN
import Foundation
import Testing

@Suite("Optimizers, clipping and schedules")
struct OptimizerTests {
    @Test("one AdamW step equals the closed form")
    func adamWOneStep() {
        let w = Tensor(shape: [3], scalars: [0.5, -1.0, 2.0]).reshaped([1, 3])
        let b = Tensor(shape: [3], scalars: [0.1, 0.2, 0.3])
        var grads = Gradients()
        grads[w] = Tensor(shape: [1, 3], scalars: [0.2, -0.4, 1e-3])
        grads[b] = Tensor(shape: [3], scalars: [1, 1, 1])
        let opt = AdamW(learningRate: 0.01, weightDecay: 0.1)
        opt.update([NamedParameter("layer.weight", w), NamedParameter("layer.bias", b)], gradients: grads)
        // Step 1: m̂ = g, v̂ = g², so the Adam part is lr · g / (|g| + ε) = lr · sign(g) (up to ε).
        let lr = 0.01, wd = 0.1, eps = 1e-8
        let expectW = zip([0.5, -1.0, 2.0], [0.2, -0.4, 1e-3]).map { p, g in p - lr * wd * p - lr * g / (abs(g) + eps) }
        let expectB = [0.1, 0.2, 0.3].map { p in p - lr * 1 / (1 + eps) }  // bias: no weight decay
        for (got, want) in zip(w.scalars, expectW) { #expect(abs(Double(got) - want) < 1e-6) }
        for (got, want) in zip(b.scalars, expectB) { #expect(abs(Double(got) - want) < 1e-6) }
        #expect(opt.step == 1)
    }

    @Test("AdamW over 5 steps matches a float64 reference with bias correction")
    func adamWSteps() {
        let p = Tensor(shape: [2, 2], scalars: [1, -2, 3, -4])
        let opt = AdamW(learningRate: 0.05, beta1: 0.8, beta2: 0.95, epsilon: 1e-6, weightDecay: 0.02)
        var ref = [1.0, -2, 3, -4], m = [Double](repeating: 0, count: 4), v = m
        for t in 1...5 {
            let g = ref.enumerated().map { i, x in 0.3 * x + Double(i) - 1 }  // any gradient sequence
            var grads = Gradients()
            grads[p] = Tensor(shape: [2, 2], scalars: g.map(Float.init))
            opt.update([NamedParameter("w", p)], gradients: grads)
            for i in 0..<4 {
                ref[i] -= 0.05 * 0.02 * ref[i]
                m[i] = 0.8 * m[i] + 0.2 * g[i]
                v[i] = 0.95 * v[i] + 0.05 * g[i] * g[i]
                let mh = m[i] / (1 - pow(0.8, Double(t))), vh = v[i] / (1 - pow(0.95, Double(t)))
                ref[i] -= 0.05 * mh / (vh.squareRoot() + 1e-6)
            }
        }
        for (got, want) in zip(p.scalars, ref) { #expect(abs(Double(got) - want) < 1e-5) }
    }

    @Test("AdamW state round-trips and refuses wrong shapes")
    func adamWState() throws {
        let p = Tensor(shape: [2], scalars: [1, 2])
        let opt = AdamW()
        var grads = Gradients()
        grads[p] = Tensor(shape: [2], scalars: [0.5, -0.5])
        opt.update([NamedParameter("w", p)], gradients: grads)
        let (step, tensors) = opt.state()
        #expect(step == 1)
        let m = try #require(tensors["w.exp_avg"]).scalars
        #expect(abs(m[0] - 0.05) < 1e-7 && abs(m[1] + 0.05) < 1e-7)
        let other = AdamW()
        try other.load(step: step, tensors: tensors, parameters: [NamedParameter("w", p)])
        #expect(other.step == 1 && other.state().tensors["w.exp_avg_sq"]?.scalars == tensors["w.exp_avg_sq"]?.scalars)
        #expect(throws: OptimizerError.self) {
            try other.load(step: 1, tensors: ["w.exp_avg": Tensor(zeros: [3])], parameters: [NamedParameter("w", p)])
        }
    }

    @Test("the default weight-decay exclusion rule")
    func decayRule() {
        #expect(NamedParameter.isExcludedFromWeightDecay(NamedParameter("encoder.layer.0.output.LayerNorm.weight", Tensor(zeros: [4, 4]))))
        #expect(NamedParameter.isExcludedFromWeightDecay(NamedParameter("classifier.bias", Tensor(zeros: [2, 2]))))
        #expect(NamedParameter.isExcludedFromWeightDecay(NamedParameter("scale", Tensor(zeros: [4]))))
        #expect(!NamedParameter.isExcludedFromWeightDecay(NamedParameter("classifier.weight", Tensor(zeros: [2, 4]))))
    }

    @Test("SGD with momentum matches PyTorch's update over two steps")
    func sgdMomentum() {
        let p = Tensor(shape: [2], scalars: [1, -1])
        let opt = SGD(learningRate: 0.1, momentum: 0.9)
        for g in [[1.0, 2.0], [0.5, -1.0]] as [[Float]] {
            var grads = Gradients()
            grads[p] = Tensor(shape: [2], scalars: g)
            opt.update([NamedParameter("w", p)], gradients: grads)
        }
        // b1 = g1 = [1, 2]; p1 = [0.9, -1.2]; b2 = 0.9 b1 + g2 = [1.4, 0.8]; p2 = [0.76, -1.28]
        #expect(abs(p.scalars[0] - 0.76) < 1e-6 && abs(p.scalars[1] + 1.28) < 1e-6)
    }

    @Test("clipping scales to the max norm and reports the old norm")
    func clipping() {
        let a = Tensor(zeros: [2]), b = Tensor(zeros: [1])
        var grads = Gradients()
        grads[a] = Tensor(shape: [2], scalars: [3, 0])
        grads[b] = Tensor(shape: [1], scalars: [4])
        let before = clipGradientsByGlobalNorm(&grads, maxNorm: 1)
        #expect(abs(before - 5) < 1e-6)
        #expect(abs(grads.globalNorm - 1) < 1e-5)
        #expect(abs(grads[a]!.scalars[0] - 0.6) < 1e-5)
        let untouched = clipGradientsByGlobalNorm(&grads, maxNorm: 10)
        #expect(abs(untouched - 1) < 1e-5 && abs(grads[b]!.scalars[0] - 0.8) < 1e-5)
    }

    @Test("schedules: constant, warmup + linear, warmup + cosine")
    func schedules() {
        #expect(LearningRateSchedule.constant(0.3).learningRate(at: 1000) == 0.3)
        let linear = LearningRateSchedule.warmupLinearDecay(peak: 1, warmupSteps: 10, totalSteps: 110)
        #expect(linear.learningRate(at: 0) == 0)
        #expect(linear.learningRate(at: 5) == 0.5)
        #expect(linear.learningRate(at: 10) == 1)
        #expect(abs(linear.learningRate(at: 60) - 0.5) < 1e-6)
        #expect(linear.learningRate(at: 110) == 0 && linear.learningRate(at: 500) == 0)
        let cosine = LearningRateSchedule.warmupCosineDecay(peak: 2, warmupSteps: 4, totalSteps: 104, minimum: 0.2)
        #expect(cosine.learningRate(at: 2) == 1)
        #expect(abs(cosine.learningRate(at: 54) - 1.1) < 1e-5)  // halfway: min + (peak - min) / 2
        #expect(abs(cosine.learningRate(at: 104) - 0.2) < 1e-6)
    }
}

@Suite("AdamW vectorized path")
struct AdamWVectorTests {
    @Test("37 elements (8-wide lanes plus a tail) match a float64 reference over 3 steps")
    func vectorAndTail() {
        var g = RandomGenerator(seed: 8)
        let p = Tensor.randomNormal([37, 1], using: &g)  // rank 2: weight decay applies
        var ref = p.scalars.map(Double.init), m = [Double](repeating: 0, count: 37), v = m
        let opt = AdamW(learningRate: 0.01, weightDecay: 0.1)
        for t in 1...3 {
            let grad = Tensor.randomNormal([37, 1], using: &g)
            var grads = Gradients()
            grads[p] = grad
            opt.update([NamedParameter("weight", p)], gradients: grads)
            let step = Double(t)
            for i in 0..<37 {
                let gi = Double(grad.scalars[i])
                ref[i] -= 0.01 * 0.1 * ref[i]
                m[i] = 0.9 * m[i] + 0.1 * gi
                v[i] = 0.999 * v[i] + 0.001 * gi * gi
                ref[i] -= 0.01 * (m[i] / (1 - pow(0.9, step))) / ((v[i] / (1 - pow(0.999, step))).squareRoot() + 1e-8)
            }
        }
        for (got, want) in zip(p.scalars, ref) { #expect(abs(Double(got) - want) < 1e-5) }
    }

    @Test("vector lanes and the scalar tail compute the same update")
    func lanesEqualTail() {
        var g = RandomGenerator(seed: 9)
        let values = Tensor.randomNormal([9], using: &g).scalars
        let grad = Tensor.randomNormal([9], using: &g).scalars
        // Element 8 is in the tail; copy it into lane position 0 of a second tensor and compare results.
        let a = Tensor(shape: [9], scalars: values)
        let b = Tensor(shape: [9], scalars: [values[8]] + Array(values[1..<8]) + [values[0]])
        var ga = Gradients(), gb = Gradients()
        ga[a] = Tensor(shape: [9], scalars: grad)
        gb[b] = Tensor(shape: [9], scalars: [grad[8]] + Array(grad[1..<8]) + [grad[0]])
        AdamW(learningRate: 0.05, weightDecay: 0.2).update([NamedParameter("a", a)], gradients: ga)
        AdamW(learningRate: 0.05, weightDecay: 0.2).update([NamedParameter("b", b)], gradients: gb)
        #expect(a.scalars[8] == b.scalars[0] && a.scalars[0] == b.scalars[8])
    }
    @Test("the 4-lane (SSE) and 8-lane (AVX) kernels give the bits of the scalar formula, tails included")
    func kernelsEqualScalarFormula() {
        var g = RandomGenerator(seed: 10)
        let n = 203  // 25 eight-lane blocks, 50 four-lane blocks, and tails of 3
        let w0 = Tensor.randomNormal([n], using: &g).scalars
        let m0 = Tensor.randomNormal([n], std: 0.1, using: &g).scalars
        let v0 = Tensor.randomNormal([n], std: 0.1, using: &g).scalars.map { $0 * $0 }
        let grad = Tensor.randomNormal([n], using: &g).scalars
        let rule = distill_adamw_rule(decay: 0.003, beta1: 0.9, beta2: 0.999, epsilon: 1e-8, step_size: 0.05 / 0.19, inverse_c2: 1 / 0.002)
        // The formula in the kernels' order, one Float operation at a time.
        var (w, m, v) = (w0, m0, v0)
        for i in 0..<n {
            w[i] -= rule.decay * w[i]
            m[i] = rule.beta1 * m[i] + (1 - rule.beta1) * grad[i]
            v[i] = rule.beta2 * v[i] + (1 - rule.beta2) * grad[i] * grad[i]
            w[i] -= rule.step_size * m[i] / ((v[i] * rule.inverse_c2).squareRoot() + rule.epsilon)
        }
        var ran = 0
        for lanes: Int32 in [4, 8] {
            var (kw, km, kv) = (w0, m0, v0)
            let status = distill_adamw_range_lanes(lanes, rule, &kw, &km, &kv, grad, n)
            guard status == 0 else { continue }  // a CPU without AVX runs the 4-lane kernel only
            ran += 1
            #expect(kw.map(\.bitPattern) == w.map(\.bitPattern), "\(lanes) lanes: weights")
            #expect(km.map(\.bitPattern) == m.map(\.bitPattern), "\(lanes) lanes: first moment")
            #expect(kv.map(\.bitPattern) == v.map(\.bitPattern), "\(lanes) lanes: second moment")
        }
        #expect(ran >= 1)
        #expect(w != w0 && m != m0 && v != v0)
    }
}

@Suite("AdamW on row-sparse gradients (lazy Adam)")
struct LazyAdamWTests {
    @Test("only the rows read move; they follow a float64 AdamW reference; the others keep weights and moments")
    func lazyRows() throws {
        var g = RandomGenerator(seed: 10)
        let (rowsCount, width) = (6, 3)
        let p = Tensor.randomNormal([rowsCount, width], using: &g)
        let start = p.scalars
        var ref = start.map(Double.init), m = [Double](repeating: 0, count: ref.count), v = m
        let opt = AdamW(learningRate: 0.02, weightDecay: 0.1)
        let stepsRows = [[1, 4], [4], [0, 1, 4]]  // rows 2, 3, 5 never read
        for (t, rows) in stepsRows.enumerated() {
            let values = Tensor.randomNormal([rows.count, width], using: &g)
            var grads = Gradients()
            grads.set(p, .rows(RowSparseGradient(shape: [rowsCount, width], rows: rows, values: values)))
            opt.update([NamedParameter("embeddings.weight", p)], gradients: grads)
            let step = Double(t + 1)
            for (k, r) in rows.enumerated() {
                for j in 0..<width {
                    let i = r * width + j, gi = Double(values.scalars[k * width + j])
                    ref[i] -= 0.02 * 0.1 * ref[i]
                    m[i] = 0.9 * m[i] + 0.1 * gi
                    v[i] = 0.999 * v[i] + 0.001 * gi * gi
                    ref[i] -= 0.02 * (m[i] / (1 - pow(0.9, step))) / ((v[i] / (1 - pow(0.999, step))).squareRoot() + 1e-8)
                }
            }
        }
        for (got, want) in zip(p.scalars, ref) { #expect(abs(Double(got) - want) < 1e-5) }
        let moments = opt.state().tensors
        let m1 = try #require(moments["embeddings.weight.exp_avg"]).scalars
        for r in [2, 3, 5] {
            let range = (r * width)..<(r * width + width)
            #expect(Array(p.scalars[range]) == Array(start[range]), "row \(r) was never read and must not move")
            #expect(m1[range].allSatisfy { $0 == 0 })
        }
        #expect(m1[(4 * width)..<(5 * width)].allSatisfy { $0 != 0 })
    }

    @Test("with every row read each step, lazy and dense AdamW give the same bits")
    func allRowsEqualDense() {
        var g = RandomGenerator(seed: 11)
        let start = Tensor.randomNormal([5, 16], using: &g)
        let dense = start.copy(), lazy = start.copy()
        let denseOpt = AdamW(learningRate: 0.01, weightDecay: 0.05), lazyOpt = AdamW(learningRate: 0.01, weightDecay: 0.05)
        for _ in 0..<4 {
            let grad = Tensor.randomNormal([5, 16], using: &g)
            var gd = Gradients(), gl = Gradients()
            gd[dense] = grad
            gl.set(lazy, .rows(RowSparseGradient(shape: [5, 16], rows: Array(0..<5), values: grad.copy())))
            denseOpt.update([NamedParameter("w", dense)], gradients: gd)
            lazyOpt.update([NamedParameter("w", lazy)], gradients: gl)
        }
        #expect(dense.scalars == lazy.scalars)
    }
}
