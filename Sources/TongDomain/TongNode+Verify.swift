import Foundation
import TongCore
import TongStore

/// What `tong verify` found.
public struct VerificationReport: Sendable {
    /// Sets in the change log, checked.
    public var sets = 0
    /// Records stored, compared with the replay.
    public var records = 0
    /// Audit entries, chained.
    public var auditEntries = 0
    /// Everything that is wrong, one line each; empty when the replica is sound.
    public var problems: [String] = []
    /// Whether nothing is wrong.
    public var ok: Bool { problems.isEmpty }
}

extension TongNode {
    /// Checks the replica against itself, as an auditor would: the audit trail's hash chain is
    /// whole; every set in the change log is well-formed, its id is the hash of its payload, and
    /// its signature verifies with a certificate the federation CA issued to its origin, valid at
    /// the set's own signing time; and replaying the change log from nothing gives exactly the
    /// stored records (a row changed behind the node's back, e.g. in the sqlite3 shell, is found).
    /// - Throws: only when the database cannot be read.
    public func verifyReplica() throws -> VerificationReport {
        var report = VerificationReport()
        if let broken = try db.verifyAuditChain() { report.problems.append("audit: \(broken)") }
        report.auditEntries = try db.auditEntries(limit: 1).first.map { Int($0.seq) } ?? 0
        var replayed: [String: RecordState] = [:]
        try db.eachLoggedSet { seq, wire, _ in
            report.sets += 1
            guard let v = try? JSONParser.parse(wire), let s = SignedChangeSet(wire: v) else {
                report.problems.append("change log \(seq): not a signed change set")
                return
            }
            let signedAt = Date(timeIntervalSince1970: Double(s.set.createdAt) / 1000)
            // As a receiver judges it: at its signing time, against the revocations and key histories known.
            if case .rejected(let why) = verifier.verifySignature(s, now: signedAt, trust: trust.current) {
                report.problems.append("change log \(seq) (set \(s.id.prefix(16))…, origin \(s.set.origin)): \(why)")
            }
            for c in s.set.changes {
                var state = replayed[c.record] ?? RecordState(id: c.record, kind: c.kind, owner: c.owner)
                if state.hasApplied(Dot(node: s.set.origin, counter: c.counter)) { continue }
                state.apply(c, origin: s.set.origin)
                replayed[c.record] = state
            }
        }
        var stored = Set<String>()
        try db.eachRecord { r in
            report.records += 1
            stored.insert(r.state.id)
            guard let expected = replayed[r.state.id] else {
                report.problems.append("record \(r.state.id): stored, but no set in the change log made it")
                return
            }
            if expected.version != r.state.version {
                report.problems.append("record \(r.state.id): version \(r.state.version.json) differs from the log's \(expected.version.json)")
            }
            let got = r.state.values, want = expected.values
            for field in Set(got.keys).union(want.keys).sorted() where got[field] != want[field] {
                let shown = String(decoding: CanonicalJSON.encode(got[field] ?? .null), as: UTF8.self).prefix(80)
                report.problems.append("record \(r.state.id): field \(field) is \(shown), the change log says otherwise")
            }
        }
        for id in replayed.keys.sorted() where !stored.contains(id) {
            report.problems.append("record \(id): made by the change log, missing from the replica")
        }
        return report
    }
}
