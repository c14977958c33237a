/// Multi-head self-attention over one unpadded sequence, fused: for each head and query row the scores,
/// their softmax and the weighted sum of values are computed in one pass over a row-sized scratch — no
/// `[heads, S, S]` matrix, no permutes, no padding mask (the sequence has no padding).
///
/// `qkv` holds `length` rows of `3 * hidden` floats: the query, key and value projections side by side
/// (heads `headWidth` apart inside each). Writes `length` rows of `hidden` floats (heads concatenated) to
/// `out`. `scores` needs `length` floats. Computes what ``scaledDotProductAttention`` computes for one
/// sequence (held to it by the tests).
public func fusedSelfAttention(
    qkv: UnsafePointer<Float>, length: Int, heads: Int, headWidth d: Int,
    scores: UnsafeMutablePointer<Float>, out: UnsafeMutablePointer<Float>
) {
    let hidden = heads * d, stride = 3 * hidden
    let scale = 1 / Float(d).squareRoot()
    for h in 0..<heads {
        let qBase = qkv + h * d, kBase = qkv + hidden + h * d, vBase = qkv + 2 * hidden + h * d
        for i in 0..<length {
            let q = qBase + i * stride
            var best = -Float.infinity
            for j in 0..<length {
                let s = dot(q, kBase + j * stride, d)
                scores[j] = s
                best = max(best, s)
            }
            let total = expShiftedSum(scores, scores, length, scale: scale, shift: best * scale)
            let inv = 1 / total
            let o = out + i * hidden + h * d
            for c in 0..<d { o[c] = 0 }
            for j in 0..<length { axpy(o, scores[j] * inv, vBase + j * stride, d) }
        }
    }
}

@inline(__always) private func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ n: Int) -> Float {
    var acc = SIMD8<Float>(repeating: 0)
    var k = 0
    while k + 8 <= n {
        acc += UnsafeRawPointer(a + k).loadUnaligned(as: SIMD8<Float>.self) * UnsafeRawPointer(b + k).loadUnaligned(as: SIMD8<Float>.self)
        k += 8
    }
    var s = acc.sum()
    while k < n { s += a[k] * b[k]; k += 1 }
    return s
}

@inline(__always) private func axpy(_ y: UnsafeMutablePointer<Float>, _ a: Float, _ x: UnsafePointer<Float>, _ n: Int) {
    var k = 0
    while k + 8 <= n {
        let v = UnsafeRawPointer(y + k).loadUnaligned(as: SIMD8<Float>.self) + a * UnsafeRawPointer(x + k).loadUnaligned(as: SIMD8<Float>.self)
        UnsafeMutableRawPointer(y + k).storeBytes(of: v, as: SIMD8<Float>.self)
        k += 8
    }
    while k < n { y[k] += a * x[k]; k += 1 }
}
