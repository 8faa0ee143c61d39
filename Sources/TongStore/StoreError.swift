/// An error of the store: a code the caller can switch on and a message for people.
public struct StoreError: Error, Sendable, CustomStringConvertible {
    /// What kind of failure.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        let raw: String
        public var description: String { raw }
        /// No such record here.
        public static let notFound = Code(raw: "not_found")
        /// The write is not allowed (authority).
        public static let forbidden = Code(raw: "forbidden")
        /// The data contradicts what is stored (kind or owner mismatch, duplicate id).
        public static let conflict = Code(raw: "conflict")
        /// Writes are held back until the node caught up after a restore.
        public static let catchingUp = Code(raw: "catching_up")
        /// The database file could not be opened or is not Tong's.
        public static let unusable = Code(raw: "unusable")
        /// The disk (or the database's size limit) is full: nothing of the write was kept; it
        /// succeeds again once space is free.
        public static let storageFull = Code(raw: "storage_full")
        /// The database file is damaged (an integrity check or a read found a malformed page).
        public static let corrupt = Code(raw: "corrupt")
    }
    /// The code.
    public var code: Code
    /// A message for people.
    public var message: String
    /// Makes one.
    public init(_ code: Code, _ message: String) { self.code = code; self.message = message }
    public var description: String { message }
}
