import Foundation
import TongCore
import TongPeer
import TongStore

/// Revocation lists and key histories: what the node knows beyond the CA certificate, kept in
/// the directory (fields `revocations` and `keys` of `node` records) and held in memory as a
/// `TrustState` that the change-set verifier and the TLS handshakes read.
extension TongNode {
    /// Rebuilds the trust state from the directory: every node's published key history, and
    /// every revocation list the federation CA signed (lists it did not sign are ignored) that a
    /// node record carries now or that this replica kept before (`revocation_list`). Lists are
    /// kept for good, so the state is the union of every list ever seen: a record that later
    /// carries an older list cannot take back a revocation or loosen its counter bound.
    /// - Throws: `DatabaseError` from SQLite.
    package func refreshTrust() throws {
        var state = TrustState()
        var kept = Set<String>()
        for text in try db.keptRevocationLists() {
            guard let v = try? JSONParser.parse(Array(text.utf8)), let l = SignedRevocationList(wire: v), state.add(l, ca: verifier.caCertificate)
            else { continue }
            kept.insert(l.id)
        }
        var fresh: [(id: String, wire: String, issuedAt: Int64)] = []
        for r in try db.records(kind: .node) {
            if let h = KeyHistoryEntry.list(r.state["keys"]) { state.add(history: h, of: r.state.id) }
            if let w = r.state["revocations"], w != .null, let l = SignedRevocationList(wire: w) {
                if !state.add(l, ca: verifier.caCertificate) {
                    logger.warning("ignored a revocation list the CA did not sign", metadata: ["node.record": .string(r.state.id)])
                } else if !kept.contains(l.id) {
                    kept.insert(l.id)
                    fresh.append((l.id, String(decoding: CanonicalJSON.encode(l.wireJSON), as: UTF8.self), l.list.issuedAt))
                }
            }
        }
        // The state in memory is right either way; a list not kept now is kept at the next refresh.
        do { try db.keepRevocationLists(fresh, now: Self.now()) } catch {
            logger.error("cannot keep revocation lists", metadata: ["error": .string("\(error)")])
        }
        trust.replace(state)
    }

    /// This node's key history after switching to its current certificate (see
    /// `KeyHistoryEntry.switching`): the certificate it replaced is closed at the highest counter
    /// handed out so far, all of which it signed.
    /// - Throws: `NodeError.configuration` if the current certificate was retired before.
    package func keyHistory() throws -> [KeyHistoryEntry] {
        let existing = KeyHistoryEntry.list((try db.record(id))?.state["keys"]) ?? []
        let current = KeyHistoryEntry(
            fingerprint: certificate.fingerprint, notAfter: Self.ms(certificate.notAfter), lastCounter: nil, serial: certificate.serial)
        guard let h = KeyHistoryEntry.switching(existing, to: current, lastCounter: try db.state().counter) else {
            throw NodeError.config(
                "certificate \(certificate.fingerprint.prefix(16))… was retired by this node and may not sign again; install a new one")
        }
        return h
    }

    /// Installs a CA-signed revocation list (the wire JSON `tong ca revoke` writes): checks the
    /// CA signature and that it keeps every entry of the lists already known (a newer list
    /// always contains the older ones), then publishes it in this node's directory record, so
    /// it reaches every node, and applies it at once.
    /// - Returns: the number of entries now in force.
    /// - Throws: `NodeError` `forbidden` (not the admin), `malformed` (not a list), `invalid`
    ///   (not signed by the federation CA, older than what is known, or loosening a revocation in
    ///   force), `tooLarge` (over 64 KiB), `unavailable`.
    @discardableResult
    public func installRevocations(_ wire: JSONValue, by who: Principal) throws -> Int {
        try who.requireAdmin("only this node's admin installs revocation lists")
        guard let list = SignedRevocationList(wire: wire) else {
            if case .object(let o) = wire, o["payload"]?.stringValue != nil, o["sig"]?.stringValue != nil {
                throw NodeError.badRequest(
                    "the revocation list's payload or signature is not well formed: each entry needs node, serial, a fingerprint of 64 "
                        + "hex digits, revoked_at (ms) and, if given, last_counter as a whole number of at least 0; sig is base64 DER")
            }
            throw NodeError.badRequest("not a revocation list: expected {\"payload\": \"…\", \"sig\": \"…\"} as `tong ca revoke` writes")
        }
        guard list.isSigned(by: verifier.caCertificate) else {
            throw NodeError.invalid("the revocation list is not signed by this federation's CA")
        }
        // Receivers bound every directory field to 64 KiB (ChangeContent): a larger list would not travel.
        guard CanonicalJSON.encode(list.wireJSON).count <= 64 << 10 else {
            throw NodeError(.tooLarge, "the revocation list is larger than the 64 KiB a directory field may carry")
        }
        let missing = list.list.missing(from: trust.current.revocations)
        guard missing.isEmpty else {
            let nodes = missing.map(\.node).joined(separator: ", ")
            throw NodeError.invalid(
                "the revocation list lacks \(missing.count) revoked certificate(s) already in force (of \(nodes)); install the CA's latest list")
        }
        // Nor may it loosen one: a list can only tighten what is in force (RevocationList.Entry.merged).
        let inForce = trust.current.revoked
        let loosened = list.list.entries.compactMap { e -> RevocationList.Entry? in
            guard let k = inForce[e.fingerprint] else { return nil }
            let m = k.merged(with: e)
            return m.revokedAt != e.revokedAt || m.lastCounter != e.lastCounter ? k : nil
        }
        guard loosened.isEmpty else {
            let held = loosened.map { k in
                "\(k.node) serial \(k.serial) revoked from \(k.revokedAt) ms" + (k.lastCounter.map { ", nothing above counter \($0)" } ?? "")
            }
            throw NodeError.invalid(
                "the revocation list would loosen what is in force (\(held.joined(separator: "; "))): lists only ever tighten; have the CA "
                    + "revoke again with at most that time (--at) and bound (--last-counter)")
        }
        try write([LocalWrite(id: id, kind: .node, owner: id, scope: .directory, fields: ["revocations": list.wireJSON], mustExist: true)])
        try refreshTrust()
        try db.audit(event: "key.revocations", subject: id, detail: "CA-signed revocation list installed: \(list.list.entries.count) entries",
                     now: Self.now())
        logger.notice("revocation list installed", metadata: ["revocations.count": .stringConvertible(list.list.entries.count)])
        return trust.current.revocations.count
    }

    /// The revocations in force and this node's key history, for `/api/v1/sync/status` and `/admin`.
    package func trustStatus() throws -> (revocations: JSONValue, keys: JSONValue) {
        let revoked: [JSONValue] = trust.current.revocations.map { e in
            [
                "node": .string(e.node), "serial": .string(e.serial), "fingerprint": .string(e.fingerprint),
                "revoked_at": .string(Self.iso8601(ms: e.revokedAt)), "reason": .string(e.reason),
                "last_counter": e.lastCounter.map { .int(Int64(clamping: $0)) } ?? .null,
            ]
        }
        let keys: [JSONValue] = (KeyHistoryEntry.list((try db.record(id))?.state["keys"]) ?? []).map { k in
            [
                "fingerprint": .string(k.fingerprint), "not_after": .string(Self.iso8601(ms: k.notAfter)),
                "last_counter": k.lastCounter.map { .int(Int64($0)) } ?? .null, "current": .bool(k.fingerprint == certificate.fingerprint),
            ]
        }
        return (.array(revoked), .array(keys))
    }

    /// Why this node may not sign now (its certificate expired, is not valid yet, or was
    /// revoked), or nil: a set it signed would be refused everywhere.
    package func signingRefusal(now: Int64) -> String? {
        let at = Date(timeIntervalSince1970: Double(now) / 1000)
        if let why = certificate.validity(at: at) { return "this node's \(why); renew it (certs/README.md)" }
        if let revokedAt = trust.current.revokedAt(certificate.fingerprint, serial: certificate.serial), now >= revokedAt {
            return "this node's certificate was revoked at \(Self.iso8601(ms: revokedAt)); install a new one (certs/README.md)"
        }
        return nil
    }

    /// A `Date` in milliseconds since 1970.
    package static func ms(_ d: Date) -> Int64 { Int64((d.timeIntervalSince1970 * 1000).rounded(.down)) }
}
