import CVectorKernels

/// Small vector kernels shared by forward and backward passes and the inference kernels. The `v…` ones are
/// parallel above `parallelFor`'s grain; the `simd…`/`…Row`/`…Range` ones run on the calling thread.

/// `y[i] += x[i]`
@inline(__always)
func vAdd(_ y: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, count: Int) {
    parallelFor(count) { r in for i in r { y[i] += x[i] } }
}

/// `y[i] *= a`
@inline(__always)
func vScale(_ y: UnsafeMutablePointer<Float>, _ a: Float, count: Int) {
    parallelFor(count) { r in for i in r { y[i] *= a } }
}

/// `y[i] += a * x[i]`
@inline(__always)
func vAxpy(_ y: UnsafeMutablePointer<Float>, _ a: Float, _ x: UnsafePointer<Float>, count: Int) {
    parallelFor(count) { r in for i in r { y[i] += a * x[i] } }
}

/// Applies `f` element-wise from `x` into `y`.
@inline(__always)
func vMap(_ y: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, count: Int, grain: Int = 32_768, _ f: (Float) -> Float) {
    parallelFor(count, grain: grain) { r in for i in r { y[i] = f(x[i]) } }
}

/// `Σ a[k] · b[k]` over `n` floats, eight lanes at a time (attention scores, small matrix-vector products).
@inline(__always)
public func simdDot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ n: Int) -> Float {
    var acc = SIMD8<Float>(repeating: 0)
    var k = 0
    while k + 8 <= n {
        acc += UnsafeRawPointer(a + k).loadUnaligned(as: SIMD8<Float>.self) * UnsafeRawPointer(b + k).loadUnaligned(as: SIMD8<Float>.self)
        k += 8
    }
    var s = acc.sum()
    while k < n { s += a[k] * b[k]; k += 1 }
    return s
}

/// `y[k] += a · x[k]` over `n` floats, eight lanes at a time, on the calling thread.
@inline(__always)
public func simdAxpy(_ y: UnsafeMutablePointer<Float>, _ a: Float, _ x: UnsafePointer<Float>, _ n: Int) {
    var k = 0
    while k + 8 <= n {
        let v = UnsafeRawPointer(y + k).loadUnaligned(as: SIMD8<Float>.self) + a * UnsafeRawPointer(x + k).loadUnaligned(as: SIMD8<Float>.self)
        UnsafeMutableRawPointer(y + k).storeBytes(of: v, as: SIMD8<Float>.self)
        k += 8
    }
    while k < n { y[k] += a * x[k]; k += 1 }
}

/// Rows of a large table prefetched ahead of the one being read or updated (``addRows(_:_:width:into:)``, lazy Adam).
public let rowsAhead = 4

/// Prefetch hints for the cache lines of `bytes` bytes from `start` (a hint: never faults, changes no value).
public func prefetchRow(_ start: UnsafeRawPointer, bytes: Int, forWriting: Bool) {
    var offset = 0
    while offset < bytes {
        if forWriting { distill_prefetch_write(start + offset) } else { distill_prefetch_read(start + offset) }
        offset += 64
    }
}

/// `y[k] += Σ table[r·width + k]` over the rows `r` of `rows`, added in their order: the same sums, bit for bit, as
/// one ``simdAxpy(_:_:_:_:)`` with `a = 1` per row, with up to 64 floats of `y` held in registers across the rows
/// instead of stored and reloaded per row, and each row's cache lines prefetched ``rowsAhead`` rows ahead, so the
/// misses of successive rows overlap (an embedding bag's rows are random reads of a large table).
public func addRows(_ table: UnsafePointer<Float>, _ rows: UnsafeBufferPointer<Int32>, width d: Int, into y: UnsafeMutablePointer<Float>) {
    typealias V = SIMD8<Float>
    func load(_ p: UnsafePointer<Float>) -> V { UnsafeRawPointer(p).loadUnaligned(as: V.self) }
    func store(_ v: V, _ p: UnsafeMutablePointer<Float>) { UnsafeMutableRawPointer(p).storeBytes(of: v, as: V.self) }
    var c = 0
    while c + 64 <= d {
        var (a0, a1, a2, a3) = (load(y + c), load(y + c + 8), load(y + c + 16), load(y + c + 24))
        var (a4, a5, a6, a7) = (load(y + c + 32), load(y + c + 40), load(y + c + 48), load(y + c + 56))
        for (i, r) in rows.enumerated() {
            if i + rowsAhead < rows.count { prefetchRow(table + Int(rows[i + rowsAhead]) * d + c, bytes: 256, forWriting: false) }
            let p = table + Int(r) * d + c
            a0 += load(p); a1 += load(p + 8); a2 += load(p + 16); a3 += load(p + 24)
            a4 += load(p + 32); a5 += load(p + 40); a6 += load(p + 48); a7 += load(p + 56)
        }
        store(a0, y + c); store(a1, y + c + 8); store(a2, y + c + 16); store(a3, y + c + 24)
        store(a4, y + c + 32); store(a5, y + c + 40); store(a6, y + c + 48); store(a7, y + c + 56)
        c += 64
    }
    while c + 8 <= d {
        var a = load(y + c)
        for r in rows { a += load(table + Int(r) * d + c) }
        store(a, y + c)
        c += 8
    }
    while c < d {
        var a = y[c]
        for r in rows { a += table[Int(r) * d + c] }
        y[c] = a
        c += 1
    }
}

/// Exact GELU (`x Φ(x)` through ``erfApproximation``) of `n` floats from `x` into `y` (may be the same).
@inline(__always)
func geluRange(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int) {
    var i = 0
    while i + 8 <= n {
        let v = UnsafeRawPointer(x + i).loadUnaligned(as: SIMD8<Float>.self)
        UnsafeMutableRawPointer(y + i).storeBytes(of: 0.5 * v * (1 + erfApproximation(v * 0.70710678118654752)), as: SIMD8<Float>.self)
        i += 8
    }
    while i < n {
        let v = SIMD8<Float>(repeating: x[i])
        y[i] = (0.5 * v * (1 + erfApproximation(v * 0.70710678118654752)))[0]
        i += 1
    }
}

/// LayerNorm of one row of `d` floats from `x` into `y` (may be the same): `(x - mean) / sqrt(var + eps) · γ + β`.
/// Returns the mean and `1 / std` (the backward pass keeps them).
@inline(__always)
@discardableResult
func layerNormRow(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ d: Int,
                  gamma: UnsafePointer<Float>, beta: UnsafePointer<Float>, epsilon: Float) -> (mean: Float, rstd: Float) {
    var mean: Float = 0
    for j in 0..<d { mean += x[j] }
    mean /= Float(d)
    var variance: Float = 0
    for j in 0..<d { let c = x[j] - mean; variance += c * c }
    variance /= Float(d)
    let rstd = 1 / (variance + epsilon).squareRoot()
    for j in 0..<d { y[j] = (x[j] - mean) * rstd * gamma[j] + beta[j] }
    return (mean, rstd)
}
