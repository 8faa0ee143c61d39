/// One write made at this node, before it becomes a change.
public struct LocalWrite: Sendable {
    /// The record's id; nil to create a new record with an id assigned here.
    public var id: String?
    /// The record's kind.
    public var kind: RecordKind
    /// The owning node.
    public var owner: String
    /// Where the change travels.
    public var scope: Scope
    /// Fields to write.
    public var fields: [String: JSONValue]
    /// For a given id: whether the record must already exist (PATCH) or may be created (directory).
    public var mustExist: Bool
    /// For a new feedback record: the hash of its receipt code, stored in the same transaction.
    public var receiptHash: String?
    /// For a new application (办理): the applying enterprise and the policy, indexed at the
    /// submitting node in the same transaction (one open application per enterprise and policy).
    public var application: (enterprise: String, policy: String)?
    /// For a submission made with an idempotency key: the key's hash, the request's hash and the
    /// encrypted answer, stored in the same transaction (a second row with the same key fails
    /// the whole write).
    public var idempotency: (keyHash: String, requestHash: String, sealedResponse: [UInt8])?

    /// Makes a write.
    public init(id: String?, kind: RecordKind, owner: String, scope: Scope, fields: [String: JSONValue], mustExist: Bool = true) {
        self.id = id; self.kind = kind; self.owner = owner; self.scope = scope; self.fields = fields; self.mustExist = mustExist
    }
}
