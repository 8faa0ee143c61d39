import Foundation
import GRDB
import TongCore

extension TongDatabase {
    /// Applies local writes in one transaction: each becomes a change with a fresh counter, is
    /// merged like any received change, and the changes are signed into sets (one signature per
    /// set, grouped by scope) appended to the change log. Nothing is written if any write fails.
    public func write(_ writes: [LocalWrite], signer: ChangeSigner, topology: Topology, now: Int64) throws -> [RecordState] {
        try pool.write { db in
            let st = try Self.state(db)
            guard !st.restorePending else {
                throw StoreError(.catchingUp, "node was restored from a backup and is catching up from its peers; writes resume when it has")
            }
            var counter = st.counter
            var results: [RecordState] = []
            results.reserveCapacity(writes.count)
            var batches: [(scope: Scope, changes: [Change])] = []
            for w in writes {
                counter += 1
                let existing: StoredRecord?
                let id: String
                if let given = w.id {
                    id = given
                    existing = try Self.load(db, id: given)
                    if existing == nil, w.mustExist { throw StoreError(.notFound, "no \(w.kind.rawValue) \(given) here") }
                } else {
                    id = "\(w.owner)-\(w.kind.idPrefix)\(counter)"
                    existing = try Self.load(db, id: id)
                    // A fresh counter names a fresh record; anything already there was not made here.
                    if existing != nil { throw StoreError(.conflict, "record \(id) already exists; refusing to merge into it") }
                }
                if let e = existing?.state, e.kind != w.kind || e.owner != w.owner {
                    throw StoreError(.conflict, "record \(id) is a \(e.kind.rawValue) owned by \(e.owner)")
                }
                var state = existing?.state ?? RecordState(id: id, kind: w.kind, owner: w.owner)
                let change = Change(record: id, kind: w.kind, owner: w.owner, counter: counter, at: now,
                                    context: state.version, fields: w.fields)
                if case .denied(let why) = Authority.check(change, origin: nodeID, scope: w.scope, topology: topology) {
                    throw StoreError(.forbidden, why)
                }
                state.apply(change, origin: nodeID)
                try Self.save(db, state, rowid: existing?.rowid, now: now, catalog: catalog)
                if let hash = w.receiptHash {
                    try db.execute(sql: "INSERT INTO receipt (hash, feedback_id, created_at) VALUES (?, ?, ?)", arguments: [hash, id, now])
                }
                results.append(state)
                if let last = batches.indices.last, batches[last].scope == w.scope, batches[last].changes.count < ChangeSet.maxChanges {
                    batches[last].changes.append(change)
                } else {
                    batches.append((w.scope, [change]))
                }
            }
            for b in batches {
                let signed = try signer.sign(ChangeSet(origin: nodeID, scope: b.scope, createdAt: now, changes: b.changes))
                try Self.appendLog(db, signed, wire: signed.wireBytes, from: nil, now: now)
            }
            try db.execute(sql: "UPDATE node_state SET counter = ? WHERE id = 1", arguments: [Int64(counter)])
            try db.execute(sql: "INSERT INTO origin_seen (origin, counter) VALUES (?, ?) ON CONFLICT(origin) DO UPDATE SET counter = max(counter, excluded.counter)",
                           arguments: [nodeID, Int64(counter)])
            return results
        }
    }

    static func appendLog(_ db: Database, _ s: SignedChangeSet, wire: [UInt8], from peer: String?, now: Int64) throws {
        try db.cachedStatement(sql: "INSERT INTO change_log (set_id, origin, scope, changes, received_from, wire, logged_at) VALUES (?, ?, ?, ?, ?, ?, ?)")
            .execute(arguments: [s.id, s.set.origin, s.set.scope.key, s.set.changes.count, peer, Data(wire), now])
    }
}
