import TongDomain

/// A domain error as the HTTP edge answers it: an RFC 9457 problem with its status code. The
/// only place that knows which `NodeError.Code` is which HTTP status.
struct HTTPProblem: Sendable {
    /// HTTP status code.
    var status: Int
    /// The domain code (the problem's `type` ends with its name).
    var code: NodeError.Code
    /// Short title (RFC 9457 `title`).
    var title: String
    /// What exactly was wrong (RFC 9457 `detail`).
    var detail: String
    /// Per-field messages (the problem's `errors` member).
    var fields: [String: String]

    init(status: Int, code: NodeError.Code, title: String, detail: String, fields: [String: String]) {
        self.status = status; self.code = code; self.title = title; self.detail = detail; self.fields = fields
    }

    /// The problem for a domain error.
    init(_ e: NodeError) {
        let (status, title) = Self.statuses[e.code] ?? (500, "Internal server error")
        self.init(status: status, code: e.code, title: title, detail: e.message, fields: e.fields)
    }

    /// Domain code → (HTTP status, RFC 9110 reason phrase).
    static let statuses: [NodeError.Code: (Int, String)] = [
        .malformed: (400, "Bad request"),
        .unauthenticated: (401, "Unauthorized"),
        .forbidden: (403, "Forbidden"),
        .notFound: (404, "Not found"),
        .conflict: (409, "Conflict"),
        .tooLarge: (413, "Content too large"),
        .unsupportedMediaType: (415, "Unsupported media type"),
        .invalid: (422, "Unprocessable content"),
        .unavailable: (503, "Service unavailable"),
        .busy: (503, "Service unavailable"),
        .storageFull: (507, "Insufficient storage"),
        .configuration: (500, "Configuration error"),
        .internal: (500, "Internal server error"),
    ]
}
