/// How two operands of different shapes line up under numpy broadcasting: for every row of the output
/// (all dimensions but the last), the offset of the matching row of each operand, and each operand's stride
/// along the last dimension (0 where it is broadcast).
struct BroadcastPlan {
    let shape: [Int]
    let inner: Int
    let rows: Int
    let aInner: Int, bInner: Int
    let aRowBase: [Int], bRowBase: [Int]

    init(_ aShape: [Int], _ bShape: [Int], op: String) {
        let shape = shapeCheck { () throws(ShapeError) in try Shapes.broadcast(aShape, bShape, op: op) }
        self.init(shape: shape, aShape: aShape, bShape: bShape)
    }

    /// Plan for reading `aShape` and `bShape` (each broadcastable to `shape`) at every index of `shape`.
    init(shape: [Int], aShape: [Int], bShape: [Int]) {
        self.shape = shape
        let sa = Shapes.broadcastStrides(aShape, to: shape)
        let sb = Shapes.broadcastStrides(bShape, to: shape)
        inner = shape.last ?? 1
        let count = Shapes.count(shape)
        rows = inner == 0 ? 0 : count / inner
        aInner = shape.isEmpty ? 0 : sa[shape.count - 1]
        bInner = shape.isEmpty ? 0 : sb[shape.count - 1]
        var ab = [Int](repeating: 0, count: rows), bb = [Int](repeating: 0, count: rows)
        let outer = Array(shape.dropLast())
        var index = [Int](repeating: 0, count: outer.count)
        var oa = 0, ob = 0
        for r in 0..<rows {
            ab[r] = oa; bb[r] = ob
            var d = outer.count - 1
            while d >= 0 {
                index[d] += 1; oa += sa[d]; ob += sb[d]
                if index[d] < outer[d] { break }
                oa -= sa[d] * outer[d]; ob -= sb[d] * outer[d]; index[d] = 0
                d -= 1
            }
        }
        aRowBase = ab; bRowBase = bb
    }
}

/// Sums `grad` (laid out as `shape`) into `target`, whose shape broadcasts to `shape`.
func accumulateReduced(_ target: UnsafeMutablePointer<Float>, targetShape: [Int],
                       from grad: UnsafePointer<Float>, shape: [Int]) {
    if targetShape == shape {
        vAdd(target, grad, count: Shapes.count(shape))
        return
    }
    let plan = BroadcastPlan(shape: shape, aShape: targetShape, bShape: shape)
    let n = plan.inner, s = plan.aInner
    for r in 0..<plan.rows {
        let t = target + plan.aRowBase[r], g = grad + r * n
        if s == 0 {
            var acc: Float = 0
            for j in 0..<n { acc += g[j] }
            t[0] += acc
        } else {
            for j in 0..<n { t[j] += g[j] }
        }
    }
}
