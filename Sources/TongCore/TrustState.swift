import Foundation
import Synchronization
import X509

/// One certificate in a node's key history, as the node publishes it in its directory record
/// (field `keys`): `{"fingerprint": hex SHA-256, "not_after": ms, "last_counter": n or null}`.
/// The last entry is the certificate in use (`last_counter` null); every earlier one was
/// retired when the node switched keys, and nothing above its `last_counter` verifies with it.
public struct KeyHistoryEntry: Sendable, Hashable {
    /// Lower-case hex SHA-256 of the certificate's DER.
    public var fingerprint: String
    /// The certificate's expiry (ms since 1970).
    public var notAfter: Int64
    /// The highest counter this certificate signed; nil while it is the one in use.
    public var lastCounter: UInt64?
    /// The certificate's serial number (lower-case hex), in entries published since the ninth
    /// session (JSON `serial`, absent before). A retired certificate's bound then holds for its
    /// twin too: the same certificate with its ECDSA signature rewritten as (r, n − s), which
    /// the CA's signature still covers, has another fingerprint but the same serial.
    public var serial: String?

    /// Makes one.
    public init(fingerprint: String, notAfter: Int64, lastCounter: UInt64?, serial: String? = nil) {
        self.fingerprint = fingerprint; self.notAfter = notAfter; self.lastCounter = lastCounter; self.serial = serial
    }

    /// The JSON form published in the directory.
    public var json: JSONValue {
        var o: [String: JSONValue] = [
            "fingerprint": .string(fingerprint), "not_after": .int(notAfter), "last_counter": lastCounter.map { .int(Int64($0)) } ?? .null,
        ]
        if let serial { o["serial"] = .string(serial) }
        return .object(o)
    }

    /// Parses the JSON form; nil if malformed.
    public init?(json: JSONValue) {
        guard case .object(let o) = json, let fp = o["fingerprint"]?.stringValue, fp.count == 64, let na = o["not_after"]?.intValue
        else { return nil }
        guard let last = Self.counterBound(o["last_counter"]) else { return nil }
        var serial: String?
        switch o["serial"] {
        case .string(let s)? where !s.isEmpty && s.count <= 64 && s.allSatisfy(\.isHexDigit): serial = s.lowercased()
        case nil: serial = nil
        default: return nil
        }
        self.init(fingerprint: fp, notAfter: na, lastCounter: last, serial: serial)
    }

    /// A `last_counter` value: `.some(nil)` when absent or null, `.some(n)` for a whole number
    /// n ≥ 0, nil (malformed) for anything else. Key histories and revocation lists share it.
    static func counterBound(_ v: JSONValue?) -> UInt64?? {
        switch v {
        case .int(let n)? where n >= 0: return .some(UInt64(n))
        case .null?, nil: return .some(nil)
        default: return nil
        }
    }

    /// Parses a whole `keys` field; nil if any entry is malformed.
    public static func list(_ json: JSONValue?) -> [KeyHistoryEntry]? {
        guard let arr = json?.arrayValue else { return nil }
        var out: [KeyHistoryEntry] = []
        for v in arr {
            guard let e = KeyHistoryEntry(json: v) else { return nil }
            out.append(e)
        }
        return out
    }

    /// The history after switching to the certificate `current`: every entry still open is
    /// closed at `lastCounter` (the highest counter handed out so far, all signed with it) and
    /// `current` is appended. Unchanged if `current` is already the one in use.
    /// - Returns: nil if `current` was retired before: a retired key must never sign again.
    public static func switching(_ history: [KeyHistoryEntry], to current: KeyHistoryEntry, lastCounter: UInt64) -> [KeyHistoryEntry]? {
        if let last = history.last, last.fingerprint == current.fingerprint, last.lastCounter == nil {
            // The entry in use gains its serial once (histories published before serials were).
            guard last.serial == nil, let serial = current.serial else { return history }
            var out = history
            out[out.count - 1].serial = serial
            return out
        }
        if history.contains(where: { $0.fingerprint == current.fingerprint }) { return nil }
        var out = history
        for i in out.indices where out[i].lastCounter == nil { out[i].lastCounter = lastCounter }
        out.append(current)
        return out
    }
}

/// What a receiver knows beyond the CA certificate: the certificates the CA revoked (from
/// CA-signed revocation lists) and the certificates nodes retired (from their key histories).
/// A value: the change-set verifier and the TLS check read it, the node rebuilds it from its
/// directory.
public struct TrustState: Sendable, Equatable {
    /// Revoked certificates by fingerprint.
    public private(set) var revoked: [String: RevocationList.Entry] = [:]
    /// The same, by serial number (lower-case hex; the one federation CA gives each certificate
    /// its own). A fingerprint names the certificate's bytes, and an ECDSA signature has a
    /// second valid form ((r, n − s)): whoever holds the key can present a twin of a revoked
    /// certificate with another fingerprint and the same serial. Revocations hold by serial too.
    public private(set) var revokedSerials: [String: RevocationList.Entry] = [:]
    /// Retired certificates: per node, the highest counter each signed, by fingerprint. Keyed by
    /// node first, so a node's history can bound only its own certificates.
    public private(set) var retired: [String: [String: UInt64]] = [:]
    /// The same bounds by serial, for entries that name one (`KeyHistoryEntry.serial`).
    public private(set) var retiredSerials: [String: [String: UInt64]] = [:]

    /// Nothing revoked or retired.
    public init() {}

    /// Every revocation, sorted by node and fingerprint.
    public var revocations: [RevocationList.Entry] { revoked.values.sorted() }

    /// Adds the entries of a CA-signed list; an entry known from another list keeps the earlier
    /// time and the lower counter bound (`RevocationList.Entry.merged`: a later list can never
    /// shorten a revocation or raise its bound).
    /// - Returns: false (and nothing changes) if the CA did not sign it.
    @discardableResult
    public mutating func add(_ list: SignedRevocationList, ca: Certificate) -> Bool {
        guard list.isSigned(by: ca) else { return false }
        for e in list.list.entries { revoke(e) }
        return true
    }

    /// Adds the retired certificates of `node`'s published key history.
    public mutating func add(history: [KeyHistoryEntry], of node: String) {
        for e in history {
            guard let last = e.lastCounter else { continue }
            // Histories only ever close entries: keep the smallest bound seen for a certificate.
            if retired[node]?[e.fingerprint].map({ last < $0 }) ?? true { retired[node, default: [:]][e.fingerprint] = last }
            if let serial = e.serial, retiredSerials[node]?[serial].map({ last < $0 }) ?? true {
                retiredSerials[node, default: [:]][serial] = last
            }
        }
    }

    /// Folds in what a directory-scoped set carries: key histories of node records its origin
    /// owns, and revocation lists the CA signed. Call only with a set whose signature verified.
    public mutating func fold(_ set: ChangeSet, ca: Certificate) {
        guard set.scope == .directory else { return }
        for c in set.changes where c.kind == .node && c.record == set.origin && c.owner == set.origin {
            if let h = KeyHistoryEntry.list(c.fields["keys"]) { add(history: h, of: set.origin) }
            if let w = c.fields["revocations"], w != .null, let l = SignedRevocationList(wire: w) { add(l, ca: ca) }
        }
    }

    /// One revocation more, merged with what is known of the same certificate (by fingerprint)
    /// and of the same serial.
    private mutating func revoke(_ e: RevocationList.Entry) {
        revoked[e.fingerprint] = revoked[e.fingerprint].map { $0.merged(with: e) } ?? e
        let serial = e.serial.lowercased()
        revokedSerials[serial] = revokedSerials[serial].map { $0.merged(with: e) } ?? e
    }

    /// The revocation in force for a certificate, matched by its fingerprint or its serial
    /// (both merged when both are listed), or nil.
    public func revocation(fingerprint: String, serial: String?) -> RevocationList.Entry? {
        let bySerial = serial.flatMap { revokedSerials[$0.lowercased()] }
        switch (revoked[fingerprint], bySerial) {
        case let (a?, b?): return a.merged(with: b)
        case let (a?, nil): return a
        case let (nil, b?): return b
        case (nil, nil): return nil
        }
    }

    /// Folds in everything `other` knows: each revocation merged (`RevocationList.Entry.merged`),
    /// each retirement at the lower bound.
    public mutating func absorb(_ other: TrustState) {
        for e in other.revoked.values { revoke(e) }
        for (node, bounds) in other.retired {
            for (fp, last) in bounds where retired[node]?[fp].map({ last < $0 }) ?? true { retired[node, default: [:]][fp] = last }
        }
        for (node, bounds) in other.retiredSerials {
            for (serial, last) in bounds where retiredSerials[node]?[serial].map({ last < $0 }) ?? true {
                retiredSerials[node, default: [:]][serial] = last
            }
        }
    }

    /// The last counter `node` signed with the certificate, if the node retired it.
    /// With `serial`, a twin of a retired certificate counts too (`retiredSerials`); when both
    /// match, the lower bound.
    public func lastCounter(node: String, fingerprint: String, serial: String? = nil) -> UInt64? {
        let bounds = [retired[node]?[fingerprint], serial.flatMap { retiredSerials[node]?[$0.lowercased()] }].compactMap { $0 }
        return bounds.min()
    }

    /// When the certificate was revoked (ms), if it was; with `serial`, a twin of a revoked
    /// certificate counts too (`revokedSerials`).
    public func revokedAt(_ fingerprint: String, serial: String? = nil) -> Int64? { revocation(fingerprint: fingerprint, serial: serial)?.revokedAt }

    /// The highest counter the CA still trusts from a revoked certificate, if its revocation
    /// gives one (`RevocationList.Entry.lastCounter`).
    public func revocationBound(_ fingerprint: String, serial: String? = nil) -> UInt64? {
        revocation(fingerprint: fingerprint, serial: serial)?.lastCounter
    }
}

/// The node's current `TrustState`, shared by the sync path and the TLS handshakes.
public final class TrustRegistry: Sendable {
    private let state = Mutex((TrustState(), generation: 0))

    /// An empty registry.
    public init() {}

    /// The state now.
    public var current: TrustState { state.withLock { $0.0 } }

    /// Grows each time the set of revoked certificates changes: kept-alive connections made
    /// before then are re-checked (closed and made again through the handshake).
    public var revocationGeneration: Int { state.withLock { $0.generation } }

    /// Replaces the state, keeping whatever the current one knows beyond it: revocations and
    /// retirements only ever tighten, and two rebuilds racing (pushes are applied on several
    /// threads) must not let the one that read the directory first undo the other.
    public func replace(_ s: TrustState) {
        state.withLock { cur in
            var next = s
            next.absorb(cur.0)
            if cur.0.revoked != next.revoked { cur.generation += 1 }
            cur.0 = next
        }
    }

    /// Nodes with a certificate revoked at or before `now` (ms since 1970).
    public func revokedNodes(now: Int64) -> Set<String> {
        state.withLock { s in Set(s.0.revoked.values.filter { $0.revokedAt <= now }.map(\.node)) }
    }

    /// Why a peer certificate must be refused at `now` (ms), or nil: revoked at or before now.
    public func refusal(fingerprint: String, serial: String? = nil, now: Int64) -> String? {
        guard let e = state.withLock({ $0.0.revocation(fingerprint: fingerprint, serial: serial) }), e.revokedAt <= now else { return nil }
        return "certificate of \(e.node) (serial \(e.serial)) was revoked at \(e.revokedAt) ms"
    }
}
