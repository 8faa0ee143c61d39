import GRDB
import TongCore

/// A record as stored: merge state plus housekeeping.
public struct StoredRecord: Sendable {
    /// Internal row id (full-text key).
    public var rowid: Int64
    /// The merge state.
    public var state: RecordState
    /// Local time (ms) of the last change applied here.
    public var updatedAt: Int64
}

extension TongDatabase {
    /// The `record` columns `decode` reads, in its order.
    static let recordColumns = "rowid, id, kind, owner, version, meta, doc, updated_at"

    /// A record from a row of `recordColumns`.
    static func decode(_ row: Row) throws -> StoredRecord { try RawRecord(row).decode() }

    /// A row of `recordColumns` as plain values, to decode on another thread (GRDB's `Row` is
    /// not `Sendable`).
    struct RawRecord: Sendable {
        var rowid: Int64
        var id: String
        var kind: String
        var owner: String
        var columns: RecordCodec.Columns
        var updatedAt: Int64

        init(_ row: Row) {
            rowid = row[0]
            id = row[1]
            kind = row[2]
            owner = row[3]
            columns = .init(doc: row[6], meta: row[5], version: row[4])
            updatedAt = row[7]
        }

        /// - Throws: `StoreError(.unusable)` when the stored record cannot be read.
        func decode() throws -> StoredRecord {
            guard let kind = RecordKind(rawValue: kind) else { throw StoreError(.unusable, "record \(id) has an unknown kind") }
            let state = try RecordCodec.decode(id: id, kind: kind, owner: owner, columns: columns)
            return StoredRecord(rowid: rowid, state: state, updatedAt: updatedAt)
        }
    }

    static func load(_ db: Database, id: String) throws -> StoredRecord? {
        try Row.fetchOne(db.cachedStatement(sql: "SELECT \(recordColumns) FROM record WHERE id = ?"), arguments: [id]).map(decode)
    }

    static func load(_ db: Database, rowid: Int64) throws -> StoredRecord? { try raw(db, rowid: rowid)?.decode() }

    /// The record at `rowid` as read, not yet decoded (a search decodes its page on both cores).
    static func raw(_ db: Database, rowid: Int64) throws -> RawRecord? {
        try Row.fetchOne(db.cachedStatement(sql: "SELECT \(recordColumns) FROM record WHERE rowid = ?"), arguments: [rowid]).map(RawRecord.init)
    }

    /// Writes a record and its projections; returns its row id. `previous` is the record as
    /// stored before (nil when `rowid` is nil): its full-text row is deleted by those values.
    @discardableResult
    static func save(
        _ db: Database, _ r: RecordState, rowid: Int64?, previous: RecordState?, now: Int64, catalog: SearchCatalog,
        job: SearchIndexJob? = nil
    ) throws -> Int64 {
        let c = RecordCodec.encode(r)
        let conflicts = r.fields.values.reduce(0) { $0 + $1.losers.count }
        let id: Int64
        if let rowid {
            try db.cachedStatement(sql: "UPDATE record SET version = ?, meta = ?, doc = ?, conflicts = ?, updated_at = ? WHERE rowid = ?")
                .execute(arguments: [c.version, c.meta, c.doc, conflicts, now, rowid])
            id = rowid
        } else {
            try db.cachedStatement(
                sql: "INSERT INTO record (id, kind, owner, version, meta, doc, conflicts, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
            )
            .execute(arguments: [r.id, r.kind.rawValue, r.owner, c.version, c.meta, c.doc, conflicts, now])
            id = db.lastInsertedRowID
        }
        try Projection.write(db, rowid: id, record: r, previous: rowid == nil ? nil : previous, catalog: catalog, job: job)
        return id
    }

    /// One record by id.
    public func record(_ id: String) throws -> StoredRecord? {
        try pool.read { db in try Self.load(db, id: id) }
    }

    /// Every record of a kind (optionally of one owner), in id order.
    public func records(kind: RecordKind, owner: String? = nil, limit: Int = 10_000) throws -> [StoredRecord] {
        try pool.read { db in
            var sql = "SELECT \(Self.recordColumns) FROM record WHERE kind = ?"
            var args: [any DatabaseValueConvertible] = [kind.rawValue]
            if let owner { sql += " AND owner = ?"; args.append(owner) }
            sql += " ORDER BY id LIMIT ?"
            args.append(limit)
            return try Row.fetchAll(db, sql: sql, arguments: StatementArguments(args)).map(Self.decode)
        }
    }

    /// Records whose fields conflict, newest first.
    public func conflicted(limit: Int = 200) throws -> [StoredRecord] {
        try pool.read { db in
            try Row.fetchAll(
                db, sql: "SELECT \(Self.recordColumns) FROM record WHERE conflicts > 0 ORDER BY updated_at DESC LIMIT ?", arguments: [limit]
            )
            .map(Self.decode)
        }
    }

    /// Counts of records by kind.
    public func counts() throws -> [String: Int] {
        try pool.read { db in
            var out: [String: Int] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT kind, count(*) FROM record GROUP BY kind") { out[row[0]] = row[1] }
            return out
        }
    }

    /// Total number of conflicting values.
    public func conflictCount() throws -> Int {
        try pool.read { db in try Int.fetchOne(db, sql: "SELECT coalesce(sum(conflicts), 0) FROM record") ?? 0 }
    }
}
