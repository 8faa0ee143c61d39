/// Pure syntactic checks for every externally supplied field; no I/O, no clock, no locale.
public enum Validation {
    /// GB/T 2260 province-level prefixes; anything else cannot be a real division and is most likely a typo.
    public static let provincePrefixes: Set<Int> = Set(
        Array(11...15) + Array(21...23) + Array(31...37) + Array(41...46)
            + Array(50...54) + Array(61...65) + [71, 81, 82]
    )

    /// The division code of the national node, which has no province prefix.
    public static let nationalCode = "100000"

    /// Whether `s` is six ASCII digits with a real province prefix, or the national code "100000".
    public static func divisionCode(_ s: String) -> Bool {
        let b = Array(s.utf8)
        guard b.count == 6, b.allSatisfy(isDigit) else { return false }
        if s == nationalCode { return true }
        return provincePrefixes.contains(Int(b[0] - 0x30) * 10 + Int(b[1] - 0x30))
    }

    /// Splits `<division code>-<slug>` into its parts, or nil if either part is invalid.
    public static func departmentID(_ s: String) -> (node: String, slug: String)? {
        let b = Array(s.utf8)
        guard b.count >= 8, b[6] == UInt8(ascii: "-") else { return nil }
        let node = String(decoding: b[0..<6], as: UTF8.self)
        let slugBytes = b[7...]
        guard divisionCode(node), slugBytes.count <= 48,
            slugBytes.first != UInt8(ascii: "-"), slugBytes.last != UInt8(ascii: "-"),
            slugBytes.allSatisfy({ isDigit($0) || ($0 >= 0x61 && $0 <= 0x7A) || $0 == UInt8(ascii: "-") })
        else { return nil }
        return (node, String(decoding: slugBytes, as: UTF8.self))
    }

    /// Whether `s` is a strict `YYYY-MM-DD` real calendar date with year 1949-2100.
    public static func date(_ s: String) -> Bool {
        SimpleDate(s) != nil
    }

    /// Whether `s` is an absolute http(s) URL with a host, no whitespace/control characters, at most 2048 bytes.
    public static func url(_ s: String) -> Bool {
        guard !s.isEmpty, s.utf8.count <= 2048, !hasControlOrWhitespace(s) else { return false }
        let lower = s.lowercased()
        let rest: Substring
        if lower.hasPrefix("https://") {
            rest = s.dropFirst(8)
        } else if lower.hasPrefix("http://") {
            rest = s.dropFirst(7)
        } else {
            return false
        }
        let authority = rest.prefix { $0 != "/" && $0 != "?" && $0 != "#" }
        // Userinfo is refused because "https://www.gov.cn@evil.example" is a classic way to disguise a link.
        guard !authority.isEmpty, !authority.contains("@") else { return false }
        var host = Substring(authority)
        var port: Substring? = nil
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { return false }
            let literal = authority[authority.index(after: authority.startIndex)..<close]
            guard !literal.isEmpty, literal.contains(":"),
                literal.unicodeScalars.allSatisfy({ $0.properties.isASCIIHexDigit || $0 == ":" || $0 == "." })
            else { return false }
            let after = authority[authority.index(after: close)...]
            if !after.isEmpty {
                guard after.first == ":" else { return false }
                port = after.dropFirst()
            }
            return port.map(validPort) ?? true
        }
        if let colon = authority.lastIndex(of: ":") {
            host = authority[..<colon]
            port = authority[authority.index(after: colon)...]
        }
        if let port, !validPort(port) { return false }
        return validHostName(host)
    }

    /// Whether `s` is a Chinese mobile number (`1[3-9]` + 9 digits) or landline (`0` + 2-3 digit area, optional `-`, 7-8 digits, optional `-ext`).
    public static func phone(_ s: String) -> Bool {
        let b = Array(s.utf8)
        if b.count == 11, b[0] == UInt8(ascii: "1"), b[1] >= UInt8(ascii: "3"), b[1] <= UInt8(ascii: "9"),
            b.allSatisfy(isDigit)
        {
            return true
        }
        guard b.first == UInt8(ascii: "0") else { return false }
        func digits(_ from: Int, _ n: Int) -> Bool {
            from + n <= b.count && b[from..<(from + n)].allSatisfy(isDigit)
        }
        // The area code and subscriber lengths overlap when there is no dash, so every split is tried.
        for area in 2...3 where digits(1, area) {
            var i = 1 + area
            if i < b.count, b[i] == UInt8(ascii: "-") { i += 1 }
            for sub in 7...8 where digits(i, sub) {
                let j = i + sub
                if j == b.count { return true }
                let ext = b.count - j - 1
                if b[j] == UInt8(ascii: "-"), (1...6).contains(ext), digits(j + 1, ext) { return true }
            }
        }
        return false
    }

    /// A deliberately simple sanity check: one `@`, a plausible local part and a dotted domain, at most 254 bytes.
    public static func email(_ s: String) -> Bool {
        guard s.utf8.count <= 254,
            !s.unicodeScalars.contains(where: { isControl($0) || $0.properties.isWhitespace })
        else { return false }
        let parts = s.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2 else { return false }
        let local = parts[0], domain = parts[1]
        guard (1...64).contains(local.utf8.count), !local.hasPrefix("."), !local.hasSuffix("."),
            !local.contains(".."), !local.contains(where: { "()<>[]:;\\,\"".contains($0) })
        else { return false }
        let labels = domain.split(separator: ".", omittingEmptySubsequences: false)
        guard labels.count >= 2, validHostName(domain),
            let tld = labels.last, !tld.utf8.allSatisfy(isDigit)
        else { return false }
        return true
    }

    /// Checks free text: rejects C0 controls (except tab, CR, LF) and DEL, blank required text, and lengths outside `min...max` Characters.
    public static func text(_ s: String, field: String, min: Int, max: Int) -> ValidationIssue? {
        // One pass over the UTF-8 bytes: C0 controls but tab, newline and carriage return, DEL,
        // and C1 controls (U+0080-U+009F, encoded C2 80-9F). Cheaper than a scalar walk: every
        // received change's text is checked here (ChangeContent).
        var previous: UInt8 = 0
        var allSpace = true
        var at = 0
        for b in s.utf8 {
            if b < 0x20, b != 0x09, b != 0x0A, b != 0x0D { return controlIssue(s, field: field, byte: at) }
            if b == 0x7F || (previous == 0xC2 && b >= 0x80 && b <= 0x9F) {
                return controlIssue(s, field: field, byte: b == 0x7F ? at : at - 1)
            }
            at += 1
            if allSpace, b != 0x20, b != 0x09, b != 0x0A, b != 0x0D { allSpace = false }
            previous = b
        }
        if min > 0, allSpace || s.unicodeScalars.allSatisfy({ $0.properties.isWhitespace }) {
            return ValidationIssue(field: field, message: "must not be blank")
        }
        // A character is 1 to 4+ UTF-8 bytes: count characters only when the byte count cannot decide.
        let bytes = s.utf8.count
        if bytes < min || (min > 1 && s.count < min) {
            return ValidationIssue(field: field, message: "must be at least \(min) characters")
        }
        if bytes > max, s.count > max {
            return ValidationIssue(field: field, message: "must be at most \(max) characters")
        }
        return nil
    }

    /// The issue for a control character starting at UTF-8 offset `byte` of `s`, naming it and
    /// its position: "must not contain control characters (U+0007 at character 1234)", counting
    /// Unicode scalars from 1. Only on the failure path: the scan above stays one byte loop.
    static func controlIssue(_ s: String, field: String, byte: Int) -> ValidationIssue {
        let utf8 = s.utf8
        let index = utf8.index(utf8.startIndex, offsetBy: byte)
        let scalar = s.unicodeScalars[index]
        let position = s.unicodeScalars.distance(from: s.unicodeScalars.startIndex, to: index) + 1
        let code = String(scalar.value, radix: 16, uppercase: true)
        let name = "U+" + String(repeating: "0", count: max(0, 4 - code.count)) + code
        return ValidationIssue(field: field, message: "must not contain control characters (\(name) at character \(position))")
    }

    // MARK: - Shared helpers

    @inline(__always)
    static func isDigit(_ c: UInt8) -> Bool { c >= 0x30 && c <= 0x39 }

    /// Whether `s` holds a control character or any Unicode whitespace. ASCII (all of nearly
    /// every URL) is decided from the byte; only other scalars need the Unicode property lookup.
    /// Every received policy's `source_url` passes here.
    static func hasControlOrWhitespace(_ s: String) -> Bool {
        let ascii = s.utf8.withContiguousStorageIfAvailable { bytes -> Bool? in
            for b in bytes {
                if b >= 0x80 { return nil }
                // C0 controls, space and DEL; \t \n \v \f \r are C0 too.
                if b <= 0x20 || b == 0x7F { return true }
            }
            return false
        }
        if let decided = ascii ?? nil { return decided }
        return s.unicodeScalars.contains(where: { isControl($0) || $0.properties.isWhitespace })
    }

    /// C0 controls, DEL and C1 controls: never legitimate in identifiers or single-line text.
    static func isControl(_ u: Unicode.Scalar) -> Bool {
        u.value < 0x20 || (u.value >= 0x7F && u.value < 0xA0)
    }

    /// A decimal port 1-65535 without sign or leading zeros beyond the value itself.
    static func validPort<S: StringProtocol>(_ p: S) -> Bool {
        guard (1...5).contains(p.utf8.count), p.utf8.allSatisfy(isDigit), let v = Int(p) else { return false }
        return (1...65535).contains(v)
    }

    /// A DNS-style name (labels of letters, digits, '-', '_' or non-ASCII, 1-63 bytes) or a dotted IPv4 address.
    static func validHostName<S: StringProtocol>(_ h: S) -> Bool {
        guard !h.isEmpty, h.utf8.count <= 253 else { return false }
        // All-numeric dotted names must be real IPv4 addresses, otherwise "999.1.1.1" would pass as a hostname.
        if h.utf8.allSatisfy({ isDigit($0) || $0 == UInt8(ascii: ".") }) {
            return ipv4(h)
        }
        for label in h.split(separator: ".", omittingEmptySubsequences: false) {
            guard (1...63).contains(label.utf8.count), label.first != "-", label.last != "-",
                label.unicodeScalars.allSatisfy({
                    $0.value > 0x7F || $0.properties.isASCIIHexDigit || ($0 >= "a" && $0 <= "z")
                        || ($0 >= "A" && $0 <= "Z") || $0 == "-" || $0 == "_"
                })
            else { return false }
        }
        return true
    }

    /// Whether `h` is a dotted-quad IPv4 address without leading zeros.
    static func ipv4<S: StringProtocol>(_ h: S) -> Bool {
        let parts = h.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return false }
        for p in parts {
            guard (1...3).contains(p.utf8.count), p.utf8.allSatisfy(isDigit),
                p.count == 1 || p.first != "0", let v = Int(p), v <= 255
            else { return false }
        }
        return true
    }
}
