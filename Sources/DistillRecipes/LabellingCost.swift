import DistillTeachers
import Foundation

/// What one LLM teacher was asked for one part of a run's data: lines, questions (one per template by default),
/// answers found in the label store and requests sent.
public struct LabellingCost: Sendable, Codable, Equatable {
    /// The part of the recipe's data the teacher labelled.
    public enum Part: String, Sendable, Codable {
        /// Labelled and unlabelled training lines.
        case train
        case dev
        /// Scoring the teacher on the test lines.
        case test
    }

    public var teacher: String
    public var part: Part
    public var summary: LabelingJob.Summary
}

/// The costs of a run, appended as its stages ask (a reference, so that the stages' struct can record into it).
final class LabellingLedger: @unchecked Sendable {
    private let lock = NSLock()
    private var entries: [LabellingCost] = []

    func append(_ cost: LabellingCost) { lock.withLock { entries.append(cost) } }
    var costs: [LabellingCost] { lock.withLock { entries } }
}
