import Foundation

/// Fused softmax cross-entropy of `logits` (`[N, C]`) against class indices `targets` (`N` values).
///
/// Matches PyTorch's `cross_entropy(weight:, label_smoothing:, ignore_index:)`:
/// per example `(1-ε)·w[y]·(-log p_y) + (ε/C)·Σ_c w[c]·(-log p_c)`; with `.mean` the sum is divided by
/// `Σ w[y]` over non-ignored examples. Examples whose target equals `ignoreIndex` contribute 0.
///
/// - Parameters:
///   - classWeights: one weight per class (`C` values), or nil for 1.
///   - labelSmoothing: ε in [0, 1).
public func softmaxCrossEntropy(
    logits: Tensor, targets: [Int], classWeights: [Float]? = nil, labelSmoothing: Float = 0,
    ignoreIndex: Int = -100, reduction: Reduction = .mean
) -> Tensor {
    require(logits.rank == 2, .wrongRank(op: "softmaxCrossEntropy", shape: logits.shape, expected: "[examples, classes] logits"))
    let (n, c) = (logits.shape[0], logits.shape[1])
    require(targets.count == n, .mismatch(op: "softmaxCrossEntropy", logits.shape, [targets.count], detail: "one target per row of logits"))
    if let classWeights {
        require(classWeights.count == c, .mismatch(op: "softmaxCrossEntropy", logits.shape, [classWeights.count], detail: "one class weight per column"))
    }
    precondition(labelSmoothing >= 0 && labelSmoothing < 1, "softmaxCrossEntropy: labelSmoothing must be in [0, 1), got \(labelSmoothing)")
    for (i, t) in targets.enumerated() where t != ignoreIndex && (t < 0 || t >= c) {
        preconditionFailure("softmaxCrossEntropy: target \(t) of example \(i) is outside 0..<\(c)")
    }
    let w = classWeights ?? [Float](repeating: 1, count: c)
    let wSum = w.reduce(0, +)
    let eps = labelSmoothing
    let logProbs = TensorStorage(count: n * c, zeroed: false)
    defer { withExtendedLifetime(logProbs) {} }  // used through raw pointers below
    let px = logits.storage.pointer, pl = logProbs.pointer
    var values = [Float](repeating: 0, count: n)
    var normalizer: Float = 0
    for i in 0..<n {
        logSoftmaxRow(px + i * c, pl + i * c, c)
        let t = targets[i]
        guard t != ignoreIndex else { continue }
        var smooth: Float = 0
        if eps > 0 { for j in 0..<c { smooth -= w[j] * pl[i * c + j] } }
        values[i] = (1 - eps) * w[t] * -pl[i * c + t] + eps / Float(c) * smooth
        normalizer += w[t]
    }
    let (out, factor) = reducedLoss(values, reduction: reduction, normalizer: normalizer)
    recordIfNeeded(out, inputs: [logits]) { tape, g in
        keepAlive(logProbs)
        guard let gx = tape.gradient(of: logits) else { return }
        for i in 0..<n where targets[i] != ignoreIndex {
            let t = targets[i], f = factor(g, i)
            // d/dz_j = (1-ε) w_t (p_j - [j==t]) + (ε/C) (W p_j - w_j)
            for j in 0..<c {
                let p = Foundation.exp(pl[i * c + j])
                var d = (1 - eps) * w[t] * (p - (j == t ? 1 : 0))
                if eps > 0 { d += eps / Float(c) * (wSum * p - w[j]) }
                gx[i * c + j] += f * d
            }
        }
    }
    return out
}
