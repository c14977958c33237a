import Foundation

/// Sigmoid + binary cross-entropy, fused and stable: per element
/// `max(z, 0) - z·t + log(1 + e^(-|z|))` for logits `z` and target probabilities `t` in [0, 1]
/// (multi-label KD uses teacher probabilities as `t`).
///
/// `.mean` averages over all elements; `.perExample` returns the element-wise losses in `logits`' shape
/// (flattened to `[count]`).
public func binaryCrossEntropy(logits: Tensor, targets: Tensor, reduction: Reduction = .mean) -> Tensor {
    require(logits.shape == targets.shape, .mismatch(op: "binaryCrossEntropy", logits.shape, targets.shape, detail: "shapes must be equal"))
    let n = logits.count
    let pz = logits.storage.pointer, pt = targets.storage.pointer
    var values = [Float](repeating: 0, count: n)
    for i in 0..<n {
        let z = pz[i], t = pt[i]
        values[i] = max(z, 0) - z * t + Foundation.log1p(Foundation.exp(-abs(z)))
    }
    let (raw, factor) = reducedLoss(values, reduction: reduction, normalizer: Float(n))
    let out = reduction == .perExample ? raw.detached().reshaped(logits.shape) : raw
    recordIfNeeded(out, inputs: [logits, targets]) { tape, g in
        let gz = tape.gradient(of: logits), gt = tape.gradient(of: targets)
        for i in 0..<n {
            let f = factor(g, i)
            if let gz { gz[i] += f * (stableSigmoid(pz[i]) - pt[i]) }
            if let gt { gt[i] -= f * pz[i] }
        }
    }
    return out
}
