/// A unified social credit code that passed every GB 32100-2015 check, split into its parts.
public struct USCCCode: Sendable, Hashable, CustomStringConvertible {
    /// The 18 characters as given (upper-case ASCII).
    public let string: String

    /// Creates the value from a string that `USCC.validate` accepted; callers outside the module go through `validate`.
    init(validated string: String) {
        self.string = string
    }

    /// Position 1: the registration authority (登记管理部门), e.g. `9` for market regulation.
    public var authority: Character { string.first ?? "?" }
    /// Position 2: the entity type under that authority (机构类别), e.g. `1` 企业 under `9`.
    public var entityType: Character { Array(string)[1] }
    /// Positions 3-8: the GB/T 2260 division code of the registering authority.
    public var division: String { String(string.dropFirst(2).prefix(6)) }
    /// Positions 9-17: the GB 11714 organisation code with its own check character.
    public var organizationCode: String { String(string.dropFirst(8).prefix(9)) }
    /// Enterprise (91), individual business (92), cooperative (93) or other.
    public var entityKind: USCCEntityKind { USCCEntityKind(prefix: Substring(string)) }

    /// The code itself.
    public var description: String { string }
}
