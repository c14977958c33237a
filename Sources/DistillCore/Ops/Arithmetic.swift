// Element-wise add/sub/mul/div with numpy broadcasting, scalar scale/shift, and negation.

/// `a + b`, broadcasting.
public func add(_ a: Tensor, _ b: Tensor) -> Tensor {
    binary(a, b, op: "add", { $0 + $1 }, da: { g, _, _ in g }, db: { g, _, _ in g })
}

/// `a - b`, broadcasting.
public func subtract(_ a: Tensor, _ b: Tensor) -> Tensor {
    binary(a, b, op: "subtract", { $0 - $1 }, da: { g, _, _ in g }, db: { g, _, _ in -g })
}

/// `a * b` element-wise, broadcasting.
public func multiply(_ a: Tensor, _ b: Tensor) -> Tensor {
    binary(a, b, op: "multiply", { $0 * $1 }, da: { g, _, y in g * y }, db: { g, x, _ in g * x })
}

/// `a / b` element-wise, broadcasting.
public func divide(_ a: Tensor, _ b: Tensor) -> Tensor {
    binary(a, b, op: "divide", { $0 / $1 }, da: { g, _, y in g / y }, db: { g, x, y in -g * x / (y * y) })
}

public func + (a: Tensor, b: Tensor) -> Tensor { add(a, b) }
public func - (a: Tensor, b: Tensor) -> Tensor { subtract(a, b) }
public func * (a: Tensor, b: Tensor) -> Tensor { multiply(a, b) }
public func / (a: Tensor, b: Tensor) -> Tensor { divide(a, b) }

/// `factor * x`.
public func scale(_ x: Tensor, by factor: Float) -> Tensor {
    let out = Tensor(uninitializedShape: x.shape)
    vMap(out.storage.pointer, x.storage.pointer, count: x.count) { $0 * factor }
    recordIfNeeded(out, inputs: [x]) { tape, g in
        if let gx = tape.gradient(of: x) { vAxpy(gx, factor, g, count: x.count) }
    }
    return out
}

/// `x + value`.
public func shift(_ x: Tensor, by value: Float) -> Tensor {
    let out = Tensor(uninitializedShape: x.shape)
    vMap(out.storage.pointer, x.storage.pointer, count: x.count) { $0 + value }
    recordIfNeeded(out, inputs: [x]) { tape, g in
        if let gx = tape.gradient(of: x) { vAdd(gx, g, count: x.count) }
    }
    return out
}

public func * (x: Tensor, factor: Float) -> Tensor { scale(x, by: factor) }
public func * (factor: Float, x: Tensor) -> Tensor { scale(x, by: factor) }
public prefix func - (x: Tensor) -> Tensor { scale(x, by: -1) }

/// Forward and backward of a broadcasting binary op: `f` computes an element, `da`/`db` the gradient
/// contribution to each operand from the upstream gradient `g` and the operand values.
@inline(__always)
private func binary(_ a: Tensor, _ b: Tensor, op: String,
                    _ f: @escaping (Float, Float) -> Float,
                    da: @escaping (Float, Float, Float) -> Float,
                    db: @escaping (Float, Float, Float) -> Float) -> Tensor {
    let pa = a.storage.pointer, pb = b.storage.pointer
    if a.shape == b.shape {
        let out = Tensor(uninitializedShape: a.shape)
        let po = out.storage.pointer
        parallelFor(a.count) { r in for i in r { po[i] = f(pa[i], pb[i]) } }
        recordIfNeeded(out, inputs: [a, b]) { tape, g in
            if let ga = tape.gradient(of: a) { parallelFor(a.count) { r in for i in r { ga[i] += da(g[i], pa[i], pb[i]) } } }
            if let gb = tape.gradient(of: b) { parallelFor(b.count) { r in for i in r { gb[i] += db(g[i], pa[i], pb[i]) } } }
        }
        return out
    }
    let plan = BroadcastPlan(a.shape, b.shape, op: op)
    let out = Tensor(uninitializedShape: plan.shape)
    let po = out.storage.pointer
    let n = plan.inner, sa = plan.aInner, sb = plan.bInner
    parallelFor(plan.rows, grain: max(1, 32_768 / max(n, 1))) { rows in
        for r in rows {
            let xa = pa + plan.aRowBase[r], xb = pb + plan.bRowBase[r], y = po + r * n
            for j in 0..<n { y[j] = f(xa[j * sa], xb[j * sb]) }
        }
    }
    recordIfNeeded(out, inputs: [a, b]) { tape, g in
        // Serial: a broadcast operand receives sums from many output rows.
        let ga = tape.gradient(of: a), gb = tape.gradient(of: b)
        for r in 0..<plan.rows {
            let oa = plan.aRowBase[r], ob = plan.bRowBase[r], gr = g + r * n
            for j in 0..<n {
                let x = pa[oa + j * sa], y = pb[ob + j * sb]
                if let ga { ga[oa + j * sa] += da(gr[j], x, y) }
                if let gb { gb[ob + j * sb] += db(gr[j], x, y) }
            }
        }
    }
    return out
}
