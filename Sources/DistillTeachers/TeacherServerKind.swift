/// What serves an LLM teacher, as found when it connects: it decides the constraint `auto` picks, whether
/// requests must go one at a time to be reproducible, and the health request of a replica.
public enum TeacherServerKind: String, Sendable, Equatable, CustomStringConvertible {
    /// llama.cpp's `llama-server` (its `/props` answered): grammars, `/tokenize`, `/health`, batching that changes numbers.
    case llamaCpp = "llama.cpp"
    /// Any other server of the OpenAI API (vLLM, a provider): JSON schema or no constraint, `/v1/models` as health.
    case openAICompatible = "openai-compatible"

    public var description: String { rawValue }
}
