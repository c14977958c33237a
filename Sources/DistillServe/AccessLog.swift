import DistillRuntime
import Foundation
import Hummingbird
import Synchronization

/// `serve --access-log FILE|-`: one JSON line per request —
/// `{"time","method","path","status","duration_ms","request_bytes","response_bytes","user_agent","forwarded_for"}` —
/// to a file (appended) or stderr (`-`). Paths are logged without their query string; bodies and the
/// `Authorization` header never are.
public final class AccessLog: Sendable {
    private let handle: Mutex<FileHandle>

    /// Opens `path` for appending (created if missing); `-` is stderr.
    public init(path: String) throws {
        if path == "-" {
            handle = Mutex(FileHandle.standardError)
            return
        }
        // O_APPEND: every line lands at the end, also after logrotate's copytruncate or next to another writer.
        let fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o640)
        guard fd >= 0 else { throw ServeError(500, "--access-log \(path): cannot open for appending: \(String(cString: strerror(errno)))") }
        handle = Mutex(FileHandle(fileDescriptor: fd, closeOnDealloc: true))
    }

    /// One finished request.
    func write(method: String, path: String, status: Int, duration: Duration, requestBytes: Int?, responseBytes: Int?, userAgent: String?, forwardedFor: String?) {
        var w = JSONLineWriter(capacity: 256)
        w.raw("{\"time\":")
        w.string(LogEntry.rfc3339(LogEntry.now()))
        w.raw(",\"method\":")
        w.string(method)
        w.raw(",\"path\":")
        w.string(String(path.prefix { $0 != "?" }.prefix(512)))
        w.raw(",\"status\":")
        w.int(status)
        w.raw(",\"duration_ms\":")
        w.bytes.append(contentsOf: String(format: "%.3f", duration.seconds * 1000).utf8)
        if let requestBytes { w.raw(",\"request_bytes\":"); w.int(requestBytes) }
        if let responseBytes { w.raw(",\"response_bytes\":"); w.int(responseBytes) }
        if let userAgent { w.raw(",\"user_agent\":"); w.string(String(userAgent.prefix(256))) }
        if let forwardedFor { w.raw(",\"forwarded_for\":"); w.string(String(forwardedFor.prefix(256))) }
        w.raw("}\n")
        let line = Data(w.bytes)
        handle.withLock { try? $0.write(contentsOf: line) }
    }
}

/// Writes every request, routed or not, to the access log.
struct AccessLogMiddleware<Context: RequestContext>: RouterMiddleware {
    let log: AccessLog

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = ContinuousClock.now
        let requestBytes = request.headers[.contentLength].flatMap { Int($0) }
        let userAgent = request.headers[.userAgent], forwardedFor = request.headers[.init("X-Forwarded-For")!]
        do {
            let response = try await next(request, context)
            log.write(method: request.method.rawValue, path: request.uri.path, status: Int(response.status.code), duration: ContinuousClock.now - start,
                      requestBytes: requestBytes, responseBytes: response.body.contentLength, userAgent: userAgent, forwardedFor: forwardedFor)
            return response
        } catch {
            // Unknown routes (HTTPError 404/405); anything else thrown ends as Hummingbird's 500.
            let status = (error as? HTTPError).map { Int($0.status.code) } ?? 500
            log.write(method: request.method.rawValue, path: request.uri.path, status: status, duration: ContinuousClock.now - start,
                      requestBytes: requestBytes, responseBytes: nil, userAgent: userAgent, forwardedFor: forwardedFor)
            throw error
        }
    }
}
