import DistillRuntime
import Foundation
import Hummingbird
import HummingbirdCore
import NIOCore
import Synchronization

/// `distill serve`: the student behind HTTP (Hummingbird 2).
///
/// Routes: `POST /v1/classify`, `POST /v1/logs` (Vector / Fluent Bit HTTP outputs), `GET /healthz`,
/// `GET /readyz`, `GET /metrics` (Prometheus), `POST /admin/reload`. SIGTERM/SIGINT stop accepting
/// connections and let requests in flight finish; SIGHUP reloads the model like `/admin/reload`.
/// See `docs/openapi.yaml`.
public final class DistillServer: Sendable {
    public let options: ServeOptions
    public let slot: ModelSlot
    public let metrics = ServerMetrics()
    /// Sends accepted records on to log stores (`--forward`); nil without targets.
    public let forwarder: Forwarder?
    private let accessLog: AccessLog?
    private let draining = Atomic<Bool>(false)
    /// Classification runs here, one request at a time, off the server's threads: CPU-bound work does not stall
    /// the event loops, and a burst queues instead of multiplying threads.
    private let work = DispatchQueue(label: "distill.serve.classify")
    /// One reload at a time (SIGHUP and /admin/reload may race): load, swap and metrics together.
    private let reloading = Mutex(())

    public init(options: ServeOptions) throws {
        self.options = options
        slot = try ModelSlot(options: options)
        metrics.modelLoaded(slot.classifier, reload: false)
        accessLog = try options.accessLog.map(AccessLog.init(path:))
        if let forward = options.forward, !forward.targets.isEmpty {
            forwarder = try Forwarder(options: forward, metrics: metrics)
        } else {
            forwarder = nil
        }
    }

    /// The routes and their middleware: access log, request metrics, error answers, and the bearer token on
    /// `/v1/*`, `/admin/*` (and `/metrics` with ``ServeOptions/protectMetrics``). What ``run(onListening:)`` serves;
    /// tests drive it in-process (HummingbirdTesting's `.router`).
    public func buildRouter() -> Router<BasicRequestContext> {
        let router = Router()
        if let accessLog { router.add(middleware: AccessLogMiddleware(log: accessLog)) }
        router.add(middleware: UnmatchedRouteMetrics(metrics: metrics))
        router.add(middleware: RequestMetricsMiddleware(metrics: metrics))
        router.add(middleware: ErrorAnswerMiddleware())
        router.get("/healthz") { _, _ in jsonResponse(200, #"{"status":"ok"}"#) }
        router.get("/readyz") { _, _ in
            self.draining.load(ordering: .relaxed) ? jsonResponse(503, #"{"status":"draining"}"#) : jsonResponse(200, #"{"status":"ready"}"#)
        }
        let guarded = router.group()
        if let token = options.bearerToken { guarded.add(middleware: BearerTokenMiddleware(token: token)) }
        (options.protectMetrics ? guarded : router.group()).get("/metrics") { _, _ in
            Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                     body: .init(byteBuffer: ByteBuffer(string: self.metrics.render(cache: self.slot.classifier.cache))))
        }
        guarded.post("/v1/classify") { request, _ in try await self.classify(request) }
        guarded.post("/v1/logs") { request, _ in try await self.logs(request) }
        guarded.post("/admin/reload") { _, _ in
            // Loading reads and converts the weights: off the server's threads.
            try await withCheckedThrowingContinuation { continuation in
                DispatchQueue.global().async { continuation.resume(with: Result { try self.reloadResponse() }) }
            }
        }
        return router
    }

    /// The HTTP/1.1 application over ``buildRouter()`` with the options' address, idle timeout and connection cap.
    public func buildApplication(onListening: @escaping @Sendable (Int) -> Void = { _ in }) -> some ApplicationProtocol {
        Application(router: buildRouter(), server: .http1(configuration: .init(idleTimeout: TimeAmount(options.idleTimeout))),
                    configuration: .init(address: .hostname(options.host, port: options.port), serverName: "distill",
                                         availableConnectionsDelegate: MaximumAvailableConnections(options.maxConnections)),
                    onServerRunning: { channel in onListening(channel.localAddress?.port ?? 0) })
    }

    /// Serves until SIGTERM/SIGINT, then drains. `onListening` receives the bound port.
    public func run(onListening: @escaping @Sendable (Int) -> Void = { _ in }) async throws {
        let signals = installSignalHandlers()
        defer { signals.forEach { $0.cancel() } }
        let app = buildApplication(onListening: onListening)
        forwarder?.start()
        do {
            try await app.runService(gracefulShutdownSignals: [.sigterm, .sigint])
        } catch {
            await forwarder?.drain(timeout: .zero)
            throw error
        }
        // Requests in flight are answered; what they queued gets --drain-timeout to reach the stores.
        if let forwarder { await forwarder.drain(timeout: forwarder.options.drainTimeout) }
    }

    /// SIGHUP reloads; SIGTERM/SIGINT mark the service as draining (readyz answers 503) while Hummingbird drains.
    private func installSignalHandlers() -> [DispatchSourceSignal] {
        let queue = DispatchQueue(label: "distill.serve.signals")
        var sources: [DispatchSourceSignal] = []
        signal(SIGHUP, SIG_IGN)
        let hup = DispatchSource.makeSignalSource(signal: SIGHUP, queue: queue)
        hup.setEventHandler { [self] in
            do { try self.reload() } catch {
                FileHandle.standardError.write(Data("reload failed, still serving the previous model: \(error.localizedDescription)\n".utf8))
            }
        }
        hup.resume()
        sources.append(hup)
        for s in [SIGTERM, SIGINT] {
            let source = DispatchSource.makeSignalSource(signal: s, queue: queue)
            source.setEventHandler { [self] in self.draining.store(true, ordering: .relaxed) }
            source.resume()
            sources.append(source)
        }
        return sources
    }

    /// Loads the model folder again and swaps it in (the cache starts empty: its probabilities were the old model's).
    @discardableResult
    public func reload() throws -> Classifier {
        try reloading.withLock { _ in
            do {
                let classifier = try slot.reload()
                metrics.modelLoaded(classifier, reload: true)
                FileHandle.standardError.write(Data("reloaded \(options.model.path)\n".utf8))
                return classifier
            } catch {
                metrics.reloadFailed()
                throw error
            }
        }
    }

    // MARK: handlers

    /// The body, decompressed, and its media type (`protobuf`: `application/x-protobuf` is admitted).
    private func readBody(_ request: Request, protobuf: Bool = false) async throws -> (bytes: [UInt8], mediaType: String) {
        let mediaType = try JSONBody.checkContentType(request.headers[.contentType], protobuf: protobuf)
        let limit = options.maxBodyBytes
        // A declared length over the limit is refused before a byte of the body is read.
        if let declared = request.headers[.contentLength] {
            guard let length = Int(declared.trimmingCharacters(in: .whitespaces)), length >= 0 else {
                throw ServeError.badRequest("Content-Length '\(declared)' is not a byte count")
            }
            guard length <= limit else { throw ServeError.tooLarge("Content-Length \(length) is larger than \(limit) bytes (--max-body-bytes)") }
        }
        let body = request.body, timeout = options.bodyTimeout
        let encoding = try BodyEncoding(request.headers[.contentEncoding])
        do {
            // The body must arrive within --body-timeout: a client that trickles it (or declares more than it sends) is cut off.
            let buffer = try await withThrowingTaskGroup(of: ByteBuffer?.self) { group in
                group.addTask { try await body.collect(upTo: limit) }
                group.addTask {
                    try await Task.sleep(for: timeout)
                    return nil
                }
                defer { group.cancelAll() }
                guard let first = try await group.next(), let buffer = first else {
                    throw ServeError(408, "the body did not arrive within \(timeout) (--body-timeout)")
                }
                return buffer
            }
            return (try encoding.decoded(buffer, limit: limit), mediaType)
        } catch is NIOTooManyBytesError {
            throw ServeError.tooLarge("the body is larger than \(limit) bytes (--max-body-bytes)")
        }
    }

    /// Classifies on the work queue.
    private func predict(_ texts: [String]) async throws -> (Classifier, [Classifier.Prediction]) {
        if options.handlerDelay > .zero { try await Task.sleep(for: options.handlerDelay) }
        let classifier = slot.classifier
        let predictions = await withCheckedContinuation { continuation in
            work.async { continuation.resume(returning: classifier.classify(texts)) }
        }
        metrics.classified(predictions, labels: classifier.labels)
        return (classifier, predictions)
    }

    private func classify(_ request: Request) async throws -> Response {
        let parsed = try ClassifyRequest.parse(try await readBody(request).bytes, options: options)
        let (classifier, predictions) = try await predict(parsed.texts)
        var w = JSONLineWriter(capacity: 160 * predictions.count + 32)
        w.raw("{\"results\":[")
        for (i, p) in predictions.enumerated() {
            w.raw(i == 0 ? "{" : ",{")
            w.predictionFields(p, labels: classifier.labels, topK: parsed.topK ?? options.topK)
            w.raw("}")
        }
        w.raw("]}")
        return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: w.bytes)))
    }

    /// `/v1/logs`: OTLP (protobuf, or JSON with `resourceLogs`) or shipper records (JSON array, NDJSON, concatenated).
    private func logs(_ request: Request) async throws -> Response {
        let (body, mediaType) = try await readBody(request, protobuf: true)
        let observed = LogEntry.now()
        if mediaType == OTLPLogsProtobuf.contentType {
            return try await otlpLogs(try OTLPLogsProtobuf.parse(body, options: options, observed: observed), protobuf: true)
        }
        if let entries = try OTLPLogsJSON.parseIfRequest(body, options: options, observed: observed) { return try await otlpLogs(entries, protobuf: false) }
        let parsed = MessagePack.mediaTypes.contains(mediaType) ? try LogRecords.parseMessagePack(body, options: options)
                                                                : try LogRecords.parse(body, options: options)
        let (classifier, predictions) = try await predict(parsed.texts)
        metrics.skipped(parsed.records.compactMap(\.skipped))
        var next = 0
        let annotations = parsed.records.map { record -> LogEntry.Annotation in
            if let skip = record.skipped { return .skipped(LogRecords.message(skip, options: options)) }
            let p = predictions[next]
            next += 1
            return .classified(label: p.label(in: classifier.labels), probability: p.probability, template: p.template)
        }
        if let forwarder {
            try forwarder.accept(zip(parsed.records, annotations).map { record, annotation in
                var entry = LogEntry.fromJSON(record.fields, lineField: record.lineField, observed: observed)
                entry.annotation = annotation
                return entry
            })
        }
        // Every record as it came (keys sorted), a `distill` object in place of any it had.
        var w = JSONLineWriter(capacity: body.count + 120 * parsed.records.count)
        if parsed.framing == .array { w.raw("[") }
        for (i, (record, annotation)) in zip(parsed.records, annotations).enumerated() {
            if i > 0, parsed.framing == .array { w.raw(",") }
            LogEntry.writeJSONRecord(record.fields, annotation: annotation, to: &w)
            if parsed.framing == .lines { w.raw("\n") }
        }
        if parsed.framing == .array { w.raw("]") }
        let type = parsed.framing == .array ? "application/json" : "application/x-ndjson"
        return Response(status: .ok, headers: [.contentType: type], body: .init(byteBuffer: ByteBuffer(bytes: w.bytes)))
    }

    /// OTLP records: classified, forwarded, answered with an `ExportLogsServiceResponse` in the request's encoding.
    private func otlpLogs(_ parsed: [LogEntry], protobuf: Bool) async throws -> Response {
        var entries = parsed
        var texts: [String] = [], classified: [Int] = [], skips: [LogRecords.Skip] = []
        for (i, entry) in entries.enumerated() {
            let text = OTLPLogsJSON.text(of: entry, options: options)
            if let text, text.utf8.count <= options.maxTextBytes {
                texts.append(text)
                classified.append(i)
            } else {
                let skip: LogRecords.Skip = text == nil ? .noText : .tooLong
                skips.append(skip)
                entries[i].annotation = .skipped(LogRecords.message(skip, options: options, otlp: true))
            }
        }
        let (classifier, predictions) = try await predict(texts)
        for (p, i) in zip(predictions, classified) {
            entries[i].annotation = .classified(label: p.label(in: classifier.labels), probability: p.probability, template: p.template)
        }
        metrics.skipped(skips)
        try forwarder?.accept(entries)
        let reason = skips.first.map { LogRecords.message($0, options: options, otlp: true) }
        if protobuf {
            return Response(status: .ok, headers: [.contentType: OTLPLogsProtobuf.contentType],
                            body: .init(byteBuffer: ByteBuffer(bytes: OTLPLogsProtobuf.response(skipped: skips.count, reason: reason))))
        }
        return Response(status: .ok, headers: [.contentType: "application/json"],
                        body: .init(byteBuffer: ByteBuffer(bytes: OTLPLogsJSON.response(skipped: skips.count, reason: reason))))
    }

    private func reloadResponse() throws -> Response {
        do {
            let classifier = try reload()
            var w = JSONLineWriter()
            w.raw("{\"status\":\"reloaded\",\"model\":")
            w.string(classifier.folder.path)
            w.raw(",\"labels\":[")
            for (i, l) in classifier.labels.enumerated() { if i > 0 { w.raw(",") }; w.string(l) }
            w.raw("]}")
            return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: w.bytes)))
        } catch {
            throw ServeError(500, "reload failed, still serving the previous model: \(error.localizedDescription)")
        }
    }
}

func jsonResponse(_ status: Int, _ body: String) -> Response {
    Response(status: .init(code: status), headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: body)))
}

func errorResponse(_ status: Int, _ message: String) -> Response {
    var w = JSONLineWriter()
    w.raw("{\"error\":")
    w.string(message)
    w.raw(",\"status\":")
    w.int(status)
    w.raw("}")
    return Response(status: .init(code: status), headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: w.bytes)))
}
