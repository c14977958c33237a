/// A value (temperature, a loss weight) as a function of the training step.
public enum LossSchedule: Sendable, Equatable, Codable {
    case constant(Float)
    /// From `start` at step 0 to `end` at `steps`, linearly, then held.
    case linear(start: Float, end: Float, steps: Int)

    public func value(at step: Int) -> Float {
        switch self {
        case let .constant(v): return v
        case let .linear(start, end, steps):
            let t = steps <= 0 ? 1 : min(1, Float(max(0, step)) / Float(steps))
            return start + (end - start) * t
        }
    }
}
