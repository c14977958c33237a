import AsyncHTTPClient
import DistillRuntime
import Foundation
import NIOCore
import NIOHTTP1
import OTLPProto
import Synchronization

/// `distill serve --forward`: sends every accepted record, enriched, on to log stores — one queue and one sender
/// per target, one request in flight per target (records reach a store in the order they arrived).
///
/// A store's answer decides: 2xx delivered (Elasticsearch item errors and OTLP partial success are read: items
/// answered 409 are already stored, 429 and 5xx items retry the request, others are dropped and counted);
/// 401, 403, 404, 408, 429 and 5xx, a timeout or a refused connection retry with backoff and jitter
/// (`Retry-After` honoured), for as long as it takes — the queue fills and `/v1/logs` answers 503, so shippers
/// hold their data; any other 4xx splits the request down to the records the store refuses, which are dropped
/// (counted, reported) because sending them again cannot succeed.
public final class Forwarder: Sendable {
    public let options: ForwardOptions
    let senders: [Sender]
    private let client: HTTPClient
    private let tasks = Mutex<[Task<Void, Never>]>([])
    /// Makes Elasticsearch `_id`s unique to this process (with the queue sequence and the record's index).
    private let instance = String(UInt64.random(in: 0...UInt64.max), radix: 36)
    /// Waits between retries of a store request (no limit on their number).
    private let retryPolicy: RetryPolicy

    /// One target's queue, format and counters.
    final class Sender: Sendable {
        let target: ForwardTarget
        let format: any WireFormat
        let queue: ForwardQueue
        let metrics: ForwardMetrics

        init(target: ForwardTarget, format: any WireFormat, queue: ForwardQueue, metrics: ForwardMetrics) {
            (self.target, self.format, self.queue, self.metrics) = (target, format, queue, metrics)
        }
    }

    public init(options: ForwardOptions, metrics: ServerMetrics) throws {
        self.options = options
        retryPolicy = RetryPolicy(maxRetries: .max, baseDelay: options.retryBase.seconds, maxDelay: options.retryCap.seconds, maxRetryAfter: 300)
        var senders: [Sender] = []
        for target in options.targets {
            let spool = try options.spool.map { try SpoolFolder($0.appendingPathComponent(target.spoolName)) }
            let queue = ForwardQueue(limitBytes: spool == nil ? options.queueBytes : options.spoolBytes, spool: spool, report: Self.report)
            senders.append(Sender(target: target, format: target.format(lokiCategory: options.lokiCategory), queue: queue,
                                  metrics: ForwardMetrics(registry: metrics.registry, target: target.name)))
            if let spool, queue.size.records > 0 {
                Self.report("forward \(target.name): \(queue.size.records) records from the spool \(spool.folder.path) to send first")
            }
        }
        self.senders = senders
        if let root = options.spool { Self.reportOrphans(in: root, targets: options.targets) }
        var configuration = HTTPClient.Configuration()
        configuration.timeout = .init(connect: .seconds(5), read: TimeAmount(options.timeout))
        configuration.decompression = .enabled(limit: .size(64 << 20))
        client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }

    /// Starts one sender per target.
    public func start() {
        tasks.withLock { tasks in
            for sender in senders { tasks.append(Task { await self.run(sender) }) }
        }
        for sender in senders { sender.metrics.queued(sender.queue.size) }
    }

    /// Encodes and queues records for every target. Throws a 503 ``ServeError`` (with `Retry-After`) when a
    /// target's queue is full, before queueing anything. (Concurrent requests may overshoot a limit by what they
    /// carry; a spool write failing for one target after another queued the records duplicates them there when
    /// the shipper retries.)
    public func accept(_ entries: [LogEntry]) throws {
        guard !entries.isEmpty else { return }
        var encoded: [(sequence: UInt64, fragments: [Fragment])] = []
        for sender in senders {
            let sequence = sender.queue.reserveSequence()
            let prefix = "\(instance)-\(sequence)-"
            encoded.append((sequence, entries.enumerated().map { sender.format.fragment($1, id: prefix + String($0)) }))
        }
        for (sender, (_, fragments)) in zip(senders, encoded) where !sender.queue.hasRoom(fragments.byteCount) {
            sender.metrics.refused()
            throw ServeError(503, "the forward queue of \(sender.target.name) is full (\(sender.queue.size.records) records waiting for \(sender.target.endpoint.host ?? "the store")); retry later",
                             retryAfter: 2)
        }
        for (sender, (sequence, fragments)) in zip(senders, encoded) {
            do { try sender.queue.append(fragments, sequence: sequence) } catch {
                throw ServeError(503, "cannot queue records for \(sender.target.name): \(error.localizedDescription)", retryAfter: 5)
            }
            sender.metrics.queued(sender.queue.size)
        }
    }

    /// Waits until every queue is empty or `timeout` passed, then stops the senders. Returns the records left
    /// (still in the spool when there is one; lost otherwise).
    @discardableResult
    public func drain(timeout: Duration) async -> Int {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline, senders.contains(where: { $0.queue.size.records > 0 }) {
            try? await Task.sleep(for: .milliseconds(20))
        }
        let running = tasks.withLock { tasks in
            defer { tasks = [] }
            return tasks
        }
        for task in running { task.cancel() }
        for sender in senders { sender.queue.finish() }
        for task in running { await task.value }
        try? await client.shutdown()
        let left = senders.reduce(0) { $0 + $1.queue.size.records }
        if options.spool == nil { for sender in senders where sender.queue.size.records > 0 { sender.metrics.dropped(sender.queue.size.records, reason: "shutdown") } }
        if left > 0 {
            Self.report(options.spool != nil ? "forward: \(left) records not yet delivered are kept in the spool for the next start"
                                             : "forward: \(left) records not yet delivered are lost (no --spool)")
        }
        return left
    }

    // MARK: sending

    private func run(_ sender: Sender) async {
        var failing = false, unreadableWait = 1.0
        while !Task.isCancelled {
            let taken = sender.queue.head(maxRecords: options.batchRecords, maxBytes: options.batchBytes)
            for (batch, error) in taken.lost {
                sender.metrics.dropped(batch.records, reason: "spool_unreadable")
                Self.report("forward \(sender.target.name): \(error.localizedDescription); \(batch.records) records dropped")
            }
            if let error = taken.unreadable, taken.batches.isEmpty {
                // An I/O error (not damage): the file stays; try again, less and less often.
                if unreadableWait == 1 { Self.report("forward \(sender.target.name): cannot read the spool (\(error.localizedDescription)); retrying") }
                try? await Task.sleep(for: .seconds(unreadableWait))
                unreadableWait = min(60, unreadableWait * 2)
                continue
            }
            unreadableWait = 1
            guard !taken.batches.isEmpty else {
                sender.metrics.queued(sender.queue.size)
                if taken.lost.isEmpty { await sender.queue.waitForWork() }
                continue
            }
            let done = await deliver(taken.batches.flatMap { $0.fragments ?? [] }, to: sender, failing: &failing)
            // Remove what reached the store (or was given up on) even when shutting down: the rest stays queued / spooled.
            var end = 0
            let finished = taken.batches.prefix { batch in
                end += batch.records
                return end <= done
            }
            sender.queue.remove(Array(finished))
            sender.metrics.queued(sender.queue.size)
            if finished.count < taken.batches.count { break }  // cancelled mid-batch
        }
    }

    /// Sends `fragments` in order until each has been delivered or given up on. Starts with one request; a store
    /// that refuses it as too large (413) or as bad (400, 422) gets halves, down to single records, so one
    /// record the store refuses costs only that record; after a delivered part the size doubles back. Returns how
    /// many fragments, from the start, are done with (all of them unless cancelled).
    private func deliver(_ fragments: [Fragment], to sender: Sender, failing: inout Bool) async -> Int {
        var offset = 0, chunk = fragments.count, attempt = 0, splitReported = false
        while offset < fragments.count, !Task.isCancelled {
            let part = fragments[offset..<min(fragments.count, offset + chunk)]
            let outcome = await send(sender.format.body(part), to: sender)
            if Task.isCancelled { break }  // shutting down: an interrupted request is no failure of the store
            switch outcome {
            case .delivered(let dropped, let reason):
                sender.metrics.sent(part.count - dropped)
                if dropped > 0 {
                    sender.metrics.dropped(dropped, reason: "rejected")
                    Self.report("forward \(sender.target.name): the store refused \(dropped) of \(part.count) records: \(reason ?? "no reason given")")
                }
                if failing { Self.report("forward \(sender.target.name): delivering again") }
                (failing, attempt, offset) = (false, 0, offset + part.count)
                chunk = min(fragments.count, chunk * 2)
            case .retry(let after, let why):
                if !failing { Self.report("forward \(sender.target.name): \(why); retrying (records wait in the queue)") }
                failing = true
                sender.metrics.retried()
                // Retry-After wins, but never below the backoff: "0" must not make a tight loop.
                let wait = max(retryPolicy.delay(attempt: attempt, retryAfter: after), retryPolicy.delay(attempt: attempt, retryAfter: nil))
                try? await Task.sleep(for: .seconds(wait))
                attempt += 1
            case .rejected(let why) where part.count > 1:
                // Find the records the store refuses: halves, then smaller, down to one.
                if !splitReported { Self.report("forward \(sender.target.name): \(why); sending the \(part.count) records in smaller requests") }
                splitReported = true
                chunk = (part.count + 1) / 2
            case .rejected(let why):
                sender.metrics.dropped(1, reason: "rejected")
                Self.report("forward \(sender.target.name): \(why); 1 record dropped (a record the store refuses is not retried)")
                offset += 1
            }
        }
        return offset
    }

    enum Outcome: Equatable {
        case delivered(dropped: Int, reason: String?)
        case retry(after: Double?, why: String)
        case rejected(String)
    }

    private func send(_ body: [UInt8], to sender: Sender) async -> Outcome {
        var request = HTTPClientRequest(url: sender.target.endpoint.absoluteString)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: sender.format.contentType)
        request.headers.add(name: "User-Agent", value: "distill/\(distillVersion)")
        if let auth = sender.target.basicAuthorization { request.headers.add(name: "Authorization", value: auth) }
        for h in options.headers { request.headers.add(name: h.name, value: h.value) }
        request.body = .bytes(ByteBuffer(bytes: body))
        let start = ContinuousClock.now
        let response: HTTPClientResponse
        do {
            response = try await client.execute(request, timeout: TimeAmount(options.timeout))
        } catch {
            sender.metrics.request(status: 0, duration: ContinuousClock.now - start)
            return .retry(after: nil, why: "\(sender.target.displayURL) did not answer (\(error))")
        }
        let status = Int(response.status.code)
        let answer: ByteBuffer
        do {
            answer = try await response.body.collect(upTo: 16 << 20)
        } catch {
            sender.metrics.request(status: status, duration: ContinuousClock.now - start)
            // A success too long to read is still a success (its item errors go unread); anything else is retried.
            return (200..<300).contains(status) ? .delivered(dropped: 0, reason: nil)
                                                : .retry(after: nil, why: "the answer of \(sender.target.displayURL) broke off (\(error))")
        }
        sender.metrics.request(status: status, duration: ContinuousClock.now - start)
        return Self.outcome(kind: sender.target.kind, status: status, retryAfter: response.headers.first(name: "Retry-After"), body: Array(answer.readableBytesView))
    }

    /// What a store's answer means for the batch.
    static func outcome(kind: ForwardTarget.Kind, status: Int, retryAfter: String?, body: [UInt8]) -> Outcome {
        let text = String(decoding: body.prefix(300), as: UTF8.self)
        switch status {
        case 200..<300:
            switch kind {
            case .elasticsearch: return bulkOutcome(body)
            case .otlpJSON:
                let partial = (try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any])?["partialSuccess"] as? [String: Any]
                let rejected = (partial?["rejectedLogRecords"] as? String).flatMap { Int($0) } ?? (partial?["rejectedLogRecords"] as? Int) ?? 0
                return .delivered(dropped: rejected, reason: partial?["errorMessage"] as? String)
            case .otlp:
                let response = try? Opentelemetry_Proto_Collector_Logs_V1_ExportLogsServiceResponse(serializedBytes: body)
                return .delivered(dropped: Int(response?.partialSuccess.rejectedLogRecords ?? 0), reason: response?.partialSuccess.errorMessage)
            case .loki, .http: return .delivered(dropped: 0, reason: nil)
            }
        // 401, 403, 404: a token or path to fix; the records wait (and the shipper is held back) instead of being lost.
        case 401, 403, 404, 408, 429, 500..<600:
            return .retry(after: RetryPolicy.retryAfterSeconds(retryAfter), why: "the store answered \(status) \(text)")
        default:
            // 400, 413, 422 …: this request will never be accepted as it is.
            return .rejected("the store answered \(status) \(text)")
        }
    }

    /// An Elasticsearch `_bulk` answer: 409 items were stored before (a retried request), 429 and 5xx items
    /// make the request retry, other failed items are dropped.
    static func bulkOutcome(_ body: [UInt8]) -> Outcome {
        guard let answer = try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any] else {
            return .retry(after: nil, why: "the _bulk answer is not JSON: \(String(decoding: body.prefix(200), as: UTF8.self))")
        }
        guard answer["errors"] as? Bool == true, let items = answer["items"] as? [[String: Any]] else { return .delivered(dropped: 0, reason: nil) }
        var dropped = 0, reason: String?
        for item in items {
            guard let result = item.values.first as? [String: Any], let status = result["status"] as? Int else { continue }
            switch status {
            case 200..<300, 409: continue
            case 429, 500..<600: return .retry(after: nil, why: "_bulk items answered \(status)")
            default:
                dropped += 1
                if reason == nil, let error = result["error"] as? [String: Any] {
                    reason = "\(error["type"] as? String ?? "error"): \(error["reason"] as? String ?? "")"
                }
            }
        }
        return .delivered(dropped: dropped, reason: reason)
    }

    /// Spool folders of targets no longer configured still hold accepted records: say so (they are not sent).
    static func reportOrphans(in root: URL, targets: [ForwardTarget]) {
        let wanted = Set(targets.map(\.spoolName))
        for name in ((try? FileManager.default.contentsOfDirectory(atPath: root.path)) ?? []).sorted() where !wanted.contains(name) {
            let files = (try? FileManager.default.contentsOfDirectory(atPath: root.appendingPathComponent(name).path)) ?? []
            let batches = files.filter { $0.hasSuffix(".batch") }.count
            if batches > 0 {
                report("forward: \(root.appendingPathComponent(name).path) holds \(batches) batches for a target no longer given with --forward; they are kept, not sent")
            }
        }
    }

    static func report(_ message: String) { FileHandle.standardError.write(Data((message + "\n").utf8)) }
}

