import Foundation

/// How a student's probabilities become an answer: a temperature that calibrates them, a bar the `normal` label
/// must clear (so that fewer alerts are called normal), and a confidence floor below which the answer is
/// `unknown`. `distill train` fits it on the dev lines (the recipe's `decision` block) and saves it as
/// `decision.json` beside the weights; ``Classifier`` applies it, and `classify`/`serve` options override it.
public struct DecisionRule: Codable, Sendable, Equatable {
    /// The answer given below ``minimumConfidence``.
    public static let unknownLabel = "unknown"
    /// The file in a model folder.
    public static let fileName = "decision.json"

    /// Probabilities become `p^(1/T)`, renormalized (the softmax of logits / T). 1 leaves them as trained.
    public var temperature: Float = 1
    /// The label that means "nothing to alert on" (nil: no bar).
    public var normalLabel: String?
    /// `normalLabel` answers only when it is the most probable label with at least this probability (after the
    /// temperature); otherwise the most probable other label does. nil: no bar.
    public var normalThreshold: Float?
    /// Below this top probability (after the temperature and the bar) the answer is ``unknownLabel``. nil: never.
    public var minimumConfidence: Float?

    enum CodingKeys: String, CodingKey {
        case temperature, normalLabel = "normal_label", normalThreshold = "normal_threshold", minimumConfidence = "min_confidence"
    }

    public init(temperature: Float = 1, normalLabel: String? = nil, normalThreshold: Float? = nil, minimumConfidence: Float? = nil) {
        (self.temperature, self.normalLabel, self.normalThreshold, self.minimumConfidence) = (temperature, normalLabel, normalThreshold, minimumConfidence)
    }

    /// Checks values; errors name the key.
    public func validate(labels: [String], source: String) throws {
        func bad(_ key: String, _ detail: String) -> RuntimeError { .invalidDecisionRule(source: source, key: key, detail: detail) }
        guard temperature.isFinite, temperature > 0 else { throw bad("temperature", "must be a finite number > 0, got \(temperature)") }
        if let t = normalThreshold, !(t.isFinite && (0...1).contains(t)) { throw bad("normal_threshold", "must be within [0, 1], got \(t)") }
        if let m = minimumConfidence, !(m.isFinite && (0...1).contains(m)) { throw bad("min_confidence", "must be within [0, 1], got \(m)") }
        if normalThreshold != nil {
            guard let name = normalLabel else { throw bad("normal_label", "is required with normal_threshold") }
            guard labels.contains(name) else { throw bad("normal_label", "'\(name)' is not a label of the model (\(labels.joined(separator: ", ")))") }
        }
    }

    /// `p` recalibrated by the temperature (the same array when it is 1).
    public func calibrated(_ p: [Float]) -> [Float] {
        guard temperature != 1 else { return p }
        let exponent = 1 / temperature
        var q = p.map { $0 > 0 ? Float(Foundation.pow(Double($0), Double(exponent))) : 0 }
        let sum = q.reduce(0, +)
        guard sum > 0, sum.isFinite else { return p }
        for k in q.indices { q[k] /= sum }
        return q
    }

    /// The answer for calibrated probabilities `p`: a label index, and whether it falls below the confidence floor.
    /// `normalIndex` is ``normalLabel``'s index in the model's labels.
    public func decide(_ p: [Float], normalIndex: Int?) -> (index: Int, abstained: Bool) {
        guard !p.isEmpty else { return (0, true) }
        var best = 0
        for k in 1..<p.count where p[k] > p[best] { best = k }
        if let n = normalIndex, let bar = normalThreshold, best == n, p[n] < bar, p.count > 1 {
            best = n == 0 ? 1 : 0
            for k in p.indices where k != n && p[k] > p[best] { best = k }
        }
        let abstained = minimumConfidence.map { !(p[best] >= $0) } ?? false
        return (best, abstained)
    }

    /// The index of ``normalLabel`` in `labels` when the rule has a bar on it (nil otherwise): the `normalIndex` of
    /// ``decide(_:normalIndex:)``.
    public func normalIndex(in labels: [String]) -> Int? {
        normalThreshold == nil ? nil : normalLabel.flatMap { labels.firstIndex(of: $0) }
    }

    /// The rule over many rows of raw probabilities over `labels`: the calibrated rows and each row's answer.
    public func apply(_ probabilities: [[Float]], labels: [String]) -> (calibrated: [[Float]], answers: [(index: Int, abstained: Bool)]) {
        let normal = normalIndex(in: labels)
        let calibrated = probabilities.map(self.calibrated)
        return (calibrated, calibrated.map { decide($0, normalIndex: normal) })
    }

    // MARK: Fitting on dev lines

    /// The temperature that minimizes the negative log-likelihood of `gold` under `probabilities` (golden-section
    /// search over log T in [1/20, 20]; Guo et al. 2017's temperature scaling).
    public static func fitTemperature(probabilities: [[Float]], gold: [Int]) -> Float {
        guard !gold.isEmpty else { return 1 }
        // log p, floored so that a zero probability costs a lot but stays finite.
        let logs = probabilities.map { $0.map { Foundation.log(max(Double($0), 1e-30)) } }
        func nll(_ logT: Double) -> Double {
            let inv = Foundation.exp(-logT)
            var total = 0.0
            for (row, y) in zip(logs, gold) {
                let m = row.max()! * inv
                let z = row.reduce(0) { $0 + Foundation.exp($1 * inv - m) }
                total -= row[y] * inv - m - Foundation.log(z)
            }
            return total
        }
        var (a, b) = (Foundation.log(1.0 / 20), Foundation.log(20.0))
        let ratio = (5.0.squareRoot() - 1) / 2
        var c = b - ratio * (b - a), d = a + ratio * (b - a)
        var fc = nll(c), fd = nll(d)
        for _ in 0..<60 {
            if fc < fd { (b, d, fd) = (d, c, fc); c = b - ratio * (b - a); fc = nll(c) }
            else { (a, c, fc) = (c, d, fd); d = a + ratio * (b - a); fd = nll(d) }
        }
        let t = Float(Foundation.exp((a + b) / 2))
        // No change unless it helps: a flat optimum near 1 stays exactly 1.
        return nll(Double(Foundation.log(t))) < nll(0) - 1e-9 ? t : 1
    }

    /// The lowest bar on `normal` (p = `probabilities`, already calibrated) at which at most `missedAlertTarget` of
    /// the non-normal `gold` lines are answered normal; nil when the plain argmax already meets the target (or the
    /// lines hold no alert).
    public static func normalThreshold(probabilities: [[Float]], gold: [Int], normalIndex: Int, missedAlertTarget: Double) -> Float? {
        let alerts = zip(probabilities, gold).filter { $0.1 != normalIndex }.map(\.0)
        guard !alerts.isEmpty else { return nil }
        // p(normal) of the alerts the argmax calls normal, ascending: the bar must pass all but `allowed` of them.
        let missed = alerts.filter { p in p.indices.allSatisfy { p[$0] <= p[normalIndex] } }.map { $0[normalIndex] }.sorted()
        let allowed = Int((missedAlertTarget * Double(alerts.count)).rounded(.down))
        guard missed.count > allowed else { return nil }
        return min(1, missed[missed.count - allowed - 1].nextUp)
    }
}

extension DecisionRule {
    /// Changes to a saved rule from `classify` and `serve` options.
    public struct Overrides: Sendable, Equatable {
        /// Start from the plain argmax instead of the folder's `decision.json`.
        public var ignoreSaved = false
        public var minimumConfidence: Float?
        public var normalThreshold: Float?
        /// The label ``normalThreshold`` applies to (nil: the saved rule's, else `normal`).
        public var normalLabel: String?
        public init(ignoreSaved: Bool = false, minimumConfidence: Float? = nil, normalThreshold: Float? = nil, normalLabel: String? = nil) {
            (self.ignoreSaved, self.minimumConfidence, self.normalThreshold, self.normalLabel) = (ignoreSaved, minimumConfidence, normalThreshold, normalLabel)
        }

        public func apply(to rule: inout DecisionRule) {
            if let m = minimumConfidence { rule.minimumConfidence = m }
            if let t = normalThreshold { rule.normalThreshold = t; rule.normalLabel = normalLabel ?? rule.normalLabel ?? "normal" }
            else if let l = normalLabel { rule.normalLabel = l }
        }
    }

    /// The rule saved in `folder` (nil when the folder has none).
    public static func load(folder: URL) throws -> DecisionRule? {
        let url = folder.appendingPathComponent(fileName)
        guard FileManager.default.fileExists(atPath: url.path) else { return nil }
        do { return try JSONDecoder().decode(DecisionRule.self, from: Data(contentsOf: url)) } catch {
            throw RuntimeError.invalidDecisionRule(source: url.path, key: "", detail: "not a decision rule: \(error.localizedDescription)")
        }
    }

    /// Writes `decision.json` into `folder`.
    public func save(to folder: URL) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(self).write(to: folder.appendingPathComponent(Self.fileName), options: .atomic)
    }
}
