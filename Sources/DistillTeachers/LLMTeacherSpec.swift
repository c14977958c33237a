import Foundation

/// How to ask an LLM behind an OpenAI-compatible API (vLLM, llama.cpp server, Ollama, DeepSeek, OpenAI) for
/// soft labels. Plain data: recipes (`kind: openai`) and `distill label --teacher openai:URL` fill it;
/// ``OpenAITeacher`` runs it.
public struct LLMTeacherSpec: Sendable, Equatable, Codable {
    public enum Endpoint: String, Sendable, Codable, CaseIterable { case chat, completions }
    /// How the answer is constrained to the labels.
    public enum Constraint: String, Sendable, Codable, CaseIterable {
        /// llama.cpp's `grammar` when the server is llama.cpp (probed via `/props`), else none.
        case auto
        case none
        /// llama.cpp GBNF grammar: the answer is exactly one label's word.
        case grammar
        /// `response_format: {type: json_schema}` with an enum of the label words.
        case jsonSchema = "json-schema"
    }
    /// What the model answers with.
    public enum VerbalizerMode: String, Sendable, Codable, CaseIterable {
        /// Label names when their first tokens differ (checked with the server's `/tokenize` when it has one),
        /// else short letter codes.
        case auto
        case names
        case codes
    }
    /// What to do when the server returns no logprobs.
    public enum Fallback: String, Sendable, Codable, CaseIterable {
        /// `samples` answers at temperature 1; the empirical distribution.
        case samples
        /// The temperature-0 answer, smoothed by `smoothing`.
        case hard
    }

    /// The replicas serving the model, each up to and including `/v1`, e.g. `http://127.0.0.1:8080/v1`. Requests go
    /// to the replica with the fewest in flight; one that fails is taken out and probed back in (``maxConcurrency``
    /// is per replica). All must serve the same model: answers are stored by model and prompt, not by replica.
    public var baseURLs: [String]
    public var model: String = "default"
    public var endpoint: Endpoint = .chat
    /// Name of the environment variable that holds the API key (the key itself is never stored or logged).
    public var apiKeyEnvironment: String?
    public var constraint: Constraint = .auto
    public var verbalizer: VerbalizerMode = .auto
    /// Alternatives requested per answer token (OpenAI allows up to 20).
    public var topLogprobs: Int = 20
    public var fallback: Fallback = .samples
    public var samples: Int = 5
    public var smoothing: Float = 0.1
    /// Extra instructions placed before the label list.
    public var instructions: String?
    /// Example lines with their label names, shown to the model before each question.
    public var fewShot: [FewShotExample] = []
    /// Requests in flight per replica.
    public var maxConcurrency: Int = 4
    /// With a llama.cpp server: one request at a time and no prompt-cache reuse (`cache_prompt: false`), so that a
    /// text gets the same logprobs whatever was asked before. Measured on llama.cpp b11434 (CPU,
    /// `bench/llama_determinism.py`): batched or cache-reusing requests moved logprobs by up to 0.27; sequential
    /// uncached requests were identical in any order. Costs about 3.5x the server time per text on CPU; set false
    /// when bit-identical repeats do not matter.
    public var reproducible = true
    /// Request starts per second (nil: no limit).
    public var requestsPerSecond: Double?
    public var timeoutSeconds: Double = 60
    /// Retries after a timeout, 429 or 5xx (exponential backoff with jitter, Retry-After honored).
    public var maxRetries: Int = 5
    /// Longer texts are cut to this many characters before they are sent.
    public var maxTextCharacters: Int = 2000
    /// Sent as `seed` (servers that support it sample reproducibly).
    public var seed: Int = 0
    /// Which lines share one question (one call per template by default).
    public var groupBy: LabelGrouping = .standard
    /// Labelled lines (a JSONL file with `text` and `label`) to choose per-line examples from.
    public var examplesFile: String?
    /// Per line, this many lines of `examplesFile` most similar to it shown as examples after `fewShot` (0: none).
    public var nearestExamples: Int = 0
    /// `nearestExamples` when an examples file is given without a count.
    public static let defaultNearestExamples = 4

    public struct FewShotExample: Sendable, Equatable, Codable {
        public var text: String
        public var label: String
        public init(text: String, label: String) { self.text = text; self.label = label }
    }

    public init(baseURL: String, model: String = "default") {
        self.init(baseURLs: [baseURL], model: model)
    }

    public init(baseURLs: [String], model: String = "default") {
        self.baseURLs = baseURLs
        self.model = model
    }

    /// The first replica's URL.
    public var baseURL: String { baseURLs.first ?? "" }

    /// Checks ranges and that few-shot labels exist; errors name the setting.
    public func validate(labels: [String]) throws {
        guard !baseURLs.isEmpty else { throw TeacherError.configuration(key: "base_url", detail: "needs at least one URL") }
        for u in baseURLs {
            guard let url = URL(string: u), let scheme = url.scheme, ["http", "https"].contains(scheme), url.host != nil else {
                throw TeacherError.configuration(key: "base_url", detail: "'\(u)' is not an http(s) URL such as http://127.0.0.1:8080/v1")
            }
        }
        let bases = baseURLs.map(ReplicaAddress.init)
        if let dup = bases.indices.first(where: { i in bases[..<i].contains(bases[i]) }) {
            throw TeacherError.configuration(key: "base_url", detail: "'\(baseURLs[dup])' is listed twice")
        }
        guard (0...20).contains(topLogprobs) else { throw TeacherError.configuration(key: "top_logprobs", detail: "must be within 0...20") }
        guard (1...100).contains(samples) else { throw TeacherError.configuration(key: "samples", detail: "must be within 1...100") }
        guard (0..<1).contains(smoothing) else { throw TeacherError.configuration(key: "smoothing", detail: "must be within [0, 1)") }
        guard (1...256).contains(maxConcurrency) else { throw TeacherError.configuration(key: "max_concurrency", detail: "must be within 1...256") }
        if let r = requestsPerSecond, !(r > 0) { throw TeacherError.configuration(key: "requests_per_second", detail: "must be > 0") }
        guard timeoutSeconds > 0 else { throw TeacherError.configuration(key: "timeout", detail: "must be > 0 seconds") }
        guard (0...20).contains(maxRetries) else { throw TeacherError.configuration(key: "max_retries", detail: "must be within 0...20") }
        guard maxTextCharacters >= 16 else { throw TeacherError.configuration(key: "max_text_chars", detail: "must be at least 16") }
        guard (0...32).contains(nearestExamples) else { throw TeacherError.configuration(key: "nearest_examples", detail: "must be within 0...32") }
        if nearestExamples > 0 && examplesFile == nil {
            throw TeacherError.configuration(key: "examples", detail: "nearest_examples needs a file of labelled lines to choose from (`examples: labelled` or a path)")
        }
        for (i, e) in fewShot.enumerated() where !labels.contains(e.label) {
            throw TeacherError.configuration(key: "few_shot[\(i)].label", detail: "'\(e.label)' is not in the label set")
        }
    }
}

/// Where one replica of an OpenAI-compatible server answers.
public struct ReplicaAddress: Sendable, Hashable, CustomStringConvertible {
    /// Up to `/v1`, without a trailing slash.
    public let apiBase: String
    /// The server root: `apiBase` without its `/v1` (llama.cpp's `/props`, `/tokenize` and `/health` live there).
    public let root: String

    public init(_ baseURL: String) {
        apiBase = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
        root = apiBase.hasSuffix("/v1") ? String(apiBase.dropLast(3)) : apiBase
    }

    public var description: String { apiBase }
}
