import DistillCore
import Testing

@Suite("Parallel paths", .serialized)
struct ThreadingTests {
    /// Shapes large enough to take the split-GEMM, batched-parallel and parallelFor paths: tall and wide C
    /// (split by rows, by columns), blocks that do not divide the extent, transposed B, and 1, 2 and 3 threads.
    /// Holds on every OpenBLAS kernel family because the GEMM blocks depend on the shape only
    /// (`scripts/test_blas_kernels.sh` runs this suite under each family the CPU can run).
    @Test("GEMM, attention and element-wise results are bit-identical with 1, 2 and 3 threads, and in WorkerTeams of 2 and 3")
    func threadCountIndependence() {
        var g = RandomGenerator(seed: 21)
        let cases: [(Tensor, Tensor, Bool)] = [
            (Tensor.randomNormal([64, 1024], using: &g), Tensor.randomNormal([1024, 128], using: &g), false),
            (Tensor.randomNormal([512, 512], using: &g), Tensor.randomNormal([512, 512], using: &g), false),
            (Tensor.randomNormal([300, 257], using: &g), Tensor.randomNormal([129, 257], using: &g), true),
            (Tensor.randomNormal([129, 257], using: &g), Tensor.randomNormal([300, 257], using: &g), true),
            (Tensor.randomNormal([1037, 384], using: &g), Tensor.randomNormal([384, 384], using: &g), false),
            (Tensor.randomNormal([96, 48, 32], using: &g), Tensor.randomNormal([96, 32, 48], using: &g), false),
        ]
        let q = Tensor.randomNormal([8, 12, 48, 32], using: &g), k = Tensor.randomNormal([8, 12, 48, 32], using: &g)
        let x = Tensor.randomNormal([300_000], using: &g)
        func run() -> [[Float]] {
            let w = Tensor.randomNormal([384, 384], using: &g)
            var out = cases.map { matmul($0.0, $0.1, transposeB: $0.2).scalars }
            out.append(attentionProbabilities(query: q, key: k).scalars)
            out.append(gelu(x).scalars)
            let (_, grads) = valueAndGradient(of: [w]) { mean(tanh(matmul(Tensor(repeating: 0.5, shape: [700, 384]), w))) }
            out.append(grads[w]!.scalars)
            return out
        }
        var results: [String: [[Float]]] = [:]
        for threads in [1, 2, 3] {
            ComputeThreads.configure(threads: threads)
            g = RandomGenerator(seed: 5)
            results["\(threads)"] = run()
            if threads > 1 {
                g = RandomGenerator(seed: 5)
                results["\(threads) in a team"] = WorkerTeam.run(threads: threads) { run() }
            }
        }
        ComputeThreads.configure()
        for threads in ["2", "3", "2 in a team", "3 in a team"] {
            for (i, (a, b)) in zip(results["1"]!, results[threads]!).enumerated() {
                #expect(a.map(\.bitPattern) == b.map(\.bitPattern),
                        "case \(i) differs between 1 and \(threads) threads (OpenBLAS kernel \(BLASKernel.coreName))")
            }
        }
    }

    @Test("the OpenBLAS kernel is chosen only when OpenBLAS fell back to Prescott and nobody chose one")
    func kernelRecommendation() {
        let intel512 = "vendor_id\t: GenuineIntel\nflags\t\t: fpu sse3 avx avx2 fma avx512f avx512bw avx512dq avx512vl\n"
        let amd512 = "vendor_id\t: AuthenticAMD\nflags\t\t: fpu sse3 avx avx2 fma avx512f avx512bw avx512dq avx512vl\n"
        let avxOnly = "vendor_id\t: GenuineIntel\nflags\t\t: fpu sse3 avx\n"
        #expect(BLASKernel.recommendedCoreType(environment: [:], loadedCore: "Prescott", cpuInfo: intel512) == "SkylakeX")
        #expect(BLASKernel.recommendedCoreType(environment: [:], loadedCore: "Prescott", cpuInfo: amd512) == "Haswell")
        #expect(BLASKernel.recommendedCoreType(environment: [:], loadedCore: "Prescott", cpuInfo: avxOnly) == "Sandybridge")
        #expect(BLASKernel.recommendedCoreType(environment: [:], loadedCore: "Prescott", cpuInfo: "flags\t: fpu sse3\n") == nil)
        #expect(BLASKernel.recommendedCoreType(environment: [:], loadedCore: "Haswell", cpuInfo: intel512) == nil)
        #expect(BLASKernel.recommendedCoreType(environment: ["OPENBLAS_CORETYPE": "Prescott"], loadedCore: "Prescott", cpuInfo: intel512) == nil)
        #expect(BLASKernel.recommendedCoreType(environment: [:], loadedCore: "Prescott", cpuInfo: nil) == nil)
        #expect(!BLASKernel.coreName.isEmpty)
    }

    @Test("split GEMM equals a float64 reference")
    func splitGemmCorrect() {
        var g = RandomGenerator(seed: 3)
        let a = Tensor.randomNormal([517, 129], using: &g), b = Tensor.randomNormal([129, 263], using: &g)
        let c = matmul(a, b).scalars
        let pa = a.scalars, pb = b.scalars
        var worst: Double = 0
        for i in stride(from: 0, to: 517, by: 13) {
            for j in stride(from: 0, to: 263, by: 7) {
                var acc = 0.0
                for t in 0..<129 { acc += Double(pa[i * 129 + t]) * Double(pb[t * 263 + j]) }
                worst = max(worst, abs(acc - Double(c[i * 263 + j])))
            }
        }
        #expect(worst < 1e-3)
    }
}
