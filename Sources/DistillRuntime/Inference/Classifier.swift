import DistillCore
import DistillNN
import DistillText
import Foundation
import Synchronization

/// The runtime of a trained student: raw lines in, labels out. Prepares each line the way the model was trained
/// (``TextInput``, from its `config.json`), answers repeated model texts from a ``PredictionCache``, runs one
/// batched forward pass (``StudentInference``: no autodiff tape, no padding, workspaces reused between calls) over the distinct lines it has not seen, and names each line's
/// template. Used by `distill classify` and `distill serve`; safe to call from several threads.
public final class Classifier: @unchecked Sendable {
    public let student: Student
    public let labels: [String]
    public let input: TextInput
    /// The folder the model was loaded from.
    public let folder: URL
    /// Tokens per line for BERT students (the folder's `model_max_length` unless the caller chose); nil for the
    /// n-gram bag.
    public let maxLength: Int?
    public let cache: PredictionCache?
    private let preparer: TextInput.Preparer
    private let templateNormalizer = LogNormalizer()
    /// Whether the model's own masks are all of them (then its masked text gives the template id directly).
    private let templateUsesModelMasks: Bool
    /// The tape-free engine the forward passes run on (it serializes calls; each uses every compute thread).
    public let engine: StudentInference
    /// How probabilities become answers (the folder's `decision.json`, or the plain argmax).
    public let decision: DecisionRule
    private let normalIndex: Int?

    /// One line's answer.
    public struct Prediction: Sendable, Equatable {
        public var labelIndex: Int
        public var probability: Float
        /// Every label's probability, in label order.
        public var probabilities: [Float]
        /// The line's template: FNV-1a 64 of its masked message (variables replaced by placeholders), stable
        /// across runs, machines and models.
        public var templateHash: UInt64
        /// ``templateHash`` as 16 hex digits.
        public var template: String { Classifier.templateString(templateHash) }
        /// Whether the probabilities came from the cache.
        public var cached: Bool
        /// Whether ``probability`` is below the decision rule's confidence floor: the answer is ``DecisionRule/unknownLabel``.
        public var abstained: Bool

        public init(labelIndex: Int, probability: Float, probabilities: [Float], templateHash: UInt64, cached: Bool, abstained: Bool = false) {
            (self.labelIndex, self.probability, self.probabilities, self.templateHash, self.cached) = (labelIndex, probability, probabilities, templateHash, cached)
            self.abstained = abstained
        }

        /// The answer's name: the label, or ``DecisionRule/unknownLabel`` below the confidence floor.
        public func label(in labels: [String]) -> String { abstained ? DecisionRule.unknownLabel : labels[labelIndex] }

        /// The `k` most probable label indices, best first.
        public func top(_ k: Int) -> [Int] {
            Array(probabilities.indices.sorted { probabilities[$0] > probabilities[$1] || (probabilities[$0] == probabilities[$1] && $0 < $1) }.prefix(max(1, k)))
        }
    }

    /// Wraps a loaded student. `cacheCapacity` 0 turns the cache off; `decision` must suit the student's labels
    /// (see ``DecisionRule/validate(labels:source:)``).
    public init(student: Student, folder: URL, cacheCapacity: Int = 100_000, maxLength: Int? = nil, decision: DecisionRule = DecisionRule()) {
        self.student = student
        self.decision = decision
        normalIndex = decision.normalIndex(in: student.labels)
        self.folder = folder
        labels = student.labels
        input = student.input
        preparer = student.input.preparer()
        templateUsesModelMasks = student.input.logMasks == .all
        self.maxLength = student.maxLength(requested: maxLength)
        cache = cacheCapacity > 0 ? PredictionCache(capacity: cacheCapacity) : nil
        engine = StudentInference(student, maxLength: maxLength)
    }

    /// Loads the student folder (F32 or int8, see ``Quantization``) with its `decision.json` when it has one,
    /// changed by `overrides` (command-line options) and checked against the labels.
    public static func load(from folder: URL, cacheCapacity: Int = 100_000, maxLength: Int? = nil,
                            overrides: DecisionRule.Overrides = .init()) throws -> Classifier {
        let student = try Student.load(from: folder)
        var decision = overrides.ignoreSaved ? DecisionRule() : try DecisionRule.load(folder: folder) ?? DecisionRule()
        overrides.apply(to: &decision)
        try decision.validate(labels: student.labels, source: folder.appendingPathComponent(DecisionRule.fileName).path)
        return Classifier(student: student, folder: folder, cacheCapacity: cacheCapacity, maxLength: maxLength, decision: decision)
    }

    /// The model text and template id of a raw line.
    public func prepare(_ line: String) -> (text: String, template: String) {
        var scratch: [UInt8] = []
        let p = prepare(line, scratch: &scratch)
        return (p.text, Classifier.templateString(p.template))
    }

    /// ``prepare(_:)`` with a reusable byte buffer and the template as its hash.
    func prepare(_ line: String, scratch: inout [UInt8]) -> (text: String, template: UInt64) {
        switch input.kind {
        case .logs where templateUsesModelMasks:
            let masked = preparer.normalizer.writeModelText(line, into: &scratch)
            return (String(decoding: scratch, as: UTF8.self), Classifier.templateHash(scratch[masked]))
        case .logs:
            // Template ids always come from every mask, so they agree across models with other mask sets.
            _ = preparer.normalizer.writeModelText(line, into: &scratch)
            let text = String(decoding: scratch, as: UTF8.self)
            let masked = templateNormalizer.writeModelText(line, into: &scratch)
            return (text, Classifier.templateHash(scratch[masked]))
        case .raw:
            let masked = templateNormalizer.writeModelText(line, into: &scratch)
            return (line, Classifier.templateHash(scratch[masked]))
        }
    }

    /// ``Fingerprint/of(_:)`` of the masked message, from its bytes.
    static func templateHash(_ masked: ArraySlice<UInt8>) -> UInt64 { Fingerprint.adding(masked, to: Fingerprint.basis) }

    /// 16 lowercase hex digits.
    public static func templateString(_ hash: UInt64) -> String {
        var bytes: [UInt8] = []
        appendHex(hash, to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Appends `hash` as 16 lowercase hex digits.
    static func appendHex(_ hash: UInt64, to bytes: inout [UInt8]) {
        for k in 0..<16 { bytes.append(hexDigits[Int((hash >> (60 - 4 * UInt64(k))) & 15)]) }
    }

    /// Classifies `lines` (any count; forward passes in chunks of `batchSize` distinct uncached texts, each split
    /// over the compute threads by the engine).
    public func classify(_ lines: [String], batchSize: Int = 1024) -> [Prediction] {
        // Envelope parsing, masking and template hashing dominate a cached stream: split across the compute threads.
        var prepared = [PreparedLine](repeating: PreparedLine(text: "", template: 0), count: lines.count)
        prepared.withUnsafeMutableBufferPointer { out in
            let target = UnsafeSendable(out)
            parallelFor(lines.count, grain: 128) { range in
                var scratch: [UInt8] = []
                scratch.reserveCapacity(256)
                for i in range {
                    let p = prepare(lines[i], scratch: &scratch)
                    target.value[i] = PreparedLine(text: p.text, template: p.template)
                }
            }
        }
        var results = [Prediction?](repeating: nil, count: lines.count)
        // Distinct texts the cache does not hold, with the lines waiting for each.
        var pending: [String: [Int]] = [:]
        var order: [String] = []
        for i in prepared.indices {
            let text = prepared[i].text
            if let slot = pending.index(forKey: text) {
                // A repeat within the batch: answered by the same forward pass, counted as a hit.
                pending.values[slot].append(i)
                cache?.recordHit()
                continue
            }
            if let hit = cache?.value(for: text) {
                results[i] = prediction(hit, template: prepared[i].template, cached: true)
            } else {
                pending[text] = [i]
                order.append(text)
            }
        }
        for start in stride(from: 0, to: order.count, by: max(1, batchSize)) {
            let chunk = Array(order[start..<min(start + max(1, batchSize), order.count)])
            let rows = engine.probabilities(chunk)
            for (text, row) in zip(chunk, rows) {
                cache?.insert(row, for: text)
                for i in pending[text]! { results[i] = prediction(row, template: prepared[i].template, cached: false) }
            }
        }
        return results.map { $0! }
    }

    private func prediction(_ raw: [Float], template: UInt64, cached: Bool) -> Prediction {
        // The plain rule (no decision.json) calibrates nothing and answers the most probable label.
        let p = decision.calibrated(raw)
        let (best, abstained) = decision.decide(p, normalIndex: normalIndex)
        return Prediction(labelIndex: best, probability: p[best], probabilities: p, templateHash: template, cached: cached, abstained: abstained)
    }
}

/// A line's model text and template hash.
private struct PreparedLine {
    var text: String
    var template: UInt64
}

private let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)
