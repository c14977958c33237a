import DistillCore
import Testing

@Suite("Parallel paths", .serialized)
struct ThreadingTests {
    /// Shapes large enough to take the split-GEMM, batched-parallel and parallelFor paths.
    @Test("GEMM, attention and element-wise results are bit-identical with 1 and 2 threads")
    func threadCountIndependence() {
        var g = RandomGenerator(seed: 21)
        let cases: [(Tensor, Tensor, Bool)] = [
            (Tensor.randomNormal([64, 1024], using: &g), Tensor.randomNormal([1024, 128], using: &g), false),
            (Tensor.randomNormal([512, 512], using: &g), Tensor.randomNormal([512, 512], using: &g), false),
            (Tensor.randomNormal([300, 257], using: &g), Tensor.randomNormal([129, 257], using: &g), true),
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
        ComputeThreads.configure(threads: 1)
        g = RandomGenerator(seed: 5)
        let single = run()
        ComputeThreads.configure(threads: 2)
        g = RandomGenerator(seed: 5)
        let double = run()
        ComputeThreads.configure()
        for (i, (a, b)) in zip(single, double).enumerated() {
            #expect(a.map(\.bitPattern) == b.map(\.bitPattern), "case \(i) differs between 1 and 2 threads")
        }
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
