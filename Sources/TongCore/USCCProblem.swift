/// Why a string is not a valid unified social credit code under full GB 32100-2015 validation.
public enum USCCProblem: Error, Sendable, Equatable {
    /// Not 18 characters.
    case length(Int)
    /// A lower-case letter; codes are upper-case only.
    case lowerCase
    /// A character outside the 31-character alphabet (including I, O, S, V, Z) at this 1-based position.
    case invalidCharacter(position: Int)
    /// Eighteen zeros: the checks pass arithmetically, but it is a placeholder, not a code.
    case allZeros
    /// A resident ID-card number (GB 11643): 18 digits (or X) with a birth date and a valid MOD 11-2 check.
    case idCardNumber
    /// Position 1 is not one of `1`-`9`, `A`, `N`, `Y`.
    case unknownAuthority(Character)
    /// Position 2 is not an entity type that this authority registers.
    case unknownEntityType(authority: Character, type: Character)
    /// Positions 3-8 are not a GB/T 2260 division code.
    case invalidDivision(String)
    /// Position 17 is not the GB 11714 check character over positions 9-16.
    case organizationCheckMismatch(expected: Character)
    /// Position 18 is not the GB 32100 check character over positions 1-17.
    case checkMismatch(expected: Character)

    /// A short explanation in Simplified Chinese for people who typed the code.
    public var detail: String {
        switch self {
        case .length(let n): "统一社会信用代码应为18位，实际为\(n)位"
        case .lowerCase: "统一社会信用代码中的字母应为大写"
        case .invalidCharacter(let p): "第\(p)位字符无效（代码不使用字母I、O、S、V、Z）"
        case .allZeros: "全零不是有效的统一社会信用代码"
        case .idCardNumber: "这是居民身份证号码，不是统一社会信用代码"
        case .unknownAuthority(let c): "第1位登记管理部门代码“\(c)”无效"
        case .unknownEntityType(let a, let t): "第2位机构类别代码“\(t)”不属于登记管理部门“\(a)”"
        case .invalidDivision(let d): "第3-8位“\(d)”不是有效的行政区划代码"
        case .organizationCheckMismatch(let e): "第17位（组织机构代码校验码）应为“\(e)”"
        case .checkMismatch(let e): "第18位校验码应为“\(e)”"
        }
    }
}
