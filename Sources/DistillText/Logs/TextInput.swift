/// How a model reads a raw line, stored with the model (`distill_input` in `config.json`) so that every
/// runtime — `distill classify`, `distill serve`, the library's `Classifier` — feeds it what it was trained on.
///
/// `raw` passes lines through unchanged. `logs` parses the envelope and masks variables (``LogNormalizer``):
/// the model reads `level source masked-message`, e.g. `error kubelet.go Liveness probe failed for pod web-<POD>`.
public struct TextInput: Codable, Sendable, Equatable {
    public enum Kind: String, Codable, Sendable { case raw, logs }

    public var kind: Kind
    /// Recipe names of the masks (``LogMasks/names``) for `logs`.
    public var masks: [String]

    public init(kind: Kind, masks: LogMasks = .all) {
        self.kind = kind
        self.masks = LogMasks.names.filter { masks.contains($0.1) }.map(\.0)
    }

    /// Lines as they are.
    public static let raw = TextInput(kind: .raw)
    /// Log-normalized lines with every mask on.
    public static let logs = TextInput(kind: .logs)

    /// The masks as an option set (unknown names are ignored; ``validated()`` reports them).
    public var logMasks: LogMasks {
        LogMasks(masks.compactMap { name in LogMasks.names.first { $0.0 == name }?.1 })
    }

    /// The names in `masks` that are not masks, if any.
    public var unknownMasks: [String] { masks.filter { name in !LogMasks.names.contains { $0.0 == name } } }

    /// A reusable preparer (holds the normalizer).
    public func preparer() -> Preparer { Preparer(input: self) }

    /// Turns raw lines into model text.
    public struct Preparer: Sendable {
        public let input: TextInput
        public let normalizer: LogNormalizer

        init(input: TextInput) {
            self.input = input
            normalizer = LogNormalizer(masks: input.logMasks)
        }

        /// The model text of `line`.
        public func prepare(_ line: String) -> String {
            switch input.kind {
            case .raw: return line
            case .logs: return TextInput.modelText(normalizer.normalize(line))
            }
        }
    }

    /// `level source masked` of a normalized line (absent fields left out).
    public static func modelText(_ n: NormalizedLog) -> String {
        switch (n.level, n.source) {
        case let (level?, source?): return level + " " + source + " " + n.masked
        case let (level?, nil): return level + " " + n.masked
        case let (nil, source?): return source + " " + n.masked
        case (nil, nil): return n.masked
        }
    }
}
