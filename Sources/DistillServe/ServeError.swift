import Foundation

/// A request the service refuses, with the HTTP status it answers and a message naming what to change.
public struct ServeError: Error, LocalizedError, Sendable {
    public var status: Int
    public var message: String

    public init(_ status: Int, _ message: String) {
        self.status = status
        self.message = message
    }

    public var errorDescription: String? { message }

    static func badRequest(_ message: String) -> ServeError { ServeError(400, message) }
    static func tooLarge(_ message: String) -> ServeError { ServeError(413, message) }
}
