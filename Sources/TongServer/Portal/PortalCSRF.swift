import TongDomain

/// Double-submit CSRF protection: a random token lives in a `SameSite=Strict; HttpOnly` cookie
/// and in a hidden field of every form; a POST is honoured only when both are present and equal.
/// Another site can make a browser send the cookie (not with Strict, but defence in depth), yet
/// it can neither read it nor guess it to fill the field.
enum PortalCSRF {
    /// The cookie's name.
    static let cookie = "tong_csrf"
    /// The hidden field's name.
    static let field = "_csrf"

    /// A fresh token: 32 random bytes as hex.
    static func newToken() -> String { PortalSessions.randomToken() }

    /// Whether a cookie value looks like one of ours (so a planted junk value gets replaced).
    static func wellFormed(_ s: String?) -> Bool {
        guard let s else { return false }
        return s.utf8.count == 64 && s.utf8.allSatisfy { (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }
    }

    /// Compares the cookie and the field in constant time.
    static func valid(cookie: String?, field: String?) -> Bool {
        guard wellFormed(cookie), let field else { return false }
        return TokenAuth.constantTimeEqual(Array(cookie!.utf8), Array(field.utf8))
    }

    /// The hidden input carrying the token.
    static func input(_ token: String) -> PortalHTML { "<input type=\"hidden\" name=\"\(field)\" value=\"\(token)\">" }
}
