/// Inverted dropout: zeroes each element with probability `probability` and scales the rest by
/// `1 / (1 - probability)`. The mask comes from `generator`, so a seed fixes it.
///
/// Returns `x` itself when `probability` is 0 (evaluation mode passes 0).
public func dropout(_ x: Tensor, probability: Float, generator: inout RandomGenerator) -> Tensor {
    precondition(probability >= 0 && probability < 1, "dropout: probability must be in [0, 1), got \(probability)")
    if probability == 0 { return x }
    let keep = 1 - probability, factor = 1 / keep
    let mask = TensorStorage(count: x.count, zeroed: false)
    defer { withExtendedLifetime(mask) {} }  // used through raw pointers below
    let pm = mask.pointer
    for i in 0..<x.count { pm[i] = generator.nextUniform() < keep ? factor : 0 }
    let out = Tensor(uninitializedShape: x.shape)
    let px = x.storage.pointer, py = out.storage.pointer
    parallelFor(x.count) { r in for i in r { py[i] = px[i] * pm[i] } }
    recordIfNeeded(out, inputs: [x]) { tape, g in
        guard let gx = tape.gradient(of: x) else { return }
        keepAlive(mask)
        parallelFor(x.count) { r in for i in r { gx[i] += g[i] * pm[i] } }
    }
    return out
}
