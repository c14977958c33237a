/// Matrix product over the last two dimensions, through BLAS `sgemm`.
///
/// Shapes (`a` is `[..., M, K]`, or `[..., K, M]` when `transposeA`; likewise `b`):
/// - `b` rank 2: one weight matrix shared by every leading index of `a` (a linear layer on `[B, S, D]`).
///   When `a` is not transposed its leading dimensions fold into `M`, so the whole batch is a single GEMM.
/// - `b` rank >= 3: `a` and `b` must have the same leading (batch) dimensions; one GEMM per batch index.
///
/// Returns `[..., M, N]`. Traps, naming both shapes, when the inner dimensions or batch dimensions differ.
public func matmul(_ a: Tensor, _ b: Tensor, transposeA: Bool = false, transposeB: Bool = false) -> Tensor {
    require(a.rank >= 2, .wrongRank(op: "matmul", shape: a.shape, expected: "rank >= 2 for the left operand"))
    require(b.rank >= 2, .wrongRank(op: "matmul", shape: b.shape, expected: "rank >= 2 for the right operand"))
    let (ar, ac) = (a.shape[a.rank - 2], a.shape[a.rank - 1])
    let (br, bc) = (b.shape[b.rank - 2], b.shape[b.rank - 1])
    let (m, k) = transposeA ? (ac, ar) : (ar, ac)
    let (kb, n) = transposeB ? (bc, br) : (br, bc)
    require(k == kb, .mismatch(op: "matmul", a.shape, b.shape,
                               detail: "inner dimensions differ (\(k) vs \(kb)); transposeA=\(transposeA), transposeB=\(transposeB)"))
    let lead = Array(a.shape.dropLast(2))
    let sharedB = b.rank == 2
    if !sharedB {
        require(Array(b.shape.dropLast(2)) == lead,
                .mismatch(op: "matmul", a.shape, b.shape, detail: "batch dimensions must be equal (or the right operand rank 2)"))
    }
    let batch = Shapes.count(lead)
    let out = Tensor(uninitializedShape: lead + [m, n])
    // Fold the batch into M when B is shared and A is row-major [batch*M, K].
    let folded = sharedB && !transposeA
    let (gemms, rows) = folded ? (1, batch * m) : (batch, m)
    let lda = ac, ldb = bc
    let aStride = m * k, bStride = sharedB ? 0 : k * n, cStride = m * n
    let pa = a.storage.pointer, pb = b.storage.pointer, pc = out.storage.pointer
    BLAS.sgemmBatched(count: gemms, transposeA: transposeA, transposeB: transposeB, m: rows, n: n, k: k,
                      a: pa, lda: lda, strideA: aStride, b: pb, ldb: ldb, strideB: bStride,
                      beta: 0, c: pc, ldc: n, strideC: cStride)
    recordIfNeeded(out, inputs: [a, b]) { tape, g in
        if let ga = tape.gradient(of: a) {
            // Per batch entry: dC at g, B at pb, dA at ga (strides cStride, bStride, aStride).
            switch (transposeA, transposeB) {
            case (false, false): // dA[M,K] += dC[M,N] B[K,N]^T
                BLAS.sgemmBatched(count: gemms, transposeA: false, transposeB: true, m: rows, n: k, k: n, a: g, lda: n, strideA: cStride,
                                  b: pb, ldb: ldb, strideB: bStride, beta: 1, c: ga, ldc: lda, strideC: aStride)
            case (false, true): // dA[M,K] += dC[M,N] B[N,K]
                BLAS.sgemmBatched(count: gemms, transposeA: false, transposeB: false, m: rows, n: k, k: n, a: g, lda: n, strideA: cStride,
                                  b: pb, ldb: ldb, strideB: bStride, beta: 1, c: ga, ldc: lda, strideC: aStride)
            case (true, false): // dA[K,M] += B[K,N] dC[M,N]^T
                BLAS.sgemmBatched(count: gemms, transposeA: false, transposeB: true, m: k, n: rows, k: n, a: pb, lda: ldb, strideA: bStride,
                                  b: g, ldb: n, strideB: cStride, beta: 1, c: ga, ldc: lda, strideC: aStride)
            case (true, true): // dA[K,M] += B[N,K]^T dC[M,N]^T
                BLAS.sgemmBatched(count: gemms, transposeA: true, transposeB: true, m: k, n: rows, k: n, a: pb, lda: ldb, strideA: bStride,
                                  b: g, ldb: n, strideB: cStride, beta: 1, c: ga, ldc: lda, strideC: aStride)
            }
        }
        if let gb = tape.gradient(of: b) {
            // A shared B (bStride 0) accumulates its gradient over the batch, in order.
            switch (transposeA, transposeB) {
            case (false, false): // dB[K,N] += A[M,K]^T dC[M,N]
                BLAS.sgemmBatched(count: gemms, transposeA: true, transposeB: false, m: k, n: n, k: rows, a: pa, lda: lda, strideA: aStride,
                                  b: g, ldb: n, strideB: cStride, beta: 1, c: gb, ldc: ldb, strideC: bStride)
            case (false, true): // dB[N,K] += dC[M,N]^T A[M,K]
                BLAS.sgemmBatched(count: gemms, transposeA: true, transposeB: false, m: n, n: k, k: rows, a: g, lda: n, strideA: cStride,
                                  b: pa, ldb: lda, strideB: aStride, beta: 1, c: gb, ldc: ldb, strideC: bStride)
            case (true, false): // dB[K,N] += A[K,M] dC[M,N]
                BLAS.sgemmBatched(count: gemms, transposeA: false, transposeB: false, m: k, n: n, k: rows, a: pa, lda: lda, strideA: aStride,
                                  b: g, ldb: n, strideB: cStride, beta: 1, c: gb, ldc: ldb, strideC: bStride)
            case (true, true): // dB[N,K] += dC[M,N]^T A[K,M]^T
                BLAS.sgemmBatched(count: gemms, transposeA: true, transposeB: true, m: n, n: k, k: rows, a: g, lda: n, strideA: cStride,
                                  b: pa, ldb: lda, strideB: aStride, beta: 1, c: gb, ldc: ldb, strideC: bStride)
            }
        }
    }
    return out
}
