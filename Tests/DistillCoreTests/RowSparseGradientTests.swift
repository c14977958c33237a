import DistillCore
import Testing

/// Row-sparse gradients of embedding tables: the rows a lookup read, the same values as the dense gradient.
@Suite("Row-sparse gradients of lookup tables")
struct RowSparseGradientTests {
    /// Indices with repeats and an empty bag: bags [1, 4, 4], [], [8, 0], [2, 2, 2].
    let indices = [1, 4, 4, 8, 0, 2, 2, 2], offsets = [0, 3, 3, 5]

    func table(_ seed: UInt64) -> Tensor {
        var g = RandomGenerator(seed: seed)
        return Tensor.randomNormal([9, 4], using: &g)
    }

    func loss(_ x: Tensor, weight seed: UInt64) -> Tensor {
        var g = RandomGenerator(seed: seed)
        return sum(x * Tensor.randomNormal(x.shape, using: &g))
    }

    @Test("embeddingBagMean: only the rows read, bit-identical to the dense gradient")
    func bagRows() throws {
        let t = table(1)
        let (_, dense) = valueAndGradient(of: [t]) { loss(embeddingBagMean(t, indices: indices, offsets: offsets), weight: 7) }
        let (_, sparse) = valueAndGradient(of: [t], rowSparse: [t]) { loss(embeddingBagMean(t, indices: indices, offsets: offsets), weight: 7) }
        guard case let .rows(rows)? = sparse.value(of: t) else { Issue.record("expected a row-sparse gradient"); return }
        #expect(rows.rows == [0, 1, 2, 4, 8])
        #expect(rows.values.shape == [5, 4])
        let d = try #require(dense[t]).scalars
        #expect(rows.densified().scalars == d)
        // Rows 3, 5, 6, 7 were not read: zero in the dense gradient too.
        for r in [3, 5, 6, 7] { #expect(d[(r * 4)..<(r * 4 + 4)].allSatisfy { $0 == 0 }) }
    }

    @Test("embedding lookup: only the rows read, bit-identical to the dense gradient")
    func lookupRows() throws {
        let t = table(2)
        let ids = [3, 0, 3, 6, 1, 3]
        let (_, dense) = valueAndGradient(of: [t]) { loss(embedding(t, indices: ids, shape: [2, 3]), weight: 8) }
        let (_, sparse) = valueAndGradient(of: [t], rowSparse: [t]) { loss(embedding(t, indices: ids, shape: [2, 3]), weight: 8) }
        guard case let .rows(rows)? = sparse.value(of: t) else { Issue.record("expected a row-sparse gradient"); return }
        #expect(rows.rows == [0, 1, 3, 6])
        let d = try #require(dense[t]).scalars
        #expect(rows.densified().scalars == d)
    }

    @Test("the row-sparse gradient passes the finite-difference check")
    func gradientCheck() {
        let t = table(3)
        let results = GradientCheck.check([t], maxElementsPerInput: 36, rowSparse: [t]) {
            embeddingBagMean(t, indices: indices, offsets: offsets) + embedding(t, indices: [5, 5, 2, 7], shape: [4])
        }
        for r in results { #expect(r.maxRelativeError <= 2e-2, "\(r)") }
    }

    @Test("a table also read by a dense op gets one dense gradient with both parts")
    func mixedReaders() throws {
        let t = table(4)
        let f = { loss(embeddingBagMean(t, indices: indices, offsets: offsets), weight: 9) + loss(t * t, weight: 10) }
        let (_, dense) = valueAndGradient(of: [t], f)
        let (_, sparse) = valueAndGradient(of: [t], rowSparse: [t], f)
        guard case let .dense(g)? = sparse.value(of: t) else { Issue.record("expected a dense gradient"); return }
        let want = try #require(dense[t]).scalars
        for (a, b) in zip(g.scalars, want) { #expect(abs(a - b) <= 1e-6 * max(1, abs(b))) }
    }

    @Test("two lookups of one table: the union of their rows, summed")
    func twoLookups() throws {
        let t = table(5)
        let f = { loss(embeddingBagMean(t, indices: [1, 2], offsets: [0]), weight: 11) + loss(embedding(t, indices: [2, 7], shape: [2]), weight: 12) }
        let (_, dense) = valueAndGradient(of: [t], f)
        let (_, sparse) = valueAndGradient(of: [t], rowSparse: [t], f)
        guard case let .rows(rows)? = sparse.value(of: t) else { Issue.record("expected a row-sparse gradient"); return }
        #expect(rows.rows == [1, 2, 7])
        let want = try #require(dense[t]).scalars
        for (a, b) in zip(rows.densified().scalars, want) { #expect(abs(a - b) <= 1e-6 * max(1, abs(b))) }
    }

    @Test("norm, scaling and accumulation of row-sparse gradients equal the dense ones")
    func gradientsArithmetic() throws {
        let t = table(6), bias = Tensor(shape: [3], scalars: [1, 2, 3])
        func grads(_ ids: [Int], sparse: Bool) -> Gradients {
            valueAndGradient(of: [t, bias], rowSparse: sparse ? [t] : []) {
                loss(embeddingBagMean(t, indices: ids, offsets: [0]), weight: UInt64(ids.count)) + sum(bias * bias)
            }.gradients
        }
        var dense = grads([0, 3, 3], sparse: false), sparse = grads([0, 3, 3], sparse: true)
        #expect(abs(dense.globalNorm - sparse.globalNorm) <= 1e-6 * dense.globalNorm)
        dense.accumulate(grads([3, 8], sparse: false))
        sparse.accumulate(grads([3, 8], sparse: true))
        guard case let .rows(rows)? = sparse.value(of: t) else { Issue.record("accumulating two row-sparse gradients must stay sparse"); return }
        #expect(rows.rows == [0, 3, 8])
        dense.scale(by: 0.25)
        sparse.scale(by: 0.25)
        #expect(abs(dense.globalNorm - sparse.globalNorm) <= 1e-6 * dense.globalNorm)
        for (a, b) in zip(try #require(sparse[t]).scalars, try #require(dense[t]).scalars) { #expect(abs(a - b) <= 1e-6) }
        let (sb, db) = (try #require(sparse[bias]).scalars, try #require(dense[bias]).scalars)
        #expect(sb == db)
        // A dense gradient accumulated into a sparse one gives a dense one.
        sparse.accumulate(grads([1], sparse: false))
        dense.accumulate(grads([1], sparse: false))
        guard case .dense? = sparse.value(of: t) else { Issue.record("sparse + dense must be dense"); return }
        for (a, b) in zip(try #require(sparse[t]).scalars, try #require(dense[t]).scalars) { #expect(abs(a - b) <= 1e-6) }
    }

    @Test("adding merges sorted rows and sums the shared ones")
    func adding() {
        let a = RowSparseGradient(shape: [10, 2], rows: [1, 4, 9], values: Tensor(shape: [3, 2], scalars: [1, 1, 4, 4, 9, 9]))
        let b = RowSparseGradient(shape: [10, 2], rows: [0, 4, 5], values: Tensor(shape: [3, 2], scalars: [10, 10, 40, 40, 50, 50]))
        let c = a.adding(b)
        #expect(c.rows == [0, 1, 4, 5, 9])
        #expect(c.values.scalars == [10, 10, 1, 1, 44, 44, 50, 50, 9, 9])
        #expect(c.densified().scalars == a.densified().scalars.indices.map { a.densified().scalars[$0] + b.densified().scalars[$0] })
    }
}
