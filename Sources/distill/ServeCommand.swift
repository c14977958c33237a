import ArgumentParser
import DistillCore
import DistillExamples
import DistillServe
import Foundation

/// `distill serve`: the student behind an HTTP API with Prometheus metrics.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve a student over HTTP: /v1/classify, /v1/logs (Vector, Fluent Bit), /healthz, /readyz, /metrics, /admin/reload.",
        discussion: """
            API: docs/openapi.yaml. SIGTERM or SIGINT: stop accepting connections, finish the requests in flight, exit 0. \
            SIGHUP or POST /admin/reload: load the model folder again and swap it in without failing a request (a folder that \
            does not load leaves the old model serving). Prints "listening on http://HOST:PORT" once ready.
            """
    )

    @Option(help: "Student folder (F32 or int8).")
    var model: String

    @Option(help: "Address to bind; 0.0.0.0 to accept connections from other hosts.")
    var host: String = ServeOptions.defaults.host

    @Option(help: "TCP port (0: any free port).")
    var port: Int = ServeOptions.defaults.port

    @Option(name: .customLong("max-body-bytes"), help: "Largest request body (413 above).")
    var maxBodyBytes: Int = ServeOptions.defaults.maxBodyBytes

    @Option(name: .customLong("max-batch"), help: "Most texts or records per request (413 above).")
    var maxBatch: Int = ServeOptions.defaults.maxBatch

    @Option(name: .customLong("max-text-bytes"), help: "Longest single text (413 above).")
    var maxTextBytes: Int = ServeOptions.defaults.maxTextBytes

    @Option(name: .customLong("top-k"), help: "Labels listed per answer unless the request sets top_k.")
    var topK: Int = ServeOptions.defaults.topK

    @Option(name: .customLong("cache-size"), help: "Distinct lines the prediction cache holds (0: no cache).")
    var cacheSize: Int = ServeOptions.defaults.cacheCapacity

    @Option(name: .customLong("max-length"), parsing: .unconditional, help: "Tokens per text for BERT students (default: the model folder's model_max_length, as trained).")
    var maxLength: Int?

    @Option(name: .customLong("token-env"), help: "Environment variable holding a bearer token that /v1/* and /admin/* then require.")
    var tokenEnvironment: String?

    @Option(name: .customLong("log-field"), help: "Record field /v1/logs reads the line from (repeatable; default: \(ServeOptions.defaults.logFields.joined(separator: ", "))).")
    var logFields: [String] = []

    @Option(name: .customLong("idle-timeout"), help: "Seconds a connection may go without a complete request part (idle keep-alive, slow or missing headers) before it is closed.")
    var idleTimeout: Double = ServeOptions.defaults.idleTimeout.seconds

    @Option(name: .customLong("body-timeout"), help: "Seconds the whole request body may take after its headers (408 above; keep it below --idle-timeout).")
    var bodyTimeout: Double = ServeOptions.defaults.bodyTimeout.seconds

    @Option(name: .customLong("max-connections"), help: "Connections open at once (further ones wait in the backlog).")
    var maxConnections: Int = ServeOptions.defaults.maxConnections

    @Option(name: .customLong("access-log"), help: ArgumentHelp("Append one JSON line per request (time, method, path, status, duration, sizes, user agent) to FILE, or '-' for stderr.", valueName: "file"))
    var accessLog: String?

    @Flag(name: .customLong("protect-metrics"), help: "/metrics also requires the bearer token of --token-env.")
    var protectMetrics = false

    @Option(name: .customLong("forward"), help: ArgumentHelp("Send every record received on /v1/logs on, enriched: KIND=URL with KIND otlp, otlp-json, loki, elasticsearch or http (repeatable; see docs/forwarding.md).", valueName: "kind=url"))
    var forward: [String] = []

    @Option(name: .customLong("forward-header"), help: ArgumentHelp("Header on every request to a forward target, 'Name: value' (repeatable).", valueName: "header"))
    var forwardHeaders: [String] = []

    @Option(name: .customLong("forward-queue-mb"), help: "MiB of encoded records each target's in-memory queue holds; when full, /v1/logs answers 503 with Retry-After.")
    var forwardQueueMegabytes: Int = ForwardOptions.defaults.queueBytes >> 20

    @Option(name: .customLong("forward-batch"), help: "Most records per request to a store.")
    var forwardBatch: Int = ForwardOptions.defaults.batchRecords

    @Option(name: .customLong("forward-timeout"), help: "Seconds a store has to answer one request (then it is retried).")
    var forwardTimeout: Double = ForwardOptions.defaults.timeout.seconds

    @Option(name: .customLong("forward-max-backoff"), help: "Longest wait in seconds between retries of a store request (the wait doubles up to it, with jitter; a store's Retry-After wins, up to 300).")
    var forwardMaxBackoff: Double = ForwardOptions.defaults.retryCap.seconds

    @Option(name: .customLong("spool"), help: ArgumentHelp("Folder where accepted records wait on disk until a store has them (survives restarts and outages).", valueName: "dir"))
    var spool: String?

    @Option(name: .customLong("spool-max-mb"), help: "MiB the spool may hold per target; when full, /v1/logs answers 503.")
    var spoolMegabytes: Int = ForwardOptions.defaults.spoolBytes >> 20

    @Option(name: .customLong("loki-category"), help: "Where Loki gets the category: label (a stream label log_category) or metadata (structured metadata).")
    var lokiCategory: LokiCategory = ForwardOptions.defaults.lokiCategory

    @Option(name: .customLong("drain-timeout"), help: "Seconds queued records may take to reach the stores after SIGTERM.")
    var drainTimeout: Double = ForwardOptions.defaults.drainTimeout.seconds

    @Option(name: .customLong("handler-delay-ms"), help: .hidden)
    var handlerDelayMilliseconds: Int = 0

    @Option(name: .customLong("pool-mb"), help: "MiB of idle tensor buffers kept for reuse.")
    var poolMegabytes: Int = 4

    @OptionGroup var decision: DecisionOptions

    @OptionGroup var compute: ComputeOptions

    func validate() throws {
        for (name, value) in [("--max-body-bytes", maxBodyBytes), ("--max-batch", maxBatch), ("--max-text-bytes", maxTextBytes), ("--top-k", topK)] where value < 1 {
            throw ValidationError("\(name) must be at least 1")
        }
        guard (0...65535).contains(port) else { throw ValidationError("--port must be in 0...65535") }
        for (name, value) in [("--idle-timeout", idleTimeout), ("--body-timeout", bodyTimeout)] where !(value.isFinite && value > 0 && value <= 86_400) {
            throw ValidationError("\(name) must be in (0, 86400] seconds, got \(value)")
        }
        guard (1...100_000).contains(maxConnections) else { throw ValidationError("--max-connections must be in 1...100000, got \(maxConnections)") }
        if protectMetrics && tokenEnvironment == nil { throw ValidationError("--protect-metrics needs --token-env (the token /metrics then requires)") }
        if let maxLength { try SizeLimits.check(maxLength, SizeLimits.maxLength, flag: "--max-length") }
        for (name, value, range) in [("--forward-queue-mb", forwardQueueMegabytes, 1...65_536), ("--forward-batch", forwardBatch, 1...100_000),
                                     ("--spool-max-mb", spoolMegabytes, 1...(1 << 22))] where !range.contains(value) {
            throw ValidationError("\(name) must be in \(range.lowerBound)...\(range.upperBound), got \(value)")
        }
        for (name, value) in [("--forward-timeout", forwardTimeout), ("--drain-timeout", drainTimeout), ("--forward-max-backoff", forwardMaxBackoff)]
        where !(value.isFinite && value >= 0 && value <= 3600) || (value == 0 && name != "--drain-timeout") {
            throw ValidationError("\(name) must be in \(name == "--drain-timeout" ? "[0" : "(0"), 3600] seconds, got \(value)")
        }
        if forward.isEmpty, spool != nil || !forwardHeaders.isEmpty { throw ValidationError("--spool and --forward-header need --forward") }
        _ = try forwardOptions()
    }

    /// The forwarding settings from the flags (nil without --forward).
    func forwardOptions() throws -> ForwardOptions? {
        guard !forward.isEmpty else { return nil }
        var options = ForwardOptions()
        do { options.targets = try ForwardTarget.parse(forward) } catch { throw ValidationError(error.localizedDescription) }
        do { options.headers = try forwardHeaders.map(ForwardOptions.header) } catch { throw ValidationError(error.localizedDescription) }
        options.queueBytes = forwardQueueMegabytes << 20
        options.batchRecords = forwardBatch
        options.timeout = .milliseconds(Int64(forwardTimeout * 1000))
        options.spool = spool.map { URL(fileURLWithPath: $0) }
        options.spoolBytes = spoolMegabytes << 20
        options.lokiCategory = lokiCategory
        options.drainTimeout = .milliseconds(Int64(drainTimeout * 1000))
        options.retryCap = .milliseconds(Int64(forwardMaxBackoff * 1000))
        options.retryBase = min(options.retryBase, options.retryCap)
        return options
    }

    func run() async throws {
        compute.apply()
        configureInferenceMemory(poolMegabytes: poolMegabytes)
        var options = ServeOptions(model: URL(fileURLWithPath: model))
        options.host = host
        options.port = port
        options.maxBodyBytes = maxBodyBytes
        options.maxBatch = maxBatch
        options.maxTextBytes = maxTextBytes
        options.topK = topK
        options.cacheCapacity = cacheSize
        options.maxLength = maxLength
        options.decision = decision.overrides
        if !logFields.isEmpty { options.logFields = logFields }
        options.handlerDelay = .milliseconds(handlerDelayMilliseconds)
        options.idleTimeout = .milliseconds(Int64(idleTimeout * 1000))
        options.bodyTimeout = .milliseconds(Int64(bodyTimeout * 1000))
        options.maxConnections = maxConnections
        options.protectMetrics = protectMetrics
        options.forward = try forwardOptions()
        options.accessLog = accessLog
        if let name = tokenEnvironment {
            guard let token = ProcessInfo.processInfo.environment[name], !token.isEmpty else {
                throw ValidationError("--token-env \(name): the environment variable \(name) is not set or empty")
            }
            options.bearerToken = token
        }
        let server = try DistillServer(options: options)
        let host = self.host
        try await server.run { port in
            // Written straight to the descriptor: scripts and tests wait for this line.
            FileHandle.standardOutput.write(Data("listening on http://\(host):\(port)\n".utf8))
        }
        FileHandle.standardError.write(Data("stopped: requests in flight finished\n".utf8))
    }
}

extension LokiCategory: ExpressibleByArgument {}
