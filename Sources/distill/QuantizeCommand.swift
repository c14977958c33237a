import ArgumentParser
import DistillExamples
import DistillRuntime
import DistillTraining
import Foundation

/// `distill quantize`: int8 post-training quantization of a student, with the accuracy change measured.
struct QuantizeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "quantize",
        abstract: "Quantize a student's weights to int8 (per-channel symmetric) into a new folder.",
        discussion: """
            Matrices of >= 16,384 elements (embedding tables, wide Linear layers) are stored as int8 with an F32 scale per row; the rest stays F32. \
            The folder loads everywhere an F32 one does (dequantized once at load). With --calibration (JSONL with 'text' and optional \
            'label', raw lines) both models classify the lines and the change in accuracy, agreement and probabilities is printed and \
            written to OUT/quantization.json.
            """
    )

    @Option(help: "Student folder (F32).")
    var model: String

    @Option(help: "Output folder for the int8 student.")
    var out: String

    @Option(help: "JSONL lines to compare the two models on.")
    var calibration: String?

    @OptionGroup var compute: ComputeOptions

    func run() throws {
        compute.apply()
        let modelURL = URL(fileURLWithPath: model)
        let labels = try Student.load(from: modelURL).labels
        let records = try calibration.map { try readDataset(URL(fileURLWithPath: $0), labels: labels, requireLabel: false) } ?? []
        let r = try StudentQuantization.run(model: modelURL, output: URL(fileURLWithPath: out), calibration: records)
        func pct(_ v: Double?) -> String { v.map { String(format: "%.2f%%", 100 * $0) } ?? "n/a" }
        print(String(format: "weights: %.2f MB F32 -> %.2f MB int8 (%.1fx smaller)", Double(r.fp32WeightBytes) / 1e6, Double(r.int8WeightBytes) / 1e6,
                     Double(r.fp32WeightBytes) / Double(max(r.int8WeightBytes, 1))))
        if r.lines > 0 {
            print("calibration: \(r.lines) lines; accuracy F32 \(pct(r.fp32Accuracy)) -> int8 \(pct(r.int8Accuracy)); same label on \(pct(r.agreement)) of lines; "
                  + String(format: "largest probability change %.4f, mean %.5f", r.maxProbabilityChange ?? 0, r.meanProbabilityChange ?? 0))
        }
        // The card goes along: the source's teachers and data; its test report was the F32 model's, so it is left out.
        // A card that cannot be written is a warning: the int8 model is saved.
        let outURL = URL(fileURLWithPath: out)
        do {
            var facts = try ModelCard.Facts.load(folder: modelURL) ?? ModelCard.Facts(title: modelURL.lastPathComponent)
            facts.title += " (int8)"
            facts.report = nil
            facts.data.append("int8 copy of `\(modelURL.lastPathComponent)`" + (r.lines > 0 ? ": on \(r.lines) calibration lines the same label on \(pct(r.agreement))" : ""))
            try ModelCard(facts, model: .init(try Student.load(from: outURL), quantization: r.method), decision: try DecisionRule.load(folder: outURL)).write(into: outURL)
        } catch {
            note("warning: no model card in \(out): \(error.localizedDescription)")
        }
        print("wrote \(out) (\(r.method))")
    }
}
