import ArgumentParser
import DistillExamples
import DistillNN
import DistillRuntime
import DistillText
import Foundation

/// `distill prepare`: what a student actually reads for each line — the prepared text (log-normalized as it was
/// trained), and its token ids (BERT) or hashed feature ids (n-gram bag) — so that ONNX Runtime, Triton or any
/// other runtime can be fed exactly what `distill classify` feeds the model.
struct PrepareCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "prepare",
        abstract: "Print each line's prepared text and the token or feature ids the student reads (JSON lines)."
    )

    @Option(help: "Student folder.")
    var model: String

    @Option(help: "Input lines (- for standard input).")
    var input: String = "-"

    @Option(name: .customLong("max-length"), parsing: .unconditional, help: "Tokens per line for BERT students (as classify; default: the model folder's model_max_length).")
    var maxLength: Int?

    func validate() throws { if let maxLength { try SizeLimits.check(maxLength, SizeLimits.maxLength, flag: "--max-length") } }

    func run() throws {
        let student = try Student.load(from: URL(fileURLWithPath: model))
        let preparer = student.input.preparer()
        let reader = try LineReader(path: input)
        var failures = 0
        var out = JSONLineWriter()
        while let line = try reader.next() {
            out.raw("{\"line\":")
            out.int(line.number)
            if let problem = line.problem {
                failures += 1
                FileHandle.standardError.write(Data("\(reader.name):\(line.number): \(problem.message)\n".utf8))
                out.raw(",\"error\":")
                out.string(problem.message)
            } else {
                let text = preparer.prepare(line.text!)
                out.raw(",\"text\":")
                out.string(text)
                let (name, ids) = student.model.inputIDs(text, maxLength: maxLength)
                out.raw(",")
                out.string(name)
                out.raw(":[")
                for (i, id) in ids.enumerated() {
                    if i > 0 { out.raw(",") }
                    out.int(id)
                }
                out.raw("]")
            }
            out.raw("}\n")
            if out.bytes.count > 1 << 20 { try flush(&out) }
        }
        try flush(&out)
        if failures > 0 { throw ExitCode(2) }
    }

    private func flush(_ out: inout JSONLineWriter) throws {
        do { try FileHandle.standardOutput.write(contentsOf: Data(out.bytes)) } catch { throw CommandFailure.standardOutput(error) }
        out = JSONLineWriter()
    }
}
