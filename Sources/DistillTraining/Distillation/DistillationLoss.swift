import DistillCore

/// The classification part of a distillation objective and its parts (for logs and progress lines).
public struct DistillationLoss {
    /// Scalar to differentiate: the mean over examples that have a soft target, a gold label, or both.
    public let total: Tensor
    /// Mean soft (KD) loss over examples with a soft target (0 when none).
    public let soft: Float
    /// Mean hard (cross-entropy) loss over examples with a gold label (0 when none).
    public let hard: Float
    /// Examples that contributed.
    public let counted: Int
    /// Their total weight: the divisor of ``total`` (``counted`` when every example weighs 1).
    public let weight: Float
}

/// `alpha · soft + (1 − alpha) · hard` per example, soft only where an example has no gold label and hard only
/// where it has no soft target; averaged over the examples that have either, each weighing its `exampleWeights`
/// entry (a merged duplicate weighs its count): `Σ w_i l_i / Σ w_i`, or with `meanWeight` (the training set's mean
/// example weight) `Σ w_i l_i / (n · meanWeight)` over the n contributing examples — an unbiased estimate of the mean
/// loss over lines, where a per-batch `Σ w_i` would let the light examples of a batch that holds a heavy one count
/// for almost nothing and those of light batches for much more.
///
/// - Parameters:
///   - studentLogits: `[N, C]`.
///   - softTargets: the teacher's `[N, C]` output, or nil for a batch without any.
///   - hasSoftTarget: per example, whether its soft-target row is real (nil: all rows are). Rows without one
///     must still hold a valid distribution or logits (e.g. uniform); they get zero weight.
///   - hardLabels: per example the gold class, or nil.
///   - classWeights, labelSmoothing: as ``softmaxCrossEntropy(logits:targets:classWeights:labelSmoothing:ignoreIndex:reduction:)``
///     (per example; the mean here is over examples, not over class weights).
///   - exampleWeights: per example a weight > 0 (nil: all 1).
///   - meanWeight: the mean example weight of the whole training set (nil: normalize by the batch's weights).
public func distillationLoss(studentLogits: Tensor, softTargets: SoftTargets?, hasSoftTarget: [Bool]? = nil,
                             hardLabels: [Int?], alpha: Float, temperature: Float,
                             classWeights: [Float]? = nil, labelSmoothing: Float = 0, exampleWeights: [Float]? = nil,
                             meanWeight: Float? = nil) -> DistillationLoss {
    let n = studentLogits.shape[0]
    precondition(hardLabels.count == n, "distillationLoss: \(hardLabels.count) labels for \(n) examples")
    precondition(exampleWeights.map { $0.count == n && $0.allSatisfy { $0 > 0 && $0.isFinite } } ?? true,
                 "distillationLoss: one finite weight > 0 per example")
    precondition(alpha >= 0 && alpha <= 1, "distillationLoss: alpha must be in [0, 1], got \(alpha)")
    let soft: [Bool] = softTargets == nil ? Array(repeating: false, count: n) : (hasSoftTarget ?? Array(repeating: true, count: n))
    var softWeights = [Float](repeating: 0, count: n), hardWeights = [Float](repeating: 0, count: n)
    var counted = 0, softCount = 0, hardCount = 0
    var weight: Float = 0, softWeight: Float = 0, hardWeight: Float = 0
    for i in 0..<n {
        let w = exampleWeights?[i] ?? 1
        switch (soft[i], hardLabels[i] != nil) {
        case (true, true): softWeights[i] = alpha * w; hardWeights[i] = (1 - alpha) * w
        case (true, false): softWeights[i] = w
        case (false, true): hardWeights[i] = w
        case (false, false): continue
        }
        counted += 1
        weight += w
        if soft[i] { softCount += 1; softWeight += w }
        if hardLabels[i] != nil { hardCount += 1; hardWeight += w }
    }
    var total: Tensor? = nil
    var softMean: Float = 0, hardMean: Float = 0
    if softCount > 0, let softTargets {
        let perExample = softTargetLoss(studentLogits: studentLogits, targets: softTargets, temperature: temperature)
        var softSum: Float = 0
        for (i, (value, has)) in zip(perExample.scalars, soft).enumerated() where has { softSum += value * (exampleWeights?[i] ?? 1) }
        softMean = softSum / softWeight
        total = sum(perExample * Tensor(shape: [n], scalars: softWeights))
    }
    if hardCount > 0 {
        let targets = hardLabels.map { $0 ?? -100 }
        let perExample = softmaxCrossEntropy(logits: studentLogits, targets: targets, classWeights: classWeights,
                                             labelSmoothing: labelSmoothing, ignoreIndex: -100, reduction: .perExample)
        var hardSum: Float = 0
        for (i, (value, label)) in zip(perExample.scalars, hardLabels).enumerated() where label != nil { hardSum += value * (exampleWeights?[i] ?? 1) }
        hardMean = hardSum / hardWeight
        let h = sum(perExample * Tensor(shape: [n], scalars: hardWeights))
        total = total.map { $0 + h } ?? h
    }
    let normalizer = counted == 0 ? 1 : meanWeight.map { Float(counted) * $0 } ?? weight
    let loss = total.map { scale($0, by: 1 / normalizer) } ?? Tensor(0)
    return DistillationLoss(total: loss, soft: softMean, hard: hardMean, counted: counted, weight: weight)
}
