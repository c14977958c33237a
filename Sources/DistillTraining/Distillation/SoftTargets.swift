import DistillCore

/// What a teacher gives for a batch: logits (white-box models) or probabilities (LLMs over an API).
public enum SoftTargets {
    /// `[N, C]` teacher logits.
    case logits(Tensor)
    /// `[N, C]` teacher probabilities (rows sum to 1; zeros allowed).
    case probabilities(Tensor)

    var tensor: Tensor {
        switch self {
        case let .logits(t), let .probabilities(t): return t
        }
    }
}

/// Soft-target KD loss per example, `T² · KL(p_t^T ‖ p_s^T)` (Hinton et al. 2015), `[N]`.
public func softTargetLoss(studentLogits: Tensor, targets: SoftTargets, temperature: Float) -> Tensor {
    switch targets {
    case let .logits(t): return klDivergence(studentLogits: studentLogits, teacherLogits: t, temperature: temperature, reduction: .perExample)
    case let .probabilities(p): return klDivergence(studentLogits: studentLogits, teacherProbabilities: p, temperature: temperature, reduction: .perExample)
    }
}
