import DistillNN
import DistillRuntime
import Foundation

/// `distill quantize`: an F32 student folder → an int8 one (``Int8Quantization``), with what it cost in
/// accuracy measured on calibration lines.
public enum StudentQuantization {
    /// Sizes and the change of answers on the calibration lines.
    public struct Report: Codable, Sendable, Equatable {
        public var method: String
        public var fp32WeightBytes: Int, int8WeightBytes: Int
        /// Calibration lines compared (0 without a calibration file).
        public var lines: Int
        /// Accuracy of each model on the labelled calibration lines (nil when no line has a label).
        public var fp32Accuracy: Double?, int8Accuracy: Double?
        /// Share of lines where both models give the same label.
        public var agreement: Double?
        /// Largest and mean absolute change of any label's probability.
        public var maxProbabilityChange: Double?, meanProbabilityChange: Double?
    }

    /// Quantizes the student in `model` into `output` and compares both on `calibration` (raw lines, prepared as
    /// the model's `distill_input` says). Writes `output/quantization.json` too.
    public static func run(model: URL, output: URL, calibration: [DataRecord] = []) throws -> Report {
        guard model.standardizedFileURL.resolvingSymlinksInPath() != output.standardizedFileURL.resolvingSymlinksInPath() else {
            throw DistillError.invalidData(file: output.path, line: 0, detail: "--out must differ from --model (the F32 model would be replaced)")
        }
        let student = try Student.load(from: model)
        try student.save(to: output, storage: .int8)
        // The decision rule goes with the weights; both models are compared with it.
        let decision = try DecisionRule.load(folder: model)
        try decision?.save(to: output)
        let fp32 = Classifier(student: student, folder: model, cacheCapacity: 0, decision: decision ?? DecisionRule())
        let int8 = try Classifier.load(from: output, cacheCapacity: 0)
        func weightBytes(_ folder: URL) -> Int {
            ((try? FileManager.default.attributesOfItem(atPath: folder.appendingPathComponent("model.safetensors").path))?[.size] as? Int) ?? 0
        }
        var report = Report(method: Int8Quantization.method, fp32WeightBytes: weightBytes(model), int8WeightBytes: weightBytes(output), lines: calibration.count)
        if !calibration.isEmpty {
            let texts = calibration.map(\.text)
            let a = fp32.classify(texts), b = int8.classify(texts)
            report.agreement = Double(zip(a, b).filter { $0.labelIndex == $1.labelIndex }.count) / Double(texts.count)
            var maxChange: Float = 0, total: Double = 0, count = 0
            for (p, q) in zip(a, b) {
                for (x, y) in zip(p.probabilities, q.probabilities) { maxChange = max(maxChange, abs(x - y)); total += Double(abs(x - y)); count += 1 }
            }
            report.maxProbabilityChange = Double(maxChange)
            report.meanProbabilityChange = total / Double(max(count, 1))
            let labelled = calibration.indices.filter { calibration[$0].label != nil }
            if !labelled.isEmpty {
                report.fp32Accuracy = Double(labelled.filter { a[$0].labelIndex == calibration[$0].label }.count) / Double(labelled.count)
                report.int8Accuracy = Double(labelled.filter { b[$0].labelIndex == calibration[$0].label }.count) / Double(labelled.count)
            }
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(report).write(to: output.appendingPathComponent("quantization.json"), options: .atomic)
        return report
    }
}
