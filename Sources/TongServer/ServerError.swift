/// An error of the server layer with an HTTP status: becomes an RFC 9457 problem at the API and
/// one clear line at the CLI.
public struct ServerError: Error, Sendable, CustomStringConvertible {
    /// HTTP status code (4xx for the caller's mistakes).
    public var status: Int
    /// Short problem title.
    public var title: String
    /// What exactly was wrong.
    public var detail: String
    /// Per-field validation messages, if any.
    public var fields: [String: String]

    /// Makes one.
    public init(status: Int, title: String, detail: String, fields: [String: String] = [:]) {
        self.status = status; self.title = title; self.detail = detail; self.fields = fields
    }

    public var description: String { detail }

    static func invalid(_ detail: String, fields: [String: String] = [:]) -> ServerError {
        ServerError(status: 422, title: "Unprocessable content", detail: detail, fields: fields)
    }
    static func notFound(_ detail: String) -> ServerError { ServerError(status: 404, title: "Not found", detail: detail) }
    static func forbidden(_ detail: String) -> ServerError { ServerError(status: 403, title: "Forbidden", detail: detail) }
    static func unauthorized(_ detail: String) -> ServerError { ServerError(status: 401, title: "Unauthorized", detail: detail) }
    static func badRequest(_ detail: String) -> ServerError { ServerError(status: 400, title: "Bad request", detail: detail) }
    static func config(_ detail: String) -> ServerError { ServerError(status: 500, title: "Configuration error", detail: detail) }
}
