import ArgumentParser
import DistillExamples
import DistillTeachers

/// The flags of an LLM teacher (`distill label --teacher openai:URL`), each mapped onto ``LLMTeacherSpec``, whose
/// defaults they show: the defaults are declared once, in the spec, for recipes and the command line alike.
struct LLMOptions: ParsableArguments {
    private static let defaults = LLMTeacherSpec(baseURLs: [])

    @Option(help: "LLM: model name sent to the server.")
    var model = defaults.model

    @Option(name: .customLong("api-key-env"), help: "LLM: environment variable holding the API key.")
    var apiKeyEnv: String?

    @Option(help: "LLM: what to call.")
    var endpoint = defaults.endpoint

    @Option(help: "LLM: how the answer is held to the labels (grammar: llama.cpp's; auto: grammar when the server is llama.cpp).")
    var constrain = defaults.constraint

    @Option(help: "LLM: what the model answers with (auto: names when their first tokens differ, else codes).")
    var verbalizer = defaults.verbalizer

    @Option(help: "LLM without logprobs: samples or hard.")
    var fallback = defaults.fallback

    @Option(help: "LLM: samples per text for the samples fallback.")
    var samples = defaults.samples

    @Option(name: .customLong("top-logprobs"), help: "LLM: alternatives per answer token.")
    var topLogprobs = defaults.topLogprobs

    @Option(help: "LLM: labelled lines (JSONL with text and label) to choose per-line examples from.")
    var examples: String?

    @Option(name: .customLong("nearest-examples"),
            help: "LLM: per line, this many --examples lines most similar to it shown before the question (default \(LLMTeacherSpec.defaultNearestExamples)).")
    var nearestExamples: Int?

    @Option(help: "LLM: requests in flight per replica (a llama.cpp server gets 1 unless --allow-batching).")
    var concurrency = defaults.maxConcurrency

    @Flag(name: .customLong("allow-batching"), help: "LLM: let llama.cpp batch concurrent requests (faster on GPUs; logprobs then vary between runs).")
    var allowBatching = !defaults.reproducible

    @Option(help: "LLM: request starts per second (default: unlimited).")
    var rps: Double?

    @Option(help: "LLM: seconds per request before it counts as timed out.")
    var timeout = defaults.timeoutSeconds

    @Option(help: "LLM: retries after timeouts, 429 and 5xx.")
    var retries = defaults.maxRetries

    /// The spec these flags describe for the replicas at `baseURLs`.
    func spec(baseURLs: [String]) -> LLMTeacherSpec {
        var s = LLMTeacherSpec(baseURLs: baseURLs, model: model)
        s.endpoint = endpoint
        s.constraint = constrain
        s.verbalizer = verbalizer
        s.fallback = fallback
        s.apiKeyEnvironment = apiKeyEnv
        s.samples = samples
        s.examplesFile = examples
        s.nearestExamples = examples == nil ? 0 : nearestExamples ?? LLMTeacherSpec.defaultNearestExamples
        s.topLogprobs = topLogprobs
        s.maxConcurrency = concurrency
        s.reproducible = !allowBatching
        s.requestsPerSecond = rps
        s.timeoutSeconds = timeout
        s.maxRetries = retries
        return s
    }
}

extension LLMTeacherSpec.Endpoint: ExpressibleByArgument {}
extension LLMTeacherSpec.Constraint: ExpressibleByArgument {}
extension LLMTeacherSpec.VerbalizerMode: ExpressibleByArgument {}
extension LLMTeacherSpec.Fallback: ExpressibleByArgument {}
