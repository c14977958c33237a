import DistillCore
import DistillText
import DistillTraining
import Foundation

/// A label of the classification task: its name and what it means (a recipe's `labels:` entry; an LLM teacher's
/// prompt shows the description).
public struct TaskLabel: Sendable, Equatable {
    public var name: String
    public var description: String
    public init(name: String, description: String = "") { self.name = name; self.description = description }
}

/// A model that labels texts with a probability distribution over a label set: a local BERT classifier
/// (white-box), an LLM behind an OpenAI-compatible API (black-box), or an ensemble of both.
///
/// `label(_:)` throws only for errors that doom the whole run (bad credentials, unknown model, unreadable
/// weights); a problem with one text (an off-label answer, a server that kept failing) comes back as a
/// ``TeacherAnswer/failed(_:)`` for that text, so the texts already labelled are kept.
public protocol Teacher: AnyObject, Sendable {
    /// Identifies what the answers depend on (model, weights, prompt version, decoding), for caches: two
    /// teachers with the same identity give the same answers.
    var identity: String { get }
    /// The label names, in the order of every returned distribution.
    var labels: [String] { get }
    /// How many texts one `label(_:)` call handles best (32 for a local model, 1 for an HTTP API).
    var preferredBatchSize: Int { get }
    /// How many `label(_:)` calls may run at once.
    var maxConcurrency: Int { get }
    /// One answer per text, in order.
    func label(_ texts: [String]) async throws -> [TeacherAnswer]
}

/// A teacher whose insides can be read: hidden states and attention maps of chosen layers, for intermediate-layer
/// and attention distillation.
public protocol WhiteBoxTeacher: Teacher {
    /// Hidden states (`hiddenLayers`, 0 = embeddings) and attention probabilities (`attentionLayers`, 0-based) of
    /// one batch, with the batch as encoded (positions and padding).
    func features(_ texts: [String], hiddenLayers: [Int], attentionLayers: [Int]) -> (batch: EncodedBatch, hidden: [Int: Tensor], attentions: [Int: Tensor])
}

/// How a distribution was obtained.
public enum LabelMethod: String, Sendable, Codable, Equatable {
    /// Softmax of a classifier's logits (local model).
    case logits
    /// The first answer token's log-probabilities, renormalized over the labels (temperature 0).
    case logprobs
    /// The empirical distribution of k answers sampled at temperature 1 (server without logprobs).
    case samples
    /// The single answer with label smoothing (server without logprobs, `fallback: hard`).
    case hard
    /// Aggregated from several teachers.
    case ensemble
}

/// One text's distribution and how it came about.
public struct TeacherLabel: Sendable, Codable, Equatable {
    /// Over ``Teacher/labels``; sums to 1.
    public var probabilities: [Float]
    public var method: LabelMethod
    /// Probability the teacher put outside the label set before renormalization (0 for classifiers).
    public var outsideMass: Float
    /// The LLM's answer text, if any.
    public var rawAnswer: String?
    public var promptTokens: Int?
    public var completionTokens: Int?
    /// HTTP requests made for this text (retries and samples included); 0 for local models.
    public var requests: Int
    public var latencySeconds: Double

    public init(probabilities: [Float], method: LabelMethod, outsideMass: Float = 0, rawAnswer: String? = nil,
                promptTokens: Int? = nil, completionTokens: Int? = nil, requests: Int = 0, latencySeconds: Double = 0) {
        self.probabilities = probabilities
        self.method = method
        self.outsideMass = outsideMass
        self.rawAnswer = rawAnswer
        self.promptTokens = promptTokens
        self.completionTokens = completionTokens
        self.requests = requests
        self.latencySeconds = latencySeconds
    }

    /// Index of the most probable label.
    public var argmax: Int { DistillTraining.argmax(probabilities) }
}

/// Why a teacher gave no distribution for one text.
public struct TeacherFailure: Error, Sendable, Codable, Equatable, LocalizedError {
    public enum Kind: String, Sendable, Codable, CaseIterable {
        /// The answer named no label (and no label token had probability mass).
        case offLabel = "off-label"
        /// The server's response could not be parsed (after the retries).
        case malformed
        /// The server refused this text (HTTP 400/413/422: e.g. too long for the context).
        case rejected
        /// Timeouts, 429 or 5xx until the retries ran out: worth asking again in a later run.
        case unavailable
    }

    public var kind: Kind
    public var detail: String
    public var rawAnswer: String?
    public var requests: Int

    public init(kind: Kind, detail: String, rawAnswer: String? = nil, requests: Int = 0) {
        self.kind = kind
        self.detail = detail
        self.rawAnswer = rawAnswer
        self.requests = requests
    }

    /// Failures that a later run retries by itself (the others only with `--retry-failed`).
    public var isTransient: Bool { kind == .unavailable }

    public var errorDescription: String? { "\(kind.rawValue): \(detail)" }
}

/// A teacher's answer for one text.
public enum TeacherAnswer: Sendable, Equatable {
    case labelled(TeacherLabel)
    case failed(TeacherFailure)

    public var label: TeacherLabel? { if case let .labelled(l) = self { return l }; return nil }
    public var failure: TeacherFailure? { if case let .failed(f) = self { return f }; return nil }
}

/// A whole-run teacher error (the run stops; labels already stored are kept).
public enum TeacherError: Error, Equatable, LocalizedError {
    /// Configuration the teacher cannot work with (names the setting).
    case configuration(key: String, detail: String)
    /// The server answered in a way that no retry will fix (401, 403, 404, unknown model).
    case server(url: String, status: Int, detail: String)
    /// The server cannot be reached at all.
    case unreachable(url: String, detail: String)

    public var errorDescription: String? {
        switch self {
        case let .configuration(key, detail): return "teacher setting '\(key)': \(detail)"
        case let .server(url, status, detail): return "\(url) answered HTTP \(status): \(detail)"
        case let .unreachable(url, detail): return "\(url) is unreachable: \(detail)"
        }
    }
}
