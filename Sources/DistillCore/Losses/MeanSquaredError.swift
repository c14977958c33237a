/// Mean squared error `(prediction - target)²`; shapes must be equal. Both sides get gradients.
///
/// `.mean` averages over all elements; `.sum` adds them; `.perExample` averages over all but the first
/// axis and returns `[N]` (a hidden-state loss per example).
public func meanSquaredError(_ prediction: Tensor, _ target: Tensor, reduction: Reduction = .mean) -> Tensor {
    require(prediction.shape == target.shape,
            .mismatch(op: "meanSquaredError", prediction.shape, target.shape, detail: "shapes must be equal"))
    let n = prediction.count
    let examples = reduction == .perExample ? max(prediction.shape.first ?? 1, 1) : 1
    let per = n / examples
    let pa = prediction.storage.pointer, pb = target.storage.pointer
    var values = [Float](repeating: 0, count: examples)
    for e in 0..<examples {
        var total = 0.0
        for i in (e * per)..<((e + 1) * per) { let d = Double(pa[i] - pb[i]); total += d * d }
        values[e] = Float(total / Double(max(per, 1)))
    }
    // Per-example values are already means over their elements; .mean averages those, .sum undoes the mean.
    let out: Tensor
    switch reduction {
    case .perExample: out = Tensor(shape: [examples], scalars: values)
    case .mean: out = Tensor(values[0])
    case .sum: out = Tensor(values[0] * Float(per))
    }
    recordIfNeeded(out, inputs: [prediction, target]) { tape, g in
        let ga = tape.gradient(of: prediction), gb = tape.gradient(of: target)
        for e in 0..<examples {
            let upstream = reduction == .perExample ? g[e] : g[0]
            let f = reduction == .sum ? 2 * upstream : 2 * upstream / Float(max(per, 1))
            let range = (e * per)..<((e + 1) * per)
            if let ga { for i in range { ga[i] += f * (pa[i] - pb[i]) } }
            if let gb { for i in range { gb[i] -= f * (pa[i] - pb[i]) } }
        }
    }
    return out
}
