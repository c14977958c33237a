import DistillCore
import DistillNN
import Foundation

/// How hidden states are compared.
public enum HiddenStateLossKind: String, Sendable, Codable, CaseIterable {
    case mse, cosine
    /// What a recipe's `losses.hidden` uses when it names no `kind`.
    public static let standard: HiddenStateLossKind = .mse
}

/// How attention distributions are compared.
public enum AttentionLossKind: String, Sendable, Codable, CaseIterable {
    case kl, mse
    /// What a recipe's `losses.attention` uses when it names no `kind`.
    public static let standard: AttentionLossKind = .kl
}

/// How value relations are compared (MiniLM's loss: KL only).
public enum ValueRelationLossKind: String, Sendable, Codable, CaseIterable {
    case kl
    public static let standard: ValueRelationLossKind = .kl
}

/// Hidden-state loss between a (projected) student layer and a teacher layer, over real tokens only.
///
/// - Parameters:
///   - student: `[B, S, Ds]`.
///   - teacher: `[B, S, Dt]` (constant: stored teacher outputs).
///   - projection: maps `Ds → Dt` (learned with the student, dropped at export); nil when widths are equal.
///   - attentionMask: `B·S` values, 1 for real tokens.
///   - kind: `.mse` = mean squared error per real token and dimension; `.cosine` = 1 − mean cosine over real tokens.
public func hiddenStateLoss(student: Tensor, teacher: Tensor, projection: Linear?, attentionMask: [Int],
                           kind: HiddenStateLossKind = .mse) -> Tensor {
    let projected = projection.map { $0(student) } ?? student
    precondition(projected.shape == teacher.shape,
                 "hiddenStateLoss: student \(student.shape) (projected \(projected.shape)) does not match teacher \(teacher.shape); add a projection")
    let (b, s, d) = (teacher.shape[0], teacher.shape[1], teacher.shape[2])
    precondition(attentionMask.count == b * s, "hiddenStateLoss: mask has \(attentionMask.count) values for \(b)x\(s) tokens")
    let tokens = Float(max(1, attentionMask.reduce(0, +)))
    switch kind {
    case .mse:
        let mask = Tensor(shape: [b, s, 1], scalars: attentionMask.map { Float($0) })
        let diff = (projected - teacher) * mask
        return scale(sum(diff * diff), by: 1 / (tokens * Float(d)))
    case .cosine:
        let mask = Tensor(shape: [b, s], scalars: attentionMask.map { Float($0) })
        return shift(scale(sum(cosineSimilarity(projected, teacher) * mask), by: -1 / tokens), by: 1)
    }
}

/// Attention-distribution loss between mapped layers (TinyBERT/MiniLM), over real query tokens.
///
/// Heads: equal counts are matched one to one; when the teacher has a multiple of the student's heads, each
/// student head is matched to the average of its group of teacher heads; otherwise both sides are averaged over
/// heads. `.kl` is `KL(teacher ‖ student)` per query row; `.mse` the mean squared difference of probabilities.
///
/// - Parameters:
///   - student: `[B, Hs, S, S]` attention probabilities (differentiable).
///   - teacher: `[B, Ht, S, S]` (constant).
///   - attentionMask: `B·S` values.
public func attentionLoss(student: Tensor, teacher: Tensor, attentionMask: [Int], kind: AttentionLossKind = .standard) -> Tensor {
    precondition(student.rank == 4 && teacher.rank == 4 && student.shape[0] == teacher.shape[0]
                 && student.shape[2...] == teacher.shape[2...],
                 "attentionLoss: student \(student.shape) and teacher \(teacher.shape) must be [B, heads, S, S] with the same B and S")
    let (b, hs, s) = (student.shape[0], student.shape[1], student.shape[2])
    let ht = teacher.shape[1]
    var st = student, te = teacher
    if hs != ht {
        if ht % hs == 0 {
            te = withoutGradients { mean(teacher.reshaped([b, hs, ht / hs, s, s]), axes: [2]) }
        } else {
            st = mean(student, axes: [1], keepDims: true)
            te = withoutGradients { mean(teacher, axes: [1], keepDims: true) }
        }
    }
    let heads = st.shape[1]
    let rows = Float(max(1, attentionMask.reduce(0, +) * heads))
    let queryMask = Tensor(shape: [b, 1, s, 1], scalars: attentionMask.map { Float($0) })
    switch kind {
    case .mse:
        let diff = (st - te) * queryMask
        return scale(sum(diff * diff), by: 1 / (rows * Float(s)))
    case .kl:
        // Σ_k t (log t − log s); the t log t part is a constant but keeps the value a true KL (>= 0).
        let teacherEntropyTerm: Float = withoutGradients {
            let t = te.scalars, m = queryMask.scalars
            var total = 0.0
            for bi in 0..<b { for h in 0..<heads { for q in 0..<s where m[bi * s + q] != 0 {
                let base = ((bi * heads + h) * s + q) * s
                for k in 0..<s where t[base + k] > 0 { total += Double(t[base + k]) * log(Double(t[base + k])) }
            } } }
            return Float(total)
        }
        let crossEntropy = sum(te * log(shift(st, by: 1e-12)) * queryMask)
        return scale(shift(-crossEntropy, by: teacherEntropyTerm), by: 1 / rows)
    }
}

/// MiniLM's value-relation distribution of one layer: `softmax(V Vᵀ / sqrt(d))` per head over real keys,
/// `[B, heads, S, S]`, from value vectors `[B, heads, S, d]`.
public func valueRelation(_ values: Tensor, attentionMask: [Int]) -> Tensor {
    let (b, s) = (values.shape[0], values.shape[2])
    let mask = additiveAttentionMask(paddingMask: Tensor(shape: [b, s], scalars: attentionMask.map { Float($0) }))
    return attentionProbabilities(query: values, key: values, mask: mask)
}

/// MiniLM's value-relation loss (Wang et al. 2020): KL between the teacher's and the student's value relations
/// of their last layers, with heads matched, grouped or averaged as in ``attentionLoss(student:teacher:attentionMask:kind:)``.
public func valueRelationLoss(studentValues: Tensor, teacherRelation: Tensor, attentionMask: [Int]) -> Tensor {
    attentionLoss(student: valueRelation(studentValues, attentionMask: attentionMask), teacher: teacherRelation, attentionMask: attentionMask, kind: .kl)
}
