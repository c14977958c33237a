import Foundation
import NIOCore
import NIOPosix
import Synchronization

/// Fails requests fast while a teacher server refuses connections, instead of letting each one wait out its
/// whole timeout (async-http-client keeps retrying a refused connection until the request's deadline).
///
/// A request that has waited ``probeInterval`` seconds has its server probed with a plain TCP connect, again
/// each interval; a refused probe ends the request at once and opens the breaker. While open, requests fail
/// without being sent, except one probe per interval; a probe that connects closes the breaker. `--timeout`
/// thus only bounds requests a listening server has accepted.
public final class CircuitBreaker: Sendable {
    /// Seconds between probes of a server (and before the first probe of a waiting request).
    public let probeInterval: Double
    private let log: (@Sendable (String) -> Void)?
    private struct Opened { var since: Date; var lastProbe: Date; var reason: String }
    private let open = Mutex<[String: Opened]>([:])

    public init(probeInterval: Double = 1, log: (@Sendable (String) -> Void)? = nil) {
        self.probeInterval = probeInterval
        self.log = log
    }

    /// `host:port` of an http(s) URL, or nil when it has none.
    static func endpoint(_ url: String) -> (host: String, port: Int)? {
        guard let c = URLComponents(string: url), let host = c.host, !host.isEmpty else { return nil }
        return (host, c.port ?? (c.scheme?.lowercased() == "https" ? 443 : 80))
    }

    /// Runs `send` unless the breaker for `url`'s server is open; ends it early when a probe is refused.
    func guarded<T: Sendable>(_ url: String, timeout: Double, _ send: @escaping @Sendable () async throws -> T) async throws -> T {
        guard let (host, port) = Self.endpoint(url) else { return try await send() }
        let key = "\(host):\(port)"
        if let state = open.withLock({ $0[key] }) {
            guard Date().timeIntervalSince(state.lastProbe) >= probeInterval else {
                throw TransportError.connection("\(key) refused connections at \(Self.time(state.since)) (\(state.reason)); not sent while it is down (next probe within \(probeInterval) s)")
            }
            open.withLock { $0[key]?.lastProbe = Date() }
            if let failure = await Self.probe(host: host, port: port, timeout: probeInterval) {
                throw TransportError.connection("\(key) still refuses connections (\(failure)); down since \(Self.time(state.since))")
            }
            open.withLock { _ = $0.removeValue(forKey: key) }
            log?("teacher server \(key) accepts connections again")
        }
        guard timeout > probeInterval else { return try await send() }
        return try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask { try await send() }
            group.addTask { [probeInterval] in
                // The watchdog: nil result when cancelled (the request finished first).
                while true {
                    try? await Task.sleep(for: .milliseconds(Int64(probeInterval * 1000)))
                    if Task.isCancelled { return nil }
                    if let failure = await Self.probe(host: host, port: port, timeout: probeInterval) {
                        self.opened(key, reason: failure)
                        throw TransportError.connection("\(key) refused a connection while the request waited (\(failure))")
                    }
                }
            }
            defer { group.cancelAll() }
            while let result = try await group.next() {
                if let result { return result }
            }
            // Only the watchdog returns nil, and only once cancelled: the request itself was cancelled.
            throw CancellationError()
        }
    }

    /// Opens the breaker for `key` (reporting it once).
    func opened(_ key: String, reason: String) {
        let first = open.withLock { table -> Bool in
            guard table[key] == nil else { return false }
            table[key] = Opened(since: Date(), lastProbe: Date(), reason: reason)
            return true
        }
        if first { log?("teacher server \(key) refuses connections (\(reason)); failing its requests fast, probing every \(probeInterval) s") }
    }

    /// Whether requests to `url`'s server are currently failed without being sent.
    public func isOpen(_ url: String) -> Bool {
        guard let (host, port) = Self.endpoint(url) else { return false }
        return open.withLock { $0["\(host):\(port)"] != nil }
    }

    /// A TCP connect to `host:port`: nil when it connects, else why not.
    static func probe(host: String, port: Int, timeout: Double) async -> String? {
        do {
            let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .connectTimeout(.milliseconds(Int64(max(0.05, timeout) * 1000)))
                .connect(host: host, port: port).get()
            try? await channel.close()
            return nil
        } catch {
            return "\(error)"
        }
    }

    static func time(_ date: Date) -> String { ISO8601DateFormatter().string(from: date) }
}
