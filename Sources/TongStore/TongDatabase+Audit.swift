import Crypto
import Foundation
import GRDB
import TongCore

/// The audit trail: an append-only, hash-chained log of what happened to the replica, written
/// in the same transaction as the event (a set accepted or rejected, a write hold or its end).
/// Each entry's hash is SHA-256 over the previous entry's hash and the entry's canonical JSON,
/// as Certificate Transparency (RFC 6962) and Sigstore's Rekor chain their logs; `tong verify`
/// recomputes the chain, so an entry edited or removed behind the node's back is found.
extension TongDatabase {
    /// Hash of the empty chain's predecessor.
    static let auditGenesis = String(repeating: "0", count: 64)

    /// The hash of one entry.
    package static func auditHash(prev: String, seq: Int64, at: Int64, event: String, subject: String, detail: String) -> String {
        let entry: JSONValue = ["seq": .int(seq), "at": .int(at), "event": .string(event), "subject": .string(subject), "detail": .string(detail)]
        var bytes = Array(prev.utf8)
        bytes.append(contentsOf: CanonicalJSON.encode(entry))
        return SHA256.hash(data: bytes).map { String(format: "%02x", $0) }.joined()
    }

    /// Appends an entry (inside the caller's transaction).
    static func audit(_ db: Database, event: String, subject: String, detail: String, now: Int64) throws {
        let last = try Row.fetchOne(db.cachedStatement(sql: "SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1"))
        let seq: Int64 = (last?[0] as Int64? ?? 0) + 1
        let prev: String = last?[1] ?? auditGenesis
        let detail = String(detail.prefix(1_000))
        let hash = auditHash(prev: prev, seq: seq, at: now, event: event, subject: subject, detail: detail)
        try db.cachedStatement(sql: "INSERT INTO audit (seq, at, event, subject, detail, prev, hash) VALUES (?, ?, ?, ?, ?, ?, ?)")
            .execute(arguments: [seq, now, event, subject, detail, prev, hash])
    }

    /// Appends an event from outside a store transaction (e.g. a key renewal).
    public func audit(event: String, subject: String, detail: String, now: Int64) throws {
        try writing { db in try Self.audit(db, event: event, subject: subject, detail: detail, now: now) }
    }

    /// Recomputes the chain; returns the first break found, or nil if it is whole.
    public func verifyAuditChain() throws -> String? {
        try pool.read { db in
            var prev = Self.auditGenesis
            var expectedSeq: Int64 = 1
            let rows = try Row.fetchCursor(db, sql: "SELECT seq, at, event, subject, detail, prev, hash FROM audit ORDER BY seq")
            while let r = try rows.next() {
                let seq: Int64 = r[0]
                guard seq == expectedSeq else { return "audit entry \(expectedSeq) is missing (next is \(seq))" }
                guard (r[5] as String) == prev else { return "audit entry \(seq) does not follow entry \(seq - 1)" }
                let h = Self.auditHash(prev: prev, seq: seq, at: r[1], event: r[2], subject: r[3], detail: r[4])
                guard h == (r[6] as String) else { return "audit entry \(seq) was altered (hash mismatch)" }
                prev = h
                expectedSeq += 1
            }
            return nil
        }
    }

    /// The latest audit entries, newest first.
    public func auditEntries(limit: Int = 50) throws -> [(seq: Int64, at: Int64, event: String, subject: String, detail: String)] {
        try pool.read { db in
            try Row.fetchAll(db, sql: "SELECT seq, at, event, subject, detail FROM audit ORDER BY seq DESC LIMIT ?", arguments: [limit])
                .map { ($0[0], $0[1], $0[2], $0[3], $0[4]) }
        }
    }

    /// Every logged set's wire bytes, in log order (for `tong verify`).
    public func eachLoggedSet(_ body: (_ seq: Int64, _ wire: [UInt8], _ from: String?) throws -> Void) throws {
        try pool.read { db in
            let rows = try Row.fetchCursor(db, sql: "SELECT seq, wire, received_from FROM change_log ORDER BY seq")
            while let r = try rows.next() { try body(r[0], Array(r[1] as Data), r[2]) }
        }
    }

    /// Every stored record (for `tong verify`).
    public func eachRecord(_ body: (StoredRecord) throws -> Void) throws {
        try pool.read { db in
            let rows = try Row.fetchCursor(db, sql: "SELECT \(Self.recordColumns) FROM record ORDER BY rowid")
            while let r = try rows.next() { try body(Self.decode(r)) }
        }
    }
}
