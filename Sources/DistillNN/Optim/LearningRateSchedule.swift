import Foundation

/// Learning rate as a function of the optimizer step (0-based: the rate used for the step-th update).
///
/// The warmup shapes match Hugging Face's `get_linear_schedule_with_warmup` and
/// `get_cosine_schedule_with_warmup`: linear rise from 0 over `warmupSteps`, then decay to `minimum`
/// at `totalSteps`.
public enum LearningRateSchedule: Sendable, Equatable, Codable {
    case constant(Float)
    case warmupLinearDecay(peak: Float, warmupSteps: Int, totalSteps: Int, minimum: Float = 0)
    case warmupCosineDecay(peak: Float, warmupSteps: Int, totalSteps: Int, minimum: Float = 0)

    /// The rate for `step`.
    public func learningRate(at step: Int) -> Float {
        switch self {
        case let .constant(rate):
            return rate
        case let .warmupLinearDecay(peak, warmup, total, minimum):
            if step < warmup { return peak * Float(step) / Float(max(1, warmup)) }
            let progress = Float(step - warmup) / Float(max(1, total - warmup))
            return minimum + (peak - minimum) * max(0, 1 - progress)
        case let .warmupCosineDecay(peak, warmup, total, minimum):
            if step < warmup { return peak * Float(step) / Float(max(1, warmup)) }
            let progress = min(1, Float(step - warmup) / Float(max(1, total - warmup)))
            return minimum + (peak - minimum) * 0.5 * (1 + Float(Foundation.cos(Double.pi * Double(progress))))
        }
    }
}
