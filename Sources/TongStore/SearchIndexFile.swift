import Foundation
import GRDB
import TongCore

/// The full-text index (`text_fts`, FTS5 with the `tong_bigram` tokenizer) lives in its own
/// SQLite file beside the replica, attached to every connection as schema `search`, so the
/// replica itself holds only standard SQLite: the sqlite3 shell, Datasette and any SQL tool open
/// it with no extension (an FTS5 table whose tokenizer they lack made Datasette refuse the
/// whole file).
///
/// The index is derived data. Two files do not commit atomically together (SQLite's WAL mode
/// makes a transaction over attached databases atomic per file only), so each transaction that
/// changes the index also moves a generation number in both files (`node_state.search_generation`
/// and `search.index_state.generation`). At open, an index file that is missing, damaged, or at
/// another generation (a crash between the two commits, a restored replica, a file copied from
/// elsewhere) or built with another text fold (`TextFold.fingerprint`: the OpenCC table and
/// Unicode normalisation the tokenizer applies) is rebuilt from the records: the replica is the
/// truth, the index follows it.
/// Backups need only the replica.
public enum SearchIndexFile {
    /// What a rebuild at open did.
    public struct Rebuild: Sendable, Equatable {
        /// Records indexed (policies and service items with a title or name).
        public var records: Int
        /// Why the index was rebuilt, in English for the log.
        public var reason: String
        /// Bytes of the index file given back to the disk after the rebuild (`reclaim`); 0 when
        /// the file was new or the `VACUUM` could not run.
        public var reclaimedBytes: Int64 = 0
    }

    /// The FTS5 table, in the attached schema.
    static let createSQL = """
        CREATE VIRTUAL TABLE search.text_fts USING fts5(title, doc_number, body, tags, facets, tokenize='tong_bigram', content='');
        CREATE TABLE search.index_state (id INTEGER PRIMARY KEY CHECK (id = 1), generation INTEGER NOT NULL, fold TEXT NOT NULL);
        """

    /// What an index file must have been built with to be used: the text fold
    /// (`TextFold.fingerprint`) and the table's columns (the hidden `facets` column,
    /// `SearchFacets`, came in the fifth session; no copy of the text, `content=''`, in the
    /// sixth). Stored in `index_state.fold`.
    ///
    /// Change it with anything that changes what a record's row is made of: the table keeps no
    /// text, so an edit deletes the old row by values the current code derives again
    /// (`Projection.textColumns`: `searchText`, `SearchFacets.document`, `Theme.bit`,
    /// `Audience.bit`, the region fallback of `Projection.Filters`). Rows indexed by other
    /// code would leave stale tokens behind; a new format makes the next open rebuild instead.
    static var format: String { TextFold.fingerprint + " columns=title,doc_number,body,tags,facets facets=2 content=none" }

    /// The replica's page cache while a rebuild reads every record, KiB (4 MiB).
    static let rebuildReadCacheKiB = 4_096

    /// FTS5's in-memory pending data before it writes a segment, bytes (64 MiB).
    static let hashSize = 64 << 20

    /// Checks the attached index against the replica and rebuilds it when it is not current.
    /// Runs in a write transaction when the replica opens, after the migrations and once
    /// `node_state` exists.
    /// - Returns: what was rebuilt, or nil when the index was current.
    /// - Throws: `DatabaseError` from SQLite.
    static func ensure(_ db: Database) throws -> Rebuild? {
        let mine = try Int64.fetchOne(db, sql: "SELECT search_generation FROM main.node_state WHERE id = 1") ?? 0
        let reason: String
        if try !db.tableExists("index_state", in: "search") || !db.tableExists("text_fts", in: "search") {
            reason = "the full-text index file was new or missing"
        } else {
            let row = try Row.fetchOne(db, sql: "SELECT generation, fold FROM search.index_state WHERE id = 1")
            let theirs: Int64? = row?[0], fold: String? = row?[1]
            if theirs != mine {
                reason = "the full-text index was at generation \(theirs.map(String.init) ?? "none"), the replica at \(mine)"
            } else if fold != Self.format {
                // Documents and queries must be folded alike: a new OpenCC table or Unicode version changes the fold.
                reason = "the full-text index was built as \(fold ?? "none"), this build needs \(Self.format)"
            } else {
                // An index from before the postings gets their (empty) tables.
                try PostingsSegment.prepare(db)
                return nil
            }
        }
        try db.execute(sql: "DROP TABLE IF EXISTS search.text_fts; DROP TABLE IF EXISTS search.index_state; " + PostingsSegment.dropSQL)
        try db.execute(sql: createSQL)
        try db.execute(sql: PostingsSegment.createSQL)
        // One segment per large push rather than one per MiB of pending data (FTS5 `hashsize`,
        // measured in the fourth session's apply figures: less CPU and fewer merges).
        try db.execute(sql: "INSERT INTO search.text_fts (text_fts, rank) VALUES ('hashsize', ?)", arguments: [Self.hashSize])
        var count = 0
        // The records are read once, in order: the replica's 64 MiB writer cache would only hold
        // pages never read again, beside FTS5's pending data and the index's own cache (at 1M
        // policies the rebuild peaked at 371 MB resident with it).
        try db.execute(sql: "PRAGMA main.cache_size = -\(Self.rebuildReadCacheKiB)")
        defer { try? db.execute(sql: "PRAGMA main.cache_size = -\(TongDatabase.writerCacheKiB)") }
        let rows = try Row.fetchCursor(
            db, sql: "SELECT \(TongDatabase.recordColumns) FROM record WHERE kind IN ('policy', 'service_item') ORDER BY rowid")
        while let row = try rows.next() {
            let r = try TongDatabase.decode(row)
            if try Projection.writeText(db, rowid: r.rowid, record: r.state, previous: nil) { count += 1 }
        }
        // A fresh generation (random start, so an index file from another replica never matches by chance).
        let generation = Int64.random(in: 1...(Int64.max >> 2))
        try db.execute(sql: "UPDATE main.node_state SET search_generation = ? WHERE id = 1", arguments: [generation])
        try db.execute(
            sql: "INSERT INTO search.index_state (id, generation, fold) VALUES (1, ?, ?)", arguments: [generation, Self.format])
        return Rebuild(records: count, reason: reason)
    }

    /// After a rebuild inside an existing index file, the old index's pages are free but still
    /// part of the file (at a million policies, 1.35 GB of a 2.6 GB file): `VACUUM search`
    /// writes the file anew without them. Runs on a connection with the index attached and no
    /// open transaction, with the index writer idle.
    ///
    /// A `VACUUM` needs about as much free disk as the index itself; when it cannot run, the
    /// file simply keeps its free pages, which the next writes reuse, and this returns 0. (The
    /// rebuild before it needs that space too: at open, a disk too full for it stops the node
    /// with a message that names the index file.)
    /// - Returns: bytes given back to the disk.
    static func reclaim(_ db: Database) -> Int64 {
        var reclaimed: Int64 = 0
        if let free = try? Int64.fetchOne(db, sql: "PRAGMA search.freelist_count"), free > 0,
            let pageSize = try? Int64.fetchOne(db, sql: "PRAGMA search.page_size"),
            (try? db.execute(sql: "VACUUM search")) != nil
        {
            reclaimed = free * pageSize
        }
        // The rebuild and the VACUUM both went through the WAL (the whole index, each): fold it
        // in and cut the WAL file back to nothing, or the disk holds the index twice until the
        // node stops. Busy readers only postpone this to SQLite's next checkpoints.
        _ = try? Row.fetchOne(db, sql: "PRAGMA search.wal_checkpoint(TRUNCATE)")
        return reclaimed
    }

    /// Moves the generation in both files; called once per transaction that changes the index.
    static func touch(_ db: Database) throws {
        try db.cachedStatement(sql: "UPDATE main.node_state SET search_generation = search_generation + 1 WHERE id = 1").execute()
        try db.cachedStatement(
            sql: "UPDATE search.index_state SET generation = (SELECT search_generation FROM main.node_state WHERE id = 1) WHERE id = 1"
        ).execute()
    }
}
