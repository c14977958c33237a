import ArgumentParser
import DistillExamples
import DistillNN
import DistillText
import DistillTraining
import Foundation

/// `distill report`: a comparison of models (the quality benchmark's table) as a self-contained HTML page.
struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Render a comparison of models (JSON) as an HTML page: the table and the size/latency/quality Pareto charts.",
        discussion: """
            The JSON object has "title", "subtitle", optional "latency" (what ms_per_line measures) and "rows": \
            [{"name", "accuracy", "macro_f1", "agreement_with_teacher"?, "parameters"?, "size_bytes"?, "ms_per_line"?, \
            "lines_per_second"?}]. `make bench-quality` writes one (runs/quality/quality-comparison.json); the demo writes its page itself. \
            The page has no scripts and loads nothing.
            """
    )

    @Option(help: "The comparison (JSON), or - for standard input.")
    var comparison: String

    @Option(help: "The page to write (- for standard output).")
    var out: String

    func run() throws {
        let name = comparison == "-" ? "<stdin>" : comparison
        let data: Data
        do {
            data = comparison == "-" ? FileHandle.standardInput.readDataToEndOfFile() : try Data(contentsOf: URL(fileURLWithPath: comparison))
        } catch { throw CommandFailure("\(comparison): cannot read: \(fileErrorReason(error))") }
        let document: ComparisonHTML.Document
        do { document = try JSONDecoder().decode(ComparisonHTML.Document.self, from: data) } catch let error as DecodingError {
            throw CommandFailure("\(name): key '\(error.keyPath)': \(error.summary)")
        } catch {
            throw CommandFailure("\(name): not JSON: \(error.localizedDescription)")
        }
        for (i, row) in document.rows.enumerated() {
            for (key, value) in [("accuracy", row.accuracy), ("macro_f1", row.macroF1), ("agreement_with_teacher", row.agreementWithTeacher ?? 0)]
            where !(value.isFinite && (0...1).contains(value)) {
                throw CommandFailure("\(name): key 'rows.\(i).\(key)': \(value) is not a share in 0...1 (model '\(row.name)')")
            }
            for (key, value) in [("ms_per_line", row.millisecondsPerLine ?? 1), ("lines_per_second", row.throughput ?? 1), ("size_bytes", Double(row.sizeOnDiskBytes ?? 1))]
            where !(value.isFinite && value > 0) {
                throw CommandFailure("\(name): key 'rows.\(i).\(key)': \(value) is not a positive number (model '\(row.name)')")
            }
        }
        let page = ComparisonHTML.page(title: document.title, subtitle: document.subtitle, rows: document.rows,
                                       latency: document.latency ?? ComparisonHTML.singleLineLatency)
        if out == "-" {
            do { try FileHandle.standardOutput.write(contentsOf: Data(page.utf8)) } catch { throw CommandFailure.standardOutput(error) }
        } else {
            do { try Data(page.utf8).write(to: URL(fileURLWithPath: out), options: .atomic) } catch {
                throw CommandFailure("\(out): cannot write: \(fileErrorReason(error))")
            }
            note("report: \(document.rows.count) models -> \(out)")
        }
    }
}
