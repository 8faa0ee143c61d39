import Foundation
import Hummingbird
import Logging
import NIOCore
import TongCore
import TongDomain

/// Small HTTP helpers shared by the API, the portal and the peer routes.
enum HTTP {
    /// Largest request body the API accepts.
    static let maxBody = 1 << 20

    static func json(_ v: JSONValue, status: HTTPResponse.Status = .ok) -> Response {
        Response(
            status: status, headers: [.contentType: "application/json; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(bytes: CanonicalJSON.encode(v))))
    }

    static func problem(_ e: HTTPProblem, instance: String? = nil) -> Response {
        var o: [String: JSONValue] = [
            "type": .string("https://tong.gov.cn/problems/\(e.code.name)"),
            "title": .string(e.title), "status": .int(Int64(e.status)), "detail": .string(e.detail),
        ]
        if let instance { o["instance"] = .string(instance) }
        if !e.fields.isEmpty { o["errors"] = .object(e.fields.mapValues { .string($0) }) }
        var headers: HTTPFields = [.contentType: "application/problem+json; charset=utf-8"]
        // Too busy this moment: say when to come back (RFC 9110 §10.2.3). Not for other 503s
        // (a revoked certificate, a damaged replica), which a second's wait does not cure.
        if e.code == .busy { headers[.retryAfter] = "1" }
        return Response(status: .init(code: e.status), headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: CanonicalJSON.encode(.object(o)))))
    }

    /// Reads a body of at most `limit` bytes: `NodeError.tooLarge` (413) beyond.
    static func bytes(_ request: Request, limit: Int = maxBody) async throws -> [UInt8] {
        let buffer: ByteBuffer
        do { buffer = try await request.body.collect(upTo: limit) } catch is NIOTooManyBytesError {
            throw NodeError(.tooLarge, "request bodies are limited to \(limit) bytes")
        } catch let e as HTTPError where e.status == .contentTooLarge {
            throw NodeError(.tooLarge, "request bodies are limited to \(limit) bytes")
        }
        return Array(buffer.readableBytesView)
    }

    /// Reads a JSON body of at most `limit` bytes: `unsupportedMediaType` (415) unless sent as
    /// `application/json` (or `application/*+json`), so a form or a `text/plain` request from
    /// another site's page in a visitor's browser never reaches a JSON route; 413 beyond
    /// `limit`, 400 if it is not JSON.
    static func body(_ request: Request, limit: Int = maxBody) async throws -> JSONValue {
        guard isJSON(request.headers[.contentType]) else {
            let got = request.headers[.contentType].map { "\"\($0)\"" } ?? "none"
            throw NodeError(.unsupportedMediaType, "请求体须为 JSON，并以 Content-Type: application/json 发送 (got \(got))")
        }
        let bytes = try await bytes(request, limit: limit)
        do { return try JSONParser.parse(bytes) } catch { throw NodeError.badRequest("\(error)") }
    }

    /// True for `application/json` and `application/<something>+json`, parameters ignored.
    static func isJSON(_ contentType: String?) -> Bool {
        guard let c = contentType else { return false }
        let type = c.split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() } ?? ""
        return type == "application/json" || (type.hasPrefix("application/") && type.hasSuffix("+json"))
    }

    /// Maps any error to the right problem response; an unexpected error is a logged 500.
    static func map(_ error: any Error, path: String, logger: Logger) -> HTTPProblem {
        switch NodeError.meaning(of: error) ?? error {
        case let e as NodeError:
            // A shed request (busy) is counted by the metrics; one error line each would flood the log.
            if !e.code.isCallerError, e.code != .busy {
                logger.error(
                    "request failed",
                    metadata: [
                        "http.path": .string(path), "error.code": .string(e.code.name),
                        "error": .string(e.message),
                    ])
            }
            return HTTPProblem(e)
        case let e as HTTPError:
            let status = Int(e.status.code)
            if status == 413 { return HTTPProblem(NodeError(.tooLarge, "request bodies are limited to \(maxBody) bytes")) }
            return HTTPProblem(
                status: status, code: NodeError.Code("http-\(status)"), title: e.status.reasonPhrase,
                detail: e.body ?? e.status.reasonPhrase, fields: [:])
        default:
            logger.error("unexpected error", metadata: ["http.path": .string(path), "error": .string("\(error)")])
            return HTTPProblem(NodeError(.internal, "an unexpected error occurred; it was logged"))
        }
    }
}

/// Turns every error into an RFC 9457 problem, counts requests and times them.
struct ProblemMiddleware<Context: RequestContext>: RouterMiddleware {
    let metrics: NodeMetrics
    let logger: Logger
    let html: Bool

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = ContinuousClock.now
        let response: Response
        do {
            response = try await next(request, context)
        } catch {
            let e = HTTP.map(error, path: request.uri.path, logger: logger)
            response =
                html && !request.uri.path.hasPrefix("/api/") && request.uri.path != "/metrics" && request.uri.path != "/healthz"
                ? Portal.errorPage(e) : HTTP.problem(e, instance: request.uri.path)
        }
        let elapsed = ContinuousClock.now - start
        let route = context.endpointPath ?? "unmatched"
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        metrics.request(route: route, method: request.method.rawValue, status: Int(response.status.code), seconds: seconds)
        // The access log: one line per API write (reads are counted by the metrics only).
        if request.uri.path.hasPrefix("/api/"), ![.get, .head, .options].contains(request.method) {
            logger.info(
                "api write",
                metadata: [
                    "http.method": .string(request.method.rawValue), "http.path": .string(request.uri.path),
                    "http.status": .stringConvertible(Int(response.status.code)),
                    "http.duration_ms": .stringConvertible((seconds * 10_000).rounded() / 10),
                ])
        }
        return response
    }
}

extension Request {
    /// A query parameter, nil when absent or empty.
    func query(_ name: String) -> String? {
        guard let v = uri.queryParameters.get(name), !v.isEmpty else { return nil }
        return v
    }
}
