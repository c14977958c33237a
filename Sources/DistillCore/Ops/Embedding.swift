/// Rows of `table` (`[V, D]`) picked by `indices`: the embedding lookup. Returns `shape + [D]`.
///
/// The backward pass scatter-adds into the rows that were read (repeated indices accumulate); for a row-sparse
/// table (see ``valueAndGradient(of:rowSparse:_:)``) it gives only those rows.
/// Traps, naming the index and `V`, if an index is out of range: validate ids at the data boundary.
public func embedding(_ table: Tensor, indices: [Int], shape: [Int]? = nil) -> Tensor {
    require(table.rank == 2, .wrongRank(op: "embedding", shape: table.shape, expected: "a [vocab, width] table"))
    let outLead = shape ?? [indices.count]
    require(Shapes.count(outLead) == indices.count,
            .countMismatch(op: "embedding", shape: outLead, count: indices.count))
    let (v, d) = (table.shape[0], table.shape[1])
    for (i, id) in indices.enumerated() where id < 0 || id >= v {
        preconditionFailure("embedding: index \(id) at position \(i) is outside the table's \(v) rows (table shape \(table.shape))")
    }
    let out = Tensor(uninitializedShape: outLead + [d])
    let pt = table.storage.pointer, po = out.storage.pointer
    parallelFor(indices.count, grain: max(1, 16_384 / max(d, 1))) { r in
        for i in r { (po + i * d).update(from: pt + indices[i] * d, count: d) }
    }
    recordIfNeeded(out, inputs: [table]) { tape, g in
        if tape.takesRows(table) {
            tape.accumulateRows(of: table, RowSparseGradient.collect(shape: table.shape, indices: indices) { i, slot in
                vAdd(slot, g + i * d, count: d)
            })
            return
        }
        guard let gt = tape.gradient(of: table) else { return }
        for (i, id) in indices.enumerated() {
            let dst = gt + id * d, src = g + i * d
            for j in 0..<d { dst[j] += src[j] }
        }
    }
    return out
}
