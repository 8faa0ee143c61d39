import Foundation
import Synchronization
import TongDomain

/// Logged-in portal staff: a random session id (the `tong_session` cookie) maps to the
/// principal its token resolved to. The token itself is never stored or echoed; sessions live
/// in memory and die with the process, which is the intended way to revoke them all.
final class PortalSessions: Sendable {
    /// Seconds a session stays valid after login.
    static let lifetime: Double = 8 * 3600
    /// Most live sessions kept; the oldest go first beyond this.
    static let capacity = 10_000

    private struct Entry { var principal: Principal; var expires: Double }
    private let table = Mutex<[String: Entry]>([:])

    /// Makes an empty table.
    init() {}

    /// Opens a session for a principal and returns its id.
    func open(_ principal: Principal, now: Double = Date().timeIntervalSince1970) -> String {
        let id = Self.randomToken()
        table.withLock { t in
            if t.count >= Self.capacity {
                t = t.filter { $0.value.expires > now }
                if t.count >= Self.capacity, let oldest = t.min(by: { $0.value.expires < $1.value.expires })?.key { t[oldest] = nil }
            }
            t[id] = Entry(principal: principal, expires: now + Self.lifetime)
        }
        return id
    }

    /// The principal of a live session, or nil.
    func principal(_ id: String?, now: Double = Date().timeIntervalSince1970) -> Principal? {
        guard let id, id.utf8.count == 64 else { return nil }
        return table.withLock { t in
            guard let e = t[id] else { return nil }
            if e.expires <= now { t[id] = nil; return nil }
            return e.principal
        }
    }

    /// Ends a session.
    func close(_ id: String?) {
        guard let id else { return }
        _ = table.withLock { $0.removeValue(forKey: id) }
    }

    /// 32 bytes from the system's CSPRNG as lower-case hex.
    static func randomToken() -> String {
        var g = SystemRandomNumberGenerator()
        var s = ""
        for _ in 0..<4 {
            let n = g.next() as UInt64
            let h = String(n, radix: 16)
            s += String(repeating: "0", count: 16 - h.count) + h
        }
        return s
    }
}
