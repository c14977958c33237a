import Foundation

/// A request the service refuses, with the HTTP status it answers and a message naming what to change.
public struct ServeError: Error, LocalizedError, Sendable {
    public var status: Int
    public var message: String
    /// Seconds the client should wait before retrying (`Retry-After`), for 503 answers.
    public var retryAfter: Int?

    public init(_ status: Int, _ message: String, retryAfter: Int? = nil) {
        self.status = status
        self.message = message
        self.retryAfter = retryAfter
    }

    public var errorDescription: String? { message }

    static func badRequest(_ message: String) -> ServeError { ServeError(400, message) }
    static func tooLarge(_ message: String) -> ServeError { ServeError(413, message) }
}
