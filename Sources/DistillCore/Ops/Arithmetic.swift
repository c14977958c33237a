// Element-wise add/sub/mul/div with numpy broadcasting, scalar scale/shift, and negation.

/// `a + b`, broadcasting.
public func add(_ a: Tensor, _ b: Tensor) -> Tensor { binary(a, b, AddKernel.self, op: "add") }

/// `a - b`, broadcasting.
public func subtract(_ a: Tensor, _ b: Tensor) -> Tensor { binary(a, b, SubtractKernel.self, op: "subtract") }

/// `a * b` element-wise, broadcasting.
public func multiply(_ a: Tensor, _ b: Tensor) -> Tensor { binary(a, b, MultiplyKernel.self, op: "multiply") }

/// `a / b` element-wise, broadcasting.
public func divide(_ a: Tensor, _ b: Tensor) -> Tensor { binary(a, b, DivideKernel.self, op: "divide") }

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

/// A binary element-wise function and its partial derivatives (given upstream gradient `g`).
/// Static requirements let the generic loops below specialize and vectorize.
protocol BinaryKernel {
    static func value(_ a: Float, _ b: Float) -> Float
    static func gradA(_ g: Float, _ a: Float, _ b: Float) -> Float
    static func gradB(_ g: Float, _ a: Float, _ b: Float) -> Float
}

enum AddKernel: BinaryKernel {
    @inline(__always) static func value(_ a: Float, _ b: Float) -> Float { a + b }
    @inline(__always) static func gradA(_ g: Float, _ a: Float, _ b: Float) -> Float { g }
    @inline(__always) static func gradB(_ g: Float, _ a: Float, _ b: Float) -> Float { g }
}

enum SubtractKernel: BinaryKernel {
    @inline(__always) static func value(_ a: Float, _ b: Float) -> Float { a - b }
    @inline(__always) static func gradA(_ g: Float, _ a: Float, _ b: Float) -> Float { g }
    @inline(__always) static func gradB(_ g: Float, _ a: Float, _ b: Float) -> Float { -g }
}

enum MultiplyKernel: BinaryKernel {
    @inline(__always) static func value(_ a: Float, _ b: Float) -> Float { a * b }
    @inline(__always) static func gradA(_ g: Float, _ a: Float, _ b: Float) -> Float { g * b }
    @inline(__always) static func gradB(_ g: Float, _ a: Float, _ b: Float) -> Float { g * a }
}

enum DivideKernel: BinaryKernel {
    @inline(__always) static func value(_ a: Float, _ b: Float) -> Float { a / b }
    @inline(__always) static func gradA(_ g: Float, _ a: Float, _ b: Float) -> Float { g / b }
    @inline(__always) static func gradB(_ g: Float, _ a: Float, _ b: Float) -> Float { -g * a / (b * b) }
}

/// Forward and backward of a broadcasting binary op. Three layouts:
/// equal shapes (flat, parallel); `b` repeating over `a`'s rows, like a bias (parallel rows; `b`'s gradient
/// summed over rows); anything else numpy allows (general strided loop).
private func binary<K: BinaryKernel>(_ a: Tensor, _ b: Tensor, _: K.Type, op: String) -> Tensor {
    let pa = a.storage.pointer, pb = b.storage.pointer
    if a.shape == b.shape {
        let out = Tensor(uninitializedShape: a.shape)
        let po = out.storage.pointer
        parallelFor(a.count) { r in for i in r { po[i] = K.value(pa[i], pb[i]) } }
        recordIfNeeded(out, inputs: [a, b]) { tape, g in
            if let ga = tape.gradient(of: a) { parallelFor(a.count) { r in for i in r { ga[i] += K.gradA(g[i], pa[i], pb[i]) } } }
            if let gb = tape.gradient(of: b) { parallelFor(b.count) { r in for i in r { gb[i] += K.gradB(g[i], pa[i], pb[i]) } } }
        }
        return out
    }
    if isTrailingBlock(b.shape, of: a.shape) {
        // b is a block of a's trailing dimensions (a bias [D] on [B, S, D]): a has the output shape.
        let out = Tensor(uninitializedShape: a.shape)
        let po = out.storage.pointer
        let bc = b.count, blocks = a.count / max(bc, 1)
        parallelFor(blocks, grain: max(1, 32_768 / max(bc, 1))) { r in
            for row in r {
                let xa = pa + row * bc, y = po + row * bc
                for j in 0..<bc { y[j] = K.value(xa[j], pb[j]) }
            }
        }
        recordIfNeeded(out, inputs: [a, b]) { tape, g in
            if let ga = tape.gradient(of: a) {
                parallelFor(blocks, grain: max(1, 32_768 / max(bc, 1))) { r in
                    for row in r {
                        let xa = pa + row * bc, gr = g + row * bc, d = ga + row * bc
                        for j in 0..<bc { d[j] += K.gradA(gr[j], xa[j], pb[j]) }
                    }
                }
            }
            if let gb = tape.gradient(of: b) {
                for row in 0..<blocks {
                    let xa = pa + row * bc, gr = g + row * bc
                    for j in 0..<bc { gb[j] += K.gradB(gr[j], xa[j], pb[j]) }
                }
            }
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
            for j in 0..<n { y[j] = K.value(xa[j * sa], xb[j * sb]) }
        }
    }
    recordIfNeeded(out, inputs: [a, b]) { tape, g in
        // Serial: a broadcast operand receives sums from many output rows.
        let ga = tape.gradient(of: a), gb = tape.gradient(of: b)
        for r in 0..<plan.rows {
            let oa = plan.aRowBase[r], ob = plan.bRowBase[r], gr = g + r * n
            for j in 0..<n {
                let x = pa[oa + j * sa], y = pb[ob + j * sb]
                if let ga { ga[oa + j * sa] += K.gradA(gr[j], x, y) }
                if let gb { gb[ob + j * sb] += K.gradB(gr[j], x, y) }
            }
        }
    }
    return out
}

/// Whether `b` (ignoring leading 1s) equals the trailing dimensions of `a`, so that `a` is a sequence of
/// whole copies of `b`'s layout.
private func isTrailingBlock(_ b: [Int], of a: [Int]) -> Bool {
    let trimmed = Array(b.drop { $0 == 1 })
    guard !trimmed.isEmpty, trimmed.count <= a.count, b.count <= a.count else { return false }
    return Array(a.suffix(trimmed.count)) == trimmed
}
