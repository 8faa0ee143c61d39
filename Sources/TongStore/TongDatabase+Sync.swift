import Foundation
import GRDB
import TongCore

/// A set received from a peer, already checked by the verifier (signature, certificate,
/// authority); the verdict travels with it so rejections are logged in the same transaction.
public struct IncomingSet: Sendable {
    /// The decoded set.
    public var signed: SignedChangeSet
    /// The set's wire bytes as received (what the change log keeps and relays).
    public var wire: [UInt8]
    /// The verifier's verdict.
    public var verdict: ChangeSetVerdict
    /// Makes one; `wire` defaults to the set's canonical encoding.
    public init(signed: SignedChangeSet, wire: [UInt8]? = nil, verdict: ChangeSetVerdict) {
        self.signed = signed; self.wire = wire ?? signed.wireBytes; self.verdict = verdict
    }
}

/// What became of a pushed batch.
public struct BatchOutcome: Sendable {
    /// False when the batch did not start at the receiver's cursor (nothing applied).
    public var accepted: Bool
    /// The receiver's cursor on the sender's log after the batch.
    public var cursor: TongCore.Cursor
    /// Sets newly applied.
    public var applied: Int
    /// Sets already applied earlier.
    public var duplicates: Int
    /// Sets rejected, with reasons.
    public var rejected: [(setID: String, origin: String, reason: String)]
}

/// Sets of our log to send to one peer.
public struct OutgoingBatch: Sendable {
    /// Wire bytes of each set, in log order.
    public var sets: [[UInt8]]
    /// Highest log seq the batch covers (including entries the peer does not hold).
    public var upto: Int64
}

extension TongDatabase {
    /// Applies a batch of sets pushed by `peer`, covering the peer's log `(after, upto]` in its
    /// `epoch`. One transaction: every good set applied and logged, every bad one rejected whole
    /// (savepoint) and recorded, and the cursor advanced, together.
    public func apply(
        batch: [IncomingSet], from peer: String, epoch: String, after: Int64, upto: Int64, topology: Topology,
        now: Int64
    ) throws -> BatchOutcome {
        // Content and scope checks are pure: run them for the whole push on every core first.
        let rules = self.rules, nodeID = self.nodeID
        let admissions = batch.concurrentMap { inc -> ChangeSetVerdict? in
            if case .rejected = inc.verdict { return nil }
            return rules.admit(inc.signed.set, at: nodeID, topology: topology)
        }
        return try writingWithIndexJob { db, job in
            let current = try Self.cursor(db, peer: peer)
            let effective = (current?.epoch == epoch) ? current!.seq : 0
            guard after == effective, upto >= after else {
                return BatchOutcome(accepted: false, cursor: TongCore.Cursor(epoch: epoch, seq: effective), applied: 0, duplicates: 0, rejected: [])
            }
            var applied = 0, duplicates = 0
            var rejected: [(String, String, String)] = []
            for (inc, admitted) in zip(batch, admissions) {
                let s = inc.signed
                let setID = s.id
                if case .rejected(let why) = inc.verdict {
                    try Self.reject(db, peer: peer, origin: s.set.origin, setID: setID, reason: why, now: now)
                    rejected.append((setID, s.set.origin, why))
                    continue
                }
                if try Self.logged(db, setID: setID) { duplicates += 1; continue }
                // No savepoint: a set is checked and merged in memory first and written only if
                // all of it is good. (A savepoint per set would also make FTS5 flush its pending
                // index data into a new segment for every set.)
                var failure: String?
                do {
                    failure = try Self.applyChanges(
                        db, s.set, at: nodeID, topology: topology, rules: rules, now: now, catalog: catalog,
                        enterprises: enterprises, job: job, admitted: admitted)
                } catch let e as StoreError {
                    failure = e.message
                }
                if failure == nil { try Self.appendLog(db, s, wire: inc.wire, from: peer, now: now) }
                if var failure {
                    if let first = s.set.changes.first?.counter,
                        let other = try String.fetchOne(
                            db.cachedStatement(
                                sql:
                                    "SELECT set_id FROM change_log WHERE origin = ? AND max_counter >= ? AND min_counter <= ? AND set_id != ? LIMIT 1"
                            ),
                            arguments: [s.set.origin, Int64(first), Int64(s.set.changes.last?.counter ?? first), setID])
                    {
                        // Two different signed sets claim the same counters of one origin: keep both ids on record.
                        failure = "equivocation: set \(setID) and the applied set \(other) both claim counters of \(s.set.origin); " + failure
                    }
                    try Self.reject(db, peer: peer, origin: s.set.origin, setID: setID, reason: failure, now: now)
                    rejected.append((setID, s.set.origin, failure))
                } else {
                    applied += 1
                }
            }
            try db.execute(
                sql: """
                    INSERT INTO peer_cursor (peer, epoch, seq, updated_at) VALUES (?, ?, ?, ?)
                    ON CONFLICT(peer) DO UPDATE SET epoch = excluded.epoch, seq = excluded.seq, updated_at = excluded.updated_at
                    """, arguments: [peer, epoch, upto, now])
            return BatchOutcome(
                accepted: true, cursor: TongCore.Cursor(epoch: epoch, seq: upto), applied: applied, duplicates: duplicates, rejected: rejected)
        }
    }

    /// Admits and merges every change of a signature-verified set (`ReplicaRules.planApply`);
    /// returns a reason if the set is to be rejected whole (then nothing of it is written).
    static func applyChanges(
        _ db: Database, _ set: ChangeSet, at receiver: String, topology: Topology, rules: ReplicaRules,
        now: Int64, catalog: SearchCatalog, enterprises: EnterpriseCatalog, job: SearchIndexJob? = nil,
        admitted: ChangeSetVerdict? = nil
    ) throws -> String? {
        var rowids: [String: Int64] = [:]
        var before: [String: RecordState] = [:]
        let seen = try UInt64.fetchOne(db.cachedStatement(sql: "SELECT counter FROM origin_seen WHERE origin = ?"), arguments: [set.origin])
        let outcome = try rules.planApply(set, at: receiver, topology: topology, seen: seen, admitted: admitted) { id in
            guard let r = try load(db, id: id) else { return nil }
            rowids[id] = r.rowid
            before[id] = r.state
            return r.state
        }
        switch outcome {
        case .reject(let why):
            return why
        case .apply(let records, let maxCounter):
            for r in records {
                try save(db, r.state, rowid: rowids[r.id], previous: before[r.id], now: now, catalog: catalog, job: job)
                try enqueueDeliveries(db, before: before[r.id], after: r.state, now: now, enterprises: enterprises)
            }
            if maxCounter > 0 {
                try db.cachedStatement(
                    sql: """
                        INSERT INTO origin_seen (origin, counter) VALUES (?, ?) \
                        ON CONFLICT(origin) DO UPDATE SET counter = max(counter, excluded.counter)
                        """
                ).execute(arguments: [set.origin, Int64(maxCounter)])
            }
            return nil
        }
    }

    static func logged(_ db: Database, setID: String) throws -> Bool {
        try Int64.fetchOne(db.cachedStatement(sql: "SELECT 1 FROM change_log WHERE set_id = ?"), arguments: [setID]) != nil
    }

    static func reject(_ db: Database, peer: String, origin: String?, setID: String?, reason: String, now: Int64) throws {
        try db.execute(
            sql: "INSERT INTO rejection (at, peer, origin, set_id, reason) VALUES (?, ?, ?, ?, ?)",
            arguments: [now, peer, origin, setID, String(reason.prefix(500))])
        try audit(db, event: "set.rejected", subject: setID ?? "-", detail: "from=\(peer) origin=\(origin ?? "-") reason=\(reason)", now: now)
    }

    /// Records a rejection that happened before a batch reached the database (e.g. a malformed body).
    public func recordRejection(peer: String, reason: String, now: Int64) throws {
        try writing { db in try Self.reject(db, peer: peer, origin: nil, setID: nil, reason: reason, now: now) }
    }

    static func cursor(_ db: Database, peer: String) throws -> TongCore.Cursor? {
        guard let row = try Row.fetchOne(db, sql: "SELECT epoch, seq FROM peer_cursor WHERE peer = ?", arguments: [peer]) else { return nil }
        return TongCore.Cursor(epoch: row[0], seq: row[1])
    }

    /// What this node applied of `peer`'s log.
    public func cursor(of peer: String) throws -> TongCore.Cursor? {
        try pool.read { db in try Self.cursor(db, peer: peer) }
    }

    /// Highest seq of our change log.
    public func head() throws -> Int64 {
        try pool.read { db in try Int64.fetchOne(db, sql: "SELECT coalesce(max(seq), 0) FROM change_log") ?? 0 }
    }

    /// Our log entries after `after` that `peer` should hold and did not send us, up to
    /// `limit` entries scanned or about `maxBytes` of sets. `includeEchoes` also sends back what
    /// came from the peer: a peer restored from a backup needs its own lost writes back.
    public func outgoing(to peer: String, after: Int64, topology: Topology, limit: Int = 2_000, maxBytes: Int = 8 << 20, includeEchoes: Bool = false)
        throws -> OutgoingBatch
    {
        try pool.read { db in
            var sets: [[UInt8]] = []
            var bytes = 0
            var upto = after
            var held: [String: Bool] = [:]
            let rows = try Row.fetchCursor(
                db, sql: "SELECT seq, scope, received_from, wire FROM change_log WHERE seq > ? ORDER BY seq LIMIT ?",
                arguments: [after, limit])
            while let row = try rows.next() {
                let seq: Int64 = row[0]
                let scopeKey: String = row[1]
                let from: String? = row[2]
                let wanted: Bool
                if let h = held[scopeKey] {
                    wanted = h
                } else {
                    wanted = Scope(key: scopeKey)?.isHeld(by: peer, in: topology) ?? false
                    held[scopeKey] = wanted
                }
                if wanted, from != peer || includeEchoes {  // ReplicaRules.sends, with the scope test memoised
                    let wire: [UInt8] = Array(row[3] as Data)
                    if !sets.isEmpty, bytes + wire.count > maxBytes { break }
                    sets.append(wire)
                    bytes += wire.count
                }
                upto = seq
            }
            return OutgoingBatch(sets: sets, upto: upto)
        }
    }

    /// How many of our log entries after `after` the peer still lacks (bounded count).
    public func pending(for peer: String, after: Int64, topology: Topology, cap: Int = 100_000) throws -> Int {
        try backlog(for: peer, after: after, topology: topology, cap: cap).pending
    }

    /// What the peer still lacks of our log after `after`: how many entries (bounded by `cap`)
    /// and when the oldest of them was logged here (ms since 1970; nil when none), from which a
    /// caller computes the link's lag in seconds.
    public func backlog(for peer: String, after: Int64, topology: Topology, cap: Int = 100_000) throws -> (pending: Int, oldestAt: Int64?) {
        try pool.read { db in
            var n = 0
            var oldest: Int64?
            var held: [String: Bool] = [:]
            let rows = try Row.fetchCursor(
                db, sql: "SELECT scope, received_from, logged_at FROM change_log WHERE seq > ? ORDER BY seq LIMIT ?", arguments: [after, cap])
            while let row = try rows.next() {
                let key: String = row[0]
                let from: String? = row[1]
                let h = held[key] ?? (Scope(key: key)?.isHeld(by: peer, in: topology) ?? false)
                held[key] = h
                if h, from != peer {
                    n += 1
                    if oldest == nil { oldest = row[2] }
                }
            }
            return (n, oldest)
        }
    }

    /// Sync counters: sets applied from peers, sets rejected.
    public func syncCounts() throws -> (applied: Int, rejected: Int) {
        try pool.read { db in
            let a = try Int.fetchOne(db, sql: "SELECT count(*) FROM change_log WHERE received_from IS NOT NULL") ?? 0
            let r = try Int.fetchOne(db, sql: "SELECT count(*) FROM rejection") ?? 0
            return (a, r)
        }
    }

    /// The latest rejections, newest first.
    public func rejections(limit: Int = 50) throws -> [(at: Int64, peer: String, origin: String?, reason: String)] {
        try pool.read { db in
            try Row.fetchAll(db, sql: "SELECT at, peer, origin, reason FROM rejection ORDER BY id DESC LIMIT ?", arguments: [limit])
                .map { ($0[0], $0[1], $0[2], $0[3]) }
        }
    }

    /// A set from our log by its id (for the pull route and tests).
    public func loggedSet(_ setID: String) throws -> [UInt8]? {
        try pool.read { db in (try Data.fetchOne(db, sql: "SELECT wire FROM change_log WHERE set_id = ?", arguments: [setID])).map { Array($0) } }
    }
}
