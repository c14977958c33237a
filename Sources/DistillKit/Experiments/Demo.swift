import DistillCore
import DistillNN
import DistillRuntime
import DistillText
import Foundation

/// The end-to-end demo (`distill demo`): generate a log corpus with held-out templates, fine-tune the
/// all-MiniLM-L6-v2 teacher on a small labelled part, let it label the unlabelled part, distil a tiny BERT
/// student (KD + hidden + attention losses) and an n-gram bag student, train their hard-label-only twins, and
/// compare everything on lines from templates no model saw in training.
public struct Demo {
    public var teacherFolder: URL
    public var output: URL
    /// Smaller sets and fewer steps (about a third of the time).
    public var quick = false
    public var seed: UInt64 = 1
    /// A second teacher (the LLM of `--llm-teacher`): labels texts, nil where it gave no distribution.
    public var secondTeacher: (@Sendable (_ texts: [String]) async throws -> [[Float]?])?
    public var secondTeacherName = "LLM"
    /// Its weight next to the fine-tuned MiniLM's 1 (each also scaled per class by its dev F1).
    public var secondTeacherWeight: Float = 0.5

    public init(teacherFolder: URL, output: URL) {
        self.teacherFolder = teacherFolder
        self.output = output
    }

    /// One row of the result table.
    public struct Row: Codable, Sendable {
        public var model: String
        public var accuracy: Double
        public var macroF1: Double
        public var agreementWithTeacher: Double
        public var parameters: Int
        public var sizeOnDiskBytes: Int
        public var p50Milliseconds: Double
        public var p99Milliseconds: Double
        public var throughput: Double
    }

    public struct Result: Codable, Sendable {
        public var date: String
        public var machine: String
        public var wallSeconds: Double
        public var labelled: Int, unlabelled: Int, test: Int, heldOutTemplates: Int
        public var rows: [Row]
        /// With a second teacher: its own scores on the held-out lines and how many training lines it covered.
        public var secondTeacher: SecondTeacher?
        /// Rule-based augmented copies of training lines and what the teacher filter did with them.
        public var augmentation: Augmentation?
    }

    /// Counts of the rule-based augmentation step.
    public struct Augmentation: Codable, Sendable {
        /// Copies made (distinct model texts, different from their source), from labelled and from unlabelled lines.
        public var madeFromLabelled: Int, madeFromUnlabelled: Int
        /// Copies the teacher relabelled with their source's label at probability >= `threshold` (kept for distillation).
        public var kept: Int
        public var dropped: Int
        public var threshold: Float
    }

    public struct SecondTeacher: Codable, Sendable {
        public var name: String
        public var weight: Float
        public var accuracy: Double
        public var macroF1: Double
        /// Agreement with the fine-tuned MiniLM teacher on the held-out lines.
        public var agreementWithTeacher: Double
        /// Training and test lines it gave a distribution for.
        public var covered: Int
        public var asked: Int
        /// Per label, the dev F1 that scaled each teacher's vote: `[MiniLM, LLM]`.
        public var reliability: [[Float]]
        public var devAccuracy: Double
        /// False when its dev accuracy was not above the majority-class rate: the students then learned from MiniLM alone.
        public var used: Bool
    }

    /// The text every model reads: level, source and the masked message (envelope removed).
    public static func modelText(_ line: String, normalizer: LogNormalizer) -> String { TextInput.modelText(normalizer.normalize(line)) }

    /// Runs the demo's stages in order and writes `report.json`, `report.md` and `report.html`.
    public func run(log: (String) -> Void) async throws -> Result {
        let started = Date()
        try FileManager.default.createDirectory(at: output, withIntermediateDirectories: true)
        let lines = try makeLines(log: log)
        let (teacherModel, tokenizer) = try fineTuneTeacher(lines, log: log)
        let teacher = Student.bert(teacherModel, tokenizer)
        // The teacher labels the training texts (stored once), then the LLM joins when there is one.
        var soft = Self.probabilities(teacher, lines.trainTexts)
        let teacherTest = Self.probabilities(teacher, lines.test.map(\.0)).map(argmax)
        log("teacher labelled \(lines.trainTexts.count) training lines")
        var second: SecondTeacher?
        if let secondTeacher {
            second = try await joinSecondTeacher(secondTeacher, lines: lines, teacher: teacher, soft: &soft, teacherTest: teacherTest, log: log)
        }
        let data = try augment(lines, teacher: teacher, soft: soft, log: log)
        var rows: [Row] = []
        try evaluate("teacher: all-MiniLM-L6-v2 fine-tuned", teacher, folder: output.appendingPathComponent("models/teacher"), lines: lines,
                     teacherTest: teacherTest, distilled: false, rows: &rows, log: log)
        try trainStudents(lines, data: data, teacherModel: teacherModel, tokenizer: tokenizer, teacherTest: teacherTest, rows: &rows, log: log)
        let result = Result(date: ISO8601DateFormatter().string(from: Date()),
                            machine: "\(ProcessInfo.processInfo.activeProcessorCount) cores, \(ProcessInfo.processInfo.physicalMemory >> 30) GiB",
                            wallSeconds: Date().timeIntervalSince(started), labelled: lines.labelled.count, unlabelled: lines.unlabelled.count,
                            test: lines.test.count, heldOutTemplates: lines.generator.heldOutTemplates().count, rows: rows, secondTeacher: second,
                            augmentation: data.augmentation)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(result).write(to: output.appendingPathComponent("report.json"), options: .atomic)
        try Data(Demo.markdown(result).utf8).write(to: output.appendingPathComponent("report.md"), options: .atomic)
        try Data(Demo.html(result).utf8).write(to: output.appendingPathComponent("report.html"), options: .atomic)
        return result
    }

    /// The result as a page: the table and the size/latency/quality Pareto charts (``ComparisonHTML``).
    public static func html(_ r: Result) -> String {
        ComparisonHTML.page(title: "Distill demo — \(r.date), \(r.machine)",
                            subtitle: "Held-out templates: \(r.test) test lines from \(r.heldOutTemplates) templates no model saw in training; "
                                + "\(r.labelled) labelled and \(r.unlabelled) unlabelled training lines.",
                            rows: r.rows.map { ComparisonHTML.Row(name: $0.model, accuracy: $0.accuracy, macroF1: $0.macroF1, agreementWithTeacher: $0.agreementWithTeacher,
                                                                  parameters: $0.parameters, sizeOnDiskBytes: $0.sizeOnDiskBytes, millisecondsPerLine: $0.p50Milliseconds,
                                                                  throughput: $0.throughput) })
    }

    /// The result table in Markdown.
    public static func markdown(_ r: Result) -> String {
        var lines = ["# Distill demo — \(r.date), \(r.machine)", "",
                     "Held-out templates: \(r.test) test lines from \(r.heldOutTemplates) templates no model saw in training; \(r.labelled) labelled and \(r.unlabelled) unlabelled training lines.", "",
                     "| model | accuracy | macro-F1 | agreement with teacher | parameters | size on disk | p50 latency | p99 latency | throughput |",
                     "|---|---|---|---|---|---|---|---|---|"]
        for row in r.rows {
            lines.append(String(format: "| %@ | %.4f | %.4f | %.4f | %@ | %.2f MB | %.3f ms | %.3f ms | %.0f lines/s |", row.model, row.accuracy, row.macroF1,
                                row.agreementWithTeacher, grouped(row.parameters), Double(row.sizeOnDiskBytes) / 1e6, row.p50Milliseconds, row.p99Milliseconds, row.throughput))
        }
        lines.append("")
        if let a = r.augmentation {
            lines.append(String(format: "Rule-based augmentation: %d copies of labelled and %d of unlabelled lines; the teacher kept %d (same label as the source at p >= %.2f) and dropped %d. The hard-label twins trained on the labelled lines and their %d copies.",
                                a.madeFromLabelled, a.madeFromUnlabelled, a.kept, a.threshold, a.dropped, a.madeFromLabelled))
            lines.append("")
        }
        if let t = r.secondTeacher {
            lines.append(String(format: "Second teacher %@ (weight %.2f next to MiniLM's 1): held-out accuracy %.4f, macro-F1 %.4f, agreement with MiniLM %.4f; answered %d of %d lines. ",
                                t.name, t.weight, t.accuracy, t.macroF1, t.agreementWithTeacher, t.covered, t.asked)
                         + (t.used ? "The students learned from both teachers, each label's vote scaled by the teacher's dev F1 on it (class reliability)."
                                   : String(format: "Dropped: its dev accuracy %.4f was not above the majority-class rate, so the students learned from MiniLM alone.", t.devAccuracy)))
            lines.append("")
        }
        lines.append(String(format: "Total wall time: %.0f s.", r.wallSeconds))
        return lines.joined(separator: "\n") + "\n"
    }

    static func grouped(_ n: Int) -> String {
        var s = String(n), out = ""
        while s.count > 3 { out = "," + s.suffix(3) + out; s = String(s.dropLast(3)) }
        return s + out
    }

    func writeExamples(_ examples: [(text: String, raw: String?, label: String)], to url: URL) throws {
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        var data = Data()
        for e in examples {
            var object: [String: Any] = ["text": e.text, "label": e.label]
            if let raw = e.raw { object["raw"] = raw }
            data.append(try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes]))
            data.append(0x0A)
        }
        try data.write(to: url, options: .atomic)
    }

    func writeJSONL(_ records: ArraySlice<LogCorpusGenerator.Record>, to url: URL) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        var data = Data()
        for r in records { data.append(try encoder.encode(r)); data.append(0x0A) }
        try data.write(to: url, options: .atomic)
    }
}
