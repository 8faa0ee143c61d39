/// Unified social credit codes (统一社会信用代码, GB 32100-2015).
public enum USCC {
    /// The 31-character code alphabet; a character's value is its index. I, O, S, V and Z are excluded to avoid confusion with digits.
    public static let alphabet: [Character] = Array("0123456789ABCDEFGHJKLMNPQRTUWXY")

    /// Weights for positions 1-17: 3^(i-1) mod 31.
    public static let weights: [Int] = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]

    /// ASCII byte -> alphabet value, -1 when absent; a table keeps the hot path allocation-free.
    private static let values: [Int] = {
        var t = [Int](repeating: -1, count: 128)
        for (i, c) in alphabet.enumerated() {
            if let a = c.asciiValue { t[Int(a)] = i }
        }
        return t
    }()

    /// Classifies `s` as valid, a check-digit mismatch, or malformed; input must be upper-case with no surrounding spaces.
    public static func check(_ s: String) -> USCCVerdict {
        let scalars = Array(s.unicodeScalars)
        guard scalars.count == 18 else {
            return .malformed("must be 18 characters, got \(scalars.count)")
        }
        if scalars.contains(where: { $0 >= "a" && $0 <= "z" }) {
            return .malformed("must be upper-case")
        }
        var codes = [Int]()
        codes.reserveCapacity(18)
        for (i, u) in scalars.enumerated() {
            let v = u.isASCII ? values[Int(u.value)] : -1
            guard v >= 0 else {
                if "IOSVZ".unicodeScalars.contains(u) {
                    return .malformed("character \(u) at position \(i + 1) is not used in credit codes")
                }
                return .malformed("invalid character at position \(i + 1)")
            }
            codes.append(v)
        }
        guard let expected = checkCharacter(codes[0..<17]) else {
            return .malformed("invalid character")
        }
        return codes[17] == value(of: expected) ? .valid : .checkMismatch(expected: expected)
    }

    /// The check character for the first 17 characters of a code, or nil if `body` is not 17 alphabet characters.
    public static func checkCharacter(for body: String) -> Character? {
        var codes = [Int]()
        for u in body.unicodeScalars {
            guard u.isASCII, values[Int(u.value)] >= 0 else { return nil }
            codes.append(values[Int(u.value)])
        }
        guard codes.count == 17 else { return nil }
        return checkCharacter(codes[...])
    }

    private static func checkCharacter(_ codes: ArraySlice<Int>) -> Character? {
        guard codes.count == 17 else { return nil }
        var sum = 0
        for (w, v) in zip(weights, codes) { sum += w * v }
        return alphabet[(31 - sum % 31) % 31]
    }

    private static func value(of c: Character) -> Int {
        guard let a = c.asciiValue else { return -1 }
        return values[Int(a)]
    }
}
