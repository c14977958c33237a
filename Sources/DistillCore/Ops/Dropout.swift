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
    // Two 24-bit uniforms per 64-bit draw (the mask is a pure function of the generator's state).
    let threshold = UInt64(Double(keep) * 16_777_216)
    var i = 0
    while i + 1 < x.count {
        let r = generator.next()
        pm[i] = (r >> 40) < threshold ? factor : 0
        pm[i + 1] = ((r >> 16) & 0xFF_FFFF) < threshold ? factor : 0
        i += 2
    }
    if i < x.count { pm[i] = (generator.next() >> 40) < threshold ? factor : 0 }
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
