import DistillTestSupport
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A small HTTP/1.1 server on 127.0.0.1 for tests: each request goes to a handler that decides the answer —
/// a normal response, raw bytes (a cut-off body), a delay, silence (a timeout), or forwarding to another server
/// (a counting proxy in front of llama.cpp). Every connection is closed after one exchange.
final class LoopbackServer: @unchecked Sendable {
    struct Request: Sendable {
        var method: String
        var path: String
        var headers: [String: String]  // lowercased names
        var body: Data
        var json: [String: Any]? { (try? JSONSerialization.jsonObject(with: body)) as? [String: Any] }
    }

    enum Action {
        case respond(status: Int, headers: [String: String] = [:], body: Data)
        /// Bytes written as they are (may be a broken response), then the connection closes.
        case raw(Data)
        /// Waits, then does the action.
        indirect case delay(Double, Action)
        /// Keeps the connection open without answering until the server stops (the client times out).
        case hang
        /// Forwards the request to 127.0.0.1:port and relays the answer.
        case forward(port: Int)

        static func json(_ object: Any, status: Int = 200, headers: [String: String] = [:]) -> Action {
            .respond(status: status, headers: headers.merging(["Content-Type": "application/json"]) { a, _ in a },
                     body: (try? JSONSerialization.data(withJSONObject: object)) ?? Data())
        }
    }

    let port: Int
    private let listener: Int32
    private let handler: @Sendable (Request, Int) -> Action
    private let lock = NSLock()
    private var _requests: [Request] = []
    private var inFlight = 0
    private var _maxInFlight = 0
    private var stopped = false

    /// Requests received so far, in arrival order.
    var requests: [Request] { lock.withLock { _requests } }
    /// Most requests that were being handled at the same time.
    var maxInFlight: Int { lock.withLock { _maxInFlight } }

    /// Starts listening on a free port. The handler gets the request and its 0-based arrival index.
    init(handler: @escaping @Sendable (Request, Int) -> Action) throws {
        self.handler = handler
        guard let (fd, boundPort) = listenLoopback() else { throw POSIXError(.EADDRINUSE) }
        listener = fd
        port = boundPort
        let thread = Thread { [self] in acceptLoop() }
        thread.start()
    }

    var baseURL: String { "http://127.0.0.1:\(port)/v1" }

    /// Stops accepting. Idempotent: the listening socket is closed exactly once (closing a number twice could
    /// close a socket someone else opened meanwhile — async-http-client's, say).
    func stop() {
        let first: Bool = lock.withLock { defer { stopped = true }; return !stopped }
        guard first else { return }
        shutdown(listener, Int32(SHUT_RDWR))
        close(listener)
    }

    deinit { stop() }

    private var isStopped: Bool { lock.withLock { stopped } }

    private func acceptLoop() {
        while !isStopped {
            let connection = accept(listener, nil, nil)
            if connection < 0 { if errno == EINTR { continue }; return }
            let thread = Thread { [self] in serve(connection) }
            thread.start()
        }
    }

    private func serve(_ fd: Int32) {
        defer { close(fd) }
        guard let request = readRequest(fd) else { return }
        let index: Int = lock.withLock {
            _requests.append(request)
            inFlight += 1
            _maxInFlight = max(_maxInFlight, inFlight)
            return _requests.count - 1
        }
        defer { lock.withLock { inFlight -= 1 } }
        perform(handler(request, index), request: request, fd: fd)
    }

    private func perform(_ action: Action, request: Request, fd: Int32) {
        switch action {
        case let .respond(status, headers, body):
            var head = "HTTP/1.1 \(status) \(status == 200 ? "OK" : "Status")\r\nContent-Length: \(body.count)\r\nConnection: close\r\n"
            for (k, v) in headers { head += "\(k): \(v)\r\n" }
            writeAll(fd, Data((head + "\r\n").utf8) + body)
        case let .raw(bytes):
            writeAll(fd, bytes)
        case let .delay(seconds, next):
            Thread.sleep(forTimeInterval: seconds)
            perform(next, request: request, fd: fd)
        case .hang:
            while !isStopped { Thread.sleep(forTimeInterval: 0.05) }
        case let .forward(port):
            writeAll(fd, LoopbackServer.exchange(port: port, request: request))
        }
    }

    /// Sends `request` to 127.0.0.1:port with `Connection: close` and returns the raw answer.
    static func exchange(port: Int, request: Request) -> Data {
        let fd = connectLoopback(port: port)
        guard fd >= 0 else { return Data("HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".utf8) }
        defer { close(fd) }
        var head = "\(request.method) \(request.path) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nConnection: close\r\nContent-Length: \(request.body.count)\r\n"
        if let type = request.headers["content-type"] { head += "Content-Type: \(type)\r\n" }
        writeAll(fd, Data((head + "\r\n").utf8) + request.body)
        var out = Data()
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = read(fd, &buffer, buffer.count)
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            out.append(contentsOf: buffer[0..<n])
        }
        return out
    }

    private func readRequest(_ fd: Int32) -> Request? {
        var data = Data()
        var buffer = [UInt8](repeating: 0, count: 65536)
        var headerEnd: Int?
        var contentLength = 0
        while true {
            if let end = headerEnd, data.count >= end + contentLength { break }
            let n = read(fd, &buffer, buffer.count)
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { return nil }
            data.append(contentsOf: buffer[0..<n])
            if headerEnd == nil, let r = data.range(of: Data("\r\n\r\n".utf8)) {
                headerEnd = r.upperBound
                let head = String(decoding: data[..<r.lowerBound], as: UTF8.self)
                for line in head.split(separator: "\r\n").dropFirst() {
                    let parts = line.split(separator: ":", maxSplits: 1)
                    if parts.count == 2, parts[0].lowercased() == "content-length" { contentLength = Int(parts[1].trimmingCharacters(in: .whitespaces)) ?? 0 }
                }
            }
        }
        let end = headerEnd!
        let head = String(decoding: data[..<(end - 4)], as: UTF8.self)
        let lines = head.split(separator: "\r\n")
        let first = lines.first?.split(separator: " ") ?? []
        guard first.count >= 2 else { return nil }
        var headers: [String: String] = [:]
        for line in lines.dropFirst() {
            let parts = line.split(separator: ":", maxSplits: 1)
            if parts.count == 2 { headers[parts[0].lowercased()] = parts[1].trimmingCharacters(in: .whitespaces) }
        }
        return Request(method: String(first[0]), path: String(first[1]), headers: headers, body: Data(data[end..<(end + contentLength)]))
    }
}

private func writeAll(_ fd: Int32, _ data: Data) {
    data.withUnsafeBytes { raw in
        var offset = 0
        while offset < raw.count {
            let n = write(fd, raw.baseAddress! + offset, raw.count - offset)
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { return }
            offset += n
        }
    }
}

/// An OpenAI chat-completions body whose answer is `content`, with `alternatives` as the first token's
/// top_logprobs (nil: no logprobs at all).
func chatCompletion(_ content: String, alternatives: [(String, Double)]? = nil) -> [String: Any] {
    var choice: [String: Any] = ["index": 0, "finish_reason": "stop", "message": ["role": "assistant", "content": content]]
    if let alternatives {
        let top = alternatives.map { ["token": $0.0, "logprob": $0.1] as [String: Any] }
        choice["logprobs"] = ["content": [["token": alternatives.first?.0 ?? content, "logprob": alternatives.first?.1 ?? 0, "top_logprobs": top] as [String: Any]]]
    }
    return ["id": "x", "object": "chat.completion", "choices": [choice], "usage": ["prompt_tokens": 50, "completion_tokens": 1]]
}
