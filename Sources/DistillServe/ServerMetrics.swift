import DistillNN
import DistillRuntime
import Foundation
import Prometheus
import Synchronization

/// The service's Prometheus metrics (`GET /metrics`, text exposition format 0.0.4).
public final class ServerMetrics: Sendable {
    public let registry = PrometheusCollectorRegistry()
    private let inflight: Gauge
    private let reloads: Counter
    private let reloadFailures: Counter
    private let cacheHits: Counter, cacheLookups: Counter, cacheEntries: Gauge
    /// Cache statistics already counted (a reload starts a new cache from zero).
    private let countedCache = Mutex<(cache: ObjectIdentifier?, hits: Int, lookups: Int)>((nil, 0, 0))
    private let residentBytes: Gauge, startTime: Gauge
    /// The `distill_model_info` series of the model served now (replaced on reload).
    private let modelInfo = Mutex<Gauge?>(nil)

    static let latencyBuckets: [Duration] = [.microseconds(250), .microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5),
                                             .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250),
                                             .milliseconds(500), .seconds(1), .seconds(2.5)]

    public init() {
        inflight = registry.makeGauge(descriptor: .init(namespace: "distill", metricName: "inflight_requests", unitName: "", helpText: "Requests being handled now."))
        reloads = registry.makeCounter(descriptor: .init(namespace: "distill", metricName: "model_reloads", unitName: "total", helpText: "Successful model reloads."))
        reloadFailures = registry.makeCounter(descriptor: .init(namespace: "distill", metricName: "model_reload_failures", unitName: "total",
                                                                helpText: "Reloads that failed (the previous model kept serving)."))
        cacheHits = registry.makeCounter(descriptor: .init(namespace: "distill", metricName: "cache_hits", unitName: "total",
                                                           helpText: "Prediction cache hits (hit ratio: rate of this / rate of distill_cache_lookups_total)."))
        cacheLookups = registry.makeCounter(descriptor: .init(namespace: "distill", metricName: "cache_lookups", unitName: "total", helpText: "Prediction cache lookups."))
        cacheEntries = registry.makeGauge(descriptor: .init(namespace: "distill", metricName: "cache_entries", unitName: "", helpText: "Distinct texts in the prediction cache."))
        residentBytes = registry.makeGauge(descriptor: .init(namespace: "process", metricName: "resident_memory", unitName: "bytes", helpText: "Resident set size."))
        startTime = registry.makeGauge(descriptor: .init(namespace: "process", metricName: "start_time", unitName: "seconds", helpText: "Start time of the process since the Unix epoch."))
        startTime.set(Date().timeIntervalSince1970)
        registry.makeGauge(descriptor: .init(namespace: "distill", metricName: "build_info", unitName: "", helpText: "The running distill build (value 1)."),
                           labels: [("version", distillVersion), ("swift", Self.swiftVersion)]).set(Double(1))
    }

    static var swiftVersion: String {
        #if compiler(>=6.3)
        return "6.3"
        #elseif compiler(>=6.2)
        return "6.2"
        #else
        return "6"
        #endif
    }

    /// Buckets of the confidence histogram: the probability of the answer.
    static let confidenceBuckets: [Double] = [0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99]

    /// Counts one finished request and its latency.
    public func request(route: String, status: Int, duration: Duration) {
        registry.makeCounter(descriptor: .init(namespace: "distill", metricName: "http_requests", unitName: "total", helpText: "HTTP requests by route and status."),
                             labels: [("route", route), ("status", String(status))]).increment()
        registry.makeDurationHistogram(descriptor: .init(namespace: "distill", metricName: "http_request_duration", unitName: "seconds",
                                                         helpText: "Time from request to response, by route."),
                                       labels: [("route", route)], buckets: Self.latencyBuckets).record(duration)
    }

    public func started() { inflight.increment() }
    public func finished() { inflight.decrement() }

    /// Counts `/v1/logs` records passed through unlabelled, by reason.
    public func skipped(_ reasons: [LogRecords.Skip]) {
        for reason in LogRecords.Skip.allCases {
            let n = reasons.filter { $0 == reason }.count
            guard n > 0 else { continue }
            registry.makeCounter(descriptor: .init(namespace: "distill", metricName: "records_skipped", unitName: "total",
                                                   helpText: "Records /v1/logs passed through unlabelled, by reason (no_text, too_long)."),
                                 labels: [("reason", reason.rawValue)]).increment(by: Int64(n))
        }
    }

    /// Counts classified lines per label.
    public func classified(_ predictions: [Classifier.Prediction], labels: [String]) {
        var counts = [Int](repeating: 0, count: labels.count + 1)  // the last: below the confidence floor
        for p in predictions { counts[p.abstained ? labels.count : p.labelIndex] += 1 }
        for (k, n) in counts.enumerated() where n > 0 {
            registry.makeCounter(descriptor: .init(namespace: "distill", metricName: "lines_classified", unitName: "total", helpText: "Lines classified, by predicted label."),
                                 labels: [("label", k < labels.count ? labels[k] : DecisionRule.unknownLabel)]).increment(by: Int64(n))
        }
        // How sure the model was, by the label it gave: a drifting input shows as mass moving to low buckets.
        var histograms: [Int: ValueHistogram] = [:]
        for p in predictions {
            let k = p.abstained ? labels.count : p.labelIndex
            let histogram = histograms[k] ?? registry.makeValueHistogram(
                descriptor: .init(namespace: "distill", metricName: "prediction_confidence", unitName: "", helpText: "Probability of the answer, by label."),
                labels: [("label", k < labels.count ? labels[k] : DecisionRule.unknownLabel)], buckets: Self.confidenceBuckets)
            histograms[k] = histogram
            histogram.record(Double(p.probability))
        }
    }

    /// Publishes which model is served, by folder name (an unauthenticated scraper learns no file system paths).
    public func modelLoaded(_ classifier: Classifier, reload: Bool) {
        let kind = type(of: classifier.student.model).kind
        let gauge = registry.makeGauge(descriptor: .init(namespace: "distill", metricName: "model_info", unitName: "", helpText: "The model served (value 1)."),
                                       labels: [("model", classifier.folder.lastPathComponent), ("kind", kind),
                                                ("quantization", Student.quantization(of: classifier.folder) ?? "none"),
                                                ("parameters", String(classifier.student.module.parameterCount)), ("input", classifier.input.kind.rawValue)])
        modelInfo.withLock { old in
            if let old, old !== gauge { registry.unregisterGauge(old) }
            old = gauge
        }
        gauge.set(Double(1))
        if reload { reloads.increment() }
    }

    public func reloadFailed() { reloadFailures.increment() }

    /// The exposition text, with the cache and memory gauges refreshed.
    public func render(cache: PredictionCache?) -> String {
        let s = cache?.statistics
        cacheEntries.set(Double(s?.entries ?? 0))
        let (hits, lookups) = (s?.hits ?? 0, (s?.hits ?? 0) + (s?.misses ?? 0))
        let identity = cache.map(ObjectIdentifier.init)
        let (newHits, newLookups) = countedCache.withLock { counted -> (Int, Int) in
            // A new cache (after a reload) counts from zero.
            let base = counted.cache == identity ? (counted.hits, counted.lookups) : (0, 0)
            counted = (identity, hits, lookups)
            return (max(0, hits - base.0), max(0, lookups - base.1))
        }
        if newHits > 0 { cacheHits.increment(by: Int64(newHits)) }
        if newLookups > 0 { cacheLookups.increment(by: Int64(newLookups)) }
        residentBytes.set(Double(residentSetBytes()))
        return registry.emitToString()
    }
}

/// The process's resident set size from /proc/self/statm (0 where unavailable).
public func residentSetBytes() -> Int {
    guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return 0 }
    let fields = text.split(separator: " ")
    guard fields.count > 1, let pages = Int(fields[1]) else { return 0 }
    return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
}
