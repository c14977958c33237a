import Foundation

/// Where `distill serve --forward KIND=URL` sends enriched records.
public struct ForwardTarget: Sendable, Equatable {
    /// The store's protocol.
    public enum Kind: String, Sendable, CaseIterable {
        /// OTLP/HTTP protobuf to `URL` (`/v1/logs` when the URL has no path): an OpenTelemetry Collector, Loki's
        /// or Elasticsearch's OTLP intake, any OTLP backend.
        case otlp
        /// OTLP/HTTP JSON, the same records.
        case otlpJSON = "otlp-json"
        /// Loki's push API (`/loki/api/v1/push` when the URL has no path).
        case loki
        /// Elasticsearch or OpenSearch `_bulk` into the index named by the URL's path (`logs-distill-default`
        /// when it has none).
        case elasticsearch
        /// NDJSON to `URL` as given.
        case http
    }

    public var kind: Kind
    /// The URL requests go to (default paths filled in), without user and password.
    public var endpoint: URL
    /// `Authorization: Basic …` from a URL's `user:password@`.
    public var basicAuthorization: String?
    /// The name in metrics and logs: the kind, with `-2`, `-3` … for repeats.
    public var name: String

    /// Scheme, host, port and path: what messages show (no credentials, no query with a key in it).
    public var displayURL: String {
        "\(endpoint.scheme ?? "http")://\(endpoint.host ?? "")\(endpoint.port.map { ":\($0)" } ?? "")\(endpoint.path)"
    }

    /// The target's spool subfolder: kind and a hash of the URL, so records stay with the store they were
    /// accepted for when flags are reordered or a URL changes.
    public var spoolName: String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in endpoint.absoluteString.utf8 { hash = (hash ^ UInt64(b)) &* 0x100_0000_01b3 }
        return "\(kind.rawValue)-" + String(String(hash, radix: 16).prefix(12))
    }

    public static let defaultIndex = "logs-distill-default"

    /// Parses `KIND=URL`.
    public init(_ argument: String, name: String? = nil) throws {
        guard let eq = argument.firstIndex(of: "=") else {
            throw ForwardError.badTarget(argument, "expected KIND=URL with KIND one of \(Kind.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        let kindText = String(argument[..<eq]), urlText = String(argument[argument.index(after: eq)...])
        guard let kind = Kind(rawValue: kindText) else {
            throw ForwardError.badTarget(argument, "unknown kind '\(kindText)'; one of \(Kind.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        guard var parts = URLComponents(string: urlText), let scheme = parts.scheme?.lowercased(), scheme == "http" || scheme == "https",
              let host = parts.host, !host.isEmpty else {
            throw ForwardError.badTarget(argument, "'\(urlText)' is not an http:// or https:// URL with a host")
        }
        if let user = parts.user {  // URLComponents has already percent-decoded user and password
            basicAuthorization = "Basic " + Data((user + ":" + (parts.password ?? "")).utf8).base64EncodedString()
            parts.user = nil
            parts.password = nil
        }
        let path = parts.path.hasSuffix("/") ? String(parts.path.dropLast()) : parts.path
        switch kind {
        case .otlp, .otlpJSON: if path.isEmpty { parts.path = "/v1/logs" }
        case .loki: if path.isEmpty { parts.path = "/loki/api/v1/push" }
        case .elasticsearch:
            let index = path.split(separator: "/").first.map(String.init) ?? Self.defaultIndex
            guard path.split(separator: "/").count <= 1, !index.hasPrefix("_") else {
                throw ForwardError.badTarget(argument, "an Elasticsearch URL's path is the index only (http://HOST:9200/INDEX), got '\(path)'")
            }
            parts.path = "/\(index)/_bulk"
            // Only what the answer is read for: a bulk answer otherwise echoes every item.
            parts.queryItems = (parts.queryItems ?? []) + [URLQueryItem(name: "filter_path", value: "errors,items.*.status,items.*.error")]
        case .http: break
        }
        guard let endpoint = parts.url else { throw ForwardError.badTarget(argument, "'\(urlText)' is not a URL") }
        self.kind = kind
        self.endpoint = endpoint
        self.name = name ?? kind.rawValue
    }

    /// Targets from repeated `--forward` arguments, named uniquely.
    public static func parse(_ arguments: [String]) throws -> [ForwardTarget] {
        var seen: [Kind: Int] = [:]
        return try arguments.map { argument in
            var target = try ForwardTarget(argument)
            let n = seen[target.kind, default: 0] + 1
            seen[target.kind] = n
            if n > 1 { target.name = "\(target.kind.rawValue)-\(n)" }
            return target
        }
    }

    /// The wire format this target speaks.
    public func format(lokiCategory: LokiCategory) -> any WireFormat {
        switch kind {
        case .otlp: return OTLPProtobufFormat()
        case .otlpJSON: return OTLPJSONFormat()
        case .loki: return LokiPushFormat(category: lokiCategory)
        case .elasticsearch: return ElasticsearchBulkFormat()
        case .http: return NDJSONFormat()
        }
    }
}

extension ForwardOptions {
    /// Headers distill sets itself: not overridable.
    static let reservedHeaders: Set<String> = ["content-type", "content-length", "content-encoding", "transfer-encoding", "host", "connection"]

    /// Parses `Name: value` for `--forward-header`.
    public static func header(_ text: String) throws -> (name: String, value: String) {
        guard let colon = text.firstIndex(of: ":") else { throw ForwardError.badHeader(text, "expected 'Name: value'") }
        let name = text[..<colon].trimmingCharacters(in: .whitespaces), value = text[text.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        guard !name.isEmpty, name.unicodeScalars.allSatisfy({ $0.isASCII && (CharacterSet.alphanumerics.contains($0) || "-_".unicodeScalars.contains($0)) }) else {
            throw ForwardError.badHeader(text, "the name must be letters, digits, '-' or '_'")
        }
        guard !reservedHeaders.contains(name.lowercased()) else { throw ForwardError.badHeader(text, "\(name) is set by distill for each request") }
        guard value.unicodeScalars.allSatisfy({ $0 == "\t" || ($0.value >= 0x20 && $0.value != 0x7f) }) else {
            throw ForwardError.badHeader(text, "the value contains a control character")
        }
        return (name, value)
    }
}

/// Forwarding settings (`distill serve --forward …`).
public struct ForwardOptions: Sendable {
    public var targets: [ForwardTarget] = []
    /// Extra headers on every request to a target (`--forward-header 'X-Scope-OrgID: team-a'`).
    public var headers: [(name: String, value: String)] = []
    /// Bytes of encoded records each target's in-memory queue holds; when one is full, `/v1/logs` answers 503
    /// with `Retry-After` (the shipper keeps the batch and retries) instead of losing records.
    public var queueBytes = 32 << 20
    /// Most records and bytes per request to a store.
    public var batchRecords = 1000
    public var batchBytes = 4 << 20
    /// Time a store has to answer one request.
    public var timeout: Duration = .seconds(10)
    /// When set, accepted records are written here before the shipper gets its answer and deleted once the store
    /// has them: a restart or a long outage loses nothing. Bounded by ``spoolBytes``.
    public var spool: URL?
    public var spoolBytes = 1 << 30
    /// Where Loki gets the category.
    public var lokiCategory = LokiCategory.label
    /// On SIGTERM, how long queued records may take to reach the stores before the process exits.
    public var drainTimeout: Duration = .seconds(10)
    /// Retry delays: full jitter over `base · 2^attempt`, capped.
    public var retryBase: Duration = .milliseconds(250)
    public var retryCap: Duration = .seconds(30)

    /// The defaults, declared once above; `distill serve`'s `--forward-*` flags start from them.
    public static let defaults = ForwardOptions()

    public init() {}
}

/// Why forwarding cannot start.
public enum ForwardError: Error, LocalizedError, Sendable {
    case badTarget(String, String)
    case badHeader(String, String)
    case spool(URL, String)

    public var errorDescription: String? {
        switch self {
        case .badTarget(let argument, let why): return "--forward \(argument): \(why)"
        case .badHeader(let h, let why): return "--forward-header '\(h)': \(why)"
        case .spool(let url, let why): return "--spool \(url.path): \(why)"
        }
    }
}
