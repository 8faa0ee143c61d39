import Foundation
import Synchronization

/// Signed-in enterprises. `PortalSessions` holds a staff `Principal`, which has no enterprise
/// case, so an enterprise's session lives here: a random id (the `tong_enterprise` cookie,
/// HttpOnly and SameSite=Strict) maps to the enterprise's id and token. The token stays on the
/// server, never in a cookie, and is checked again by the node on every page (a token changed
/// or an enterprise removed ends the session's use at once). Sessions are in memory and die
/// with the process.
final class PortalEnterpriseSessions: Sendable {
    /// Seconds a session stays valid after sign-in.
    static let lifetime: Double = 8 * 3600
    /// Most live sessions kept; the oldest go first beyond this.
    static let capacity = 10_000
    /// The cookie's name.
    static let cookie = "tong_enterprise"

    /// One signed-in enterprise.
    struct Entry: Sendable {
        /// The enterprise's id.
        var enterpriseID: String
        /// Its bearer token, kept to ask the node on its behalf.
        var token: String
        /// Secrets to show once on the next page (the token after registration, the webhook
        /// secret), then forgotten.
        var reveal: Reveal?
        /// When the session ends, seconds since 1970.
        var expires: Double
    }

    /// What the page after registration shows once.
    struct Reveal: Sendable {
        /// The enterprise's token.
        var token: String
        /// The webhook signing secret, if a webhook was given.
        var webhookSecret: String?
    }

    private let table = Mutex<[String: Entry]>([:])

    /// Makes an empty table.
    init() {}

    /// Opens a session and returns its id.
    func open(enterpriseID: String, token: String, reveal: Reveal? = nil, now: Double = Date().timeIntervalSince1970) -> String {
        let id = PortalSessions.randomToken()
        table.withLock { t in
            if t.count >= Self.capacity {
                t = t.filter { $0.value.expires > now }
                if t.count >= Self.capacity, let oldest = t.min(by: { $0.value.expires < $1.value.expires })?.key { t[oldest] = nil }
            }
            t[id] = Entry(enterpriseID: enterpriseID, token: token, reveal: reveal, expires: now + Self.lifetime)
        }
        return id
    }

    /// The live session `id`, if any. Its one-time secrets are handed out with it and then
    /// removed, so a reload no longer shows them.
    func take(_ id: String?, now: Double = Date().timeIntervalSince1970) -> Entry? {
        guard let id, id.utf8.count == 64 else { return nil }
        return table.withLock { t in
            guard let e = t[id] else { return nil }
            if e.expires <= now { t[id] = nil; return nil }
            t[id]?.reveal = nil
            return e
        }
    }

    /// Ends a session.
    func close(_ id: String?) {
        guard let id else { return }
        _ = table.withLock { $0.removeValue(forKey: id) }
    }
}
