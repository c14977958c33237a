import Foundation
import Hummingbird

/// Times every answered request and counts it by route and status (`distill_http_requests_total`, the duration
/// histogram) with the in-flight gauge around it. Requests no route answers are counted by ``UnmatchedRouteMetrics``.
struct RequestMetricsMiddleware<Context: RequestContext>: RouterMiddleware {
    let metrics: ServerMetrics

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = ContinuousClock.now
        metrics.started()
        let response: Response
        do { response = try await next(request, context) } catch {
            metrics.finished()
            throw error
        }
        metrics.finished()
        metrics.request(route: context.endpointPath ?? request.uri.path, status: Int(response.status.code), duration: ContinuousClock.now - start)
        return response
    }
}

/// Turns a handler's ``ServeError`` into its JSON answer (`{"error", "status"}`, with `WWW-Authenticate`,
/// `Retry-After` and `Connection: close` where they belong) and any other failure into a 500 naming it. Hummingbird's
/// no-such-route and no-such-method answers (404, 405) pass through to Hummingbird.
struct ErrorAnswerMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as ServeError {
            var response = errorResponse(error.status, error.message)
            if error.status == 401 { response.headers[.wwwAuthenticate] = "Bearer" }
            if let seconds = error.retryAfter { response.headers[.retryAfter] = String(seconds) }
            // The rest of a body too large or too slow is not read: close the connection after answering.
            if error.status == 408 || error.status == 413 { response.headers[.connection] = "close" }
            return response
        } catch let error as HTTPError where error.status == .notFound || error.status == .methodNotAllowed {
            throw error
        } catch {
            return errorResponse(500, "internal error: \(error.localizedDescription)")
        }
    }
}

/// Requires `Authorization: Bearer <token>`, compared in constant time (the answer's timing does not tell how
/// much of the token was right).
struct BearerTokenMiddleware<Context: RequestContext>: RouterMiddleware {
    let token: String

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let given = request.headers[.authorization] ?? ""
        let expected = "Bearer " + token
        var difference = given.utf8.count ^ expected.utf8.count
        for (a, b) in zip(given.utf8, expected.utf8) { difference |= Int(a ^ b) }
        guard difference == 0 else { throw ServeError(401, "missing or wrong bearer token (Authorization: Bearer <token>)") }
        return try await next(request, context)
    }
}

/// Counts requests no route answers (404, 405) under `route="unmatched"`: scanners and misconfigured shippers show up
/// in `distill_http_requests_total` instead of nowhere.
struct UnmatchedRouteMetrics<Context: RequestContext>: RouterMiddleware {
    let metrics: ServerMetrics

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = ContinuousClock.now
        do {
            return try await next(request, context)
        } catch let error as HTTPError where error.status == .notFound || error.status == .methodNotAllowed {
            metrics.request(route: "unmatched", status: Int(error.status.code), duration: ContinuousClock.now - start)
            throw error
        }
    }
}
