/// Whether a policy is in force on a given day: computed from `effective_from`/`effective_to`
/// and the day (Beijing date), never stored, so it changes at midnight without a write.
public struct PolicyValidity: Sendable, Equatable {
    /// What a reader is told about a policy on one day.
    public enum State: String, Sendable, CaseIterable {
        /// 现行有效: withdrawn no, `effective_from` ≤ day ≤ `effective_to` (either may be absent).
        case inForce = "in_force"
        /// 尚未生效: the day is before `effective_from`.
        case notYet = "not_yet"
        /// 已失效: the day is after `effective_to`.
        case expired
        /// 已废止: withdrawn by its owner (whatever the dates say).
        case withdrawn

        /// The label the portal shows.
        public var chineseName: String {
            switch self {
            case .inForce: "现行有效"
            case .notYet: "尚未生效"
            case .expired: "已失效"
            case .withdrawn: "已废止"
            }
        }
    }

    /// `effective_from` as `YYYY-MM-DD`, or "" when there is none.
    public var from: String
    /// `effective_to` as `YYYY-MM-DD`, or "" when there is none (in force without end).
    public var to: String

    /// The two dates as stored in a policy (any other text counts as absent).
    public init(from: String, to: String) {
        self.from = SimpleDate(from) != nil ? from : ""
        self.to = SimpleDate(to) != nil ? to : ""
    }

    /// The state on `today` (`YYYY-MM-DD`, the Beijing date); ISO dates compare as text.
    public func state(today: String, withdrawn: Bool) -> State {
        if withdrawn { return .withdrawn }
        if !from.isEmpty, today < from { return .notYet }
        if !to.isEmpty, today > to { return .expired }
        return .inForce
    }
}
