/// Sum over `axes` (all axes when nil). With `keepDims` the reduced axes stay as size 1.
public func sum(_ x: Tensor, axes: [Int]? = nil, keepDims: Bool = false) -> Tensor {
    let (outShape, keptShape) = reducedShapes(x.shape, axes: axes, keepDims: keepDims, op: "sum")
    let out = Tensor(zeros: outShape)
    let plan = BroadcastPlan(shape: x.shape, aShape: keptShape, bShape: x.shape)
    let px = x.storage.pointer, po = out.storage.pointer
    let n = plan.inner, s = plan.aInner
    for r in 0..<plan.rows {
        let o = po + plan.aRowBase[r], xr = px + r * n
        if s == 0 {
            var acc: Float = 0
            for j in 0..<n { acc += xr[j] }
            o[0] += acc
        } else {
            for j in 0..<n { o[j] += xr[j] }
        }
    }
    recordIfNeeded(out, inputs: [x]) { tape, g in
        guard let gx = tape.gradient(of: x) else { return }
        for r in 0..<plan.rows {
            let go = g + plan.aRowBase[r], gr = gx + r * n
            for j in 0..<n { gr[j] += go[j * s] }
        }
    }
    return out
}

/// Mean over `axes` (all axes when nil).
public func mean(_ x: Tensor, axes: [Int]? = nil, keepDims: Bool = false) -> Tensor {
    let s = sum(x, axes: axes, keepDims: keepDims)
    let n = x.count / max(s.count, 1)
    return scale(s, by: 1 / Float(max(n, 1)))
}

/// Maximum over `axes` (all axes when nil). The gradient goes to the first maximal element.
public func max(_ x: Tensor, axes: [Int]? = nil, keepDims: Bool = false) -> Tensor {
    let (outShape, keptShape) = reducedShapes(x.shape, axes: axes, keepDims: keepDims, op: "max")
    require(x.count > 0, .wrongRank(op: "max", shape: x.shape, expected: "a non-empty tensor"))
    let out = Tensor(repeating: -.infinity, shape: outShape)
    var argmax = [Int](repeating: -1, count: out.count)
    let plan = BroadcastPlan(shape: x.shape, aShape: keptShape, bShape: x.shape)
    let px = x.storage.pointer, po = out.storage.pointer
    let n = plan.inner, s = plan.aInner
    for r in 0..<plan.rows {
        let base = plan.aRowBase[r]
        for j in 0..<n {
            let v = px[r * n + j], o = base + j * s
            if v > po[o] || argmax[o] < 0 { po[o] = v; argmax[o] = r * n + j }
        }
    }
    recordIfNeeded(out, inputs: [x]) { tape, g in
        guard let gx = tape.gradient(of: x) else { return }
        for (o, i) in argmax.enumerated() { gx[i] += g[o] }
    }
    return out
}

/// The output shape and the same shape with reduced axes kept as 1.
private func reducedShapes(_ shape: [Int], axes: [Int]?, keepDims: Bool, op: String) -> ([Int], [Int]) {
    let resolved = shapeCheck { () throws(ShapeError) -> Set<Int> in
        guard let axes else { return Set(0..<shape.count) }
        var set = Set<Int>()
        for a in axes { set.insert(try Shapes.axis(a, rank: shape.count, shape: shape, op: op)) }
        return set
    }
    var kept = shape
    for a in resolved { kept[a] = 1 }
    let out = keepDims ? kept : shape.enumerated().filter { !resolved.contains($0.offset) }.map(\.element)
    return (out, kept)
}
