import Foundation

/// Finite-difference gradient checking, used by the tests of every op and layer.
///
/// The function's output is projected onto a fixed random tensor `R` (`L = Σ f(x) ⊙ R`, summed in Float64),
/// the tape's gradient of `L` is compared with central differences `(L(x+h) - L(x-h)) / 2h` for every
/// element of every input (or a seeded sample of `maxElementsPerInput` of them).
public enum GradientCheck {
    /// The outcome for one input tensor.
    public struct Result: Sendable, CustomStringConvertible {
        /// Index of the input in the list passed to ``check(_:step:maxElementsPerInput:seed:_:)``.
        public let input: Int
        /// Largest `|analytic - numeric| / max(|analytic|, |numeric|, floor)` over the checked elements.
        public let maxRelativeError: Double
        /// The element where it happened and both values there.
        public let worstIndex: Int, analytic: Double, numeric: Double
        public let checkedElements: Int

        public var description: String {
            "input \(input): max rel. error \(String(format: "%.2e", maxRelativeError)) at [\(worstIndex)] "
                + "(analytic \(analytic), numeric \(numeric)), \(checkedElements) elements"
        }
    }

    /// Checks the gradients of `function` w.r.t. each tensor in `inputs`.
    ///
    /// - Parameters:
    ///   - step: the finite-difference step `h` (Float32 inputs: 1e-2 balances truncation and rounding).
    ///   - floor: denominators below this use it instead, so near-zero gradients are judged absolutely.
    ///   - rowSparse: tables among `inputs` whose analytic gradient is computed row-sparse (then compared dense).
    public static func check(_ inputs: [Tensor], step: Float = 1e-2, floor: Double = 1e-2,
                             maxElementsPerInput: Int = 64, seed: UInt64 = 42, rowSparse: [Tensor] = [],
                             _ function: () -> Tensor) -> [Result] {
        var generator = RandomGenerator(seed: seed)
        let probe = withoutGradients(function)
        let projection = Tensor.randomUniform(probe.shape, low: -1, high: 1, using: &generator)
        func projected() -> Double {
            let y = withoutGradients(function)
            precondition(y.shape == projection.shape, "GradientCheck: output shape changed between calls")
            var total = 0.0
            for i in 0..<y.count { total += Double(y.storage.pointer[i]) * Double(projection.storage.pointer[i]) }
            return total
        }
        // Analytic: seed the output's gradient with the projection.
        let (_, grads) = valueAndGradient(of: inputs, rowSparse: rowSparse) {
            let y = function()
            return sumOfProduct(y, projection)
        }
        var results: [Result] = []
        for (k, x) in inputs.enumerated() {
            var indices = Array(0..<x.count)
            if indices.count > maxElementsPerInput {
                indices.shuffle(using: &generator)
                indices = Array(indices.prefix(maxElementsPerInput))
            }
            let g = grads[x]
            var worst = (err: 0.0, index: -1, a: 0.0, n: 0.0)
            for i in indices {
                let p = x.storage.pointer + i
                let saved = p.pointee
                p.pointee = saved + step
                let plus = projected()
                p.pointee = saved - step
                let minus = projected()
                p.pointee = saved
                let numeric = (plus - minus) / (2 * Double(step))
                let analytic = g.map { Double($0.storage.pointer[i]) } ?? 0
                let err = abs(analytic - numeric) / max(abs(analytic), abs(numeric), floor)
                if err > worst.err || worst.index < 0 { worst = (err, i, analytic, numeric) }
            }
            results.append(Result(input: k, maxRelativeError: worst.err, worstIndex: worst.index,
                                  analytic: worst.a, numeric: worst.n, checkedElements: indices.count))
        }
        return results
    }
}

/// `Σ y ⊙ r` as one op whose backward seeds `y`'s gradient with `r` (used by the gradient checker).
private func sumOfProduct(_ y: Tensor, _ r: Tensor) -> Tensor {
    var total = 0.0
    for i in 0..<y.count { total += Double(y.storage.pointer[i]) * Double(r.storage.pointer[i]) }
    let out = Tensor(Float(total))
    recordIfNeeded(out, inputs: [y]) { tape, g in
        guard let gy = tape.gradient(of: y) else { return }
        for i in 0..<y.count { gy[i] += g[0] * r.storage.pointer[i] }
    }
    return out
}
