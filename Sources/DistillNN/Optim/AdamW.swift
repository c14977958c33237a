import DistillCore
import Foundation

/// Adam with decoupled weight decay (Loshchilov & Hutter 2019), as PyTorch's `torch.optim.AdamW`.
///
/// Per parameter, step t (from 1):
/// `p ← p − lr·λ·p` (skipped where ``excludeFromWeightDecay`` says so), `m ← β₁m + (1−β₁)g`,
/// `v ← β₂v + (1−β₂)g²`, `p ← p − lr · (m / (1−β₁ᵗ)) / (sqrt(v / (1−β₂ᵗ)) + ε)`.
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
            guard let g = gradients[p.tensor] else { continue }
            let m = firstMoment[p.name] ?? Tensor(zeros: p.tensor.shape)
            let v = secondMoment[p.name] ?? Tensor(zeros: p.tensor.shape)
            precondition(m.shape == p.tensor.shape && v.shape == p.tensor.shape,
                         "AdamW: state for '\(p.name)' has shape \(m.shape), the parameter has \(p.tensor.shape)")
            firstMoment[p.name] = m
            secondMoment[p.name] = v
            let decay: Float = excludeFromWeightDecay(p) ? 0 : lr * weightDecay
            let pw = p.tensor.storage.pointer, pg = g.storage.pointer
            let pm = m.storage.pointer, pv = v.storage.pointer
            let stepSize = lr / c1, invC2 = 1 / c2
            // Element-wise and independent: parallel chunks give the same bits as one loop.
            parallelFor(p.tensor.count, grain: 65_536) { r in
                var i = r.lowerBound
                // Eight lanes at a time; the same arithmetic per element as the scalar tail.
                while i + 8 <= r.upperBound {
                    let gi = UnsafeRawPointer(pg + i).loadUnaligned(as: SIMD8<Float>.self)
                    var w = UnsafeRawPointer(pw + i).loadUnaligned(as: SIMD8<Float>.self)
                    var mi = UnsafeRawPointer(pm + i).loadUnaligned(as: SIMD8<Float>.self)
                    var vi = UnsafeRawPointer(pv + i).loadUnaligned(as: SIMD8<Float>.self)
                    w -= decay * w
                    mi = b1 * mi + (1 - b1) * gi
                    vi = b2 * vi + (1 - b2) * gi * gi
                    w -= stepSize * mi / ((vi * invC2).squareRoot() + eps)
                    UnsafeMutableRawPointer(pw + i).storeBytes(of: w, as: SIMD8<Float>.self)
                    UnsafeMutableRawPointer(pm + i).storeBytes(of: mi, as: SIMD8<Float>.self)
                    UnsafeMutableRawPointer(pv + i).storeBytes(of: vi, as: SIMD8<Float>.self)
                    i += 8
                }
                while i < r.upperBound {
                    let gi = pg[i]
                    pw[i] -= decay * pw[i]
                    pm[i] = b1 * pm[i] + (1 - b1) * gi
                    pv[i] = b2 * pv[i] + (1 - b2) * gi * gi
                    pw[i] -= stepSize * pm[i] / ((pv[i] * invC2).squareRoot() + eps)
                    i += 1
                }
            }
        }
    }

    /// The optimizer's state as named tensors (`NAME.exp_avg`, `NAME.exp_avg_sq`) plus the step, for checkpoints.
    public func state() -> (step: Int, tensors: [String: Tensor]) {
        var out: [String: Tensor] = [:]
        for (k, m) in firstMoment { out[k + ".exp_avg"] = m.copy() }
        for (k, v) in secondMoment { out[k + ".exp_avg_sq"] = v.copy() }
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
