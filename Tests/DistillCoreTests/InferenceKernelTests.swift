import CVectorKernels
import DistillCore
import Testing

/// The inference row kernels and fused attention against the differentiable ops (the gradient-checked
/// reference): same values, no tape.
@Suite("inference kernels")
struct InferenceKernelTests {
    func random(_ count: Int, seed: UInt64, scale: Float = 1) -> [Float] {
        var g = RandomGenerator(seed: seed)
        return (0..<count).map { _ in scale * g.nextNormal() }
    }

    func close(_ a: [Float], _ b: [Float], _ tolerance: Float) -> Bool {
        a.count == b.count && zip(a, b).allSatisfy { abs($0 - $1) <= tolerance * max(1, abs($1)) }
    }

    @Test("bias + residual + LayerNorm in one pass = layerNorm(x + b + r)")
    func layerNormFused() {
        let (rows, d) = (5, 19)
        let x = random(rows * d, seed: 1, scale: 3), r = random(rows * d, seed: 2), b = random(d, seed: 3)
        let gamma = random(d, seed: 4), beta = random(d, seed: 5)
        var y = x
        y.withUnsafeMutableBufferPointer { RowKernels.addBiasResidualLayerNorm($0.baseAddress!, rows: rows, width: d, bias: b, residual: r, gamma: gamma, beta: beta, epsilon: 1e-12) }
        let want = layerNorm(Tensor(shape: [rows, d], scalars: x) + Tensor(shape: [d], scalars: b) + Tensor(shape: [rows, d], scalars: r),
                             gamma: Tensor(shape: [d], scalars: gamma), beta: Tensor(shape: [d], scalars: beta))
        #expect(close(y, want.scalars, 1e-5))
    }

    @Test("bias + GELU / ReLU / tanh and row softmax = the ops")
    func activations() {
        let (rows, d) = (3, 13)
        let x = random(rows * d, seed: 6, scale: 3), b = random(d, seed: 7)
        let sum = Tensor(shape: [rows, d], scalars: x) + Tensor(shape: [d], scalars: b)
        var y = x
        y.withUnsafeMutableBufferPointer { RowKernels.addBiasActivation($0.baseAddress!, rows: rows, width: d, bias: b) }
        #expect(close(y, gelu(sum).scalars, 1e-6))
        y = x
        y.withUnsafeMutableBufferPointer { RowKernels.addBiasActivation($0.baseAddress!, rows: rows, width: d, bias: b, relu: true) }
        #expect(y == relu(sum).scalars)
        y = x
        y.withUnsafeMutableBufferPointer { RowKernels.addBiasTanh($0.baseAddress!, rows: rows, width: d, bias: b) }
        #expect(close(y, tanh(sum).scalars, 1e-6))
        y = x
        y.withUnsafeMutableBufferPointer { RowKernels.softmax($0.baseAddress!, rows: rows, width: d) }
        #expect(close(y, softmax(Tensor(shape: [rows, d], scalars: x)).scalars, 1e-6))
    }

    @Test("attention, fused (short) and per-head GEMMs (from 32 tokens), = scaledDotProductAttention on one sequence", arguments: [(1, 8, 1), (2, 16, 9), (4, 12, 33), (3, 5, 2), (2, 16, 31), (2, 16, 32), (12, 32, 70)])
    func fusedAttention(heads: Int, headWidth d: Int, length s: Int) {
        let h = heads * d
        let qkv = random(s * 3 * h, seed: UInt64(s * 31 + d), scale: 2)
        var out = [Float](repeating: .nan, count: s * h), scores = [Float](repeating: 0, count: s * s)
        qkv.withUnsafeBufferPointer { q in
            fusedSelfAttention(qkv: q.baseAddress!, length: s, heads: heads, headWidth: d, scores: &scores, out: &out)
        }
        // Reference: split Q, K, V to [1, heads, S, d] and run the differentiable op.
        func part(_ which: Int) -> Tensor {
            var v: [Float] = []
            for head in 0..<heads { for i in 0..<s { for c in 0..<d { v.append(qkv[i * 3 * h + which * h + head * d + c]) } } }
            return Tensor(shape: [1, heads, s, d], scalars: v)
        }
        let ref = scaledDotProductAttention(query: part(0), key: part(1), value: part(2)).output.scalars
        var want: [Float] = []
        for i in 0..<s { for head in 0..<heads { for c in 0..<d { want.append(ref[(head * s + i) * d + c]) } } }
        #expect(close(out, want, 1e-5))
    }

    @Test("a workspace grows only when asked for more")
    func workspace() {
        let ws = InferenceWorkspace(slots: 2)
        _ = ws.floats(0, count: 100)
        _ = ws.floats(1, count: 10)
        #expect(ws.growths == 2)
        _ = ws.floats(0, count: 100); _ = ws.floats(0, count: 50); _ = ws.floats(1, count: 64)
        #expect(ws.growths == 2)
        _ = ws.floats(0, count: 101)
        #expect(ws.growths == 3 && ws.capacity >= 150 + 64)
    }
}

@Suite("row sums")
struct RowSumTests {
    @Test("addRows adds rows in their order: the same bits as one simdAxpy per row, for widths in and outside its 64 and 8 blocks", arguments: [1, 5, 8, 64, 72, 131])
    func sameBitsAsAxpy(width: Int) {
        var g = RandomGenerator(seed: UInt64(width))
        let table = (0..<(50 * width)).map { _ in g.nextNormal() * 3 }
        let rows: [Int32] = [7, 3, 49, 3, 0, 21, 7, 7, 12, 44, 1]
        for count in [0, 1, 4, 5, rows.count] {
            let start = (0..<width).map { Float($0) * 0.25 - 1 }
            var expected = start, actual = start
            table.withUnsafeBufferPointer { t in
                expected.withUnsafeMutableBufferPointer { y in
                    for r in rows.prefix(count) { simdAxpy(y.baseAddress!, 1, t.baseAddress! + Int(r) * width, width) }
                }
                Array(rows.prefix(count)).withUnsafeBufferPointer { r in
                    actual.withUnsafeMutableBufferPointer { addRows(t.baseAddress!, r, width: width, into: $0.baseAddress!) }
                }
            }
            #expect(actual.map(\.bitPattern) == expected.map(\.bitPattern), "width \(width), \(count) rows")
        }
    }

    @Test("the weighted row sum (4 and 8 lanes) gives the bits of zeroing the row and one simdAxpy per entry, entries repeated and in any order", arguments: [1, 5, 16, 32, 64, 72, 131])
    func weightedRowSumSameBitsAsAxpy(width: Int) {
        var g = RandomGenerator(seed: 100 + UInt64(width))
        let sources = 9
        let x = (0..<(sources * width)).map { _ in g.nextNormal() * 3 }
        let factors = (0..<sources).map { _ in g.nextNormal() * 0.01 }
        let entries: [Int32] = [4, 0, 8, 4, 4, 2, 7, 1, 0, 3]
        var ran = 0
        for count in [0, 1, 3, entries.count] {
            var expected = [Float](repeating: 0, count: width)
            x.withUnsafeBufferPointer { x in
                expected.withUnsafeMutableBufferPointer { y in
                    for e in entries.prefix(count) { simdAxpy(y.baseAddress!, factors[Int(e)], x.baseAddress! + Int(e) * width, width) }
                }
            }
            var automatic = [Float](repeating: .nan, count: width)
            distill_weighted_row_sum(&automatic, x, width, entries, factors, count, width)
            #expect(automatic.map(\.bitPattern) == expected.map(\.bitPattern), "width \(width), \(count) entries")
            for lanes: Int32 in [4, 8] {
                var actual = [Float](repeating: .nan, count: width)
                guard distill_weighted_row_sum_lanes(lanes, &actual, x, width, entries, factors, count, width) == 0 else { continue }
                ran += 1
                #expect(actual.map(\.bitPattern) == expected.map(\.bitPattern), "\(lanes) lanes, width \(width), \(count) entries")
            }
        }
        #expect(ran >= 4)
    }
}
