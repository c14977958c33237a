/// The mean of `table` rows over each bag of indices (fastText's sentence vector): `[bags, width]`.
///
/// `indices` holds every bag's row ids back to back; `offsets[b]` is where bag `b` starts (bags end where
/// the next begins, the last at `indices.count`). An empty bag gives a zero row. The backward pass adds
/// `g[b] / |bag|` into each row the bag read; for a row-sparse table (see ``valueAndGradient(of:rowSparse:_:)``)
/// it gives only those rows.
public func embeddingBagMean(_ table: Tensor, indices: [Int], offsets: [Int]) -> Tensor {
    require(table.rank == 2, .wrongRank(op: "embeddingBagMean", shape: table.shape, expected: "a [rows, width] table"))
    let (v, d) = (table.shape[0], table.shape[1])
    let bags = offsets.count
    for b in 0..<bags {
        let end = b + 1 < bags ? offsets[b + 1] : indices.count
        precondition(offsets[b] >= 0 && offsets[b] <= end && end <= indices.count,
                     "embeddingBagMean: offsets must be non-decreasing within 0...\(indices.count); bag \(b) is \(offsets[b])..<\(end)")
    }
    for (i, id) in indices.enumerated() where id < 0 || id >= v {
        preconditionFailure("embeddingBagMean: index \(id) at position \(i) is outside the table's \(v) rows")
    }
    let out = Tensor(zeros: [bags, d])
    let pt = table.storage.pointer, po = out.storage.pointer
    func bounds(_ b: Int) -> Range<Int> { offsets[b]..<(b + 1 < bags ? offsets[b + 1] : indices.count) }
    parallelFor(bags, grain: max(1, 4096 / max(d, 1))) { r in
        for b in r {
            let range = bounds(b)
            guard !range.isEmpty else { continue }
            let row = po + b * d
            for i in range {
                let src = pt + indices[i] * d
                for j in 0..<d { row[j] += src[j] }
            }
            let inv = 1 / Float(range.count)
            for j in 0..<d { row[j] *= inv }
        }
    }
    recordIfNeeded(out, inputs: [table]) { tape, g in
        if tape.takesRows(table) {
            var bagOf = [Int](repeating: 0, count: indices.count), inverse = [Float](repeating: 0, count: bags)
            for b in 0..<bags {
                let range = bounds(b)
                for i in range { bagOf[i] = b }
                if !range.isEmpty { inverse[b] = 1 / Float(range.count) }
            }
            tape.accumulateRows(of: table, RowSparseGradient.collect(shape: table.shape, indices: indices) { i, slot in
                let b = bagOf[i], inv = inverse[b], gr = g + b * d
                for j in 0..<d { slot[j] += gr[j] * inv }
            })
            return
        }
        guard let gt = tape.gradient(of: table) else { return }
        for b in 0..<bags {
            let range = bounds(b)
            guard !range.isEmpty else { continue }
            let inv = 1 / Float(range.count), gr = g + b * d
            for i in range {
                let dst = gt + indices[i] * d
                for j in 0..<d { dst[j] += gr[j] * inv }
            }
        }
    }
    return out
}
