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
