import Foundation

/// How the soft targets of several teachers become one distribution per example.
public enum TeacherAggregation: String, Sendable, Codable, CaseIterable {
    /// Σ w_t p_t / Σ w_t.
    case weightedMean = "weighted-mean"
    /// Per example, teacher weight × (1 − normalized entropy of its distribution): confident teachers count more.
    case confidence
    /// Per class, teacher weight × the teacher's F1 on that class measured on a labelled dev set.
    case classReliability = "class-reliability"
}

/// Combines teacher distributions `distributions[t][i]` (teacher × example × class) into one per example.
///
/// - Parameters:
///   - weights: one per teacher (>= 0, not all 0).
///   - reliability: `[t][c]` for `.classReliability` (see ``classReliability(devDistributions:devLabels:classes:)``).
public func aggregateTeachers(_ distributions: [[[Float]]], weights: [Float], strategy: TeacherAggregation,
                              reliability: [[Float]]? = nil) -> [[Float]] {
    aggregateTeachers(distributions.map { $0.map { Optional($0) } }, weights: weights, strategy: strategy, reliability: reliability)
}

/// ``aggregateTeachers(_:weights:strategy:reliability:)`` where a teacher may have no distribution for some
/// examples (nil): it then takes no part in them. An example no teacher covers gets the uniform distribution.
public func aggregateTeachers(_ distributions: [[[Float]?]], weights: [Float], strategy: TeacherAggregation,
                              reliability: [[Float]]? = nil) -> [[Float]] {
    precondition(!distributions.isEmpty && distributions.count == weights.count, "aggregateTeachers: one weight per teacher")
    let examples = distributions[0].count
    let classes = distributions.lazy.flatMap { $0 }.compactMap { $0?.count }.first ?? 0
    precondition(distributions.allSatisfy { $0.count == examples && $0.allSatisfy { $0 == nil || $0!.count == classes } },
                 "aggregateTeachers: every teacher must give \(examples) distributions over \(classes) classes")
    if strategy == .classReliability {
        precondition(reliability?.count == distributions.count && reliability!.allSatisfy { $0.count == classes },
                     "aggregateTeachers: class-reliability needs a [teacher][class] reliability table")
    }
    let logC = log(Float(max(classes, 2)))
    var out = [[Float]](repeating: [Float](repeating: 0, count: classes), count: examples)
    for i in 0..<examples {
        var row = [Float](repeating: 0, count: classes)
        var totalWeight: Float = 0
        for (t, teacher) in distributions.enumerated() {
            guard let p = teacher[i] else { continue }
            switch strategy {
            case .weightedMean:
                for c in 0..<classes { row[c] += weights[t] * p[c] }
                totalWeight += weights[t]
            case .confidence:
                let entropy = -p.reduce(Float(0)) { $0 + ($1 > 0 ? $1 * log($1) : 0) }
                let w = weights[t] * max(1e-6, 1 - entropy / logC)
                for c in 0..<classes { row[c] += w * p[c] }
                totalWeight += w
            case .classReliability:
                for c in 0..<classes { row[c] += weights[t] * reliability![t][c] * p[c] }
                totalWeight = 1
            }
        }
        let norm = row.reduce(0, +)
        if norm > 0 && totalWeight > 0 { for c in 0..<classes { row[c] /= norm } } else { row = [Float](repeating: 1 / Float(classes), count: classes) }
        out[i] = row
    }
    return out
}

/// Per teacher and class, the F1 of the teacher's argmax on a labelled dev set (smoothed by +1 so that a class
/// unseen in the dev set does not silence a teacher). Examples a teacher has no distribution for are skipped.
public func classReliability(devDistributions: [[[Float]]], devLabels: [Int], classes: Int) -> [[Float]] {
    classReliability(devDistributions: devDistributions.map { $0.map { Optional($0) } }, devLabels: devLabels, classes: classes)
}

/// ``classReliability(devDistributions:devLabels:classes:)`` with possibly missing distributions.
public func classReliability(devDistributions: [[[Float]?]], devLabels: [Int], classes: Int) -> [[Float]] {
    devDistributions.map { teacher in
        let pairs = zip(teacher, devLabels).compactMap { p, y in p.map { (argmax($0), y) } }
        return (0..<classes).map { c in
            var tp: Float = 1, fp: Float = 0, fn: Float = 0
            for (p, y) in pairs {
                if p == c && y == c { tp += 1 } else if p == c { fp += 1 } else if y == c { fn += 1 }
            }
            return 2 * tp / (2 * tp + fp + fn)
        }
    }
}

/// Fraction of examples where each teacher's argmax equals the aggregate's argmax.
public func teacherAgreement(_ distributions: [[[Float]]], aggregate: [[Float]]) -> [Double] {
    teacherAgreement(distributions.map { $0.map { Optional($0) } }, aggregate: aggregate)
}

/// ``teacherAgreement(_:aggregate:)`` over the examples each teacher covers.
public func teacherAgreement(_ distributions: [[[Float]?]], aggregate: [[Float]]) -> [Double] {
    let reference = aggregate.map(argmax)
    return distributions.map { teacher in
        let pairs = zip(teacher, reference).compactMap { p, r in p.map { (argmax($0), r) } }
        guard !pairs.isEmpty else { return 0 }
        return Double(pairs.filter { $0 == $1 }.count) / Double(pairs.count)
    }
}

/// Index of the largest value (first on ties).
public func argmax(_ values: [Float]) -> Int {
    var best = 0
    for i in values.indices where values[i] > values[best] { best = i }
    return best
}
