import CVectorKernels
import DistillCore
import Foundation

/// Adam with decoupled weight decay (Loshchilov & Hutter 2019), as PyTorch's `torch.optim.AdamW`.
///
/// Per parameter, step t (from 1):
/// `p ← p − lr·λ·p` (skipped where ``excludeFromWeightDecay`` says so), `m ← β₁m + (1−β₁)g`,
/// `v ← β₂v + (1−β₂)g²`, `p ← p − lr · (m / (1−β₁ᵗ)) / (sqrt(v / (1−β₂ᵗ)) + ε)`.
///
/// A row-sparse gradient (an embedding table's, see ``GradientValue``) gets the lazy update of TensorFlow's
/// `LazyAdam` and PyTorch's `SparseAdam`: only the rows the batch read are updated, their moments and weight decay
/// included; the other rows, and their moments, stay as they are until a batch reads them. The bias correction
/// uses the optimizer's step. With weight decay 0 this is `torch.optim.SparseAdam`.
public final class AdamW {
    public var learningRate: Float
    public var beta1: Float
    public var beta2: Float
    public var epsilon: Float
    public var weightDecay: Float
    /// Which parameters get no weight decay (default: biases, LayerNorm, rank-1 tensors).
    public var excludeFromWeightDecay: (NamedParameter) -> Bool = NamedParameter.isExcludedFromWeightDecay
    /// Number of updates applied so far (the `t` of the bias correction).
    public private(set) var step = 0

    private var firstMoment: [String: Tensor] = [:]
    private var secondMoment: [String: Tensor] = [:]

    public init(learningRate: Float = 1e-3, beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-8,
                weightDecay: Float = 0.01) {
        self.learningRate = learningRate
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.weightDecay = weightDecay
    }

    /// Applies one update to every parameter that has a gradient in `gradients`.
    public func update(_ parameters: [NamedParameter], gradients: Gradients) {
        step += 1
        let c1 = 1 - Float(Foundation.pow(Double(beta1), Double(step)))
        let c2 = 1 - Float(Foundation.pow(Double(beta2), Double(step)))
        let (lr, b1, b2, eps) = (learningRate, beta1, beta2, epsilon)
        checkUniqueNames(parameters, optimizer: "AdamW")
        for p in parameters {
            guard let g = gradients.value(of: p.tensor) else { continue }
            let m = firstMoment[p.name] ?? Tensor(zeros: p.tensor.shape)
            let v = secondMoment[p.name] ?? Tensor(zeros: p.tensor.shape)
            precondition(m.shape == p.tensor.shape && v.shape == p.tensor.shape,
                         "AdamW: state for '\(p.name)' has shape \(m.shape), the parameter has \(p.tensor.shape)")
            firstMoment[p.name] = m
            secondMoment[p.name] = v
            let rule = distill_adamw_rule(decay: excludeFromWeightDecay(p) ? 0 : lr * weightDecay, beta1: b1, beta2: b2, epsilon: eps,
                                          step_size: lr / c1, inverse_c2: 1 / c2)
            let pw = p.tensor.storage.pointer, pm = m.storage.pointer, pv = v.storage.pointer
            switch g {
            case let .dense(g):
                let pg = g.storage.pointer
                // Element-wise and independent: parallel chunks give the same bits as one loop.
                parallelFor(p.tensor.count, grain: 65_536) { r in
                    distill_adamw_range(rule, pw + r.lowerBound, pm + r.lowerBound, pv + r.lowerBound, pg + r.lowerBound, r.count)
                }
            case let .rows(g):
                let d = g.width, pg = g.values.storage.pointer
                // The rows are random rows of three large arrays: the kernel prefetches a few rows ahead, so their misses overlap.
                // An even share per thread (a row's update is independent of the others'), at least 64 KB of rows each.
                let grain = max(65_536 / max(d, 1) / 4, (g.rows.count + ComputeThreads.count - 1) / ComputeThreads.count)
                g.rows.withUnsafeBufferPointer { rows in
                    let rows = UnsafeSendable(rows.baseAddress!)
                    parallelFor(g.rows.count, grain: max(1, grain)) { r in
                        distill_adamw_rows(rule, pw, pm, pv, pg + r.lowerBound * d, rows.value + r.lowerBound, r.count, d, rowsAhead)
                    }
                }
            }
        }
    }

    /// The optimizer's state as named tensors (`NAME.exp_avg`, `NAME.exp_avg_sq`) plus the step, for checkpoints.
    /// `copy: false` gives the live tensors (no 2 x 67 MB copy of a bag's moments), valid until the next ``update(_:gradients:)``.
    public func state(copy: Bool = true) -> (step: Int, tensors: [String: Tensor]) {
        var out: [String: Tensor] = [:]
        for (k, m) in firstMoment { out[k + ".exp_avg"] = copy ? m.copy() : m }
        for (k, v) in secondMoment { out[k + ".exp_avg_sq"] = copy ? v.copy() : v }
        return (step, out)
    }

    /// Restores a ``state()``; every tensor must match a parameter's shape.
    public func load(step: Int, tensors: [String: Tensor], parameters: [NamedParameter]) throws {
        var m: [String: Tensor] = [:], v: [String: Tensor] = [:]
        for p in parameters {
            for (suffix, into) in [(".exp_avg", 0), (".exp_avg_sq", 1)] {
                guard let t = tensors[p.name + suffix] else { continue }
                guard t.shape == p.tensor.shape else {
                    throw OptimizerError.stateMismatch(key: p.name + suffix, detail: "shape \(t.shape), parameter has \(p.tensor.shape)")
                }
                if into == 0 { m[p.name] = t.copy() } else { v[p.name] = t.copy() }
            }
        }
        self.step = step
        firstMoment = m
        secondMoment = v
    }
}
