import DistillRuntime
import Foundation

/// What `distill serve` serves and the limits it enforces.
public struct ServeOptions: Sendable {
    /// The student folder (reloaded from the same path on SIGHUP or `POST /admin/reload`).
    public var model: URL
    public var host = "127.0.0.1"
    /// 0 picks a free port (printed on start).
    public var port = 8080
    /// Largest request body; larger ones get 413.
    public var maxBodyBytes = 1 << 20
    /// Most texts or records per request; more get 413.
    public var maxBatch = 1000
    /// Longest single text in bytes; longer ones get 413.
    public var maxTextBytes = 64 << 10
    /// Labels listed per answer in `top`.
    public var topK = 3
    /// Distinct model texts the prediction cache holds (0: none).
    public var cacheCapacity = 100_000
    /// Tokens per text for BERT students; nil: the model folder's `model_max_length`.
    public var maxLength: Int?
    /// Changes to the model folder's `decision.json` (kept across reloads).
    public var decision = DecisionRule.Overrides()
    /// When set, `/v1/*` and `/admin/*` require `Authorization: Bearer <token>`.
    public var bearerToken: String?
    /// Record fields `/v1/logs` reads the log line from, first present wins.
    public var logFields = ["message", "log", "msg"]
    /// A connection with no complete request part for this long is closed: idle keep-alive connections, and
    /// clients that send headers slowly or not at all.
    public var idleTimeout: Duration = .seconds(30)
    /// The whole body must arrive within this long after the headers (408 and the connection closed otherwise).
    /// Shorter than ``idleTimeout``, so that a stalled body is answered before the idle timer closes the connection.
    public var bodyTimeout: Duration = .seconds(20)
    /// Connections open at once; further ones wait in the listen backlog until one closes.
    public var maxConnections = 256
    /// `/metrics` also requires the bearer token (when one is set).
    public var protectMetrics = false
    /// `--access-log`: a file to append one JSON line per request to, or `-` for stderr; nil: none.
    public var accessLog: String?
    /// Where accepted records are sent on, enriched (`--forward`); nil: nowhere.
    public var forward: ForwardOptions?
    /// Fault injection for drain tests: each classification request waits this long first.
    public var handlerDelay: Duration = .zero

    public init(model: URL) { self.model = model }

    /// The defaults, declared once above; `distill serve`'s flags start from them.
    public static let defaults = ServeOptions(model: URL(fileURLWithPath: "."))
}

extension Duration {
    /// The duration in seconds, as the command line states it.
    public var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
