import ArgumentParser
import DistillRuntime

/// `classify` and `serve` options that change the model folder's decision rule (`decision.json`).
struct DecisionOptions: ParsableArguments {
    @Option(name: .customLong("min-confidence"), help: "Answer 'unknown' when the top probability is below this (overrides decision.json).")
    var minConfidence: Float?

    @Option(name: .customLong("normal-threshold"),
            help: "Answer --normal-label only when its probability is at least this; else the most probable other label (overrides decision.json).")
    var normalThreshold: Float?

    @Option(name: .customLong("normal-label"), help: "The label --normal-threshold applies to (default: decision.json's, else normal).")
    var normalLabel: String?

    @Flag(name: .customLong("ignore-decision"), help: "Ignore the model's decision.json (raw probabilities, most probable label).")
    var ignoreDecision = false

    func validate() throws {
        for (name, value) in [("--min-confidence", minConfidence), ("--normal-threshold", normalThreshold)] {
            if let v = value, !(v.isFinite && (0...1).contains(v)) { throw ValidationError("\(name) must be within [0, 1], got \(v)") }
        }
    }

    var overrides: DecisionRule.Overrides {
        DecisionRule.Overrides(ignoreSaved: ignoreDecision, minimumConfidence: minConfidence, normalThreshold: normalThreshold, normalLabel: normalLabel)
    }
}
