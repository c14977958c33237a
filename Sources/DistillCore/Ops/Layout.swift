// Ops that move elements without changing them: reshape, permute/transpose, concat, slice.

extension Tensor {
    /// The same elements viewed with another shape (no copy). One dimension may be -1 (inferred).
    public func reshaped(_ newShape: [Int]) -> Tensor {
        var shape = newShape
        if let i = shape.firstIndex(of: -1) {
            let known = shape.enumerated().filter { $0.offset != i }.reduce(1) { $0 * $1.element }
            require(known > 0 && count % known == 0,
                    .mismatch(op: "reshape", self.shape, newShape, detail: "cannot infer -1 for \(count) elements"))
            shape[i] = count / known
        }
        require(shape.allSatisfy { $0 >= 0 } && Shapes.count(shape) == count,
                .mismatch(op: "reshape", self.shape, newShape, detail: "element counts differ (\(count) vs \(Shapes.count(shape)))"))
        let out = Tensor(shape: shape, storage: storage)
        let x = self
        recordIfNeeded(out, inputs: [x]) { tape, g in
            if let gx = tape.gradient(of: x) { vAdd(gx, g, count: x.count) }
        }
        return out
    }
}

/// Reorders dimensions: output dimension `i` is input dimension `axes[i]` (a copy, contiguous).
public func permute(_ x: Tensor, _ axes: [Int]) -> Tensor {
    require(axes.count == x.rank && Set(axes) == Set(0..<x.rank),
            .mismatch(op: "permute", x.shape, axes, detail: "axes must be a permutation of 0..<\(x.rank)"))
    let outShape = axes.map { x.shape[$0] }
    let out = Tensor(uninitializedShape: outShape)
    let inStrides = Shapes.strides(x.shape)
    let readStrides = axes.map { inStrides[$0] }  // stride in x for each output dimension
    stridedCopy(from: x.storage.pointer, readStrides: readStrides, to: out.storage.pointer, shape: outShape, accumulate: false)
    recordIfNeeded(out, inputs: [x]) { tape, g in
        guard let gx = tape.gradient(of: x) else { return }
        // Scatter back: walk the output layout and add into x's positions.
        stridedCopy(from: g, readStrides: Shapes.strides(outShape), to: gx, writeStrides: readStrides,
                    shape: outShape, accumulate: true)
    }
    return out
}

/// Swaps two dimensions (default: the last two).
public func transpose(_ x: Tensor, _ dim0: Int = -2, _ dim1: Int = -1) -> Tensor {
    let (a, b) = shapeCheck { () throws(ShapeError) in
        (try Shapes.axis(dim0, rank: x.rank, shape: x.shape, op: "transpose"),
         try Shapes.axis(dim1, rank: x.rank, shape: x.shape, op: "transpose"))
    }
    var axes = Array(0..<x.rank)
    axes.swapAt(a, b)
    return permute(x, axes)
}

/// Copies (or adds) elements of `shape` read at `readStrides` into `destination` at `writeStrides`
/// (row-major of `shape` when nil). Parallel over the outermost rows.
private func stridedCopy(from source: UnsafePointer<Float>, readStrides: [Int],
                         to destination: UnsafeMutablePointer<Float>, writeStrides: [Int]? = nil,
                         shape: [Int], accumulate: Bool) {
    let count = Shapes.count(shape)
    guard count > 0 else { return }
    let ws = writeStrides ?? Shapes.strides(shape)
    let plan = BroadcastPlan(shape: shape, aShape: shape, bShape: shape)  // row structure only
    // Offsets of each row's first element, computed from the strides.
    let outer = Array(shape.dropLast()), n = shape.last ?? 1
    let rs = readStrides.last ?? 1, wsi = ws.last ?? 1
    var readBase = [Int](repeating: 0, count: plan.rows), writeBase = [Int](repeating: 0, count: plan.rows)
    var index = [Int](repeating: 0, count: outer.count)
    var ro = 0, wo = 0
    for r in 0..<plan.rows {
        readBase[r] = ro; writeBase[r] = wo
        var d = outer.count - 1
        while d >= 0 {
            index[d] += 1; ro += readStrides[d]; wo += ws[d]
            if index[d] < outer[d] { break }
            ro -= readStrides[d] * outer[d]; wo -= ws[d] * outer[d]; index[d] = 0
            d -= 1
        }
    }
    parallelFor(plan.rows, grain: max(1, 16_384 / max(n, 1))) { rows in
        for r in rows {
            let s = source + readBase[r], t = destination + writeBase[r]
            if rs == 1 && wsi == 1 {  // contiguous runs (the last axis stays last): plain copies
                if accumulate { for j in 0..<n { t[j] += s[j] } } else { t.update(from: s, count: n) }
            } else if accumulate {
                for j in 0..<n { t[j * wsi] += s[j * rs] }
            } else {
                for j in 0..<n { t[j * wsi] = s[j * rs] }
            }
        }
    }
}

/// Joins tensors along `axis`; all other dimensions must agree.
public func concat(_ tensors: [Tensor], axis: Int) -> Tensor {
    precondition(!tensors.isEmpty, "concat: needs at least one tensor")
    let first = tensors[0]
    let ax = shapeCheck { () throws(ShapeError) in try Shapes.axis(axis, rank: first.rank, shape: first.shape, op: "concat") }
    for t in tensors {
        var a = t.shape, b = first.shape
        if a.count == b.count { a[ax] = 0; b[ax] = 0 }
        require(a == b, .mismatch(op: "concat", first.shape, t.shape, detail: "all dimensions but axis \(ax) must be equal"))
    }
    var outShape = first.shape
    outShape[ax] = tensors.reduce(0) { $0 + $1.shape[ax] }
    let out = Tensor(uninitializedShape: outShape)
    let outer = Shapes.count(Array(first.shape[..<ax]))
    let inner = Shapes.count(Array(first.shape[(ax + 1)...]))
    let outRow = outShape[ax] * inner
    var offset = 0
    var offsets: [Int] = []
    for t in tensors {
        let chunk = t.shape[ax] * inner
        offsets.append(offset)
        for o in 0..<outer {
            (out.storage.pointer + o * outRow + offset).update(from: t.storage.pointer + o * chunk, count: chunk)
        }
        offset += chunk
    }
    recordIfNeeded(out, inputs: tensors) { tape, g in
        for (t, off) in zip(tensors, offsets) {
            guard let gt = tape.gradient(of: t) else { continue }
            let chunk = t.shape[ax] * inner
            for o in 0..<outer { vAdd(gt + o * chunk, g + o * outRow + off, count: chunk) }
        }
    }
    return out
}

/// The sub-tensor `range` along `axis` (a copy).
public func slice(_ x: Tensor, axis: Int, _ range: Range<Int>) -> Tensor {
    let ax = shapeCheck { () throws(ShapeError) in try Shapes.axis(axis, rank: x.rank, shape: x.shape, op: "slice") }
    require(range.lowerBound >= 0 && range.upperBound <= x.shape[ax],
            .mismatch(op: "slice", x.shape, [range.lowerBound, range.upperBound],
                      detail: "range \(range) is outside 0..<\(x.shape[ax]) on axis \(ax)"))
    var outShape = x.shape
    outShape[ax] = range.count
    let out = Tensor(uninitializedShape: outShape)
    let outer = Shapes.count(Array(x.shape[..<ax]))
    let inner = Shapes.count(Array(x.shape[(ax + 1)...]))
    let inRow = x.shape[ax] * inner, chunk = range.count * inner, start = range.lowerBound * inner
    for o in 0..<outer {
        (out.storage.pointer + o * chunk).update(from: x.storage.pointer + o * inRow + start, count: chunk)
    }
    recordIfNeeded(out, inputs: [x]) { tape, g in
        guard let gx = tape.gradient(of: x) else { return }
        for o in 0..<outer { vAdd(gx + o * inRow + start, g + o * chunk, count: chunk) }
    }
    return out
}
