import Foundation
import GRDB
import TongCore

extension TongDatabase {
    /// Applies local writes in one transaction: each becomes a change with a fresh counter, is
    /// merged like any received change, and the changes are signed into sets (one signature per
    /// set, grouped by scope) appended to the change log. Nothing is written if any write fails.
    public func write(_ writes: [LocalWrite], signer: ChangeSigner, topology: Topology, now: Int64) throws -> [RecordState] {
        try writing { db in
            let st = try Self.state(db)
            guard !st.restorePending else {
                throw StoreError(.catchingUp, "node was restored from a backup and is catching up from its peers; writes resume when it has")
            }
            var rowids: [String: Int64] = [:]
            var before: [String: RecordState] = [:]
            let plan: ReplicaRules.WritePlan
            do {
                plan = try rules.planWrite(writes, origin: nodeID, counter: st.counter, at: now, topology: topology) { id in
                    guard let r = try Self.load(db, id: id) else { return nil }
                    rowids[id] = r.rowid
                    before[id] = r.state
                    return r.state
                }
            } catch let refusal as ReplicaRules.WriteRefusal {
                switch refusal {
                case .notFound(let m): throw StoreError(.notFound, m)
                case .conflict(let m): throw StoreError(.conflict, m)
                case .forbidden(let m): throw StoreError(.forbidden, m)
                }
            }
            for r in plan.records {
                try Self.save(db, r.state, rowid: rowids[r.id], previous: before[r.id], now: now, catalog: catalog)
                try Self.enqueueDeliveries(db, before: before[r.id], after: r.state, now: now, enterprises: enterprises)
            }
            for (w, state) in zip(writes, plan.results) {
                if let a = w.application {
                    // One open application per enterprise and policy, checked in the writing
                    // transaction: two concurrent submissions cannot both pass a check made before it.
                    let earlier = try String.fetchAll(
                        db, sql: "SELECT feedback_id FROM enterprise_application WHERE enterprise = ? AND policy = ?",
                        arguments: [a.enterprise, a.policy])
                    for fid in earlier where fid != state.id {
                        if let e = try Self.load(db, id: fid), ApplicationTimeline.replay(e.state.values).status.isOpen {
                            throw StoreError(.conflict, "该企业已有一件未办结的申请（\(fid)）")
                        }
                    }
                    try db.execute(
                        sql: "INSERT INTO enterprise_application (feedback_id, enterprise, policy, created_at) VALUES (?, ?, ?, ?)",
                        arguments: [state.id, a.enterprise, a.policy, now])
                }
                if let hash = w.receiptHash {
                    try db.execute(sql: "INSERT INTO receipt (hash, feedback_id, created_at) VALUES (?, ?, ?)", arguments: [hash, state.id, now])
                }
                if let i = w.idempotency {
                    try db.execute(
                        sql: "INSERT INTO idempotency (key_hash, request_hash, sealed_response, created_at) VALUES (?, ?, ?, ?)",
                        arguments: [i.keyHash, i.requestHash, Data(i.sealedResponse), now])
                }
            }
            let counter = plan.counter
            let batches = plan.batches
            let results = plan.results
            for b in batches {
                let signed = try signer.sign(ChangeSet(origin: nodeID, scope: b.scope, createdAt: now, changes: b.changes))
                try Self.appendLog(db, signed, wire: signed.wireBytes, from: nil, now: now)
            }
            try db.execute(sql: "UPDATE node_state SET counter = ? WHERE id = 1", arguments: [Int64(counter)])
            try db.execute(
                sql:
                    "INSERT INTO origin_seen (origin, counter) VALUES (?, ?) "
                        + "ON CONFLICT(origin) DO UPDATE SET counter = max(counter, excluded.counter)",
                arguments: [nodeID, Int64(counter)])
            return results
        }
    }

    static func appendLog(_ db: Database, _ s: SignedChangeSet, wire: [UInt8], from peer: String?, now: Int64) throws {
        try db.cachedStatement(
            sql: """
                INSERT INTO change_log (set_id, origin, scope, changes, received_from, wire, logged_at, min_counter, max_counter)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                """
        )
        .execute(arguments: [
            s.id, s.set.origin, s.set.scope.key, s.set.changes.count, peer, Data(wire), now,
            s.set.changes.first.map { Int64($0.counter) }, s.set.changes.last.map { Int64($0.counter) },
        ])
        let counters = "\(s.set.changes.first?.counter ?? 0)-\(s.set.changes.last?.counter ?? 0)"
        try audit(db, event: peer == nil ? "set.local" : "set.accepted", subject: s.id,
                  detail: "origin=\(s.set.origin) scope=\(s.set.scope.key) changes=\(s.set.changes.count) counters=\(counters) from=\(peer ?? "-")",
                  now: now)
    }
}
