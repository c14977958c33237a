import Foundation
import Synchronization
#if canImport(Accelerate)
import Accelerate
#else
import CBLAS
#endif

/// The GEMM every matmul goes through, plus counters that let benchmarks split step time into GEMM and
/// everything else.
public enum BLAS {
    private static let nanoseconds = Atomic<Int>(0)
    private static let flops = Atomic<Int>(0)

    /// Time spent inside `sgemm` since the last ``resetCounters()``, in seconds.
    public static var gemmSeconds: Double { Double(nanoseconds.load(ordering: .relaxed)) / 1e9 }
    /// Floating-point operations issued to `sgemm` since the last ``resetCounters()``.
    public static var gemmFlops: Int { flops.load(ordering: .relaxed) }

    /// Zeroes the counters.
    public static func resetCounters() {
        nanoseconds.store(0, ordering: .relaxed)
        flops.store(0, ordering: .relaxed)
    }

    /// Row-major `C = alpha * op(A) * op(B) + beta * C` with `op(A)` of shape `m x k`, `op(B)` `k x n`.
    public static func sgemm(
        transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
        alpha: Float = 1, a: UnsafePointer<Float>, lda: Int,
        b: UnsafePointer<Float>, ldb: Int,
        beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        guard m > 0, n > 0 else { return }
        let start = DispatchTime.now().uptimeNanoseconds
        if k == 0 {
            // BLAS leaves C untouched for k == 0 only when beta == 1; make it explicit.
            for i in 0..<m { for j in 0..<n { c[i * ldc + j] *= beta } }
        } else {
            cblas_sgemm(CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans, transposeB ? CblasTrans : CblasNoTrans,
                        blasInt(m), blasInt(n), blasInt(k), alpha, a, blasInt(lda), b, blasInt(ldb),
                        beta, c, blasInt(ldc))
        }
        nanoseconds.add(Int(DispatchTime.now().uptimeNanoseconds - start), ordering: .relaxed)
        flops.add(2 * m * n * k, ordering: .relaxed)
    }
}

#if canImport(Accelerate)
@inline(__always) private func blasInt(_ v: Int) -> Int32 { Int32(v) }
#else
@inline(__always) private func blasInt(_ v: Int) -> blasint { blasint(v) }
#endif
