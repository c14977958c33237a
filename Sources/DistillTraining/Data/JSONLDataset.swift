import DistillRuntime
import DistillText
import Foundation

/// One line of a dataset file.
public struct DataRecord: Sendable, Equatable {
    public var text: String
    /// Index into the label set, when the line has a label and labels are read.
    public var label: Int?
    /// 1-based line number in its file.
    public var line: Int

    public init(text: String, label: Int?, line: Int) { (self.text, self.label, self.line) = (text, label, line) }
}

/// Reads a JSON-lines dataset: one object per line with a string `text` field and, optionally, a string
/// `label` from `labels`. Blank lines are skipped. Every problem names the file and line.
///
/// - Parameters:
///   - field: the text field's name.
///   - requireLabel: every line must carry a label (a labelled set); otherwise labels are optional.
///   - readLabels: false ignores `label` fields entirely (unlabelled data).
public func readDataset(_ url: URL, labels: [String], field: String = "text", requireLabel: Bool, readLabels: Bool = true) throws -> [DataRecord] {
    var out: [DataRecord] = []
    try forEachRecord(url, labels: labels, field: field, requireLabel: requireLabel, readLabels: readLabels) { out.append($0) }
    return out
}

/// ``readDataset(_:labels:field:requireLabel:readLabels:)`` one record at a time, in file order, holding no more
/// than the line being read.
public func forEachRecord(_ url: URL, labels: [String], field: String = "text", requireLabel: Bool, readLabels: Bool = true,
                          _ body: (DataRecord) throws -> Void) throws {
    let reader: LineReader
    do { reader = try LineReader(path: url.path) } catch {
        throw DistillError.invalidData(file: url.path, line: 0, detail: "cannot open: \(fileErrorReason(error))")
    }
    let index = Dictionary(labels.enumerated().map { ($0.element, $0.offset) }, uniquingKeysWith: { a, _ in a })
    while let line = try reader.next() {
        if let problem = line.problem { throw DistillError.invalidData(file: url.path, line: line.number, detail: problem.message) }
        let text = line.text!
        if text.allSatisfy(\.isWhitespace) { continue }
        let object: [String: Any]
        switch StrictJSON.object(text) {
        case let .success(o): object = o
        case let .failure(problem): throw DistillError.invalidData(file: url.path, line: line.number, detail: problem.message)
        }
        guard let value = object[field] as? String else {
            let found = object[field].map { "is a \(StrictJSON.kind(of: $0)), not a string" } ?? "is missing"
            throw DistillError.invalidData(file: url.path, line: line.number, detail: "the string field '\(field)' \(found)")
        }
        var label: Int?
        if readLabels, let raw = object["label"] {
            guard let name = raw as? String else { throw DistillError.invalidData(file: url.path, line: line.number, detail: "'label' must be a string") }
            guard let i = index[name] else {
                throw DistillError.invalidData(file: url.path, line: line.number, detail: "label '\(name)' is not in the label set (\(labels.joined(separator: ", ")))")
            }
            label = i
        }
        if requireLabel && label == nil { throw DistillError.invalidData(file: url.path, line: line.number, detail: "missing 'label'") }
        try body(DataRecord(text: value, label: label, line: line.number))
    }
}
