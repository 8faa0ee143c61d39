/// The tree structure of GB/T 2260 administrative division codes: `PPCCDD`, province, prefecture, county.
public enum Division {
    /// Whether the area `code` includes the area `other`: `100000` covers every valid code, `330000` covers `33xxxx`,
    /// `330100` covers `3301xx`, and any other code (a county) covers only itself. False if either is not a valid code.
    public static func covers(_ code: String, _ other: String) -> Bool {
        guard Validation.divisionCode(code), Validation.divisionCode(other) else { return false }
        if code == other || code == Validation.nationalCode { return true }
        let c = Array(code.utf8), o = Array(other.utf8)
        if c[2...5].allSatisfy({ $0 == 0x30 }) { return c[0...1] == o[0...1] }
        if c[4...5].allSatisfy({ $0 == 0x30 }) { return c[0...3] == o[0...3] }
        return false
    }
}
