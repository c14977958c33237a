/// In-place row kernels of the inference path (no tape, no allocation): each works on `rows` rows of
/// `width` contiguous floats. They compute what the differentiable ops compute (``layerNorm(_:gamma:beta:epsilon:)``,
/// ``gelu(_:)``, ``softmax(_:)``), fused so a row is read once; the tests hold them to those ops.
public enum RowKernels {
    /// `y[r] = LayerNorm(y[r] + bias + residual[r])` (bias and residual optional), as BERT's output blocks do.
    public static func addBiasResidualLayerNorm(
        _ y: UnsafeMutablePointer<Float>, rows: Int, width d: Int, bias: UnsafePointer<Float>?,
        residual: UnsafePointer<Float>?, gamma: UnsafePointer<Float>, beta: UnsafePointer<Float>, epsilon: Float
    ) {
        for row in 0..<rows {
            let yr = y + row * d
            if let bias { for j in 0..<d { yr[j] += bias[j] } }
            if let residual { let rr = residual + row * d; for j in 0..<d { yr[j] += rr[j] } }
            var mean: Float = 0
            for j in 0..<d { mean += yr[j] }
            mean /= Float(d)
            var variance: Float = 0
            for j in 0..<d { let c = yr[j] - mean; variance += c * c }
            variance /= Float(d)
            let rstd = 1 / (variance + epsilon).squareRoot()
            for j in 0..<d { yr[j] = (yr[j] - mean) * rstd * gamma[j] + beta[j] }
        }
    }

    /// `y[r] += bias`.
    public static func addBias(_ y: UnsafeMutablePointer<Float>, rows: Int, width d: Int, bias: UnsafePointer<Float>) {
        for row in 0..<rows { let yr = y + row * d; for j in 0..<d { yr[j] += bias[j] } }
    }

    /// `y[r] = GELU(y[r] + bias)` (exact GELU through the same erf approximation as ``gelu(_:)``), or ReLU.
    public static func addBiasActivation(_ y: UnsafeMutablePointer<Float>, rows: Int, width d: Int, bias: UnsafePointer<Float>, relu: Bool = false) {
        addBias(y, rows: rows, width: d, bias: bias)
        let n = rows * d
        if relu {
            for i in 0..<n where y[i] < 0 { y[i] = 0 }
            return
        }
        var i = 0
        while i + 8 <= n {
            let v = UnsafeRawPointer(y + i).loadUnaligned(as: SIMD8<Float>.self)
            UnsafeMutableRawPointer(y + i).storeBytes(of: 0.5 * v * (1 + erfApproximation(v * 0.70710678118654752)), as: SIMD8<Float>.self)
            i += 8
        }
        while i < n {
            let v = SIMD8<Float>(repeating: y[i])
            y[i] = (0.5 * v * (1 + erfApproximation(v * 0.70710678118654752)))[0]
            i += 1
        }
    }

    /// `y[r] = tanh(y[r] + bias)` (BERT's pooler).
    public static func addBiasTanh(_ y: UnsafeMutablePointer<Float>, rows: Int, width d: Int, bias: UnsafePointer<Float>) {
        addBias(y, rows: rows, width: d, bias: bias)
        for i in 0..<(rows * d) { y[i] = _tanh(y[i]) }
    }

    /// Softmax of each row in place (max-shifted).
    public static func softmax(_ y: UnsafeMutablePointer<Float>, rows: Int, width d: Int) {
        guard d > 0 else { return }
        for row in 0..<rows {
            let yr = y + row * d
            var m = yr[0]
            for j in 1..<d { m = max(m, yr[j]) }
            let total = expShiftedSum(yr, yr, d, scale: 1, shift: m)
            let inv = 1 / total
            for j in 0..<d { yr[j] *= inv }
        }
    }
}

@inline(__always) private func _tanh(_ x: Float) -> Float {
    #if canImport(Glibc)
    return Glibc.tanhf(x)
    #else
    return Darwin.tanhf(x)
    #endif
}

#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif
