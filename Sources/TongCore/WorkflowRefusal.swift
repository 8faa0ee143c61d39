/// Why the application workflow refused a move; the API answers it with 409 and `reason`.
public struct WorkflowRefusal: Error, Sendable, Equatable, CustomStringConvertible {
    /// Kinds of refusal; a struct rather than an enum so new kinds can be added without breaking callers' switches.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        /// The stable name used in logs and tests.
        public let name: String
        /// The application is rejected, paid or withdrawn.
        public static let terminal = Code(name: "terminal")
        /// The workflow has no such move from this status.
        public static let notAllowed = Code(name: "not_allowed")
        /// The move exists but this actor may not make it.
        public static let wrongActor = Code(name: "wrong_actor")
        /// Rejecting or returning needs a non-blank note.
        public static let noteRequired = Code(name: "note_required")
        /// Paying needs a positive, finite amount; other moves take none.
        public static let badAmount = Code(name: "bad_amount")
        /// The name.
        public var description: String { name }
    }

    /// What kind of refusal.
    public var code: Code
    /// Why, in Simplified Chinese, for the person who asked.
    public var reason: String

    /// Creates a refusal.
    public init(code: Code, reason: String) {
        self.code = code
        self.reason = reason
    }

    /// "code: reason", for logs.
    public var description: String { "\(code): \(reason)" }
}
