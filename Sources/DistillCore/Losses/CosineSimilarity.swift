/// Cosine similarity along the last axis: `a·b / (max(‖a‖, ε) · max(‖b‖, ε))`.
///
/// `a` and `b` are `[..., D]` of equal shape; the result is `[...]` (one value per row).
/// A hidden-state loss is `1 - mean(cosineSimilarity(...))`.
public func cosineSimilarity(_ a: Tensor, _ b: Tensor, epsilon: Float = 1e-8) -> Tensor {
    require(a.shape == b.shape && a.rank >= 1, .mismatch(op: "cosineSimilarity", a.shape, b.shape, detail: "shapes must be equal, rank >= 1"))
    let d = a.shape[a.rank - 1], rows = a.count / max(d, 1)
    let out = Tensor(uninitializedShape: Array(a.shape.dropLast()))
    let pa = a.storage.pointer, pb = b.storage.pointer, po = out.storage.pointer
    var norms = [Float](repeating: 0, count: rows * 2)
    for r in 0..<rows {
        var dot: Float = 0, na: Float = 0, nb: Float = 0
        for j in 0..<d { let x = pa[r * d + j], y = pb[r * d + j]; dot += x * y; na += x * x; nb += y * y }
        let ra = max(na.squareRoot(), epsilon), rb = max(nb.squareRoot(), epsilon)
        norms[2 * r] = ra; norms[2 * r + 1] = rb
        po[r] = dot / (ra * rb)
    }
    recordIfNeeded(out, inputs: [a, b]) { tape, g in
        keepAlive(out)
        let ga = tape.gradient(of: a), gb = tape.gradient(of: b)
        for r in 0..<rows {
            let ra = norms[2 * r], rb = norms[2 * r + 1], s = po[r], gr = g[r]
            // ds/da = b/(ra rb) - s a / ra² (the second term only where ‖a‖ > ε); likewise for b.
            let ca: Float = ra > epsilon ? s / (ra * ra) : 0, cb: Float = rb > epsilon ? s / (rb * rb) : 0
            for j in 0..<d {
                let x = pa[r * d + j], y = pb[r * d + j]
                if let ga { ga[r * d + j] += gr * (y / (ra * rb) - ca * x) }
                if let gb { gb[r * d + j] += gr * (x / (ra * rb) - cb * y) }
            }
        }
    }
    return out
}
