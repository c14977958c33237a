import Foundation

/// Exponential backoff with jitter between retries; a server's `Retry-After` wins when present.
public struct RetryPolicy: Sendable, Equatable {
    public var maxRetries: Int
    /// Delay before the first retry (doubled each time).
    public var baseDelay: Double
    public var maxDelay: Double
    /// Longest `Retry-After` honored (longer ones are capped).
    public var maxRetryAfter: Double

    public init(maxRetries: Int = 5, baseDelay: Double = 0.5, maxDelay: Double = 30, maxRetryAfter: Double = 120) {
        self.maxRetries = maxRetries
        self.baseDelay = baseDelay
        self.maxDelay = maxDelay
        self.maxRetryAfter = maxRetryAfter
    }

    /// Seconds to wait before retry number `attempt` (0-based): `Retry-After` if given, else
    /// base·2^attempt capped at maxDelay, scaled by a random factor in [0.5, 1] (jitter spreads retries of many
    /// clients apart).
    public func delay(attempt: Int, retryAfter: Double?, random: Double = Double.random(in: 0...1)) -> Double {
        if let retryAfter { return min(max(0, retryAfter), maxRetryAfter) }
        let exponential = min(maxDelay, baseDelay * pow(2, Double(min(attempt, 30))))
        return exponential * (0.5 + 0.5 * random)
    }

    /// A `Retry-After` value in seconds: delta-seconds or an HTTP date (RFC 9110). nil when absent or unreadable.
    public static func retryAfterSeconds(_ value: String?, now: Date = Date()) -> Double? {
        guard let v = value?.trimmingCharacters(in: .whitespaces), !v.isEmpty else { return nil }
        if let seconds = Double(v), seconds >= 0, seconds.isFinite { return seconds }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        for format in ["EEE, dd MMM yyyy HH:mm:ss zzz", "EEEE, dd-MMM-yy HH:mm:ss zzz", "EEE MMM d HH:mm:ss yyyy"] {
            formatter.dateFormat = format
            if let date = formatter.date(from: v) { return max(0, date.timeIntervalSince(now)) }
        }
        return nil
    }
}
