/// The gradient of a `[rows, width]` table that only some rows received, as an embedding lookup gives it:
/// the rows (sorted, distinct) and their values `[rows.count, width]`. Every other row is zero.
///
/// A batch of 32 log lines reads a few thousand rows of a table of 262,144; holding only those rows keeps
/// the backward pass, clipping and a lazy optimizer step proportional to what the batch touched.
public struct RowSparseGradient {
    /// The table's shape `[rows, width]`.
    public let shape: [Int]
    /// The rows that carry a gradient, ascending and distinct.
    public let rows: [Int]
    /// `[rows.count, width]`: row `i` is the gradient of table row `rows[i]`.
    public let values: Tensor

    public var width: Int { shape[1] }

    /// Wraps `values` for `rows` of a table of `shape`; `rows` must be ascending, distinct and inside the table.
    public init(shape: [Int], rows: [Int], values: Tensor) {
        require(shape.count == 2, .wrongRank(op: "RowSparseGradient", shape: shape, expected: "a [rows, width] table"))
        require(values.shape == [rows.count, shape[1]],
                .mismatch(op: "RowSparseGradient", [rows.count, shape[1]], values.shape, detail: "values must be [rows.count, width]"))
        for i in rows.indices {
            precondition(rows[i] >= 0 && rows[i] < shape[0] && (i == 0 || rows[i - 1] < rows[i]),
                         "RowSparseGradient: rows must be ascending, distinct and within 0..<\(shape[0]); row \(rows[i]) at \(i)")
        }
        self.shape = shape
        self.rows = rows
        self.values = values
    }

    /// Collects per-position gradients into rows: position `i` of `indices` reads table row `indices[i]`, and
    /// `add(i, slot)` must add that position's gradient into `slot` (a `width`-long row, zero at first).
    /// Positions that read the same row share one slot, visited in position order.
    public static func collect(shape: [Int], indices: [Int],
                               add: (_ position: Int, _ slot: UnsafeMutablePointer<Float>) -> Void) -> RowSparseGradient {
        // A slot per table row (4 bytes x rows, cheaper than hashing the indices): the distinct rows in the
        // order first read, then sorted and numbered.
        var slotOf = [Int32](repeating: -1, count: shape[0])
        var rows: [Int] = []
        for r in indices where slotOf[r] < 0 {
            slotOf[r] = 0
            rows.append(r)
        }
        rows.sort()
        for (s, r) in rows.enumerated() { slotOf[r] = Int32(s) }
        let d = shape[1]
        let values = Tensor(zeros: [rows.count, d])
        let pv = values.storage.pointer
        for (i, r) in indices.enumerated() { add(i, pv + Int(slotOf[r]) * d) }
        return RowSparseGradient(shape: shape, rows: rows, values: values)
    }

    /// Adds every row into the dense `[rows, width]` buffer at `dense`.
    public func scatterAdd(into dense: UnsafeMutablePointer<Float>) {
        let d = width, pv = values.storage.pointer
        for (s, r) in rows.enumerated() { vAdd(dense + r * d, pv + s * d, count: d) }
    }

    /// The same gradient as a dense tensor of ``shape``.
    public func densified() -> Tensor {
        let out = Tensor(zeros: shape)
        scatterAdd(into: out.storage.pointer)
        return out
    }

    /// The sum of two gradients of the same table: the union of their rows.
    public func adding(_ other: RowSparseGradient) -> RowSparseGradient {
        require(other.shape == shape, .mismatch(op: "RowSparseGradient.adding", shape, other.shape, detail: "both must be of one table"))
        let d = width
        var rows: [Int] = []
        rows.reserveCapacity(self.rows.count + other.rows.count)
        var (i, j) = (0, 0)
        while i < self.rows.count || j < other.rows.count {
            let a = i < self.rows.count ? self.rows[i] : Int.max, b = j < other.rows.count ? other.rows[j] : Int.max
            rows.append(min(a, b))
            if a <= b { i += 1 }
            if b <= a { j += 1 }
        }
        let values = Tensor(zeros: [rows.count, d])
        let out = values.storage.pointer
        for (source, sourceRows) in [(self.values, self.rows), (other.values, other.rows)] {
            let p = source.storage.pointer
            var s = 0
            for (k, r) in sourceRows.enumerated() {
                while rows[s] != r { s += 1 }
                vAdd(out + s * d, p + k * d, count: d)
            }
        }
        return RowSparseGradient(shape: shape, rows: rows, values: values)
    }
}

/// One parameter's gradient: dense, or only the rows of a table that a lookup read.
public enum GradientValue {
    case dense(Tensor)
    case rows(RowSparseGradient)

    /// The parameter's shape.
    public var shape: [Int] {
        switch self {
        case let .dense(t): return t.shape
        case let .rows(r): return r.shape
        }
    }

    /// The gradient as a dense tensor of the parameter's shape (a row-sparse one is scattered into zeros).
    public var densified: Tensor {
        switch self {
        case let .dense(t): return t
        case let .rows(r): return r.densified()
        }
    }

    /// The stored values: the dense tensor, or the rows' values (what norms and scaling act on).
    public var storedValues: Tensor {
        switch self {
        case let .dense(t): return t
        case let .rows(r): return r.values
        }
    }

    /// A deep copy.
    public func copy() -> GradientValue {
        switch self {
        case let .dense(t): return .dense(t.copy())
        case let .rows(r): return .rows(RowSparseGradient(shape: r.shape, rows: r.rows, values: r.values.copy()))
        }
    }
}
