/// Full GB 32100-2015 validation: every structural rule, not only the position-18 check that `check` tests.
extension USCC {
    /// Registration authorities (登记管理部门代码) mapped to the entity types each registers (GB 32100-2015 table 1 and its amendments).
    /// Only `9` is strict (1 企业, 2 个体工商户, 3 农民专业合作社); the others have grown categories over time, so any digit 1-9 is accepted there
    /// (9 is always 其他) rather than refusing a genuine code registered under a category added after this table was written.
    public static let entityTypes: [Character: Set<Character>] = {
        let anyDigit = Set<Character>("123456789")
        var t: [Character: Set<Character>] = [:]
        for a in "12345678ANY" { t[a] = anyDigit }
        t["9"] = ["1", "2", "3"]
        return t
    }()

    /// GB 11714-1997 weights for the eight organisation-code characters (positions 9-16 of a USCC).
    public static let organizationWeights: [Int] = [3, 7, 9, 10, 5, 8, 4, 2]

    /// Checks `s` against every rule of GB 32100-2015: syntax, authority, entity type, division (GB/T 2260),
    /// the GB 11714 check at position 17 and the GB 32100 check at position 18; eighteen zeros and ID-card numbers are refused.
    /// Input must already be trimmed and upper-case; the first rule broken is reported.
    public static func validate(_ s: String) -> Result<USCCCode, USCCProblem> {
        let scalars = Array(s.unicodeScalars)
        guard scalars.count == 18 else { return .failure(.length(scalars.count)) }
        if scalars.contains(where: { $0 >= "a" && $0 <= "z" }) { return .failure(.lowerCase) }
        var chars: [Character] = []
        for (i, u) in scalars.enumerated() {
            let c = Character(u)
            guard u.isASCII, alphabet.contains(c) else { return .failure(.invalidCharacter(position: i + 1)) }
            chars.append(c)
        }
        if chars.allSatisfy({ $0 == "0" }) { return .failure(.allZeros) }
        if isIDCardNumber(chars) { return .failure(.idCardNumber) }
        guard let types = entityTypes[chars[0]] else { return .failure(.unknownAuthority(chars[0])) }
        guard types.contains(chars[1]) else { return .failure(.unknownEntityType(authority: chars[0], type: chars[1])) }
        let division = String(chars[2..<8])
        guard Validation.divisionCode(division) else { return .failure(.invalidDivision(division)) }
        guard let org = organizationCheckCharacter(for: String(chars[8..<16])) else {
            return .failure(.invalidCharacter(position: 9))
        }
        guard chars[16] == org else { return .failure(.organizationCheckMismatch(expected: org)) }
        guard let check = checkCharacter(for: String(chars[0..<17])) else { return .failure(.invalidCharacter(position: 1)) }
        guard chars[17] == check else { return .failure(.checkMismatch(expected: check)) }
        return .success(USCCCode(validated: s))
    }

    /// The GB 11714 check character for an eight-character organisation code body (digits 0-9, letters A=10 … Z=35):
    /// 11 − (Σ value×weight mod 11), where 10 is `X` and 11 is `0`; nil unless `body` is eight ASCII digits or capitals.
    public static func organizationCheckCharacter(for body: String) -> Character? {
        let bytes = Array(body.utf8)
        guard bytes.count == 8 else { return nil }
        var sum = 0
        for (b, w) in zip(bytes, organizationWeights) {
            let v: Int
            switch b {
            case 0x30...0x39: v = Int(b - 0x30)
            case 0x41...0x5A: v = Int(b - 0x41) + 10
            default: return nil
            }
            sum += v * w
        }
        switch 11 - sum % 11 {
        case 10: return "X"
        case 11: return "0"
        case let r: return Character(String(r))
        }
    }

    /// The entity kind named by a code's first two characters, without validating the rest.
    public static func entityKind(of s: String) -> USCCEntityKind {
        USCCEntityKind(prefix: Substring(s))
    }

    /// Whether 18 characters are a resident ID-card number (GB 11643-1999): a province-prefixed division, a real birth date
    /// (years 1880-2100) at positions 7-14, digits to 17, and a matching ISO 7064 MOD 11-2 check (digit or `X`).
    /// Requiring the ID check keeps genuine codes that merely look numeric from being refused.
    static func isIDCardNumber(_ c: [Character]) -> Bool {
        guard c.count == 18, c[0..<17].allSatisfy(\.isASCIIDigit), c[17].isASCIIDigit || c[17] == "X" else { return false }
        let d = c[0..<17].map { Int($0.asciiValue! - 0x30) }
        guard Validation.provincePrefixes.contains(d[0] * 10 + d[1]) else { return false }
        let year = d[6] * 1000 + d[7] * 100 + d[8] * 10 + d[9]
        let month = d[10] * 10 + d[11], day = d[12] * 10 + d[13]
        guard (1880...2100).contains(year), (1...12).contains(month),
              (1...SimpleDate.daysIn(month: month, year: year)).contains(day) else { return false }
        let weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
        let sum = zip(d, weights).reduce(0) { $0 + $1.0 * $1.1 }
        let expected = Array("10X98765432")[sum % 11]
        return c[17] == expected
    }
}

private extension Character {
    var isASCIIDigit: Bool { isASCII && isNumber }
}
