/// How a loss combines per-example values.
public enum Reduction: String, Sendable, Codable, CaseIterable {
    /// Average over examples (weighted where the loss says so). A scalar.
    case mean
    /// Sum over examples. A scalar.
    case sum
    /// One value per example, shape `[N]` (PyTorch's `reduction="none"`).
    case perExample
}

/// Makes the output tensor for per-example `values` under `reduction`, and the factor each example's
/// gradient is multiplied by (given the upstream gradient buffer of that output).
func reducedLoss(_ values: [Float], reduction: Reduction, normalizer: Float) -> (Tensor, (UnsafeMutablePointer<Float>, Int) -> Float) {
    switch reduction {
    case .perExample:
        return (Tensor(shape: [values.count], scalars: values), { g, i in g[i] })
    case .sum:
        return (Tensor(Float(values.reduce(0.0) { $0 + Double($1) })), { g, _ in g[0] })
    case .mean:
        let total = values.reduce(0.0) { $0 + Double($1) }
        let inv = normalizer > 0 ? 1 / normalizer : 0
        return (Tensor(Float(total) * inv), { g, _ in g[0] * inv })
    }
}
