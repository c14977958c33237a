/// How a training run weighs its classes when the labelled lines are imbalanced (on real logs most lines are
/// `normal`, and an unweighted loss lets rare categories collapse into it).
public enum ClassBalance: String, Sendable, Codable, CaseIterable {
    /// Every example counts once.
    case none
    /// Each class's examples weigh `n / (classes present × count)` (scikit-learn's `balanced`), so every class
    /// present counts as much in total; absent classes get weight 1 (they never occur in the loss).
    case balanced
    /// The square root of ``balanced``: rare classes still count more, but a class with one labelled line weighs
    /// about 10x a common one instead of about 100x (on few labelled lines, ``balanced`` lets single examples
    /// dominate a network's updates).
    case sqrt

    /// The per-class weights for these label indices (nil for ``none``); `counts` says how many lines each entry
    /// stands for (a merged duplicate; nil: one each).
    public func weights(labels: [Int?], classes: Int, counts lines: [Float]? = nil) -> [Float]? {
        guard self != .none else { return nil }
        var counts = [Float](repeating: 0, count: classes)
        for (i, label) in labels.enumerated() { if let l = label, l >= 0 && l < classes { counts[l] += lines?[i] ?? 1 } }
        let present = counts.filter { $0 > 0 }.count
        let total = counts.reduce(0, +)
        guard present > 0 else { return nil }
        let balanced = counts.map { $0 == 0 ? 1 : total / (Float(present) * $0) }
        return self == .sqrt ? balanced.map { $0.squareRoot() } : balanced
    }
}
