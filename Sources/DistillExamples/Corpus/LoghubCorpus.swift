import DistillText
import DistillTraining
import Foundation
import SwiftCSV

/// Real logs: the Loghub 2k samples committed under `data/loghub/` (one folder per system with
/// `<System>_2k.log`, `<System>_2k.log_structured.csv` and `<System>_2k.log_templates.csv`, plus a
/// `labels.json` mapping each template to a category of ``LogTaxonomy``).
///
/// Each line is the raw line as the system wrote it (a trailing `\r` removed), with its template from the
/// structured file (aligned by `LineId`) and its template's category where the system has labels.
public struct LoghubCorpus: Sendable {
    /// One raw log line.
    public struct Line: Sendable, Equatable {
        public var system: String
        /// 1-based line number in `<System>_2k.log`.
        public var lineNumber: Int
        public var text: String
        /// `EventId` of the line's template (e.g. `E10`).
        public var eventId: String
        public var template: String
        /// The template's category, nil when the system has no `labels.json`.
        public var label: String?
        /// `high` or `low`, as the labeller marked the template.
        public var confidence: String?
        /// `System/EventId`: unique across systems.
        public var templateKey: String { "\(system)/\(eventId)" }
    }

    public var lines: [Line]
    /// Systems found, in name order.
    public var systems: [String]

    /// Reads every system folder under `folder`; the errors name the file and line.
    public init(folder: URL) throws {
        let names = try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted()
        var lines: [Line] = [], systems: [String] = []
        for name in names {
            let dir = folder.appendingPathComponent(name)
            let log = dir.appendingPathComponent("\(name)_2k.log")
            guard FileManager.default.fileExists(atPath: log.path) else { continue }
            systems.append(name)
            lines += try Self.readSystem(name, folder: dir)
        }
        guard !lines.isEmpty else {
            throw DistillError.invalidData(file: folder.path, line: 0, detail: "no Loghub system folder (<System>/<System>_2k.log) here")
        }
        self.lines = lines
        self.systems = systems
    }

    private static func readSystem(_ system: String, folder: URL) throws -> [Line] {
        let logURL = folder.appendingPathComponent("\(system)_2k.log")
        let structuredURL = folder.appendingPathComponent("\(system)_2k.log_structured.csv")
        let templatesURL = folder.appendingPathComponent("\(system)_2k.log_templates.csv")
        let raw = try Data(contentsOf: logURL)
        var rawLines = raw.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).map { bytes -> String in
            var b = bytes
            if b.last == UInt8(ascii: "\r") { b = b.dropLast() }
            return String(decoding: b, as: UTF8.self)
        }
        if rawLines.last == "" { rawLines.removeLast() }

        let templates = try table(templatesURL)
        guard let idColumn = templates.header.firstIndex(of: "EventId"), let textColumn = templates.header.firstIndex(of: "EventTemplate") else {
            throw DistillError.invalidData(file: templatesURL.path, line: 1, detail: "needs EventId and EventTemplate columns")
        }
        var templateText: [String: String] = [:]
        for row in templates.rows where row.count > max(idColumn, textColumn) { templateText[row[idColumn]] = row[textColumn] }

        var labels: [String: (String, String?)] = [:]
        let labelsURL = folder.appendingPathComponent("labels.json")
        if FileManager.default.fileExists(atPath: labelsURL.path) {
            guard let object = try JSONSerialization.jsonObject(with: Data(contentsOf: labelsURL)) as? [String: [String: String]] else {
                throw DistillError.invalidData(file: labelsURL.path, line: 0, detail: "expected {\"E1\": {\"label\": …, \"confidence\": …}, …}")
            }
            for (id, entry) in object {
                guard let label = entry["label"], LogTaxonomy.labels.contains(label) else {
                    throw DistillError.invalidData(file: labelsURL.path, line: 0,
                                                   detail: "\(id): label '\(entry["label"] ?? "")' is not one of \(LogTaxonomy.labels.joined(separator: ", "))")
                }
                guard templateText[id] != nil else {
                    throw DistillError.invalidData(file: labelsURL.path, line: 0, detail: "\(id) is not a template of \(templatesURL.lastPathComponent)")
                }
                labels[id] = (label, entry["confidence"])
            }
        }

        let structured = try table(structuredURL)
        guard let lineColumn = structured.header.firstIndex(of: "LineId"), let eventColumn = structured.header.firstIndex(of: "EventId") else {
            throw DistillError.invalidData(file: structuredURL.path, line: 1, detail: "needs LineId and EventId columns")
        }
        var out: [Line] = []
        out.reserveCapacity(structured.rows.count)
        for (i, row) in structured.rows.enumerated() {
            guard row.count > max(lineColumn, eventColumn), let number = Int(row[lineColumn]), number >= 1, number <= rawLines.count else {
                throw DistillError.invalidData(file: structuredURL.path, line: i + 2, detail: "LineId is not a line of \(logURL.lastPathComponent)")
            }
            let id = row[eventColumn]
            guard let template = templateText[id] else {
                throw DistillError.invalidData(file: structuredURL.path, line: i + 2, detail: "EventId \(id) is not in \(templatesURL.lastPathComponent)")
            }
            if !labels.isEmpty && labels[id] == nil {
                throw DistillError.invalidData(file: labelsURL.path, line: 0, detail: "template \(id) has no label")
            }
            out.append(Line(system: system, lineNumber: number, text: rawLines[number - 1], eventId: id, template: template,
                            label: labels[id]?.0, confidence: labels[id]?.1))
        }
        return out
    }

    private static func table(_ url: URL) throws -> (header: [String], rows: [[String]]) {
        do {
            let csv = try CSV<Enumerated>(url: url, delimiter: .comma, encoding: .utf8, loadColumns: false)
            return (csv.header, csv.rows)
        } catch let error as CSVParseError {
            throw DistillError.invalidData(file: url.path, line: 0, detail: "not valid CSV: \(error)")
        } catch {
            throw DistillError.invalidData(file: url.path, line: 0, detail: "cannot read: \(fileErrorReason(error))")
        }
    }
}

/// The real-logs protocol: whole templates held out for testing, a few hand-labelled lines per training
/// template, the rest of the training templates' lines unlabelled (for teachers), a dev set, and a test set of
/// unseen lines of the training templates. Only lines with a label take part; deterministic for a seed.
///
/// The dev set mixes lines of training templates with lines of its own held-out templates (in no training or
/// test set), so that what is tuned on dev — early stopping, thresholds, calibration — is tuned for templates a
/// model has never seen, as in production, without touching the test templates.
public struct LoghubSplit: Sendable {
    /// Fraction of each system's labelled templates held out (at least one per system with two or more).
    public var heldOutFraction = 0.25
    /// Hand-labelled lines per training template.
    public var perTemplate = 2
    /// Dev lines from training templates (not labelled lines).
    public var devLines = 300
    /// Fraction of each system's templates (after the test hold-out) whose lines go to dev only.
    public var devTemplateFraction = 0.1
    /// Dev lines taken from each dev template at most (so that one chatty template does not make the dev set).
    public var devLinesPerTemplate = 10
    /// Test lines of training templates that no training set holds.
    public var seenTestLines = 1500
    public var seed: UInt64 = 1

    public init() {}

    /// The parts of a split.
    public struct Parts: Sendable {
        public var labelled: [LoghubCorpus.Line] = []
        public var unlabelled: [LoghubCorpus.Line] = []
        public var dev: [LoghubCorpus.Line] = []
        /// Lines of held-out templates: the gold set nothing is trained or tuned on.
        public var heldOut: [LoghubCorpus.Line] = []
        public var seen: [LoghubCorpus.Line] = []
        public var heldOutTemplates: [String] = []
        /// Templates whose lines are only in dev (their first `devLinesPerTemplate` lines; the others are in no part).
        public var devTemplates: [String] = []
    }

    /// A deterministic order key for `value` under the split's seed (FNV-1a over the seed and the text).
    private func rank(_ value: String) -> UInt64 { Fingerprint.of(["\(seed)", value]) }

    public func split(_ corpus: LoghubCorpus) -> Parts {
        var parts = Parts()
        let labelled = corpus.lines.filter { $0.label != nil }
        var bySystem: [String: [String]] = [:]
        for line in labelled where !(bySystem[line.system]?.contains(line.templateKey) ?? false) {
            bySystem[line.system, default: []].append(line.templateKey)
        }
        var heldOut = Set<String>(), devOnly = Set<String>()
        for system in bySystem.keys.sorted() {
            let keys = bySystem[system]!.sorted { rank($0) < rank($1) }
            let count = keys.count < 2 ? 0 : max(1, Int((Double(keys.count) * heldOutFraction).rounded()))
            heldOut.formUnion(keys.prefix(count))
            let devCount = keys.count - count < 3 ? 0 : Int((Double(keys.count) * devTemplateFraction).rounded())
            devOnly.formUnion(keys.dropFirst(count).prefix(devCount))
        }
        parts.heldOutTemplates = heldOut.sorted()
        parts.devTemplates = devOnly.sorted()
        var devTaken: [String: Int] = [:]
        var devFromTemplates: [LoghubCorpus.Line] = []
        var rest: [LoghubCorpus.Line] = []
        var taken: [String: Int] = [:]
        for line in labelled.sorted(by: { rank("\($0.system):\($0.lineNumber)") < rank("\($1.system):\($1.lineNumber)") }) {
            if heldOut.contains(line.templateKey) { parts.heldOut.append(line); continue }
            if devOnly.contains(line.templateKey) {
                if devTaken[line.templateKey, default: 0] < devLinesPerTemplate {
                    devTaken[line.templateKey, default: 0] += 1
                    devFromTemplates.append(line)
                }
                continue
            }
            if taken[line.templateKey, default: 0] < perTemplate {
                taken[line.templateKey, default: 0] += 1
                parts.labelled.append(line)
            } else {
                rest.append(line)
            }
        }
        parts.dev = Array(rest.prefix(devLines)) + devFromTemplates
        parts.seen = Array(rest.dropFirst(devLines).prefix(seenTestLines))
        parts.unlabelled = Array(rest.dropFirst(devLines + seenTestLines))
        func byOrigin(_ a: LoghubCorpus.Line, _ b: LoghubCorpus.Line) -> Bool { (a.system, a.lineNumber) < (b.system, b.lineNumber) }
        parts.labelled.sort(by: byOrigin)
        parts.unlabelled.sort(by: byOrigin)
        parts.dev.sort(by: byOrigin)
        parts.heldOut.sort(by: byOrigin)
        parts.seen.sort(by: byOrigin)
        return parts
    }
}

extension LoghubSplit.Parts {
    /// Writes the split as JSON lines into `folder` — `labelled.jsonl`, `unlabelled.jsonl` (the label as `gold`, for
    /// measuring only), `dev.jsonl`, `test-heldout.jsonl`, `test-seen.jsonl`, `all.jsonl`, `lines.txt` and
    /// `split.json` (counts, held-out templates, seed); each line keeps its `system` and `template`. Returns a
    /// one-line summary.
    public func write(to folder: URL, corpus: LoghubCorpus, seed: UInt64) throws -> String {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        func write(_ name: String, _ lines: [LoghubCorpus.Line], labelKey: String = "label") throws {
            var data = Data()
            for line in lines {
                var object: [String: Any] = ["text": line.text, "system": line.system, "template": line.templateKey]
                if let label = line.label { object[labelKey] = label }
                data.append(try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes]))
                data.append(0x0A)
            }
            try data.write(to: folder.appendingPathComponent(name), options: .atomic)
        }
        try write("labelled.jsonl", labelled)
        try write("unlabelled.jsonl", unlabelled, labelKey: "gold")
        try write("dev.jsonl", dev)
        try write("test-heldout.jsonl", heldOut)
        try write("test-seen.jsonl", seen)
        try write("all.jsonl", corpus.lines)
        try Data(corpus.lines.map(\.text).joined(separator: "\n").appending("\n").utf8).write(to: folder.appendingPathComponent("lines.txt"), options: .atomic)
        var counts: [String: Int] = [:]
        for line in heldOut { counts[line.label!, default: 0] += 1 }
        let summary: [String: Any] = [
            "systems": corpus.systems, "lines": corpus.lines.count, "labelled": labelled.count, "unlabelled": unlabelled.count,
            "dev": dev.count, "test_heldout": heldOut.count, "test_seen": seen.count,
            "heldout_templates": heldOutTemplates, "heldout_labels": counts, "seed": seed, "dev_templates": devTemplates,
        ]
        try JSONSerialization.data(withJSONObject: summary, options: [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes])
            .write(to: folder.appendingPathComponent("split.json"), options: .atomic)
        return "loghub: \(corpus.lines.count) lines of \(corpus.systems.count) systems -> \(labelled.count) labelled, "
            + "\(unlabelled.count) unlabelled, \(dev.count) dev (\(devTemplates.count) templates of their own), \(heldOut.count) test lines of "
            + "\(heldOutTemplates.count) held-out templates, \(seen.count) test lines of training templates -> \(folder.path)"
    }
}
