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
            layerNormRow(yr, yr, d, gamma: gamma, beta: beta, epsilon: epsilon)
        }
    }

    /// `y[r] += bias`.
    public static func addBias(_ y: UnsafeMutablePointer<Float>, rows: Int, width d: Int, bias: UnsafePointer<Float>) {
        for row in 0..<rows { let yr = y + row * d; for j in 0..<d { yr[j] += bias[j] } }
    }

    /// `y[r] = GELU(y[r] + bias)` (exact GELU through the same erf approximation as ``gelu(_:)``), or ReLU; no
    /// bias when `bias` is nil.
    public static func addBiasActivation(_ y: UnsafeMutablePointer<Float>, rows: Int, width d: Int, bias: UnsafePointer<Float>?, relu: Bool = false) {
        if let bias { addBias(y, rows: rows, width: d, bias: bias) }
        let n = rows * d
        if relu {
            for i in 0..<n where y[i] < 0 { y[i] = 0 }
        } else {
            geluRange(y, y, n)
        }
    }

    /// `y[r] = tanh(y[r] + bias)` (BERT's pooler); no bias when `bias` is nil.
    public static func addBiasTanh(_ y: UnsafeMutablePointer<Float>, rows: Int, width d: Int, bias: UnsafePointer<Float>?) {
        if let bias { addBias(y, rows: rows, width: d, bias: bias) }
        for i in 0..<(rows * d) { y[i] = _tanh(y[i]) }
    }

    /// Softmax of each row in place (max-shifted; a row of -inf becomes zeros), as ``softmax(_:)``.
    public static func softmax(_ y: UnsafeMutablePointer<Float>, rows: Int, width d: Int) {
        for row in 0..<rows { softmaxRow(y + row * d, y + row * d, d) }
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
