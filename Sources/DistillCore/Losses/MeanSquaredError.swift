/// `mean((prediction - target)²)` over all elements (shapes must be equal). Both sides get gradients.
public func meanSquaredError(_ prediction: Tensor, _ target: Tensor) -> Tensor {
    require(prediction.shape == target.shape,
            .mismatch(op: "meanSquaredError", prediction.shape, target.shape, detail: "shapes must be equal"))
    let n = prediction.count
    let pa = prediction.storage.pointer, pb = target.storage.pointer
    var total = 0.0
    for i in 0..<n { let d = Double(pa[i] - pb[i]); total += d * d }
    let out = Tensor(Float(total / Double(max(n, 1))))
    recordIfNeeded(out, inputs: [prediction, target]) { tape, g in
        let f = 2 * g[0] / Float(max(n, 1))
        if let ga = tape.gradient(of: prediction) { parallelFor(n) { r in for i in r { ga[i] += f * (pa[i] - pb[i]) } } }
        if let gb = tape.gradient(of: target) { parallelFor(n) { r in for i in r { gb[i] -= f * (pa[i] - pb[i]) } } }
    }
    return out
}
