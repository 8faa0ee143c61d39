import Foundation
import Synchronization

/// One-time submission tokens for the apply and resubmit forms, and for the staff's reply form
/// (owner `department:<id>` or `admin`, purpose `reply:<feedback id>`). Each form page carries a
/// fresh token bound to the signed-in enterprise (or staff) and the policy (or feedback); the
/// first POST with it claims it, and any later POST with the same token (a double click, a browser resending the form) is answered
/// with what the first one produced instead of filing again. The receipts handed out are kept
/// too, so a refused duplicate can point at the open application's receipt. In memory only:
/// a restart forgets them, and the node's own duplicate check (409) still holds.
final class PortalApplyTokens: Sendable {
    /// Seconds a form's token stays usable.
    static let lifetime: Double = 2 * 3600
    /// Most tokens (and most remembered receipts) kept; the oldest go first beyond this.
    static let capacity = 20_000

    /// Where a token stands.
    enum State: Sendable, Equatable {
        /// Issued with a form, not yet used.
        case fresh
        /// A POST with it is being handled now.
        case running
        /// Used: the request filed this application (receipt) and should land on `path`.
        case done(path: String)
    }

    /// What a POST may do with its token.
    enum Claim: Sendable, Equatable {
        /// Go ahead: this request is the first.
        case proceed
        /// Another request with the same token is running; wait for it.
        case running
        /// Already done; send the browser where the first request went.
        case done(path: String)
        /// Unknown, expired, or issued for another enterprise or purpose.
        case invalid
    }

    private struct Entry {
        var owner: String
        var purpose: String
        var state: State
        var expires: Double
    }

    private struct Tables {
        var tokens: [String: Entry] = [:]
        /// application id → (enterprise id, receipt), newest last.
        var receipts: [String: (enterprise: String, receipt: String, at: Double)] = [:]
    }

    private let tables = Mutex(Tables())

    /// Makes empty tables.
    init() {}

    /// A fresh token for a form that `owner` (an enterprise id) will post for `purpose`
    /// (e.g. `apply:<policy>`).
    func issue(owner: String, purpose: String, now: Double = Date().timeIntervalSince1970) -> String {
        let token = PortalSessions.randomToken()
        tables.withLock { t in
            Self.makeRoom(&t, now: now)
            t.tokens[token] = Entry(owner: owner, purpose: purpose, state: .fresh, expires: now + Self.lifetime)
        }
        return token
    }

    /// Frees one place when the table is full: expired tokens first, then the oldest token of
    /// the owner holding the most. An enterprise loading its apply page in a loop thus pushes
    /// out only its own forms, never a department's reply forms (their tokens are what stops a
    /// reply being added twice).
    private static func makeRoom(_ t: inout Tables, now: Double) {
        guard t.tokens.count >= capacity else { return }
        t.tokens = t.tokens.filter { $0.value.expires > now }
        guard t.tokens.count >= capacity else { return }
        var counts: [String: Int] = [:]
        for e in t.tokens.values { counts[e.owner, default: 0] += 1 }
        guard let top = counts.max(by: { $0.value < $1.value })?.key,
            let oldest = t.tokens.filter({ $0.value.owner == top }).min(by: { $0.value.expires < $1.value.expires })?.key
        else { return }
        t.tokens[oldest] = nil
    }

    /// Claims a token for one POST. Only a fresh token bound to the same owner and purpose is
    /// handed out to go ahead, and then it is `running` until `finish` or `release`.
    func claim(_ token: String?, owner: String, purpose: String, now: Double = Date().timeIntervalSince1970) -> Claim {
        guard let token, token.utf8.count == 64 else { return .invalid }
        return tables.withLock { t in
            guard let e = t.tokens[token], e.owner == owner, e.purpose == purpose else { return .invalid }
            switch e.state {
            case .done(let path): return .done(path: path)
            case .running: return .running
            case .fresh:
                guard e.expires > now else { t.tokens[token] = nil; return .invalid }
                t.tokens[token]?.state = .running
                return .proceed
            }
        }
    }

    /// Takes on a well-formed token this table does not know (issued before a restart, or
    /// expired) for `owner` and `purpose`, as claimed: its request goes ahead and a resend of
    /// the same form is caught from now on. False for a token it knows (issued for something
    /// else) or one not 64 hex characters: the request then goes ahead untracked.
    func adopt(_ token: String, owner: String, purpose: String, now: Double = Date().timeIntervalSince1970) -> Bool {
        guard token.utf8.count == 64, token.utf8.allSatisfy({ ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) }) else {
            return false
        }
        return tables.withLock { t in
            guard t.tokens[token] == nil else { return false }
            Self.makeRoom(&t, now: now)
            t.tokens[token] = Entry(owner: owner, purpose: purpose, state: .running, expires: now + Self.lifetime)
            return true
        }
    }

    /// The state of a token now (for a request waiting on another).
    func state(_ token: String) -> State? { tables.withLock { $0.tokens[token]?.state } }

    /// Marks a claimed token used, remembering where its request went.
    func finish(_ token: String, path: String) {
        tables.withLock { $0.tokens[token]?.state = .done(path: path) }
    }

    /// Gives a claimed token back (its request was refused, e.g. a field to correct), so the
    /// corrected form may be posted with it again.
    func release(_ token: String) {
        tables.withLock { t in
            if t.tokens[token]?.state == .running { t.tokens[token]?.state = .fresh }
        }
    }

    /// Remembers the receipt of an application filed through the portal.
    func remember(application id: String, enterprise: String, receipt: String, now: Double = Date().timeIntervalSince1970) {
        tables.withLock { t in
            if t.receipts.count >= Self.capacity, let oldest = t.receipts.min(by: { $0.value.at < $1.value.at })?.key {
                t.receipts[oldest] = nil
            }
            t.receipts[id] = (enterprise, receipt, now)
        }
    }

    /// The receipt of an application filed here by `enterprise`, if this process still knows it.
    func receipt(of id: String, enterprise: String) -> String? {
        tables.withLock { t in t.receipts[id].flatMap { $0.enterprise == enterprise ? $0.receipt : nil } }
    }
}
