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
public func gelu(_ x: Tensor) -> Tensor {
    unary(x, { 0.5 * $0 * (1 + erff($0 * 0.70710678118654752)) }, { x, _ in
        0.5 * (1 + erff(x * 0.70710678118654752)) + x * 0.39894228040143268 * Foundation.exp(-0.5 * x * x)
    })
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
