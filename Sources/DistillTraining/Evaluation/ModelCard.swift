import DistillNN
import DistillRuntime
import DistillText
import Foundation

/// A model card (`README.md` in a model folder, Hugging Face's front matter + Markdown): what the model is, what
/// it was trained from, how it scored on its test set, how to run it and where it should not be trusted.
/// `train` writes one into every student folder it ships; `distill export` writes one for the format it exports.
public struct ModelCard: Sendable {
    /// The file name inside a model folder.
    public static let fileName = "README.md"
    /// The card's facts as JSON beside it, so an export can render the card again for its own format.
    public static let factsFileName = "model_card.json"

    /// What training knew and the model cannot tell by itself.
    public struct Facts: Codable, Sendable {
        public var title: String
        /// One line per teacher (name, kind, weight); empty when trained on gold labels only.
        public var teachers: [String] = []
        /// One line per data file the model was trained or evaluated on.
        public var data: [String] = []
        /// The test report of this folder (nil: not evaluated).
        public var report: EvaluationReport?

        public init(title: String, teachers: [String] = [], data: [String] = [], report: EvaluationReport? = nil) {
            self.title = title
            self.teachers = teachers
            self.data = data
            self.report = report
        }

        /// The facts saved in `folder`, or nil when it has none; a file that does not parse is an error naming it.
        public static func load(folder: URL) throws -> Facts? {
            let url = folder.appendingPathComponent(ModelCard.factsFileName)
            guard let data = try? Data(contentsOf: url) else { return nil }
            do { return try JSONDecoder().decode(Facts.self, from: data) } catch let error as DecodingError {
                throw ModelError.invalidConfig(path: url.path, key: error.keyPath, detail: error.summary)
            } catch {
                throw ModelError.invalidConfig(path: url.path, key: "(root)", detail: "not JSON")
            }
        }
    }

    public var facts: Facts
    /// Architecture, sizes and labels, read from the model.
    public var model: Summary
    /// The decision rule saved beside the weights (`decision.json`), if any.
    public var decision: DecisionRule?
    /// Extra Markdown sections (title, body), e.g. how an export is run; placed after "How to use".
    public var sections: [(String, String)] = []
    /// The `library_name` of the front matter (`transformers`, `onnx`; `distill` for a student folder).
    public var library = "distill"

    private var title: String { facts.title }
    private var teachers: [String] { facts.teachers }
    private var data: [String] { facts.data }
    private var report: EvaluationReport? { facts.report }

    /// What the card says about the model itself.
    public struct Summary: Sendable {
        public var architecture: String
        public var parameters: Int
        public var labels: [String]
        public var input: TextInput
        public var quantization: String?

        public init(_ student: Student, quantization: String? = nil) {
            architecture = student.model.architectureSummary
            parameters = student.module.parameterCount
            labels = student.labels
            input = student.input
            self.quantization = quantization
        }
    }

    public init(_ facts: Facts, model: Summary, decision: DecisionRule? = nil) {
        self.facts = facts
        self.model = model
        self.decision = decision
    }

    /// The card as Markdown with YAML front matter.
    public func markdown() -> String {
        var s = "---\nlibrary_name: \(library)\npipeline_tag: text-classification\ntags:\n- distill\n- log-classification\n- knowledge-distillation\n---\n\n"
        s += "# \(title)\n\n"
        s += "A log-line classifier made with Distill, answering one of \(model.labels.count) labels: \(model.labels.map { "`\($0)`" }.joined(separator: ", ")).\n\n"
        s += "## Model\n\n| | |\n|---|---|\n"
        s += "| architecture | \(model.architecture) |\n"
        s += "| parameters | \(model.parameters.formatted(.number.grouping(.automatic))) |\n"
        s += "| weights | \(model.quantization.map { "int8 (\($0)), dequantized to F32 at load" } ?? "F32") |\n"
        s += "| input | \(inputDescription) |\n"
        if let d = decision {
            var rule = "temperature \(d.temperature)"
            if let n = d.normalLabel, let t = d.normalThreshold { rule += "; `\(n)` only when its probability >= \(t)" }
            if let m = d.minimumConfidence { rule += "; below confidence \(m) the answer is flagged as abstained" }
            s += "| decision rule (`decision.json`) | \(rule) |\n"
        }
        s += "\n## Training\n\n"
        s += teachers.isEmpty ? "Trained on gold labels only (no teacher).\n" : "Teachers:\n\n" + teachers.map { "- \($0)\n" }.joined()
        if !data.isEmpty { s += "\nData:\n\n" + data.map { "- \($0)\n" }.joined() }
        s += "\n## Evaluation\n\n"
        if let r = report {
            s += "On \(r.examples) test lines: accuracy \(fixed(r.accuracy)), macro-F1 \(fixed(r.macroF1)), expected calibration error "
                + "\(fixed(r.expectedCalibrationError))"
            if let a = r.agreementWithTeacher { s += ", agreement with the teacher \(fixed(a))" }
            s += ".\n\n| label | precision | recall | F1 | support |\n|---|---|---|---|---|\n"
            for c in r.perClass { s += "| \(c.label.replacingOccurrences(of: "|", with: "\\|")) | \(fixed(c.precision)) | \(fixed(c.recall)) | \(fixed(c.f1)) | \(c.support) |\n" }
            if let normal = r.labels.firstIndex(of: "normal"), r.confusion.count == r.labels.count,
               r.confusion.allSatisfy({ $0.count == r.labels.count }) {
                let alerts = r.confusion.enumerated().filter { $0.offset != normal }.map { $0.element.reduce(0, +) }.reduce(0, +)
                let missed = r.confusion.enumerated().filter { $0.offset != normal }.map { $0.element[normal] }.reduce(0, +)
                let normals = r.confusion[normal].reduce(0, +)
                let alarms = normals - r.confusion[normal][normal]
                s += "\nMissed alerts (a non-`normal` line answered `normal`): \(missed) of \(alerts)"
                    + (alerts > 0 ? " (\(percent(Double(missed) / Double(alerts))))" : "")
                    + "; false alarms (a `normal` line answered otherwise): \(alarms) of \(normals)"
                    + (normals > 0 ? " (\(percent(Double(alarms) / Double(normals))))" : "") + ".\n"
            }
        } else {
            s += "Not evaluated in this folder (no test set, or another folder of the run was the one tested).\n"
        }
        if library == "distill" {
        s += "\n## How to use\n\n```sh\ndistill classify --model FOLDER --input app.log      # JSON lines: label, probability, template\n"
            + "distill serve --model FOLDER --forward loki=http://loki:3100   # labels next to the logs in the store\n"
            + "distill prepare --model FOLDER < app.log                      # the text and ids the model reads\n```\n"
        }
        for (title, body) in sections { s += "\n## \(title)\n\n\(body)\n" }
        s += "\n## Intended use\n\nTagging log lines of the systems and kinds of messages it was trained on with an operational "
            + "category, to route, count and alert on them next to the raw logs. It is a triage aid, not an incident detector: "
            + "keep the raw line, and keep alerts that matter on explicit rules as well.\n"
        s += "\n## Limitations\n\n"
        s += "- Quality was measured on the test lines above only; lines of systems, versions or languages the training data "
            + "did not cover can be labelled with high confidence and still be wrong. Measure on your own logs "
            + "(`distill eval`) before relying on it.\n"
        s += "- A student copies its teacher's mistakes: where the teacher was wrong, so is the student, confidently.\n"
        if model.input.kind == .logs {
            s += "- It reads log-normalized text (timestamps, addresses, ids and numbers masked); feed it raw lines through Distill, "
                + "or the prepared text `distill prepare` prints — other runtimes given raw lines will answer differently.\n"
        }
        let calibrated = (decision?.temperature ?? 1) != 1
        s += "- Probabilities are \(calibrated ? "calibrated on the dev lines by the temperature above" : "the softmax of the logits, not calibrated on held-out data").\n"
        return s
    }

    /// Writes `README.md` and its facts (`model_card.json`) into `folder`, atomically.
    public func write(into folder: URL) throws {
        let url = folder.appendingPathComponent(Self.fileName)
        do {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            try encoder.encode(facts).write(to: folder.appendingPathComponent(Self.factsFileName), options: .atomic)
            try Data(markdown().utf8).write(to: url, options: .atomic)
        } catch {
            throw ModelError.io(path: url.path, detail: "cannot write the model card: \(fileErrorReason(error))")
        }
    }

    private var inputDescription: String {
        switch model.input.kind {
        case .raw: return "raw text"
        case .logs: return "log-normalized text (masks: \(model.input.masks.joined(separator: ", ")))"
        }
    }

    private func fixed(_ v: Double) -> String { String(format: "%.3f", v) }
    private func percent(_ v: Double) -> String { String(format: "%.1f%%", v * 100) }
}
