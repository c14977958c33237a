import Foundation

/// Softmax over the last axis.
public func softmax(_ x: Tensor) -> Tensor {
    require(x.rank >= 1, .wrongRank(op: "softmax", shape: x.shape, expected: "rank >= 1"))
    let n = x.shape[x.rank - 1], rows = x.count / max(n, 1)
    let out = Tensor(uninitializedShape: x.shape)
    let px = x.storage.pointer, py = out.storage.pointer
    parallelFor(rows, grain: max(1, 8192 / max(n, 1))) { r in
        for row in r { softmaxRow(px + row * n, py + row * n, n) }
    }
    recordIfNeeded(out, inputs: [x]) { tape, g in
        keepAlive(out)
        guard let gx = tape.gradient(of: x) else { return }
        // dx = y * (g - sum(g * y))
        parallelFor(rows, grain: max(1, 8192 / max(n, 1))) { r in
            for row in r {
                let y = py + row * n, gr = g + row * n, d = gx + row * n
                var dot: Float = 0
                for j in 0..<n { dot += gr[j] * y[j] }
                for j in 0..<n { d[j] += y[j] * (gr[j] - dot) }
            }
        }
    }
    return out
}

/// Log-softmax over the last axis (stable: `x - max - log(sum(exp(x - max)))`).
public func logSoftmax(_ x: Tensor) -> Tensor {
    require(x.rank >= 1, .wrongRank(op: "logSoftmax", shape: x.shape, expected: "rank >= 1"))
    let n = x.shape[x.rank - 1], rows = x.count / max(n, 1)
    let out = Tensor(uninitializedShape: x.shape)
    let px = x.storage.pointer, py = out.storage.pointer
    parallelFor(rows, grain: max(1, 8192 / max(n, 1))) { r in
        for row in r { logSoftmaxRow(px + row * n, py + row * n, n) }
    }
    recordIfNeeded(out, inputs: [x]) { tape, g in
        keepAlive(out)
        guard let gx = tape.gradient(of: x) else { return }
        // dx = g - softmax * sum(g)
        parallelFor(rows, grain: max(1, 8192 / max(n, 1))) { r in
            for row in r {
                let y = py + row * n, gr = g + row * n, d = gx + row * n
                var total: Float = 0
                for j in 0..<n { total += gr[j] }
                for j in 0..<n { d[j] += gr[j] - Foundation.exp(y[j]) * total }
            }
        }
    }
    return out
}

/// `y = softmax(x * scale)` for one row of `n` elements.
@inline(__always)
func softmaxRow(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int, scale: Float = 1) {
    var m = -Float.infinity
    for j in 0..<n { m = Swift.max(m, x[j] * scale) }
    if m == -.infinity {  // every entry masked with -inf: no probability mass anywhere
        for j in 0..<n { y[j] = 0 }
        return
    }
    let total = expShiftedSum(y, x, n, scale: scale, shift: m)
    let inv = 1 / total
    for j in 0..<n { y[j] *= inv }
}

/// `y = log_softmax(x * scale)` for one row; returns nothing, writes `y`.
@inline(__always)
func logSoftmaxRow(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int, scale: Float = 1) {
    var m = -Float.infinity
    for j in 0..<n { m = Swift.max(m, x[j] * scale) }
    if m == -.infinity {
        for j in 0..<n { y[j] = -.infinity }
        return
    }
    var total: Float = 0
    for j in 0..<n { total += Foundation.exp(x[j] * scale - m) }
    let lse = m + Foundation.log(total)
    for j in 0..<n { y[j] = x[j] * scale - lse }
}
