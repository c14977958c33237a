/// Attention probabilities, fused: `softmax(scale * Q Kᵀ + mask)` over the key axis.
///
/// - Parameters:
///   - query: `[..., Sq, D]` (typically `[B, H, Sq, D]`).
///   - key: `[..., Sk, D]` with the same leading dimensions.
///   - mask: optional additive mask broadcastable to `[..., Sq, Sk]`, e.g. `[B, 1, 1, Sk]` from
///     ``additiveAttentionMask(paddingMask:)``.
///   - scale: defaults to `1 / sqrt(D)`.
/// - Returns: `[..., Sq, Sk]`, differentiable w.r.t. query and key (attention distillation needs this).
public func attentionProbabilities(query: Tensor, key: Tensor, mask: Tensor? = nil, scale: Float? = nil) -> Tensor {
    require(query.rank >= 2 && key.rank == query.rank,
            .mismatch(op: "attentionProbabilities", query.shape, key.shape, detail: "query and key need the same rank >= 2"))
    let d = query.shape[query.rank - 1], sq = query.shape[query.rank - 2], sk = key.shape[key.rank - 2]
    require(Array(query.shape.dropLast(2)) == Array(key.shape.dropLast(2)) && key.shape[key.rank - 1] == d,
            .mismatch(op: "attentionProbabilities", query.shape, key.shape, detail: "leading dimensions and head width must match"))
    let lead = Array(query.shape.dropLast(2))
    let batch = Shapes.count(lead)
    let scoresShape = lead + [sq, sk]
    let alpha = scale ?? 1 / Float(d).squareRoot()
    let out = Tensor(uninitializedShape: scoresShape)
    let pq = query.storage.pointer, pk = key.storage.pointer, pp = out.storage.pointer
    BLAS.sgemmBatched(count: batch, transposeA: false, transposeB: true, m: sq, n: sk, k: d, alpha: alpha,
                      a: pq, lda: d, strideA: sq * d, b: pk, ldb: d, strideB: sk * d, beta: 0, c: pp, ldc: sk, strideC: sq * sk)
    let rows = batch * sq
    if let mask {
        require((try? Shapes.broadcast(scoresShape, mask.shape)) == scoresShape,
                .mismatch(op: "attentionProbabilities", scoresShape, mask.shape, detail: "the mask must broadcast to the scores' shape"))
        let plan = BroadcastPlan(shape: scoresShape, aShape: mask.shape, bShape: scoresShape)
        let pm = mask.storage.pointer, sm = plan.aInner
        parallelFor(rows, grain: max(1, 8192 / max(sk, 1))) { r in
            for row in r {
                let m = pm + plan.aRowBase[row], s = pp + row * sk
                for j in 0..<sk { s[j] += m[j * sm] }
                softmaxRow(s, s, sk)
            }
        }
    } else {
        parallelFor(rows, grain: max(1, 8192 / max(sk, 1))) { r in
            for row in r { softmaxRow(pp + row * sk, pp + row * sk, sk) }
        }
    }
    recordIfNeeded(out, inputs: [query, key]) { tape, g in
        keepAlive(out)
        let gq = tape.gradient(of: query), gk = tape.gradient(of: key)
        guard gq != nil || gk != nil else { return }
        // dS = P * (dP - rowsum(dP * P)); the scale is applied in the GEMMs below.
        let dS = TensorStorage(count: rows * sk, zeroed: false)
        defer { withExtendedLifetime(dS) {} }  // used through raw pointers below
        let ps = dS.pointer
        parallelFor(rows, grain: max(1, 8192 / max(sk, 1))) { r in
            for row in r {
                let pr = pp + row * sk, gr = g + row * sk, sr = ps + row * sk
                var dot: Float = 0
                for j in 0..<sk { dot += gr[j] * pr[j] }
                for j in 0..<sk { sr[j] = pr[j] * (gr[j] - dot) }
            }
        }
        if let gq { // dQ[Sq,D] += alpha * dS[Sq,Sk] K[Sk,D]
            BLAS.sgemmBatched(count: batch, transposeA: false, transposeB: false, m: sq, n: d, k: sk, alpha: alpha,
                              a: ps, lda: sk, strideA: sq * sk, b: pk, ldb: d, strideB: sk * d, beta: 1, c: gq, ldc: d, strideC: sq * d)
        }
        if let gk { // dK[Sk,D] += alpha * dS[Sq,Sk]ᵀ Q[Sq,D]
            BLAS.sgemmBatched(count: batch, transposeA: true, transposeB: false, m: sk, n: d, k: sq, alpha: alpha,
                              a: ps, lda: sk, strideA: sq * sk, b: pq, ldb: d, strideB: sq * d, beta: 1, c: gk, ldc: d, strideC: sk * d)
        }
    }
    return out
}

/// Scaled dot-product attention: `softmax(Q Kᵀ / sqrt(D) + mask) V`.
///
/// Shapes: `query` `[..., Sq, D]`, `key` `[..., Sk, D]`, `value` `[..., Sk, Dv]` → `[..., Sq, Dv]`.
/// When `dropout` > 0 the probabilities are dropped out (training) with `generator`.
/// Set `returnProbabilities` to also get the `[..., Sq, Sk]` probabilities (before dropout), which stay
/// differentiable so an attention-distillation loss can use them.
public func scaledDotProductAttention(
    query: Tensor, key: Tensor, value: Tensor, mask: Tensor? = nil,
    dropout probability: Float = 0, generator: inout RandomGenerator,
    returnProbabilities: Bool = false
) -> (output: Tensor, probabilities: Tensor?) {
    require(value.rank == key.rank && Array(value.shape.dropLast()) == Array(key.shape.dropLast()),
            .mismatch(op: "scaledDotProductAttention", key.shape, value.shape, detail: "key and value must agree on all but the last dimension"))
    let probabilities = attentionProbabilities(query: query, key: key, mask: mask)
    let weights = probability > 0 ? dropout(probabilities, probability: probability, generator: &generator) : probabilities
    let output = matmul(weights, value)
    return (output, returnProbabilities ? probabilities : nil)
}

/// ``scaledDotProductAttention(query:key:value:mask:dropout:generator:returnProbabilities:)`` without dropout.
public func scaledDotProductAttention(
    query: Tensor, key: Tensor, value: Tensor, mask: Tensor? = nil, returnProbabilities: Bool = false
) -> (output: Tensor, probabilities: Tensor?) {
    var unused = RandomGenerator(seed: 0)
    return scaledDotProductAttention(query: query, key: key, value: value, mask: mask, dropout: 0,
                                     generator: &unused, returnProbabilities: returnProbabilities)
}
