import Foundation

/// What one replica of a teacher has done in this run.
public struct ReplicaUsage: Sendable, Equatable {
    public var address: ReplicaAddress
    /// Requests sent (each retry counts).
    public var requests = 0
    /// Requests that failed in a way that takes a replica out (no connection, timeout, 408, 429, 5xx).
    public var failures = 0
    /// Times taken out of service (a replica down when the teacher connected counts once).
    public var timesOut = 0
    /// Whether it is in service now.
    public var inService = true
    /// Requests that failed here and were sent again at once to another replica in service.
    public var retriedElsewhereAtOnce = 0
    /// Requests that failed here and were sent again after the retry backoff (the policy's delay, or Retry-After).
    public var retriedAfterBackoff = 0
}

/// Spreads one teacher's requests over the replicas that serve its model.
///
/// Each request goes to the replica in service with the fewest requests in flight (ties: the fewest sent so far,
/// then list order), at most ``perReplica`` at a time; callers wait when every replica in service is full. A
/// replica whose request fails (no connection, timeout, 408, 429, 5xx) is taken out of service; once its time out
/// has passed it is probed (the teacher's health request) and comes back in when the probe answers, else stays out
/// twice as long (up to ``maximumOutSeconds``). With one replica, or when every replica is out, requests still go
/// out (to the one out longest), so the caller's retries and give-up rules decide as with a single server.
actor ReplicaPool {
    let perReplica: Int
    /// First time out, doubled after each failed probe.
    let firstOutSeconds: Double
    let maximumOutSeconds: Double
    private var usage: [ReplicaUsage]
    private var inFlight: [Int]
    private var outUntil: [ContinuousClock.Instant?]
    private var outSince: [ContinuousClock.Instant]
    private var outSeconds: [Double]
    private var probing: Set<Int> = []
    private var waiters: [CheckedContinuation<Int, Never>] = []
    private let probe: @Sendable (ReplicaAddress) async -> String?
    private let log: (@Sendable (String) -> Void)?

    /// - Parameters:
    ///   - out: replicas that start out of service (they did not answer when the teacher connected).
    ///   - probe: nil when the replica answers its health request, else why not.
    init(addresses: [ReplicaAddress], perReplica: Int, out: Set<Int> = [], firstOutSeconds: Double = 1, maximumOutSeconds: Double = 30,
         probe: @escaping @Sendable (ReplicaAddress) async -> String?, log: (@Sendable (String) -> Void)? = nil) {
        self.perReplica = max(1, perReplica)
        self.firstOutSeconds = firstOutSeconds
        self.maximumOutSeconds = maximumOutSeconds
        self.probe = probe
        self.log = log
        usage = addresses.map { ReplicaUsage(address: $0) }
        inFlight = Array(repeating: 0, count: addresses.count)
        outSeconds = Array(repeating: firstOutSeconds, count: addresses.count)
        let now = ContinuousClock.now
        outSince = Array(repeating: now, count: addresses.count)
        outUntil = addresses.indices.map { out.contains($0) ? now : nil }
        for i in out { usage[i].inService = false; usage[i].timesOut = 1 }
    }

    /// A replica to send one request to (waits while every replica in service is full); pair with ``release(_:failure:)``.
    func acquire() async -> Int {
        for i in usage.indices where outUntil[i].map({ $0 <= .now }) == true && !probing.contains(i) {
            Task { await probeIfDue(i) }  // replicas that started out of service have no timer
        }
        if let i = pick() {
            take(i)
            return i
        }
        return await withCheckedContinuation { waiters.append($0) }  // `serveWaiters` takes the slot before resuming
    }

    /// Ends a request to replica `i`. `failure` (why it failed) takes the replica out when there are others.
    /// Returns whether another replica is in service to retry on at once.
    @discardableResult
    func release(_ i: Int, failure: String?) -> Bool {
        inFlight[i] -= 1
        if let failure {
            usage[i].failures += 1
            if usage.count > 1 && outUntil[i] == nil { takeOut(i, reason: failure) }
        } else if outUntil[i] == nil {
            outSeconds[i] = firstOutSeconds
        }
        serveWaiters()
        return usage.indices.contains { $0 != i && outUntil[$0] == nil }
    }

    /// Counts a retry of a request that failed at replica `i`: sent at once to another replica, or after the backoff.
    func noteRetry(after i: Int, failsOver: Bool) {
        if failsOver { usage[i].retriedElsewhereAtOnce += 1 } else { usage[i].retriedAfterBackoff += 1 }
    }

    /// Requests, failures and time out per replica so far.
    func report() -> [ReplicaUsage] { usage }

    // MARK: Choosing

    private func take(_ i: Int) {
        inFlight[i] += 1
        usage[i].requests += 1
    }

    /// The replica in service with the fewest in flight and a free slot; when none is in service, the one out longest.
    private func pick() -> Int? {
        let inService = usage.indices.filter { outUntil[$0] == nil }
        if inService.isEmpty {
            return usage.indices.filter { inFlight[$0] < perReplica }.min { outSince[$0] < outSince[$1] }
        }
        return inService.filter { inFlight[$0] < perReplica }.min { (inFlight[$0], usage[$0].requests, $0) < (inFlight[$1], usage[$1].requests, $1) }
    }

    private func serveWaiters() {
        while !waiters.isEmpty, let i = pick() {
            take(i)
            waiters.removeFirst().resume(returning: i)
        }
    }

    // MARK: Out of service and back

    private func takeOut(_ i: Int, reason: String) {
        let now = ContinuousClock.now
        outSince[i] = now
        usage[i].timesOut += 1
        usage[i].inService = false
        schedule(i, after: outSeconds[i])
        log?("teacher replica \(usage[i].address) taken out of service (\(reason)); the others take its requests; probing it in \(format(outSeconds[i])) s")
    }

    /// Probes replica `i` once `seconds` have passed.
    private func schedule(_ i: Int, after seconds: Double) {
        let due = ContinuousClock.now.advanced(by: .milliseconds(Int64(seconds * 1000)))
        outUntil[i] = due
        Task { [weak self] in
            try? await Task.sleep(until: due, clock: .continuous)
            await self?.probeIfDue(i)
        }
    }

    private func probeIfDue(_ i: Int) async {
        guard let due = outUntil[i], due <= ContinuousClock.now, !probing.contains(i) else { return }
        probing.insert(i)
        let failure = await probe(usage[i].address)
        probing.remove(i)
        guard outUntil[i] != nil else { return }
        if let failure {
            let before = outSeconds[i]
            outSeconds[i] = min(maximumOutSeconds, outSeconds[i] * 2)
            schedule(i, after: outSeconds[i])
            if outSeconds[i] == maximumOutSeconds && before < maximumOutSeconds { log?("teacher replica \(usage[i].address) still does not answer (\(failure)); probing every \(format(maximumOutSeconds)) s") }
        } else {
            outUntil[i] = nil
            outSeconds[i] = firstOutSeconds
            usage[i].inService = true
            log?("teacher replica \(usage[i].address) answers again; back in service")
            serveWaiters()
        }
    }

    private func format(_ seconds: Double) -> String { seconds == seconds.rounded() ? String(Int(seconds)) : String(format: "%.1f", seconds) }
}
