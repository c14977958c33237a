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

extension LossSchedule: ExpressibleByFloatLiteral, ExpressibleByIntegerLiteral {
    public init(floatLiteral value: Float) { self = .constant(value) }
    public init(integerLiteral value: Int) { self = .constant(Float(value)) }

    /// The schedule multiplied by `factor` (a teacher's weight).
    public func scaled(by factor: Float) -> LossSchedule {
        switch self {
        case let .constant(v): return .constant(v * factor)
        case let .linear(start, end, steps): return .linear(start: start * factor, end: end * factor, steps: steps)
        }
    }

    /// Whether the value is above zero at some step.
    public var isActive: Bool {
        switch self {
        case let .constant(v): return v > 0
        case let .linear(start, end, _): return start > 0 || end > 0
        }
    }
}
