import Foundation

/// The lines of a training file as a student reads them: one entry per distinct prepared text (and gold label),
/// with the number of lines it stands for and its first raw line. Built in one pass over the file, so memory grows
/// with the distinct texts (what the templates say), not with the lines (``TrainingConfig/Duplicates``).
public struct DistinctLines: Sendable {
    /// One distinct (prepared text, label).
    public struct Entry: Sendable, Equatable {
        /// What the student and a `bert` teacher read.
        public var text: String
        /// The first raw line that reads as `text`: what a teacher that reads raw lines (an LLM, stored soft labels) is given.
        public var raw: String
        public var label: Int?
        /// Lines merged into this entry.
        public var count: Int
    }

    public private(set) var entries: [Entry] = []
    /// Lines read (the sum of the entries' counts).
    public private(set) var lines = 0
    /// False: every line is an entry of its own (``TrainingConfig/Duplicates/keep``).
    public let merging: Bool
    private var index: [TextAndLabel: Int] = [:]

    public init(merging: Bool) { self.merging = merging }

    /// Adds one line: `text` as prepared for the student, `raw` as read.
    public mutating func add(text: String, raw: String, label: Int?) {
        lines += 1
        guard merging else { entries.append(Entry(text: text, raw: raw, label: label, count: 1)); return }
        let key = TextAndLabel(text: text, label: label)
        if let i = index[key] {
            entries[i].count += 1
        } else {
            index[key] = entries.count
            entries.append(Entry(text: text, raw: raw, label: label, count: 1))
        }
    }

    /// Reads a JSON-lines dataset (as ``readDataset(_:labels:field:requireLabel:readLabels:)``) straight into
    /// entries, preparing each line with `prepare` (nil: the raw line is what the student reads).
    public static func read(_ url: URL, labels: [String], requireLabel: Bool, readLabels: Bool = true, merging: Bool,
                            prepare: ((String) -> String)?) throws -> DistinctLines {
        var distinct = DistinctLines(merging: merging)
        try forEachRecord(url, labels: labels, requireLabel: requireLabel, readLabels: readLabels) { record in
            distinct.add(text: prepare?(record.text) ?? record.text, raw: record.text, label: record.label)
        }
        return distinct
    }
}

/// Merges training examples with the same text and label into one (in first-seen order): its weight is the sum of
/// theirs, at most `cap`; its teacher distribution is the weighted mean of those its members have (a single member
/// keeps its own bit for bit). Returns the merged examples and, per merged example, its uncapped weight (the lines
/// it stands for).
public func mergeDuplicateExamples(_ examples: [TrainingExample], cap: Float) -> (examples: [TrainingExample], lines: [Float]) {
    var index: [TextAndLabel: Int] = [:]
    var merged: [TrainingExample] = [], lines: [Float] = [], members: [Int] = []
    var teacherSums: [[Float]?] = [], teacherWeights: [Float] = []
    for e in examples {
        let key = TextAndLabel(text: e.text, label: e.label)
        let i: Int
        if let found = index[key] {
            i = found
            members[i] += 1
            lines[i] += e.weight
        } else {
            i = merged.count
            index[key] = i
            merged.append(e)
            lines.append(e.weight)
            members.append(1)
            teacherSums.append(nil)
            teacherWeights.append(0)
        }
        if let t = e.teacher {
            teacherSums[i] = teacherSums[i].map { zip($0, t).map { $0 + $1 * e.weight } } ?? t.map { $0 * e.weight }
            teacherWeights[i] += e.weight
        }
    }
    for i in merged.indices {
        merged[i].weight = min(lines[i], cap)
        if members[i] > 1, let sums = teacherSums[i] { merged[i].teacher = sums.map { $0 / teacherWeights[i] } }
    }
    return (merged, lines)
}

/// What makes two training lines the same example: their prepared text and gold label.
private struct TextAndLabel: Hashable {
    var text: String
    var label: Int?
}
