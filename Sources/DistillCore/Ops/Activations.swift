import Foundation

// Element-wise math and activations. Each derivative is written as a function of the input `x` and the
// output `y`, whichever is cheaper.

/// `e^x`.
public func exp(_ x: Tensor) -> Tensor { unary(x, { Foundation.exp($0) }, { _, y in y }) }

/// Natural logarithm.
public func log(_ x: Tensor) -> Tensor { unary(x, { Foundation.log($0) }, { x, _ in 1 / x }) }

/// Square root.
public func sqrt(_ x: Tensor) -> Tensor { unary(x, { $0.squareRoot() }, { _, y in 0.5 / y }) }

/// Hyperbolic tangent.
public func tanh(_ x: Tensor) -> Tensor { unary(x, { Foundation.tanh($0) }, { _, y in 1 - y * y }) }

/// `max(x, 0)`; the gradient at 0 is taken as 0.
public func relu(_ x: Tensor) -> Tensor { unary(x, { max($0, 0) }, { x, _ in x > 0 ? 1 : 0 }) }

/// Logistic sigmoid `1 / (1 + e^-x)`, computed without overflow.
public func sigmoid(_ x: Tensor) -> Tensor { unary(x, stableSigmoid, { _, y in y * (1 - y) }) }

/// Exact GELU, `x * Φ(x) = 0.5 x (1 + erf(x / √2))`, as BERT uses (not the tanh approximation).
///
/// `erf` is a vectorized rational approximation (absolute error <= 4.2e-7 against `math.erf`, measured
/// over [-6, 6]); GELU was the largest non-GEMM cost of a BERT forward pass with libm's scalar `erff`.
public func gelu(_ x: Tensor) -> Tensor {
    let out = Tensor(uninitializedShape: x.shape)
    let px = x.storage.pointer, py = out.storage.pointer
    parallelFor(x.count, grain: 16_384) { r in geluRange(px + r.lowerBound, py + r.lowerBound, r.count) }
    recordIfNeeded(out, inputs: [x]) { tape, g in
        guard let gx = tape.gradient(of: x) else { return }
        // d/dx = Φ(x) + x φ(x), eight lanes at a time.
        parallelFor(x.count, grain: 16_384) { r in
            var i = r.lowerBound
            while i + 8 <= r.upperBound {
                let v = UnsafeRawPointer(px + i).loadUnaligned(as: SIMD8<Float>.self)
                let gv = UnsafeRawPointer(g + i).loadUnaligned(as: SIMD8<Float>.self)
                let old = UnsafeRawPointer(gx + i).loadUnaligned(as: SIMD8<Float>.self)
                let d = 0.5 * (1 + erfApproximation(v * 0.70710678118654752)) + v * 0.39894228040143268 * simdExp(-0.5 * v * v)
                UnsafeMutableRawPointer(gx + i).storeBytes(of: old + gv * d, as: SIMD8<Float>.self)
                i += 8
            }
            while i < r.upperBound {
                let v = SIMD8<Float>(repeating: px[i])
                let d = 0.5 * (1 + erfApproximation(v * 0.70710678118654752)) + v * 0.39894228040143268 * simdExp(-0.5 * v * v)
                gx[i] += g[i] * d[0]
                i += 1
            }
        }
    }
    return out
}

/// `erf(x)` as a rational function of x on [-4, 4] (±1 beyond, as Float32 rounds there); odd numerator of
/// degree 13 over an even denominator of degree 8.
@inline(__always)
func erfApproximation(_ input: SIMD8<Float>) -> SIMD8<Float> {
    var x = input
    x.replace(with: SIMD8(repeating: 4), where: x .> 4)
    x.replace(with: SIMD8(repeating: -4), where: x .< -4)
    let x2 = x * x
    var p = SIMD8<Float>(repeating: -2.72614225801306e-10)
    p = p * x2 + 2.77068142495902e-08
    p = p * x2 - 2.10102402082508e-06
    p = p * x2 - 5.69250639462346e-05
    p = p * x2 - 7.34990630326855e-04
    p = p * x2 - 2.95459980854025e-03
    p = p * x2 - 1.60960333262415e-02
    p = p * x
    var q = SIMD8<Float>(repeating: -1.45660718464996e-05)
    q = q * x2 - 2.13374055278905e-04
    q = q * x2 - 1.68282697438203e-03
    q = q * x2 - 7.37332916720468e-03
    q = q * x2 - 1.42647390514189e-02
    return p / q
}

@inline(__always)
func stableSigmoid(_ x: Float) -> Float {
    if x >= 0 { return 1 / (1 + Foundation.exp(-x)) }
    let e = Foundation.exp(x)
    return e / (1 + e)
}

@inline(__always)
private func unary(_ x: Tensor, _ f: @escaping (Float) -> Float, _ derivative: @escaping (Float, Float) -> Float) -> Tensor {
    let out = Tensor(uninitializedShape: x.shape)
    let px = x.storage.pointer, py = out.storage.pointer
    vMap(py, px, count: x.count, grain: 8192, f)
    recordIfNeeded(out, inputs: [x]) { tape, g in
        keepAlive(out)
        guard let gx = tape.gradient(of: x) else { return }
        parallelFor(x.count, grain: 8192) { r in for i in r { gx[i] += g[i] * derivative(px[i], py[i]) } }
    }
    return out
}
