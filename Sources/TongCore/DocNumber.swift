/// Official document numbers (发文字号) such as `国办发〔2020〕6号`.
public enum DocNumber {
    /// The longest accepted normalised number, in Characters.
    public static let maxLength = 64

    /// Opening brackets people type around the year; GB/T 9704 prescribes 〔〕, everything else is a keyboard accident.
    static let openers: Set<Character> = ["[", "(", "（", "［", "〔", "【", "﹝", "〖"]
    /// Closing counterparts of `openers`; pairs are not matched because mixed input like `(2020]` is still unambiguous.
    static let closers: Set<Character> = ["]", ")", "）", "］", "〕", "】", "﹞", "〗"]

    /// Canonicalises a document number: trims, collapses whitespace, converts full-width digits, and rewrites `<prefix>[2020]6号` brackets to
    /// 〔〕; nil when empty, over 64 Characters, or containing control characters.
    public static func normalize(_ s: String) -> String? {
        if let same = alreadyNormal(s) { return same }
        // Tab, CR and LF are treated as whitespace (pasted text); every other control character means corrupt input.
        if s.unicodeScalars.contains(where: { Validation.isControl($0) && !"\t\n\r".unicodeScalars.contains($0) }) {
            return nil
        }
        var chars: [Character] = []
        var pendingSpace = false
        for c in s {
            if c.unicodeScalars.contains(where: { $0.properties.isWhitespace }) {
                pendingSpace = true
                continue
            }
            if pendingSpace, !chars.isEmpty { chars.append(" ") }
            pendingSpace = false
            chars.append(asciiDigit(c))
        }
        guard !chars.isEmpty else { return nil }
        let out = String(rewriteYearBrackets(chars))
        guard out.count <= maxLength else { return nil }
        return out
    }

    /// `s` itself when normalising cannot change it, decided in one pass over its scalars: every
    /// one printable ASCII other than ( ) [ ], a CJK ideograph, or 〔 〕. Such a string has no
    /// whitespace, control or full-width digit, each scalar is one Character, and its only
    /// brackets are already 〔〕, so `rewriteYearBrackets` gives it back unchanged. Nil: ask the
    /// full rules (which also refuse what is too long). Received policies all pass here.
    static func alreadyNormal(_ s: String) -> String? {
        var n = 0
        for u in s.unicodeScalars {
            let v = u.value
            let ascii = v >= 0x21 && v <= 0x7E && v != 0x28 && v != 0x29 && v != 0x5B && v != 0x5D
            guard ascii || (v >= 0x4E00 && v <= 0x9FFF) || v == 0x3014 || v == 0x3015 else { return nil }
            n += 1
            if n > maxLength { return nil }
        }
        return n > 0 ? s : nil
    }

    /// Whether `s` already contains the canonical `〔YYYY〕N号` year pattern after normalisation.
    public static func hasYearPattern(_ s: String) -> Bool {
        guard let n = normalize(s) else { return false }
        let c = Array(n)
        var i = 0
        while i < c.count {
            if c[i] == "〔", matchYear(c, at: i) != nil { return true }
            i += 1
        }
        return false
    }

    private static func asciiDigit(_ c: Character) -> Character {
        guard c.unicodeScalars.count == 1, let u = c.unicodeScalars.first,
            u.value >= 0xFF10, u.value <= 0xFF19,
            let ascii = Unicode.Scalar(u.value - 0xFF10 + 0x30)
        else { return c }
        return Character(ascii)
    }

    /// Rewrites every `<open> YYYY <close> N 号` occurrence to `〔YYYY〕N号`, dropping spaces inside the pattern.
    private static func rewriteYearBrackets(_ c: [Character]) -> [Character] {
        var out: [Character] = []
        out.reserveCapacity(c.count)
        var i = 0
        while i < c.count {
            if openers.contains(c[i]), let m = matchYear(c, at: i) {
                // The space people often type between the issuer prefix and the bracket is not part of the number.
                if out.last == " " { out.removeLast() }
                out.append("〔")
                out.append(contentsOf: m.year)
                out.append("〕")
                out.append(contentsOf: m.number)
                out.append("号")
                i = m.end
            } else {
                out.append(c[i])
                i += 1
            }
        }
        return out
    }

    private static func matchYear(_ c: [Character], at start: Int) -> (year: [Character], number: [Character], end: Int)? {
        var i = start + 1
        func skipSpace() { while i < c.count, c[i] == " " { i += 1 } }
        func digits(max: Int) -> [Character] {
            var d: [Character] = []
            while i < c.count, d.count < max, c[i].isASCII, c[i].isNumber { d.append(c[i]); i += 1 }
            return d
        }
        skipSpace()
        let year = digits(max: 5)
        guard year.count == 4 else { return nil }
        skipSpace()
        guard i < c.count, closers.contains(c[i]) else { return nil }
        i += 1
        skipSpace()
        let number = digits(max: 12)
        guard !number.isEmpty else { return nil }
        skipSpace()
        guard i < c.count, c[i] == "号" else { return nil }
        return (year, number, i + 1)
    }
}
