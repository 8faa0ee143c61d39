import Foundation
import GRDB
import TongCore

/// The benchmark baseline (TongTools only): `package`, not part of the store's public API.
extension TongDatabase {
    /// The exact column values the store writes for a newly created policy: its `record` row,
    /// its `policy_index` row and its `text_fts` row. The benchmark's baseline inserts these.
    package struct BaselineRow: Sendable {
        /// The record id.
        package let id: String
        package var kind: String, owner: String, version: String, meta: String, doc: String, conflicts: Int
        package var region: String, department: String, themes: Int64, audiences: Int64, status: String, issuedOn: String
        package var title: String, docNumber: String, body: String, tags: String
    }

    /// The rows applying `change` of `origin` to an empty store would write (nil unless it
    /// creates a searchable policy). Same encoder and projection rules as `save`, so the
    /// baseline inserts byte-identical values.
    package static func baselineRow(for change: Change, origin: String) -> BaselineRow? {
        var state = RecordState(id: change.record, kind: change.kind, owner: change.owner)
        state.apply(change, origin: origin)
        let v = state.values
        guard state.kind == .policy, let title = v["title"]?.stringValue else { return nil }
        let c = RecordCodec.encode(state)
        return BaselineRow(
            id: state.id, kind: state.kind.rawValue, owner: state.owner, version: c.version, meta: c.meta, doc: c.doc,
            conflicts: state.fields.values.reduce(0) { $0 + $1.losers.count },
            region: v["region"]?.stringValue ?? state.owner, department: v["department"]?.stringValue ?? "",
            themes: Projection.themeMask(v["themes"]), audiences: Projection.audienceMask(v["audiences"]),
            status: Projection.status(v), issuedOn: v["issued_on"]?.stringValue ?? "",
            title: title, docNumber: v["doc_number"]?.stringValue ?? "", body: v["body"]?.stringValue ?? "",
            tags: (v["tags"]?.stringArray ?? []).joined(separator: " "))
    }

    /// The benchmark's baseline: creates a fresh node database at `path` (same tables, indexes,
    /// tokenizer and connection settings) and inserts `rows` with prepared statements in one
    /// transaction. Returns the time of the insert transaction alone.
    package static func benchmarkBaseline(path: String, rows: [BaselineRow], now: Int64, ftsOptions: [(String, Int)] = []) throws -> Duration {
        // A node database: same schema, indexes, tokenizer and connection settings as the
        // receiver's by construction; only the code path that fills it differs.
        let db = try TongDatabase(path: path, nodeID: "999999", now: now)
        defer { try? db.close() }
        try db.setSearchIndexOptions(ftsOptions)
        let pool = db.pool
        let clock = ContinuousClock()
        let start = clock.now
        try pool.write { db in
            let record = try db.makeStatement(
                sql: "INSERT INTO record (id, kind, owner, version, meta, doc, conflicts, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)")
            let index = try db.makeStatement(
                sql: "INSERT INTO policy_index (rowid, region, department, themes, audiences, status, issued_on) VALUES (?, ?, ?, ?, ?, ?, ?)")
            let fts = try db.makeStatement(sql: "INSERT INTO text_fts (rowid, title, doc_number, body, tags, facets) VALUES (?, ?, ?, ?, ?, ?)")
            for r in rows {
                try record.execute(arguments: [r.id, r.kind, r.owner, r.version, r.meta, r.doc, r.conflicts, now])
                let rowid = db.lastInsertedRowID
                try index.execute(arguments: [rowid, r.region, r.department, r.themes, r.audiences, r.status, r.issuedOn])
                try fts.execute(arguments: [
                    rowid, r.title, r.docNumber, r.body, r.tags,
                    SearchFacets.document(region: r.region, department: r.department, themes: r.themes, audiences: r.audiences),
                ])
            }
            try SearchIndexFile.touch(db)
        }
        return clock.now - start
    }

    /// Sets FTS5 options of the full-text table (`hashsize`, `automerge`, `crisismerge`, `pgsz`);
    /// the benchmark's knob `TONG_BENCH_FTS` for measuring them. Stored in the table's config.
    package func setSearchIndexOptions(_ options: [(String, Int)]) throws {
        try pool.write { db in
            for (k, v) in options { try db.execute(sql: "INSERT INTO text_fts (text_fts, rank) VALUES (?, ?)", arguments: [k, v]) }
        }
    }

    /// Bytes of the replica and its full-text index file (each with its WAL) after a truncating
    /// checkpoint, and the pages of each table and index in both (SQLite's `dbstat`, empty where
    /// it is not compiled in), largest first.
    package func diskUsage() throws -> (fileBytes: Int, tables: [(name: String, bytes: Int)]) {
        try checkpoint()
        let fm = FileManager.default
        let index = Self.searchIndexPath(for: path)
        let bytes = [path, path + "-wal", index, index + "-wal"]
            .compactMap { (try? fm.attributesOfItem(atPath: $0))?[.size] as? NSNumber }.reduce(0) { $0 + $1.intValue }
        let tables =
            (try? pool.read { db in
                try Row.fetchAll(
                    db,
                    sql: """
                        SELECT name, sum(pgsize) FROM (SELECT name, pgsize FROM dbstat('main') UNION ALL
                                                       SELECT name, pgsize FROM dbstat('search'))
                        GROUP BY name ORDER BY 2 DESC
                        """
                ).map { ($0[0] as String, $0[1] as Int) }
            }) ?? []
        return (bytes, tables)
    }

    /// The stored `record` columns of one record (id, kind, owner, version, meta, doc), so the
    /// benchmark can check that its baseline wrote exactly what the sync path wrote.
    package func rawColumns(_ id: String) throws -> [String]? {
        try pool.read { db in
            try Row.fetchOne(db, sql: "SELECT id, kind, owner, version, meta, doc FROM record WHERE id = ?", arguments: [id])
                .map { row in (0..<6).map { row[$0] as String } }
        }
    }

    /// The same columns of `row`, for comparison with `rawColumns`.
    package static func rawColumns(of row: BaselineRow) -> [String] {
        [row.id, row.kind, row.owner, row.version, row.meta, row.doc]
    }
}

extension TongDatabase {
    /// Registers many enterprises in one transaction (the benchmark's 100,000; `register` is
    /// one transaction per profile, as the API needs). Same table, same catalog.
    package func registerAll(_ rows: [EnterpriseRow]) throws {
        try writing { db in
            let stmt = try db.makeStatement(
                sql: "INSERT INTO enterprise (\(EnterpriseRow.columns)) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
            for e in rows { try stmt.execute(arguments: e.arguments) }
            enterprises.publish(rows, in: db)
        }
    }
}
