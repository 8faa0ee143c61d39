/// An error of the node's domain, by meaning: what went wrong (`code`), for whom (`message`,
/// and per-field `fields` for validation). It names no transport: the HTTP edge alone maps a
/// code to an RFC 9457 problem and a status, the CLI prints `message` as one line.
public struct NodeError: Error, Sendable, CustomStringConvertible {
    /// What kind of failure this is. Extensible: add a code beside these, never reuse one.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        /// A stable name, e.g. `invalid` (used in problem `type` URIs and logs).
        public let name: String
        /// Makes a code.
        public init(_ name: String) { self.name = name }
        public var description: String { name }

        /// The input breaks a rule (a field, a value, a workflow precondition on the caller's data).
        public static let invalid = Code("invalid")
        /// The input cannot be read at all (not JSON, missing parts).
        public static let malformed = Code("malformed")
        /// No such thing here.
        public static let notFound = Code("not-found")
        /// No or unknown credentials.
        public static let unauthenticated = Code("unauthenticated")
        /// Known caller without the right.
        public static let forbidden = Code("forbidden")
        /// Contradicts the current state (duplicate, a move the workflow does not allow).
        public static let conflict = Code("conflict")
        /// Temporarily refused (catching up after a restore, not ready yet); retry later.
        public static let unavailable = Code("unavailable")
        /// Too many requests in progress or waiting right now; retry in a moment (503 with `Retry-After`).
        public static let busy = Code("busy")
        /// The input is larger than allowed.
        public static let tooLarge = Code("too-large")
        /// The input has a media type the operation does not take.
        public static let unsupportedMediaType = Code("unsupported-media-type")
        /// The node's storage is full.
        public static let storageFull = Code("storage-full")
        /// A node home or its configuration is wrong (startup, CLI).
        public static let configuration = Code("configuration")
        /// A bug or an unexpected failure.
        public static let `internal` = Code("internal")

        /// True for codes that describe the caller's mistake rather than the node's.
        public var isCallerError: Bool {
            ![Code.unavailable, .busy, .storageFull, .configuration, .internal].contains(self)
        }
    }

    /// What kind of failure.
    public var code: Code
    /// What exactly was wrong, for the person who made the request.
    public var message: String
    /// Per-field messages of a validation failure (field name → message), if any.
    public var fields: [String: String]

    /// Makes one.
    public init(_ code: Code, _ message: String, fields: [String: String] = [:]) {
        self.code = code; self.message = message; self.fields = fields
    }

    public var description: String { message }

    /// The input breaks a rule.
    public static func invalid(_ message: String, fields: [String: String] = [:]) -> NodeError {
        NodeError(.invalid, message, fields: fields)
    }
    /// No such thing here.
    public static func notFound(_ message: String) -> NodeError { NodeError(.notFound, message) }
    /// Known caller without the right.
    public static func forbidden(_ message: String) -> NodeError { NodeError(.forbidden, message) }
    /// No or unknown credentials.
    public static func unauthorized(_ message: String) -> NodeError { NodeError(.unauthenticated, message) }
    /// Unreadable input.
    public static func badRequest(_ message: String) -> NodeError { NodeError(.malformed, message) }
    /// Contradicts the current state.
    public static func conflict(_ message: String) -> NodeError { NodeError(.conflict, message) }
    /// A bad node home or configuration.
    public static func config(_ message: String) -> NodeError { NodeError(.configuration, message) }
}
