import ArgumentParser
import DistillCore
import DistillKit
import Foundation

/// `distill classify`: stream lines in, JSON lines with label, probability and top-k out.
struct ClassifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "classify",
        abstract: "Classify lines (plain text, or JSONL with a text field) with a student; writes JSON lines.",
        discussion: "Streams: reads and writes batch by batch, never holding the whole input. Bad lines yield {\"line\": N, \"error\": ...} and exit status 2 at the end."
    )

    @Option(help: "Student folder.")
    var model: String

    @Option(help: "Input file, or - for standard input.")
    var input: String = "-"

    @Option(name: .customLong("top-k"), help: "How many labels to list per line.")
    var topK: Int = 3

    @Option(help: "Read JSONL and take the text from this field (default: plain lines).")
    var field: String?

    @Option(help: "Lines per forward pass.")
    var batch: Int = 32

    @Option(name: .customLong("max-length"), help: "Tokens per line for BERT students.")
    var maxLength: Int = 128

    @OptionGroup var compute: ComputeOptions

    func run() throws {
        compute.apply()
        let student = try Student.load(from: URL(fileURLWithPath: model))
        let labels = student.labels
        let reader = try LineReader(path: input)
        let out = FileHandle.standardOutput
        var pending: [(line: Int, text: String?, error: String?)] = []
        var failures = 0
        func flush() throws {
            let texts = pending.compactMap(\.text)
            var rows: [[Float]] = []
            if !texts.isEmpty {
                let p = withoutGradients { softmax(student.logits(texts, maxLength: maxLength)) }
                let k = p.shape[1], v = p.scalars
                rows = (0..<texts.count).map { Array(v[($0 * k)..<(($0 + 1) * k)]) }
            }
            var next = 0
            var data = Data()
            for item in pending {
                var object: [String: Any] = ["line": item.line]
                if let error = item.error {
                    object["error"] = error
                } else {
                    let row = rows[next]
                    next += 1
                    let ranked = row.indices.sorted { row[$0] > row[$1] }
                    object["text"] = item.text!
                    object["label"] = labels[ranked[0]]
                    object["probability"] = Double(row[ranked[0]])
                    object["top"] = ranked.prefix(max(1, topK)).map { ["label": labels[$0], "probability": Double(row[$0])] }
                }
                data.append(try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes]))
                data.append(0x0A)
            }
            try out.write(contentsOf: data)
            pending.removeAll(keepingCapacity: true)
        }
        while let line = try reader.next() {
            var text = line.text, error = line.problem?.message
            if let field, let raw = text {
                if let object = (try? JSONSerialization.jsonObject(with: Data(raw.utf8))) as? [String: Any], let value = object[field] as? String {
                    text = value
                } else {
                    text = nil
                    error = "not a JSON object with a string '\(field)' field"
                }
            }
            if let error {
                failures += 1
                FileHandle.standardError.write(Data("\(reader.name):\(line.number): \(error)\n".utf8))
            }
            pending.append((line.number, error == nil ? text : nil, error))
            if pending.count >= batch { try flush() }
        }
        try flush()
        if failures > 0 { throw ExitCode(2) }
    }
}
