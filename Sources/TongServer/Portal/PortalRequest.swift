import Foundation
import Hummingbird
import TongDomain

/// What the portal knows about one request: its query, cookies, CSRF token, whether it came
/// over https, and who is logged in.
struct PortalRequest: Sendable {
    /// Decoded query string.
    var query: PortalForm
    /// Cookies sent.
    let cookies: [String: String]
    /// The CSRF token for this browser (from its cookie, or freshly minted).
    let csrf: String
    /// Whether `csrf` was minted now and must be set as a cookie on the response.
    let csrfIsNew: Bool
    /// Whether the browser reached us over https (directly or via a proxy saying so).
    let secure: Bool
    /// The logged-in session id, if it is live.
    let sessionID: String?
    /// Who is logged in (anonymous when nobody).
    let principal: Principal

    init(_ req: Request, sessions: PortalSessions) {
        query = PortalForm(query: req.uri.query)
        var jar: [String: String] = [:]
        for header in req.headers[values: .cookie] {
            for part in header.split(separator: ";") {
                let kv = part.split(separator: "=", maxSplits: 1)
                guard kv.count == 2 else { continue }
                let k = kv[0].trimmingCharacters(in: .whitespaces)
                if jar[k] == nil { jar[k] = kv[1].trimmingCharacters(in: .whitespaces) }
            }
        }
        cookies = jar
        if PortalCSRF.wellFormed(jar[PortalCSRF.cookie]) {
            csrf = jar[PortalCSRF.cookie]!; csrfIsNew = false
        } else {
            csrf = PortalCSRF.newToken(); csrfIsNew = true
        }
        let proto = req.headers[values: .init("X-Forwarded-Proto")!].first?.lowercased()
        secure = req.uri.scheme?.rawValue.lowercased() == "https" || proto == "https"
        if let sid = jar[Self.sessionCookie], let p = sessions.principal(sid) {
            sessionID = sid; principal = p
        } else {
            sessionID = nil; principal = .anonymous
        }
    }

    /// The session cookie's name.
    static let sessionCookie = "tong_session"

    /// A `Set-Cookie` value with the portal's flags.
    func cookie(_ name: String, _ value: String, maxAge: Int? = nil) -> String {
        var c = "\(name)=\(value); HttpOnly; SameSite=Strict; Path=/"
        if let maxAge { c += "; Max-Age=\(maxAge)" }
        if secure { c += "; Secure" }
        return c
    }

    /// The hidden CSRF input for a form.
    var csrfInput: PortalHTML { PortalCSRF.input(csrf) }
}
