/// Layer normalization over the last axis, fused: `(x - mean) / sqrt(var + epsilon) * gamma + beta`.
///
/// `x` is `[..., D]`; `gamma` and `beta` are `[D]`. Variance is the biased one, as in BERT/PyTorch.
public func layerNorm(_ x: Tensor, gamma: Tensor, beta: Tensor, epsilon: Float = 1e-12) -> Tensor {
    require(x.rank >= 1, .wrongRank(op: "layerNorm", shape: x.shape, expected: "rank >= 1"))
    let d = x.shape[x.rank - 1]
    require(gamma.shape == [d], .mismatch(op: "layerNorm", x.shape, gamma.shape, detail: "gamma must be [\(d)]"))
    require(beta.shape == [d], .mismatch(op: "layerNorm", x.shape, beta.shape, detail: "beta must be [\(d)]"))
    let rows = x.count / max(d, 1)
    let out = Tensor(uninitializedShape: x.shape)
    let saved = TensorStorage(count: rows * 2, zeroed: false)  // per row: mean, 1/std
    defer { withExtendedLifetime(saved) {} }  // used through raw pointers below
    let px = x.storage.pointer, py = out.storage.pointer, pg = gamma.storage.pointer, pb = beta.storage.pointer
    let stats = saved.pointer
    parallelFor(rows, grain: max(1, 8192 / max(d, 1))) { r in
        for row in r {
            let (mean, rstd) = layerNormRow(px + row * d, py + row * d, d, gamma: pg, beta: pb, epsilon: epsilon)
            stats[2 * row] = mean; stats[2 * row + 1] = rstd
        }
    }
    recordIfNeeded(out, inputs: [x, gamma, beta]) { tape, g in
        keepAlive(saved)
        if let gx = tape.gradient(of: x) {
            // dx = rstd * (dxhat - mean(dxhat) - xhat * mean(dxhat * xhat)), dxhat = g * gamma
            parallelFor(rows, grain: max(1, 8192 / max(d, 1))) { r in
                for row in r {
                    let xr = px + row * d, gr = g + row * d, dx = gx + row * d
                    let mean = stats[2 * row], rstd = stats[2 * row + 1]
                    var sumDh: Float = 0, sumDhX: Float = 0
                    for j in 0..<d {
                        let dh = gr[j] * pg[j], xh = (xr[j] - mean) * rstd
                        sumDh += dh; sumDhX += dh * xh
                    }
                    let invD = 1 / Float(d)
                    for j in 0..<d {
                        let dh = gr[j] * pg[j], xh = (xr[j] - mean) * rstd
                        dx[j] += rstd * (dh - sumDh * invD - xh * sumDhX * invD)
                    }
                }
            }
        }
        let gg = tape.gradient(of: gamma), gb = tape.gradient(of: beta)
        if gg != nil || gb != nil {
            for row in 0..<rows {
                let xr = px + row * d, gr = g + row * d
                let mean = stats[2 * row], rstd = stats[2 * row + 1]
                if let gg { for j in 0..<d { gg[j] += gr[j] * (xr[j] - mean) * rstd } }
                if let gb { for j in 0..<d { gb[j] += gr[j] } }
            }
        }
    }
    return out
}
