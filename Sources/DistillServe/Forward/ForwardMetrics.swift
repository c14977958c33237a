import Foundation
import Prometheus

/// One forward target's series in `/metrics` (label `target`): records sent, dropped by reason, retries,
/// requests refused because the queue was full, the queue's size, store requests by status and their latency.
final class ForwardMetrics: Sendable {
    private let registry: PrometheusCollectorRegistry
    private let target: String
    private let sentRecords: Counter, retries: Counter, refusedRequests: Counter
    private let queuedRecords: Gauge, queuedBytes: Gauge, lastSuccess: Gauge

    init(registry: PrometheusCollectorRegistry, target: String) {
        self.registry = registry
        self.target = target
        let labels = [("target", target)]
        sentRecords = registry.makeCounter(descriptor: .init(namespace: "distill", metricName: "forward_sent_records", unitName: "total",
                                                             helpText: "Records a store accepted, by forward target."), labels: labels)
        retries = registry.makeCounter(descriptor: .init(namespace: "distill", metricName: "forward_retries", unitName: "total",
                                                         helpText: "Store requests sent again after a failure, by forward target."), labels: labels)
        refusedRequests = registry.makeCounter(descriptor: .init(namespace: "distill", metricName: "forward_refused_requests", unitName: "total",
                                                                 helpText: "/v1/logs requests answered 503 because a forward queue was full."), labels: labels)
        queuedRecords = registry.makeGauge(descriptor: .init(namespace: "distill", metricName: "forward_queued_records", unitName: "",
                                                             helpText: "Records waiting to be sent, by forward target."), labels: labels)
        queuedBytes = registry.makeGauge(descriptor: .init(namespace: "distill", metricName: "forward_queued", unitName: "bytes",
                                                           helpText: "Encoded bytes waiting to be sent, by forward target."), labels: labels)
        lastSuccess = registry.makeGauge(descriptor: .init(namespace: "distill", metricName: "forward_last_success_timestamp", unitName: "seconds",
                                                           helpText: "When a store last accepted a request (Unix time), by forward target."), labels: labels)
        // Created at zero so that rate() and alerts see the series before the first drop.
        for reason in ["rejected", "spool_unreadable", "shutdown"] { dropped(0, reason: reason) }
    }

    func sent(_ n: Int) {
        if n > 0 { sentRecords.increment(by: Int64(n)) }
        lastSuccess.set(Date().timeIntervalSince1970)
    }

    func dropped(_ n: Int, reason: String) {
        let counter = registry.makeCounter(descriptor: .init(namespace: "distill", metricName: "forward_dropped_records", unitName: "total",
                                                             helpText: "Records given up on, by forward target and reason (rejected: the store refused them; spool_unreadable; shutdown: queued without --spool when the process stopped)."),
                                           labels: [("target", target), ("reason", reason)])
        if n > 0 { counter.increment(by: Int64(n)) }
    }

    func retried() { retries.increment() }
    func refused() { refusedRequests.increment() }

    func queued(_ size: (bytes: Int, records: Int)) {
        queuedRecords.set(Double(size.records))
        queuedBytes.set(Double(size.bytes))
    }

    /// One store request: its status (0: no answer) and how long it took.
    func request(status: Int, duration: Duration) {
        registry.makeCounter(descriptor: .init(namespace: "distill", metricName: "forward_requests", unitName: "total",
                                               helpText: "Requests to stores, by forward target and status (0: no answer)."),
                             labels: [("target", target), ("status", String(status))]).increment()
        registry.makeDurationHistogram(descriptor: .init(namespace: "distill", metricName: "forward_request_duration", unitName: "seconds",
                                                         helpText: "Time a store took to answer, by forward target."),
                                       labels: [("target", target)], buckets: ServerMetrics.latencyBuckets).record(duration)
    }
}
