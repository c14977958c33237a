/// Multi-head self-attention over one unpadded sequence, without the tape, padding mask, permutes or a
/// `[heads, S, S]` tensor.
///
/// `qkv` holds `length` rows of `3 * hidden` floats: the query, key and value projections side by side
/// (heads `headWidth` apart inside each). Writes `length` rows of `hidden` floats (heads concatenated) to
/// `out`. `scores` needs `length * length` floats. Short sequences (below ``blockedAttentionLength`` tokens,
/// the students' case) run fused: per head and query row, the scores, their softmax and the weighted sum of
/// values in one pass over a row of `scores`. Longer ones (a teacher's) do two single-threaded GEMMs per head
/// (`Q Kᵀ`, then `P V`, reading Q/K/V in place through their strides) around a row softmax. Both compute what
/// ``scaledDotProductAttention`` computes for one sequence (held to it by the tests).
public func fusedSelfAttention(
    qkv: UnsafePointer<Float>, length: Int, heads: Int, headWidth d: Int,
    scores: UnsafeMutablePointer<Float>, out: UnsafeMutablePointer<Float>
) {
    let hidden = heads * d, stride = 3 * hidden
    let scale = 1 / Float(d).squareRoot()
    if length >= blockedAttentionLength {
        for h in 0..<heads {
            let q = qkv + h * d, k = qkv + hidden + h * d, v = qkv + 2 * hidden + h * d
            BLAS.sgemmOnCurrentThread(transposeA: false, transposeB: true, m: length, n: length, k: d, alpha: scale,
                                      a: q, lda: stride, b: k, ldb: stride, beta: 0, c: scores, ldc: length)
            RowKernels.softmax(scores, rows: length, width: length)
            BLAS.sgemmOnCurrentThread(transposeA: false, transposeB: false, m: length, n: d, k: length,
                                      a: scores, lda: length, b: v, ldb: stride, beta: 0, c: out + h * d, ldc: hidden)
        }
        return
    }
    for h in 0..<heads {
        let qBase = qkv + h * d, kBase = qkv + hidden + h * d, vBase = qkv + 2 * hidden + h * d
        for i in 0..<length {
            let q = qBase + i * stride
            var best = -Float.infinity
            for j in 0..<length {
                let s = simdDot(q, kBase + j * stride, d)
                scores[j] = s
                best = max(best, s)
            }
            let total = expShiftedSum(scores, scores, length, scale: scale, shift: best * scale)
            let inv = 1 / total
            let o = out + i * hidden + h * d
            for c in 0..<d { o[c] = 0 }
            for j in 0..<length { simdAxpy(o, scores[j] * inv, vBase + j * stride, d) }
        }
    }
}

/// From this many tokens on, ``fusedSelfAttention(qkv:length:heads:headWidth:scores:out:)`` uses GEMMs per head.
public let blockedAttentionLength = 32
