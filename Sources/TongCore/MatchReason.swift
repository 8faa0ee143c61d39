/// One condition of a policy checked against one enterprise, as the match API shows it.
public struct MatchReason: Sendable, Hashable {
    /// The condition's name: `in_force`, `region`, `industry`, `size_class`, `audience`, `employees`, `revenue_wan`,
    /// `established` or `taxpayer`.
    public var condition: String
    /// Whether the enterprise meets it.
    public var ok: Bool
    /// What was required and what the enterprise has, in Simplified Chinese.
    public var detail: String

    /// Creates a reason.
    public init(condition: String, ok: Bool, detail: String) {
        self.condition = condition
        self.ok = ok
        self.detail = detail
    }

    /// `{"condition", "ok", "detail"}` as the contract's match responses carry it.
    public var json: JSONValue {
        .object(["condition": .string(condition), "ok": .bool(ok), "detail": .string(detail)])
    }
}
