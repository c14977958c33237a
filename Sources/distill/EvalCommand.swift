import ArgumentParser
import DistillCore
import DistillExamples
import DistillRecipes
import DistillRuntime
import DistillTeachers
import DistillText
import DistillTraining
import Foundation

/// `distill eval`: quality, agreement, calibration, size and speed of a student on a labelled set.
struct EvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "eval", abstract: "Evaluate a model folder on a labelled JSONL set.")

    @Option(help: "Student folder.")
    var model: String

    @Option(help: "Labelled JSONL: {\"text\": ..., \"label\": ...} per line.")
    var data: String

    @Option(name: .customLong("teacher-labels"), help: "Stored teacher distributions (soft-labels JSONL) for agreement.")
    var teacherLabels: String?

    @Option(help: "Also write the report as JSON here (- for standard output; the table then goes to standard error).")
    var json: String?

    @Option(help: "Also write a self-contained HTML report here (confusion matrix, per-class bars, reliability diagram).")
    var html: String?

    @Option(name: .customLong("max-length"), parsing: .unconditional, help: "Tokens per line for BERT students (default: the model folder's model_max_length, as trained).")
    var maxLength: Int?

    @OptionGroup var compute: ComputeOptions

    func validate() throws { if let maxLength { try SizeLimits.check(maxLength, SizeLimits.maxLength, flag: "--max-length") } }

    func run() throws {
        compute.apply()
        let folder = URL(fileURLWithPath: model)
        let student = try Student.load(from: folder)
        let records = try readDataset(URL(fileURLWithPath: data), labels: student.labels, requireLabel: true)
        // Lines are prepared as the model was trained (its distill_input).
        let preparer = student.input.preparer()
        let probabilities = student.probabilities(records.map { preparer.prepare($0.text) }, maxLength: maxLength)
        var teacher: [Int]?
        if let teacherLabels {
            let stored = try teacherDistributions(Recipe.Teacher(name: "teacher", kind: .softLabels(URL(fileURLWithPath: teacherLabels)), weight: 1),
                                                  texts: records.map(\.text), labels: student.labels, cacheFolder: folder)
            guard stored.allSatisfy({ $0 != nil }) else { throw ValidationError("--teacher-labels \(teacherLabels) does not cover every text of \(data)") }
            teacher = stored.map { argmax($0!) }
        }
        // The folder's decision rule (decision.json) decides, as in classify and serve.
        let decision = try DecisionRule.load(folder: folder) ?? DecisionRule()
        try decision.validate(labels: student.labels, source: folder.appendingPathComponent(DecisionRule.fileName).path)
        let (calibrated, answers) = decision.apply(probabilities, labels: student.labels)
        var report = EvaluationReport.compute(probabilities: calibrated, gold: records.map { $0.label! }, labels: student.labels,
                                              teacherPredictions: teacher, predicted: answers.map(\.index))
        report.parameters = student.module.parameterCount
        report.sizeOnDiskBytes = ((try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []).reduce(0) { total, name in
            total + (((try? FileManager.default.attributesOfItem(atPath: folder.appendingPathComponent(name).path))?[.size] as? Int) ?? 0)
        }
        report.speed = EvaluationReport.Speed.measure(student, texts: records.map(\.text), maxLength: maxLength)
        // `--json -`: the JSON report alone on stdout (the table goes to stderr).
        if json == "-" { FileHandle.standardError.write(Data((report.table() + "\n").utf8)) } else { print(report.table()) }
        if let html {
            let page = ReportHTML.page(report, title: "\(folder.lastPathComponent) on \(URL(fileURLWithPath: data).lastPathComponent)")
            do { try Data(page.utf8).write(to: URL(fileURLWithPath: html), options: .atomic) } catch { throw CommandFailure("cannot write \(html): \(fileErrorReason(error))") }
        }
        if let json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            let data = try encoder.encode(report)
            if json == "-" {
                do { try FileHandle.standardOutput.write(contentsOf: data + Data("\n".utf8)) } catch { throw CommandFailure.standardOutput(error) }
            } else {
                do { try data.write(to: URL(fileURLWithPath: json), options: .atomic) } catch { throw CommandFailure("cannot write \(json): \(fileErrorReason(error))") }
            }
        }
    }
}
