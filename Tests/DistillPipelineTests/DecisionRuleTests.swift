import DistillCore
import DistillExamples
import DistillRecipes
import DistillRuntime
import DistillTeachers
import DistillTraining
import Foundation
import Testing

@Suite("Decision rules: temperature, a bar on normal, a confidence floor")
struct DecisionRuleTests {
    func softmax(_ z: [Float]) -> [Float] {
        let m = z.max()!
        let e = z.map { Foundation.exp($0 - m) }
        let s = e.reduce(0, +)
        return e.map { $0 / s }
    }

    @Test("temperature scaling recovers the temperature that generated the labels")
    func temperatureFit() {
        var g = RandomGenerator(seed: 11)
        var probabilities: [[Float]] = [], gold: [Int] = []
        for _ in 0..<4000 {
            let z = (0..<4).map { _ in 3 * g.nextNormal() }
            // Labels drawn from softmax(z / 2.5): a model that reports softmax(z) is overconfident by T = 2.5.
            let truth = softmax(z.map { $0 / 2.5 })
            var u = g.nextUniform(), y = 0
            while y < 3 && u >= truth[y] { u -= truth[y]; y += 1 }
            probabilities.append(softmax(z))
            gold.append(y)
        }
        let t = DecisionRule.fitTemperature(probabilities: probabilities, gold: gold)
        #expect(abs(t - 2.5) < 0.25, "fitted \(t)")
        let rule = DecisionRule(temperature: t)
        let before = EvaluationReport.compute(probabilities: probabilities, gold: gold, labels: ["a", "b", "c", "d"])
        let after = EvaluationReport.compute(probabilities: probabilities.map(rule.calibrated), gold: gold, labels: ["a", "b", "c", "d"])
        #expect(after.expectedCalibrationError < before.expectedCalibrationError / 2, "ECE \(before.expectedCalibrationError) -> \(after.expectedCalibrationError)")
        #expect(after.accuracy == before.accuracy)  // a temperature never changes the most probable label
        // Already calibrated probabilities keep T = 1 (or very near it).
        let calibrated = probabilities.map(rule.calibrated)
        #expect(abs(DecisionRule.fitTemperature(probabilities: calibrated, gold: gold) - 1) < 0.05)
    }

    @Test("calibrated probabilities sum to 1 and keep their order; T = 1 changes nothing")
    func calibration() {
        let p: [Float] = [0.7, 0.2, 0.1, 0]
        #expect(DecisionRule().calibrated(p) == p)
        let flat = DecisionRule(temperature: 2).calibrated(p)
        #expect(abs(flat.reduce(0, +) - 1) < 1e-6 && flat[0] < 0.7 && flat[0] > flat[1] && flat[1] > flat[2] && flat[3] == 0)
        let sharp = DecisionRule(temperature: 0.5).calibrated(p)
        #expect(sharp[0] > 0.7)
    }

    @Test("the bar on normal: the lowest one that meets the missed-alert target on the lines given")
    func normalBar() throws {
        // Label 0 is normal. Ten alerts: four called normal with p(normal) 0.9, 0.8, 0.7, 0.6; six caught.
        var p: [[Float]] = [[0.9, 0.1, 0], [0.8, 0.15, 0.05], [0.7, 0, 0.3], [0.6, 0.4, 0]]
        var gold = [1, 1, 2, 1]
        for _ in 0..<6 { p.append([0.1, 0.8, 0.1]); gold.append(1) }
        // Normal lines: p(normal) 0.95 and 0.85.
        p += [[0.95, 0.05, 0], [0.85, 0, 0.15]]
        gold += [0, 0]
        let bar = try #require(DecisionRule.normalThreshold(probabilities: p, gold: gold, normalIndex: 0, missedAlertTarget: 0.1))
        #expect(bar == Float(0.8).nextUp)
        let rule = DecisionRule(normalLabel: "normal", normalThreshold: bar)
        let answers = p.map { rule.decide($0, normalIndex: 0).index }
        #expect(answers == [0, 1, 2, 1, 1, 1, 1, 1, 1, 1, 0, 0])
        let rates = DecisionFit.alertRates(answers, gold, normal: 0)
        #expect(rates.missed == 0.1 && rates.falseAlarms == 0)
        // A target the argmax already meets needs no bar; so does a set without alerts.
        #expect(DecisionRule.normalThreshold(probabilities: p, gold: gold, normalIndex: 0, missedAlertTarget: 0.4) == nil)
        #expect(DecisionRule.normalThreshold(probabilities: [[0.9, 0.1]], gold: [0], normalIndex: 0, missedAlertTarget: 0) == nil)
        // Target 0: every alert must be caught, so the bar passes the highest p(normal) of a missed alert.
        #expect(DecisionRule.normalThreshold(probabilities: p, gold: gold, normalIndex: 0, missedAlertTarget: 0) == Float(0.9).nextUp)
    }

    @Test("the confidence floor abstains; the fit reports dev numbers before and after")
    func floorAndFit() throws {
        let rule = DecisionRule(minimumConfidence: 0.6)
        #expect(rule.decide([0.5, 0.3, 0.2], normalIndex: nil) == (0, true))
        #expect(rule.decide([0.1, 0.7, 0.2], normalIndex: nil) == (1, false))
        #expect(rule.decide([Float.nan, 0.5], normalIndex: nil).abstained)
        var settings = DecisionSettings()
        settings.alertTarget = 0
        settings.calibrate = false
        settings.minimumConfidence = 0.3
        let fit = DecisionFit.fit(settings, devProbabilities: [[0.6, 0.4], [0.2, 0.8], [0.9, 0.1]], devGold: [1, 1, 0], labels: ["normal", "db"])
        #expect(fit.rule.normalThreshold == Float(0.6).nextUp && fit.rule.normalLabel == "normal" && fit.rule.minimumConfidence == 0.3)
        #expect(fit.devMissedAlertsBefore == 0.5 && fit.devMissedAlertsAfter == 0 && fit.devFalseAlarmsAfter == 0)
        #expect(fit.markdown().contains("'normal' answers only at p >= 0.6000"))
    }

    @Test("rules that cannot apply are refused naming the key")
    func validation() {
        let labels = ["normal", "db"]
        for (rule, key) in [(DecisionRule(temperature: 0), "temperature"), (DecisionRule(temperature: .nan), "temperature"),
                            (DecisionRule(normalLabel: "ok", normalThreshold: 0.5), "normal_label"),
                            (DecisionRule(normalThreshold: 0.5), "normal_label"),
                            (DecisionRule(normalLabel: "normal", normalThreshold: 1.5), "normal_threshold"),
                            (DecisionRule(minimumConfidence: -0.1), "min_confidence")] {
            #expect(throws: RuntimeError.self) { try rule.validate(labels: labels, source: "d.json") }
            do { try rule.validate(labels: labels, source: "d.json") } catch { #expect(error.localizedDescription.contains("key '\(key)'"), "\(error.localizedDescription)") }
        }
        #expect(throws: Never.self) { try DecisionRule(temperature: 1.3, normalLabel: "normal", normalThreshold: 0.7, minimumConfidence: 0.4).validate(labels: labels, source: "d.json") }
    }
}
