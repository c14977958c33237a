import Dispatch
import Foundation
import Synchronization
#if canImport(Accelerate)
import Accelerate
#else
import CBLAS
#endif

/// The GEMM every matmul goes through, plus counters that let benchmarks split step time into GEMM and
/// everything else.
///
/// Threading: BLAS itself runs single-threaded and Distill splits each large GEMM into
/// ``ComputeThreads/count`` row (or column) blocks on its own workers; batches of small GEMMs (attention
/// heads) are spread across workers instead. OpenBLAS's own threads spin in `sched_yield` between calls and
/// on 2 cores they took the CPU away from the element-wise work in between (measured: 12% of all cycles of a
/// transformer training step), so one pool of threads serves both.
public enum BLAS {
    private static let nanoseconds = Atomic<Int>(0)
    private static let flops = Atomic<Int>(0)

    /// Time spent inside GEMM calls since the last ``resetCounters()``, in seconds (wall clock).
    public static var gemmSeconds: Double { Double(nanoseconds.load(ordering: .relaxed)) / 1e9 }
    /// Floating-point operations issued to GEMM since the last ``resetCounters()``.
    public static var gemmFlops: Int { flops.load(ordering: .relaxed) }

    /// Zeroes the counters.
    public static func resetCounters() {
        nanoseconds.store(0, ordering: .relaxed)
        flops.store(0, ordering: .relaxed)
    }

    /// Makes the BLAS library single-threaded (Distill parallelizes around it). Idempotent.
    static let singleThreaded: Void = {
        #if !canImport(Accelerate)
        openblas_set_num_threads(1)
        #endif
    }()

    /// Below this many flops a GEMM runs on one thread: splitting costs more than it saves.
    static let parallelThreshold = 1 << 22

    /// Row-major `C = alpha * op(A) * op(B) + beta * C` with `op(A)` of shape `m x k`, `op(B)` `k x n`.
    public static func sgemm(
        transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
        alpha: Float = 1, a: UnsafePointer<Float>, lda: Int,
        b: UnsafePointer<Float>, ldb: Int,
        beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        sgemmBatched(count: 1, transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, alpha: alpha,
                     a: a, lda: lda, strideA: 0, b: b, ldb: ldb, strideB: 0, beta: beta, c: c, ldc: ldc, strideC: 0)
    }

    /// ``sgemm(transposeA:transposeB:m:n:k:alpha:a:lda:b:ldb:beta:c:ldc:)`` on the calling thread only, for
    /// callers that already run one task per core (the inference engines) and must not fan out again.
    /// Not counted in ``gemmSeconds``.
    public static func sgemmOnCurrentThread(
        transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
        alpha: Float = 1, a: UnsafePointer<Float>, lda: Int,
        b: UnsafePointer<Float>, ldb: Int,
        beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        guard m > 0, n > 0 else { return }
        _ = singleThreaded
        gemm(transposeA, transposeB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
    }

    /// `count` GEMMs whose operands start `strideA`/`strideB`/`strideC` elements apart (a stride of 0
    /// shares the operand, e.g. one weight matrix for every batch entry; a shared C accumulates in order).
    public static func sgemmBatched(
        count: Int, transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
        alpha: Float = 1, a: UnsafePointer<Float>, lda: Int, strideA: Int,
        b: UnsafePointer<Float>, ldb: Int, strideB: Int,
        beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int, strideC: Int
    ) {
        guard m > 0, n > 0, count > 0 else { return }
        _ = singleThreaded
        let start = DispatchTime.now().uptimeNanoseconds
        let work = 2 * m * n * k
        let threads = ComputeThreads.count
        if count > 1 && strideC != 0 && threads > 1 && work * count >= parallelThreshold {
            // Spread whole GEMMs over the workers (each stays single-threaded).
            parallelFor(count, grain: max(1, parallelThreshold / max(work, 1) / 4)) { range in
                for p in range {
                    gemm(transposeA, transposeB, m, n, k, alpha, a + p * strideA, lda, b + p * strideB, ldb, beta, c + p * strideC, ldc)
                }
            }
        } else if work >= parallelThreshold {
            for p in 0..<count {
                splitGemm(transposeA, transposeB, m, n, k, alpha, a + p * strideA, lda, b + p * strideB, ldb,
                          beta, c + p * strideC, ldc)
            }
        } else {
            for p in 0..<count {
                gemm(transposeA, transposeB, m, n, k, alpha, a + p * strideA, lda, b + p * strideB, ldb, beta, c + p * strideC, ldc)
            }
        }
        nanoseconds.add(Int(DispatchTime.now().uptimeNanoseconds - start), ordering: .relaxed)
        flops.add(work * count, ordering: .relaxed)
    }

    /// How a large GEMM is cut into blocks of rows of C (or of columns when C is wide).
    ///
    /// The cut depends on the shape only, never on the thread count: OpenBLAS's kernels round differently
    /// at the edges of their register tiles (12-row tiles on Haswell and Zen, 2 on Prescott) and switch to
    /// other paths for small sub-matrices (SkylakeX), so an element's bits depend on which call computed it
    /// and where in that call. With the same blocks at every thread count (run in turn on one thread), every
    /// element is computed by the same call whatever `ComputeThreads.count` is, on every kernel.
    struct GemmBlocks: Equatable {
        /// Cut along the rows of C (`m`) rather than its columns (`n`).
        var byRows: Bool
        /// Rows (or columns) per block; the last block may be shorter.
        var size: Int
        /// Number of blocks.
        var count: Int

        init(m: Int, n: Int, k: Int) {
            byRows = m >= n
            let extent = byRows ? m : n
            // 2 blocks from the parallel threshold, 4 from 8x it, 8 from 32x it: enough for 8 threads,
            // few enough that each block stays a large GEMM.
            let ratio = 2 * m * n * k / BLAS.parallelThreshold
            let parts = ratio >= 32 ? 8 : (ratio >= 8 ? 4 : 2)
            // Multiples of 16 rows keep the micro-kernels on full tiles.
            size = max(16, ((extent + parts - 1) / parts + 15) / 16 * 16)
            count = (extent + size - 1) / size
        }
    }

    /// One GEMM cut into ``GemmBlocks``, the blocks spread over the compute threads (in turn when there is one).
    private static func splitGemm(_ ta: Bool, _ tb: Bool, _ m: Int, _ n: Int, _ k: Int, _ alpha: Float,
                                  _ a: UnsafePointer<Float>, _ lda: Int, _ b: UnsafePointer<Float>, _ ldb: Int,
                                  _ beta: Float, _ c: UnsafeMutablePointer<Float>, _ ldc: Int) {
        let blocks = GemmBlocks(m: m, n: n, k: k)
        let extent = blocks.byRows ? m : n
        let box = UnsafeSendable((a, b, c))
        parallelFor(blocks.count, grain: 1) { range in
            let (a, b, c) = box.value
            for i in range {
                let lo = i * blocks.size, len = min(blocks.size, extent - lo)
                if blocks.byRows {
                    let aBlock = ta ? a + lo : a + lo * lda
                    gemm(ta, tb, len, n, k, alpha, aBlock, lda, b, ldb, beta, c + lo * ldc, ldc)
                } else {
                    let bBlock = tb ? b + lo * ldb : b + lo
                    gemm(ta, tb, m, len, k, alpha, a, lda, bBlock, ldb, beta, c + lo, ldc)
                }
            }
        }
    }

    @inline(__always)
    private static func gemm(_ ta: Bool, _ tb: Bool, _ m: Int, _ n: Int, _ k: Int, _ alpha: Float,
                             _ a: UnsafePointer<Float>, _ lda: Int, _ b: UnsafePointer<Float>, _ ldb: Int,
                             _ beta: Float, _ c: UnsafeMutablePointer<Float>, _ ldc: Int) {
        if k == 0 {
            // BLAS leaves C untouched for k == 0 only when beta == 1; make it explicit.
            for i in 0..<m { for j in 0..<n { c[i * ldc + j] = beta == 0 ? 0 : c[i * ldc + j] * beta } }
            return
        }
        cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans,
                    blasInt(m), blasInt(n), blasInt(k), alpha, a, blasInt(lda), b, blasInt(ldb), beta, c, blasInt(ldc))
    }
}

#if canImport(Accelerate)
@inline(__always) private func blasInt(_ v: Int) -> Int32 { Int32(v) }
#else
@inline(__always) private func blasInt(_ v: Int) -> blasint { blasint(v) }
#endif
