import DistillNN
import DistillRuntime
import DistillText
import Foundation

/// What a distillation run checks once it has trained, so that a run that learned less than its labelled lines
/// alone teach — or collapsed — does not end quietly: written into `report.json` and `report.md`, and every
/// warning printed on stderr.
public struct RunChecks: Codable, Sendable, Equatable {
    public struct Score: Codable, Sendable, Equatable {
        public var accuracy: Double
        public var macroF1: Double
        /// Shares of the alert lines answered `normal` and of the `normal` lines answered otherwise (nil without them).
        public var missedAlerts: Double?
        public var falseAlarms: Double?

        public init(accuracy: Double, macroF1: Double, missedAlerts: Double? = nil, falseAlarms: Double? = nil) {
            self.accuracy = accuracy
            self.macroF1 = macroF1
            self.missedAlerts = missedAlerts
            self.falseAlarms = falseAlarms
        }
    }

    /// The shipped student on the dev lines.
    public var student: Score?
    /// The teachers' aggregate on the dev lines (nil without teachers).
    public var teachers: Score?
    /// The gold-only baseline on the dev lines: an n-gram bag trained in the same run on the labelled lines alone
    /// (nil when the student is such a model already, or without labelled or dev lines).
    public var goldBaseline: Score?
    /// Labelled lines the baseline learned from.
    public var goldBaselineLines: Int?
    /// The gold-only baseline on the test lines (nil without them), to compare with the student's test report.
    public var goldBaselineTest: Score?
    public var warnings: [String]

    public init(student: Score? = nil, teachers: Score? = nil, goldBaseline: Score? = nil, goldBaselineLines: Int? = nil,
                goldBaselineTest: Score? = nil, warnings: [String] = []) {
        self.student = student
        self.teachers = teachers
        self.goldBaseline = goldBaseline
        self.goldBaselineLines = goldBaselineLines
        self.goldBaselineTest = goldBaselineTest
        self.warnings = warnings
    }

    /// The checks as Markdown, for `report.md`.
    public func markdown() -> String {
        func score(_ s: Score?) -> String { s.map { String(format: "accuracy %.4f, macro-F1 %.4f", $0.accuracy, $0.macroF1) } ?? "-" }
        var lines = ["## Checks (dev lines)", "", "| model | dev |", "|---|---|", "| student | \(score(student)) |"]
        if teachers != nil { lines.append("| teachers (aggregate) | \(score(teachers)) |") }
        if let n = goldBaselineLines {
            lines.append("| gold-only baseline (n-gram bag on the \(n) labelled lines) | \(score(goldBaseline)) |")
            if let t = goldBaselineTest { lines += ["", "The gold-only baseline on the test lines: \(score(t))."] }
        }
        lines.append("")
        lines += warnings.isEmpty ? ["No warnings."] : warnings.map { "- **warning**: \($0)" }
        return lines.joined(separator: "\n") + "\n"
    }
}
