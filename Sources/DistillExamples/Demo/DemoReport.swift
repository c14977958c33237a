import DistillRecipes
import DistillRuntime
import DistillTraining
import Foundation

extension Demo {
    /// The split's sizes.
    public struct SplitCounts: Codable, Sendable {
        public var systems: [String]
        public var lines: Int, labelled: Int, unlabelled: Int, dev: Int, test: Int
        public var heldOutTemplates: Int
        /// Templates among the unlabelled lines (the zero-label path's goal: at most one LLM question each).
        public var unlabelledTemplates: Int
    }

    /// One model of the table, scored on the held-out templates' lines.
    public struct Row: Codable, Sendable {
        public enum Kind: String, Codable, Sendable { case teacher, student, baseline }
        public var model: String
        public var kind: Kind
        /// `zero-label` or `few-label`.
        public var path: String
        public var accuracy: Double
        public var macroF1: Double
        /// A non-`normal` line answered `normal`, among the non-`normal` lines.
        public var missedAlerts: Double?
        /// A `normal` line answered otherwise, among the `normal` lines.
        public var falseAlarms: Double?
        /// With the teacher of its path (students).
        public var agreementWithTeacher: Double?
        public var parameters: Int?
        public var sizeOnDiskBytes: Int?
        /// One raw line through `Classifier` (preparation included), no cache.
        public var p50Milliseconds: Double?
        /// All test lines in one call, no cache.
        public var throughput: Double?
        /// The recipe's wall time (teacher labelling and fine-tuning included), or the teacher's fine-tuning.
        public var seconds: Double?
        /// The folder under the demo's output (`models/…`).
        public var folder: String?
    }

    /// What the zero-label path asked its LLM.
    public struct LLMCost: Codable, Sendable {
        public var name: String
        public var unlabelledLines: Int
        public var unlabelledTemplates: Int
        /// Questions for the unlabelled lines (one per template the labelling job found), and calls actually sent.
        public var questions: Int
        public var requests: Int
        public var seconds: Double
        /// Questions to score the LLM itself on the test lines.
        public var testQuestions: Int
    }

    public struct Result: Codable, Sendable {
        public var date: String
        public var machine: String
        public var wallSeconds: Double
        public var split: SplitCounts
        public var rows: [Row]
        public var llm: LLMCost?
        public var notes: [String]
    }

    /// Adds the rows of one finished recipe: its teachers (once across the demo), the shipped student and its int8
    /// copy (both copied to `models/`), and the gold-only baseline (once).
    func addRows(_ step: Step, recipe: Recipe, outcome: DistillationRun.Outcome, seconds: Double, teachersSeen: inout Set<String>,
                 into result: inout Result, log: (String) -> Void) throws {
        guard let test = outcome.test else { throw DemoError.noReport(recipe: recipe.file.path) }
        let testFile = output.appendingPathComponent("split/test-heldout.jsonl")
        let testLines = try readDataset(testFile, labels: recipe.labelNames, requireLabel: true)
        let path = step.path.rawValue
        for teacher in recipe.teachers where !teachersSeen.contains(teacher.name) {
            guard let report = test.teacherReports?[teacher.name] else { continue }
            teachersSeen.insert(teacher.name)
            let (missed, falseAlarms) = report.alertRates()
            var row = Row(model: "", kind: .teacher, path: path, accuracy: report.accuracy, macroF1: report.macroF1, missedAlerts: missed, falseAlarms: falseAlarms)
            switch teacher.kind {
            case .openAI:
                row.model = "\(llmName) zero-shot, one question per template"
                let train = outcome.labelling.filter { $0.teacher == teacher.name && $0.part == .train }.map(\.summary)
                let testAsked = outcome.labelling.filter { $0.teacher == teacher.name && $0.part == .test }.map(\.summary)
                result.llm = LLMCost(name: llmName, unlabelledLines: result.split.unlabelled, unlabelledTemplates: result.split.unlabelledTemplates,
                                     questions: train.reduce(0) { $0 + $1.questions }, requests: train.reduce(0) { $0 + $1.requests },
                                     seconds: train.reduce(0) { $0 + $1.seconds }, testQuestions: testAsked.reduce(0) { $0 + $1.questions })
            case let .bert(folder):
                row.model = teacher.fineTune != nil ? "all-MiniLM-L6-v2 fine-tuned on the \(result.split.labelled) labelled lines" : "BERT teacher \(teacher.name)"
                row.seconds = TeacherPreparation.Stamp.read(folder: folder)?.seconds
                try measure(folder: folder, lines: testLines.map(\.text), into: &row)
                row.folder = "teachers/\(folder.lastPathComponent)"
            case .softLabels:
                row.model = "stored labels \(teacher.name)"
            }
            result.rows.append(row)
        }
        // The shipped student and its int8 copy, scored as `distill classify` answers (decision rule included).
        let models = output.appendingPathComponent("models")
        try FileManager.default.createDirectory(at: models, withIntermediateDirectories: true)
        let folder = models.appendingPathComponent(step.model), int8 = models.appendingPathComponent(step.model + "-int8")
        try Student.checkReplaceable(folder)
        try Student.checkReplaceable(int8)
        try? FileManager.default.removeItem(at: folder)
        try FileManager.default.copyItem(at: outcome.model, to: folder)
        try? FileManager.default.removeItem(at: int8)
        _ = try StudentQuantization.run(model: folder, output: int8)
        var f32Answers: [Int]?
        for (name, f) in [(step.student, folder), (step.student + ", int8", int8)] {
            var (row, answers) = try score(folder: f, lines: testLines, labels: recipe.labelNames, name: name, kind: .student, path: path)
            // The run measured the F32 student's agreement with its teachers; the int8 copy shares it when it answers alike.
            if f32Answers == nil || f32Answers == answers { row.agreementWithTeacher = test.agreementWithTeacher }
            f32Answers = f32Answers ?? answers
            row.seconds = seconds
            result.rows.append(row)
            log(String(format: "demo: %@: held-out accuracy %.4f, macro-F1 %.4f", name, row.accuracy, row.macroF1))
        }
        if !result.rows.contains(where: { $0.kind == .baseline }), let baseline = outcome.checks.goldBaselineTest, outcome.checks.goldBaselineLines != nil {
            result.rows.append(Row(model: "n-gram bag on the \(result.split.labelled) labelled lines alone (gold-only baseline)", kind: .baseline, path: path,
                                   accuracy: baseline.accuracy, macroF1: baseline.macroF1, missedAlerts: baseline.missedAlerts,
                                   falseAlarms: baseline.falseAlarms, folder: recipe.output.appendingPathComponent("baseline").path))
        }
    }

    /// A model folder answering the test lines through `Classifier`, as `distill classify` would; its row and answers.
    func score(folder: URL, lines: [DataRecord], labels: [String], name: String, kind: Row.Kind, path: String) throws -> (Row, [Int]) {
        let classifier = try Classifier.load(from: folder, cacheCapacity: 0)
        let predictions = classifier.classify(lines.map(\.text))
        let report = EvaluationReport.compute(probabilities: predictions.map(\.probabilities), gold: lines.map { $0.label! }, labels: labels,
                                              predicted: predictions.map(\.labelIndex))
        let (missed, falseAlarms) = report.alertRates()
        var row = Row(model: name, kind: kind, path: path, accuracy: report.accuracy, macroF1: report.macroF1, missedAlerts: missed, falseAlarms: falseAlarms,
                      folder: folder.path.replacingOccurrences(of: output.standardizedFileURL.path + "/", with: ""))
        try measure(folder: folder, lines: lines.map(\.text), into: &row)
        return (row, predictions.map(\.labelIndex))
    }

    /// Parameters, size of the weights, single-line latency (median of 200 lines) and batch throughput, cache off.
    func measure(folder: URL, lines: [String], into row: inout Row) throws {
        let classifier = try Classifier.load(from: folder, cacheCapacity: 0)
        row.parameters = classifier.student.module.parameterCount
        row.sizeOnDiskBytes = ((try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []).filter { $0.hasSuffix(".safetensors") }.reduce(0) {
            $0 + ((try? FileManager.default.attributesOfItem(atPath: folder.appendingPathComponent($1).path))?[.size] as? Int ?? 0)
        }
        let latencies = classifier.singleLineMilliseconds(lines.prefix(200))
        row.p50Milliseconds = latencies.isEmpty ? nil : latencies[latencies.count / 2]
        let start = DispatchTime.now().uptimeNanoseconds
        _ = classifier.classify(lines)
        row.throughput = Double(lines.count) / max(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9, 1e-9)
    }
}

extension Demo.Result {
    /// `report.json`, `report.md` and `report.html` in `folder`.
    func write(to folder: URL) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(self).write(to: folder.appendingPathComponent("report.json"), options: .atomic)
        try Data(markdown().utf8).write(to: folder.appendingPathComponent("report.md"), options: .atomic)
        try Data(html().utf8).write(to: folder.appendingPathComponent("report.html"), options: .atomic)
    }

    var subtitle: String {
        "Real logs (Loghub: \(split.systems.joined(separator: ", "))): \(split.test) test lines of \(split.heldOutTemplates) templates no model "
            + "saw in training or tuning; \(split.labelled) hand-labelled lines (at most 2 per training template), \(split.unlabelled) unlabelled, \(split.dev) dev."
    }

    /// The table in Markdown, then the zero-label cost and the notes.
    public func markdown() -> String {
        func pct(_ v: Double?) -> String { v.map { String(format: "%.1f%%", 100 * $0) } ?? "" }
        func opt(_ v: Double?, _ format: String) -> String { v.map { String(format: format, $0) } ?? "" }
        var lines = ["# Distill demo — \(date), \(machine)", "", subtitle, "",
                     "| model | kind | path | accuracy | macro-F1 | missed alerts | false alarms | agreement with teacher | parameters | size | p50 latency | throughput | time |",
                     "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
        for r in rows {
            lines.append("| \(r.model) | \(r.kind.rawValue) | \(r.path) | " + String(format: "%.4f | %.4f", r.accuracy, r.macroF1)
                         + " | \(pct(r.missedAlerts)) | \(pct(r.falseAlarms)) | \(opt(r.agreementWithTeacher, "%.4f")) | "
                         + "\(r.parameters.map { $0.formatted(.number.grouping(.automatic)) } ?? "") | \(opt(r.sizeOnDiskBytes.map { Double($0) / 1e6 }, "%.2f MB")) | "
                         + "\(opt(r.p50Milliseconds, "%.3f ms")) | \(opt(r.throughput, "%.0f lines/s")) | \(opt(r.seconds, "%.0f s")) |")
        }
        lines.append("")
        if let llm {
            lines.append("Zero-label path: \(llm.name) labelled the \(llm.unlabelledLines) unlabelled lines with \(llm.questions) questions "
                         + "(\(llm.unlabelledTemplates) templates: " + String(format: "%.2f", Double(llm.questions) / Double(max(llm.unlabelledTemplates, 1)))
                         + " questions per template), \(llm.requests) sent to it in this run (the rest from the label store), "
                         + String(format: "%.0f s", llm.seconds) + "; scoring it on the test lines took \(llm.testQuestions) more questions.")
            lines.append("")
        }
        lines += notes.map { "- \($0)" }
        lines.append(String(format: "Total wall time: %.0f s. Missed alerts: non-`normal` lines answered `normal`; false alarms: `normal` lines answered otherwise. Students answer as `distill classify` does (with the decision rule fitted on dev, when the recipe has one).", wallSeconds))
        return lines.joined(separator: "\n") + "\n"
    }

    /// The table with the size/quality and latency/quality charts (``ComparisonHTML``).
    public func html() -> String {
        ComparisonHTML.page(title: "Distill demo — \(date), \(machine)", subtitle: subtitle,
                            rows: rows.map { ComparisonHTML.Row(name: $0.model, accuracy: $0.accuracy, macroF1: $0.macroF1, agreementWithTeacher: $0.agreementWithTeacher,
                                                                parameters: $0.parameters, sizeOnDiskBytes: $0.sizeOnDiskBytes, millisecondsPerLine: $0.p50Milliseconds,
                                                                throughput: $0.throughput) })
    }
}
