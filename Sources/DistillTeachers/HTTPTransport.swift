import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// A finished HTTP exchange.
public struct HTTPReply: Sendable {
    public var status: Int
    public var headers: [(name: String, value: String)]
    public var body: Data

    public init(status: Int, headers: [(name: String, value: String)] = [], body: Data) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// The first value of a header (case-insensitive name).
    public func header(_ name: String) -> String? { headers.first { $0.name.caseInsensitiveCompare(name) == .orderedSame }?.value }
}

/// Why no reply arrived.
public enum TransportError: Error, Sendable, Equatable, CustomStringConvertible {
    case timeout(seconds: Double)
    /// Refused, reset, closed early, body cut short.
    case connection(String)
    /// The reply body is larger than the limit.
    case tooLarge(limit: Int)

    public var description: String {
        switch self {
        case let .timeout(s): return "no complete answer within \(s) s"
        case let .connection(detail): return "connection failed: \(detail)"
        case let .tooLarge(limit): return "the response is larger than \(limit) bytes"
        }
    }
}

/// What the LLM teacher needs from HTTP: a request in, a complete reply (or a ``TransportError``) out.
public protocol HTTPTransport: Sendable {
    func send(method: String, url: String, headers: [(name: String, value: String)], body: Data?, timeout: Double) async throws -> HTTPReply
}

/// ``HTTPTransport`` over async-http-client's shared client (connection pooling, keep-alive, HTTP/1.1 and 2).
public struct AsyncHTTPClientTransport: HTTPTransport {
    /// Replies above this size are refused (a label answer is a few KB).
    public var maximumBodyBytes: Int
    /// Fails requests fast while a server refuses connections (shared by copies of this transport).
    public let breaker: CircuitBreaker

    /// - Parameter log: told when a server starts and stops refusing connections (the commands print it).
    public init(maximumBodyBytes: Int = 16 << 20, probeInterval: Double = 1, log: (@Sendable (String) -> Void)? = nil) {
        self.maximumBodyBytes = maximumBodyBytes
        breaker = CircuitBreaker(probeInterval: probeInterval, log: log)
    }

    public func send(method: String, url: String, headers: [(name: String, value: String)], body: Data?, timeout: Double) async throws -> HTTPReply {
        let limit = maximumBodyBytes
        return try await breaker.guarded(url, timeout: timeout) {
            try await Self.exchange(method: method, url: url, headers: headers, body: body, timeout: timeout, maximumBodyBytes: limit)
        }
    }

    private static func exchange(method: String, url: String, headers: [(name: String, value: String)], body: Data?, timeout: Double,
                                 maximumBodyBytes: Int) async throws -> HTTPReply {
        var request = HTTPClientRequest(url: url)
        request.method = HTTPMethod(rawValue: method)
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let body { request.body = .bytes(ByteBuffer(bytes: body)) }
        do {
            let response = try await HTTPClient.shared.execute(request, timeout: .milliseconds(Int64(timeout * 1000)))
            var buffer: ByteBuffer
            do { buffer = try await response.body.collect(upTo: maximumBodyBytes) } catch is NIOTooManyBytesError {
                throw TransportError.tooLarge(limit: maximumBodyBytes)
            }
            return HTTPReply(status: Int(response.status.code), headers: response.headers.map { ($0.name, $0.value) },
                             body: Data(buffer.readBytes(length: buffer.readableBytes) ?? []))
        } catch let error as HTTPClientError {
            switch error {
            case .deadlineExceeded, .readTimeout, .connectTimeout, .writeTimeout: throw TransportError.timeout(seconds: timeout)
            default: throw TransportError.connection("\(error)")
            }
        } catch let error as TransportError {
            throw error
        } catch {
            throw TransportError.connection("\(error)")
        }
    }
}
