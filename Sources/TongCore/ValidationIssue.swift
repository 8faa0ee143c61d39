/// A single field-level validation failure, with a short English message suitable for API responses.
public struct ValidationIssue: Error, Sendable, Equatable, CustomStringConvertible {
    /// The name of the offending field as the client sent it.
    public var field: String
    /// A short English explanation, e.g. "must be a six-digit GB/T 2260 code".
    public var message: String

    /// Creates an issue for `field`.
    public init(field: String, message: String) {
        self.field = field
        self.message = message
    }

    /// "field: message", for logs and error bodies.
    public var description: String { "\(field): \(message)" }
}
