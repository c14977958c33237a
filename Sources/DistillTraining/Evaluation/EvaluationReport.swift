import Dispatch
import Foundation

/// Classification quality of a model on a labelled set, plus agreement with a teacher, calibration and
/// (when measured) size and speed. Encodes to JSON; ``table()`` renders it for people.
public struct EvaluationReport: Codable, Sendable, Equatable {
    public struct ClassMetrics: Codable, Sendable, Equatable {
        public var label: String
        public var precision: Double
        public var recall: Double
        public var f1: Double
        public var support: Int
    }

    public struct Speed: Codable, Sendable, Equatable {
        /// Single-example latency percentiles, milliseconds.
        public var p50Milliseconds: Double
        public var p99Milliseconds: Double
        /// Examples per second in batches of `batchSize`.
        public var batchThroughput: Double
        public var batchSize: Int
        public init(p50Milliseconds: Double, p99Milliseconds: Double, batchThroughput: Double, batchSize: Int) {
            self.p50Milliseconds = p50Milliseconds
            self.p99Milliseconds = p99Milliseconds
            self.batchThroughput = batchThroughput
            self.batchSize = batchSize
        }
    }

    public var labels: [String]
    public var examples: Int
    public var accuracy: Double
    public var macroF1: Double
    public var perClass: [ClassMetrics]
    /// `confusion[gold][predicted]`.
    public var confusion: [[Int]]
    /// Fraction of examples where the model's argmax equals the teacher's (nil without teacher labels).
    public var agreementWithTeacher: Double?
    /// Expected calibration error over `calibrationBins` equal-width confidence bins.
    public var expectedCalibrationError: Double
    public var calibrationBins: Int
    /// The bins themselves (the reliability diagram): examples, mean confidence and accuracy in each.
    public var reliability: [CalibrationBin]?
    public var parameters: Int?
    public var sizeOnDiskBytes: Int?
    public var speed: Speed?
    /// For a run's test report: the dev comparison with the gold-only baseline and the run's warnings.
    public var checks: RunChecks?
    /// A recipe run's teachers on the same test lines (each on the lines it answered), and their aggregate under
    /// `aggregate` when there are several.
    public var teacherReports: [String: EvaluationReport]?
    /// For a run's test report: the decision rule fitted on dev and what it changed (the report's answers are the rule's).
    public var decision: DecisionFit?

    /// One confidence bin of the reliability diagram.
    public struct CalibrationBin: Codable, Equatable, Sendable {
        public var lower: Double, upper: Double
        public var examples: Int
        public var meanConfidence: Double
        public var accuracy: Double
    }

    /// Missed alerts (lines whose gold label is not `normal` answered `normal`) and false alarms (`normal` lines
    /// answered otherwise), as shares of their gold lines; nil without such lines or without the label.
    public func alertRates(normal: String = "normal") -> (missed: Double?, falseAlarms: Double?) {
        guard let n = labels.firstIndex(of: normal) else { return (nil, nil) }
        let alerts = confusion.enumerated().filter { $0.offset != n }.reduce(0) { $0 + $1.element.reduce(0, +) }
        let missed = confusion.enumerated().filter { $0.offset != n }.reduce(0) { $0 + $1.element[n] }
        let normals = confusion[n].reduce(0, +)
        return (alerts > 0 ? Double(missed) / Double(alerts) : nil, normals > 0 ? Double(normals - confusion[n][n]) / Double(normals) : nil)
    }

    /// Computes the metrics from predicted distributions (`probabilities[i]` over `labels`) and gold labels.
    /// `predicted` replaces the argmax answers (a ``DecisionRule``'s).
    public static func compute(probabilities: [[Float]], gold: [Int], labels: [String], teacherPredictions: [Int]? = nil,
                               calibrationBins: Int = 15, predicted answers: [Int]? = nil) -> EvaluationReport {
        precondition(probabilities.count == gold.count, "EvaluationReport: \(probabilities.count) predictions for \(gold.count) labels")
        let k = labels.count
        let predicted = answers ?? probabilities.map(argmax)
        var confusion = [[Int]](repeating: [Int](repeating: 0, count: k), count: k)
        for (y, p) in zip(gold, predicted) { confusion[y][p] += 1 }
        var perClass: [ClassMetrics] = []
        for c in 0..<k {
            let tp = Double(confusion[c][c])
            let predictedC = Double((0..<k).reduce(0) { $0 + confusion[$1][c] })
            let support = confusion[c].reduce(0, +)
            let precision = predictedC > 0 ? tp / predictedC : 0
            let recall = support > 0 ? tp / Double(support) : 0
            let f1 = precision + recall > 0 ? 2 * precision * recall / (precision + recall) : 0
            perClass.append(ClassMetrics(label: labels[c], precision: precision, recall: recall, f1: f1, support: support))
        }
        let n = max(gold.count, 1)
        let correct = zip(gold, predicted).filter { $0 == $1 }.count
        // Macro-F1 over classes present in the gold labels or the predictions (sklearn's labels=None behaviour).
        let present = perClass.enumerated().filter { c in c.element.support > 0 || predicted.contains(c.offset) }
        let macroF1 = present.isEmpty ? 0 : present.reduce(0) { $0 + $1.element.f1 } / Double(present.count)
        var agreement: Double?
        if let teacherPredictions {
            precondition(teacherPredictions.count == predicted.count, "EvaluationReport: teacher predictions must match examples")
            agreement = Double(zip(teacherPredictions, predicted).filter { $0 == $1 }.count) / Double(n)
        }
        var binCount = [Int](repeating: 0, count: calibrationBins)
        var binConfidence = [Double](repeating: 0, count: calibrationBins), binCorrect = [Double](repeating: 0, count: calibrationBins)
        for (i, p) in probabilities.enumerated() {
            let confidence = Double(p[predicted[i]])
            let b = min(calibrationBins - 1, Int(confidence * Double(calibrationBins)))
            binCount[b] += 1
            binConfidence[b] += confidence
            binCorrect[b] += predicted[i] == gold[i] ? 1 : 0
        }
        var ece = 0.0
        for b in 0..<calibrationBins where binCount[b] > 0 {
            ece += abs(binCorrect[b] - binConfidence[b]) / Double(n)
        }
        let bins = (0..<calibrationBins).map { b in
            CalibrationBin(lower: Double(b) / Double(calibrationBins), upper: Double(b + 1) / Double(calibrationBins), examples: binCount[b],
                           meanConfidence: binCount[b] > 0 ? binConfidence[b] / Double(binCount[b]) : 0,
                           accuracy: binCount[b] > 0 ? binCorrect[b] / Double(binCount[b]) : 0)
        }
        return EvaluationReport(labels: labels, examples: gold.count, accuracy: Double(correct) / Double(n), macroF1: macroF1,
                                perClass: perClass, confusion: confusion, agreementWithTeacher: agreement,
                                expectedCalibrationError: ece, calibrationBins: calibrationBins, reliability: bins)
    }

    /// A readable summary: headline metrics, per-class table, confusion matrix.
    public func table() -> String {
        func f(_ v: Double) -> String { String(format: "%.4f", v) }
        var lines = ["examples \(examples)   accuracy \(f(accuracy))   macro-F1 \(f(macroF1))   ECE(\(calibrationBins) bins) \(f(expectedCalibrationError))"
                     + (agreementWithTeacher.map { "   agreement with teacher \(f($0))" } ?? "")]
        if let parameters { lines.append("parameters \(parameters)" + (sizeOnDiskBytes.map { "   size on disk \(String(format: "%.2f", Double($0) / 1_048_576)) MiB" } ?? "")) }
        if let speed {
            lines.append(String(format: "latency p50 %.3f ms, p99 %.3f ms (single example); throughput %.0f examples/s (batch %d)",
                                speed.p50Milliseconds, speed.p99Milliseconds, speed.batchThroughput, speed.batchSize))
        }
        let width = max(5, labels.map(\.count).max() ?? 5)
        lines.append("")
        lines.append("label".padding(toLength: width, withPad: " ", startingAt: 0) + "  precision  recall      f1  support")
        for c in perClass {
            lines.append(c.label.padding(toLength: width, withPad: " ", startingAt: 0)
                         + String(format: "  %9.4f  %6.4f  %6.4f  %7d", c.precision, c.recall, c.f1, c.support))
        }
        lines.append("")
        lines.append("confusion (rows: gold, columns: predicted)")
        let cell = max(6, String(confusion.flatMap { $0 }.max() ?? 0).count + 1)
        lines.append(String(repeating: " ", count: width) + labels.indices.map { String(format: "%\(cell)d", $0) }.joined())
        for (i, row) in confusion.enumerated() {
            lines.append("\(i) \(labels[i])".padding(toLength: width, withPad: " ", startingAt: 0) + row.map { String(format: "%\(cell)d", $0) }.joined())
        }
        return lines.joined(separator: "\n")
    }
}

import DistillCore
import DistillRuntime

extension EvaluationReport.Speed {
    /// Single-example latency percentiles over up to 200 texts and the throughput of batches of 32 (for half a
    /// second), on the inference engine ``Classifier`` uses (no cache).
    public static func measure(_ student: Student, texts: [String], maxLength: Int? = nil) -> EvaluationReport.Speed {
        let engine = StudentInference(student, maxLength: maxLength)
        let sample = Array(texts.prefix(200))
        var latencies: [Double] = []
        for t in sample {
            let start = DispatchTime.now().uptimeNanoseconds
            _ = engine.logits([t])
            latencies.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6)
        }
        latencies.sort()
        let batch = Array(sample.prefix(32))
        let start = DispatchTime.now().uptimeNanoseconds
        var done = 0
        while done == 0 || Double(DispatchTime.now().uptimeNanoseconds - start) < 5e8 {
            _ = engine.logits(batch)
            done += batch.count
        }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        func percentile(_ q: Double) -> Double { latencies.isEmpty ? 0 : latencies[min(latencies.count - 1, Int(Double(latencies.count) * q))] }
        return EvaluationReport.Speed(p50Milliseconds: percentile(0.5), p99Milliseconds: percentile(0.99),
                                      batchThroughput: Double(done) / seconds, batchSize: batch.count)
    }
}
