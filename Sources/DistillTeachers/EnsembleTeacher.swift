import DistillTraining
import Foundation

/// Several teachers with weights, aggregated per text as in distillation (``aggregateTeachers(_:weights:strategy:reliability:)``).
/// A member that fails on a text takes no part in it; the text fails only when every member failed.
public final class EnsembleTeacher: Teacher, @unchecked Sendable {
    public let members: [any Teacher]
    public let weights: [Float]
    public let strategy: TeacherAggregation
    /// `[member][class]` for `.classReliability`.
    public let reliability: [[Float]]?
    public var labels: [String] { members[0].labels }
    public var identity: String {
        "ensemble(\(strategy.rawValue);" + zip(members, weights).map { "\($0.identity)*\($1)" }.joined(separator: ";") + ")"
    }
    public var preferredBatchSize: Int { members.map(\.preferredBatchSize).max() ?? 1 }
    public var maxConcurrency: Int { members.map(\.maxConcurrency).min() ?? 1 }

    public init(members: [any Teacher], weights: [Float], strategy: TeacherAggregation = .weightedMean, reliability: [[Float]]? = nil) throws {
        guard !members.isEmpty else { throw TeacherError.configuration(key: "teachers", detail: "an ensemble needs at least one teacher") }
        guard weights.count == members.count, weights.allSatisfy({ $0 >= 0 }), weights.contains(where: { $0 > 0 }) else {
            throw TeacherError.configuration(key: "weights", detail: "one weight >= 0 per teacher, not all 0 (got \(weights))")
        }
        for m in members.dropFirst() where m.labels != members[0].labels {
            throw TeacherError.configuration(key: "labels", detail: "every teacher must use the same labels in the same order")
        }
        if strategy == .classReliability, reliability?.count != members.count {
            throw TeacherError.configuration(key: "aggregation", detail: "class-reliability needs a reliability table per teacher")
        }
        self.members = members
        self.weights = weights
        self.strategy = strategy
        self.reliability = reliability
    }

    public func label(_ texts: [String]) async throws -> [TeacherAnswer] {
        var perMember: [[TeacherAnswer]] = []
        for m in members { perMember.append(try await m.label(texts)) }
        return combine(perMember)
    }

    /// The ensemble's answers from its members' answers `perMember[member][text]` (obtained elsewhere, e.g. each
    /// member through the label store).
    public func combine(_ perMember: [[TeacherAnswer]]) -> [TeacherAnswer] {
        precondition(perMember.count == members.count && perMember.allSatisfy { $0.count == perMember[0].count },
                     "EnsembleTeacher.combine: one answer list per member, all of one length")
        let aggregate = aggregateTeachers(perMember.map { $0.map { $0.label?.probabilities } }, weights: weights, strategy: strategy,
                                          reliability: reliability)
        return perMember[0].indices.map { i in
            let answers = perMember.map { $0[i] }
            let labelled = answers.compactMap(\.label)
            guard !labelled.isEmpty else { return answers[0] }
            let totalWeight = zip(answers, weights).reduce(Float(0)) { $0 + ($1.0.label == nil ? 0 : $1.1) }
            let outside = zip(answers, weights).reduce(Float(0)) { $0 + ($1.0.label?.outsideMass ?? 0) * $1.1 } / max(totalWeight, 1e-12)
            return .labelled(TeacherLabel(probabilities: aggregate[i], method: .ensemble, outsideMass: outside,
                                          rawAnswer: labelled.compactMap(\.rawAnswer).first,
                                          promptTokens: labelled.compactMap(\.promptTokens).reduce(nil) { ($0 ?? 0) + $1 },
                                          completionTokens: labelled.compactMap(\.completionTokens).reduce(nil) { ($0 ?? 0) + $1 },
                                          requests: answers.reduce(0) { $0 + ($1.label?.requests ?? $1.failure?.requests ?? 0) },
                                          latencySeconds: labelled.map(\.latencySeconds).reduce(0, +)))
        }
    }
}
