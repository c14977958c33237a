import DistillRuntime
import Foundation

/// The recipe's `decision` block: the ``DecisionRule`` that `distill train` fits on the dev lines after training.
public struct DecisionSettings: Sendable, Equatable {
    /// Fit a temperature (calibration).
    public var calibrate = true
    /// Put a bar on ``normalLabel`` so that at most this share of the dev lines' alerts (gold not normal) are
    /// answered normal (nil: no bar).
    public var alertTarget: Double?
    public var normalLabel = "normal"
    /// Saved as the rule's confidence floor (not fitted).
    public var minimumConfidence: Float?
    public init() {}
}

/// A decision rule fitted on the dev lines, with what it changed there.
public struct DecisionFit: Codable, Sendable, Equatable {
    public var rule: DecisionRule
    public var devLines: Int
    public var devECEBefore: Double
    public var devECEAfter: Double
    /// Share of the dev alerts answered normal, with the plain argmax and with the rule (nil without a normal label).
    public var devMissedAlertsBefore: Double?
    public var devMissedAlertsAfter: Double?
    /// Share of the dev normal lines answered anything else.
    public var devFalseAlarmsBefore: Double?
    public var devFalseAlarmsAfter: Double?
    /// The test set's ECE without the rule (the test report's own ECE is with it).
    public var testECEBefore: Double?
    /// Test lines whose top probability is under the confidence floor (answered `unknown` by `classify`/`serve`;
    /// the report counts their label).
    public var testBelowFloor: Int?

    /// Fits `settings` on dev probabilities (the trained student's, before any rule).
    public static func fit(_ settings: DecisionSettings, devProbabilities: [[Float]], devGold: [Int], labels: [String]) -> DecisionFit {
        var rule = DecisionRule(minimumConfidence: settings.minimumConfidence)
        if settings.calibrate { rule.temperature = DecisionRule.fitTemperature(probabilities: devProbabilities, gold: devGold) }
        let calibrated = devProbabilities.map(rule.calibrated)
        let normal = labels.firstIndex(of: settings.normalLabel)
        if let normal, let target = settings.alertTarget {
            rule.normalLabel = settings.normalLabel
            rule.normalThreshold = DecisionRule.normalThreshold(probabilities: calibrated, gold: devGold, normalIndex: normal, missedAlertTarget: target)
            if rule.normalThreshold == nil { rule.normalLabel = nil }
        }
        let before = EvaluationReport.compute(probabilities: devProbabilities, gold: devGold, labels: labels)
        let bar = rule.normalIndex(in: labels)
        let answers = calibrated.map { rule.decide($0, normalIndex: bar).index }
        let after = EvaluationReport.compute(probabilities: calibrated, gold: devGold, labels: labels, predicted: answers)
        var fit = DecisionFit(rule: rule, devLines: devGold.count, devECEBefore: before.expectedCalibrationError, devECEAfter: after.expectedCalibrationError)
        if let normal {
            let plain = devProbabilities.map(argmax)
            (fit.devMissedAlertsBefore, fit.devFalseAlarmsBefore) = alertRates(plain, devGold, normal: normal)
            (fit.devMissedAlertsAfter, fit.devFalseAlarmsAfter) = alertRates(answers, devGold, normal: normal)
        }
        return fit
    }

    /// Missed alerts (gold not normal, answered normal) and false alarms (gold normal, answered otherwise), as shares.
    public static func alertRates(_ predicted: [Int], _ gold: [Int], normal: Int) -> (missed: Double?, falseAlarms: Double?) {
        let alerts = zip(predicted, gold).filter { $0.1 != normal }, normals = zip(predicted, gold).filter { $0.1 == normal }
        return (alerts.isEmpty ? nil : Double(alerts.filter { $0.0 == normal }.count) / Double(alerts.count),
                normals.isEmpty ? nil : Double(normals.filter { $0.0 != normal }.count) / Double(normals.count))
    }

    /// The report's "Decision rule" section.
    public func markdown() -> String {
        func pct(_ v: Double?) -> String { v.map { String(format: "%.1f%%", 100 * $0) } ?? "-" }
        var lines = ["## Decision rule (fitted on \(devLines) dev lines, saved as \(DecisionRule.fileName))", ""]
        lines.append(String(format: "- temperature %.3f: dev ECE %.4f -> %.4f", rule.temperature, devECEBefore, devECEAfter)
                     + (testECEBefore.map { String(format: "; test ECE without the rule %.4f", $0) } ?? ""))
        if let t = rule.normalThreshold, let name = rule.normalLabel {
            lines.append(String(format: "- '%@' answers only at p >= %.4f", name, t))
        } else {
            lines.append("- no bar on normal (the most probable label answers)")
        }
        if devMissedAlertsBefore != nil || devFalseAlarmsBefore != nil {
            lines.append("- dev missed alerts \(pct(devMissedAlertsBefore)) -> \(pct(devMissedAlertsAfter)), false alarms \(pct(devFalseAlarmsBefore)) -> \(pct(devFalseAlarmsAfter))")
        }
        if let m = rule.minimumConfidence {
            lines.append(String(format: "- answers under p %.2f are 'unknown' in classify and serve", m) + (testBelowFloor.map { " (\($0) test lines)" } ?? ""))
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
