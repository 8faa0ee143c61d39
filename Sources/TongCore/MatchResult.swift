/// The outcome of matching one policy or service item against one enterprise.
public struct MatchResult: Sendable, Hashable {
    /// How close the enterprise is to fitting.
    public enum Verdict: String, Sendable, Hashable {
        /// In force and every condition met: listed in `items`.
        case fits
        /// In force and exactly one condition failed: listed in `near`.
        case near
        /// Not in force, or two or more conditions failed.
        case fails
    }

    /// One reason per checked condition, `in_force` first, then in the order of `Eligibility.keys`.
    public var reasons: [MatchReason]
    /// The verdict the reasons add up to.
    public var verdict: Verdict

    /// The reasons that failed.
    public var failing: [MatchReason] { reasons.filter { !$0.ok } }
}
