import Foundation

/// Limits how many requests are in flight and how many start per second (a token bucket of size 1 per interval).
/// Waiters are served first come, first served.
public actor RequestGate {
    public let maxConcurrent: Int
    public let requestsPerSecond: Double?
    private var active = 0
    private var waiters: [CheckedContinuation<Void, Never>] = []
    private var nextStart = ContinuousClock.now

    public init(maxConcurrent: Int, requestsPerSecond: Double?) {
        self.maxConcurrent = max(1, maxConcurrent)
        self.requestsPerSecond = requestsPerSecond
    }

    /// Waits for a slot (and for the rate limit); pair with ``release()``.
    public func acquire() async {
        if active >= maxConcurrent {
            await withCheckedContinuation { waiters.append($0) }  // `release` hands its slot over: `active` stays counted
        } else {
            active += 1
        }
        if let rps = requestsPerSecond {
            let now = ContinuousClock.now
            let slot = max(now, nextStart)
            nextStart = slot.advanced(by: .seconds(1 / rps))
            if slot > now { try? await Task.sleep(until: slot, clock: .continuous) }
        }
    }

    public func release() {
        if waiters.isEmpty { active -= 1 } else { waiters.removeFirst().resume() }
    }

    /// Runs `body` holding a slot.
    public func withSlot<T: Sendable>(_ body: @Sendable () async throws -> T) async rethrows -> T {
        await acquire()
        do {
            let value = try await body()
            release()
            return value
        } catch {
            release()
            throw error
        }
    }
}
