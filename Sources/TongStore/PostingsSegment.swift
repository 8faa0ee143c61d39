import Foundation
import GRDB
import GRDBSQLite

/// Sealed ranges of row ids whose postings Tong keeps beside FTS5 (`Postings`), in the index
/// file, so that they are derived data like the rest of it: dropped and rebuilt with the
/// index, never in a backup.
///
/// The segments cover `1 ... hi` of the newest ready one, each a contiguous range of about
/// `rows` searchable rows. Rows above it (the newest, still arriving) and rows of a segment
/// that is not ready are searched with FTS5, restricted to their range. FTS5 stays the full
/// index: every write goes to it as before, and it answers everything the segments do not
/// (prefix terms, queries of several terms, the marks). A search whose words and filters are
/// the same gets the same rows, totals, facets and order either way (tested).
///
/// States (`postings_segment.state`):
/// - 0 `building`: the range is reserved, its postings are being built;
/// - 1 `ready`: its postings are those of every row in the range;
/// - 2 `stale`: a row in the range was written since (`markStale`, in the same transaction as
///   its FTS5 row), so FTS5 answers for the range until it is built again.
/// A segment written in another `Postings.format` counts as stale.
///
/// Crash consistency comes from SQLite: the reservation, the postings and `ready` are written
/// in transactions of the index file, and the stale mark in the transaction that changes the
/// FTS5 row. A build reserves its range first and reads the records after that commit; any
/// write the read could miss commits its index row after the reservation and marks it stale,
/// and a stale reservation is never sealed. A crash mid-build leaves `building`, which the next
/// build redoes.
public enum PostingsSegment {
    /// Searchable rows per segment: small enough that the newest rows FTS5 still answers for
    /// cost little (1–2 ms at a million policies), large enough that a rare word meets few
    /// segments (62 at a million).
    public static let rows = 16_384

    static let building = 0, ready = 1, stale = 2

    /// The two tables, in the attached index schema `search`. The blobs live in a rowid table
    /// with the keys in an index: in a `WITHOUT ROWID` table the whole row is the key, and the
    /// B-tree's interior pages then hold the blobs too (lookups were 100 µs at a million rows).
    /// The index is by token first, so that a search steps through one token's segments newest
    /// first with one statement (`PostingsReader`). A segment's rows are inserted in one
    /// transaction, so their row ids are the range `first_posting ... last_posting`, by which
    /// they are deleted.
    static let createSQL = """
        CREATE TABLE IF NOT EXISTS search.postings_segment (
            id INTEGER PRIMARY KEY, lo INTEGER NOT NULL, hi INTEGER NOT NULL, rows INTEGER NOT NULL, state INTEGER NOT NULL,
            first_posting INTEGER, last_posting INTEGER, format INTEGER NOT NULL DEFAULT 0);
        CREATE TABLE IF NOT EXISTS search.postings (
            id INTEGER PRIMARY KEY, segment INTEGER NOT NULL, token BLOB NOT NULL, df INTEGER NOT NULL, data BLOB NOT NULL);
        CREATE UNIQUE INDEX IF NOT EXISTS search.postings_token ON postings (token, segment);
        """
    static let dropSQL = "DROP TABLE IF EXISTS search.postings; DROP TABLE IF EXISTS search.postings_segment"

    /// Creates the tables where they are missing, and makes them anew where an earlier layout
    /// of this session's first commit (no `format` column) left them: they are derived data.
    static func prepare(_ db: Database) throws {
        if try db.tableExists("postings_segment", in: "search"),
            try !Row.fetchAll(db, sql: "PRAGMA search.table_info(postings_segment)").contains(where: { ($0["name"] as String?) == "format" })
        {
            try db.execute(sql: dropSQL)
        }
        try db.execute(sql: createSQL)
    }

    /// Marks the segment holding `rowid` stale. Runs with every change of a full-text row, on
    /// whichever connection writes it (the table name resolves to the index file on both).
    ///
    /// A read first, and an update of one row by its key only when a segment that is not stale
    /// holds the row: an `UPDATE` that may change several rows opens a statement journal, and
    /// SQLite then calls every virtual table's xSavepoint, which FTS5 answers by flushing its
    /// pending data as a new segment (once per record, that halved `tong bench`'s apply rate:
    /// 8,552 → 3,652 records/s).
    static func markStale(_ db: Database, rowid: Int64) throws {
        guard
            let id = try Int64.fetchOne(
                db.cachedStatement(sql: "SELECT id FROM postings_segment WHERE state <> 2 AND lo <= ?1 AND hi >= ?1 LIMIT 1"),
                arguments: [rowid])
        else { return }
        try db.cachedStatement(sql: "UPDATE postings_segment SET state = 2 WHERE id = ?").execute(arguments: [id])
    }

    /// One part of a newest-first walk: a ready segment, or a row-id range FTS5 answers for.
    enum Piece: Equatable {
        case segment(id: Int64, lo: Int64, hi: Int64)
        /// Rows with `above < rowid <= upTo` (`upTo` nil: no upper bound).
        case fullText(above: Int64, upTo: Int64?)
    }

    /// The pieces of a walk over every row, newest first; nil when no segment is ready (then a
    /// search uses FTS5 alone, as before segments).
    static func pieces(_ db: Database) throws -> [Piece]? {
        let rows = try Row.fetchAll(
            db, sql: "SELECT id, lo, hi, CASE WHEN format = ? THEN state ELSE 2 END FROM search.postings_segment ORDER BY hi DESC",
            arguments: [Postings.format])
        guard rows.contains(where: { $0[3] as Int == ready }) else { return nil }
        var out: [Piece] = []
        // Rows above `bound` are covered by the pieces so far (nil: none yet).
        var bound: Int64? = nil
        func fullText(_ above: Int64, _ upTo: Int64?) {
            if case .fullText(let a, let u)? = out.last, let upTo, a == upTo {
                out[out.count - 1] = .fullText(above: above, upTo: u)
            } else {
                out.append(.fullText(above: above, upTo: upTo))
            }
        }
        for row in rows {
            let id: Int64 = row[0], lo: Int64 = row[1], hi: Int64 = row[2], state: Int = row[3]
            if bound.map({ $0 > hi }) ?? true { fullText(hi, bound) }
            if state == ready { out.append(.segment(id: id, lo: lo, hi: hi)) } else { fullText(lo - 1, hi) }
            bound = lo - 1
        }
        if let bound, bound > 0 { fullText(.min, bound) }
        return out
    }

    /// What one build does: the segment it reserved and its range.
    struct Reservation {
        var id: Int64
        var lo: Int64
        var hi: Int64
    }

    /// Reserves the next range to build: the next `rows` searchable rows above the newest
    /// segment when there are that many, else a segment that is not ready (the newest first).
    /// New ranges first, so that a segment written again and again cannot keep new rows
    /// waiting behind it.
    static func reserve(_ db: Database, catalog: SearchCatalog.Snapshot, rows: Int) throws -> Reservation? {
        let top = try Int64.fetchOne(db, sql: "SELECT max(hi) FROM search.postings_segment") ?? 0
        var seen = 0
        var p = Int((top + 1) >> SearchCatalog.Page.shift)
        var hi: Int64?
        pages: while p < catalog.pages.count {
            if let entries = catalog.pages[p]?.entries {
                let base = Int64(p << SearchCatalog.Page.shift)
                for slot in 0..<SearchCatalog.Page.size where base + Int64(slot) > top && entries[slot].isPresent {
                    seen += 1
                    if seen == rows {
                        hi = base + Int64(slot)
                        break pages
                    }
                }
            }
            p += 1
        }
        guard let hi else { return try redo(db) }
        try db.execute(
            sql: "INSERT INTO search.postings_segment (lo, hi, rows, state, format) VALUES (?, ?, 0, 0, ?)",
            arguments: [top + 1, hi, Postings.format])
        return Reservation(id: db.lastInsertedRowID, lo: top + 1, hi: hi)
    }

    /// Reserves again the newest segment that is not ready (stale, building when a crash came,
    /// or of another format), its blobs deleted; nil when there is none.
    private static func redo(_ db: Database) throws -> Reservation? {
        guard
            let row = try Row.fetchOne(
                db, sql: "SELECT id, lo, hi FROM search.postings_segment WHERE state <> 1 OR format <> ? ORDER BY hi DESC LIMIT 1",
                arguments: [Postings.format])
        else { return nil }
        let id: Int64 = row[0]
        let range = try Row.fetchOne(db, sql: "SELECT first_posting, last_posting FROM search.postings_segment WHERE id = ?", arguments: [id])
        if let first: Int64 = range?[0], let last: Int64 = range?[1] {
            try db.execute(sql: "DELETE FROM search.postings WHERE id BETWEEN ? AND ?", arguments: [first, last])
        }
        try db.execute(
            sql: "UPDATE search.postings_segment SET state = 0, first_posting = NULL, last_posting = NULL, format = ? WHERE id = ?",
            arguments: [Postings.format, id])
        return Reservation(id: id, lo: row[1], hi: row[2])
    }

    /// Reads the records of a reserved range from the replica and builds their postings.
    /// - Throws: `DatabaseError` from SQLite, or a record that does not decode.
    static func collect(_ db: Database, _ r: Reservation) throws -> PostingsBuilder {
        let builder = PostingsBuilder(hi: r.hi)
        let rows = try Row.fetchCursor(
            db,
            sql: """
                SELECT \(TongDatabase.recordColumns) FROM record
                WHERE rowid BETWEEN ? AND ? AND kind IN ('policy', 'service_item') ORDER BY rowid DESC
                """, arguments: [r.lo, r.hi])
        while let row = try rows.next() {
            let record = try TongDatabase.decode(row)
            guard let c = Projection.textColumns(record.state) else { continue }
            builder.add(rowid: record.rowid, columns: [c.title, c.docNumber, c.body, c.tags, c.facets])
        }
        return builder
    }

    /// Stores a built segment and marks it ready, unless a write made it stale meanwhile.
    /// - Returns: whether it was sealed.
    static func seal(_ db: Database, _ r: Reservation, _ builder: PostingsBuilder) throws -> Bool {
        guard
            try Int.fetchOne(
                db, sql: "SELECT state FROM search.postings_segment WHERE id = ? AND lo = ? AND hi = ?", arguments: [r.id, r.lo, r.hi])
                == building
        else {
            return false
        }
        let insert = try db.cachedStatement(sql: "INSERT INTO search.postings (segment, token, df, data) VALUES (?, ?, ?, ?)")
        var first: Int64?, last: Int64?
        for n in builder.tokens.indices {
            try insert.execute(arguments: [r.id, Data(builder.tokens[n]), builder.documentCounts[n], Data(builder.data[n])])
            last = db.lastInsertedRowID
            if first == nil { first = last }
        }
        if let first, let last, last - first + 1 != Int64(builder.tokens.count) {
            throw StoreError(.unusable, "postings segment \(r.id) was not stored in one row-id range")
        }
        try db.execute(
            sql: "UPDATE search.postings_segment SET state = 1, rows = ?, first_posting = ?, last_posting = ? WHERE id = ?",
            arguments: [builder.rows, first, last, r.id])
        return true
    }

    /// What makes a build due (`TongDatabase.postingsPending`).
    public enum Due: Sendable {
        /// New rows enough for a segment, or a segment that is not ready.
        case all
        /// New rows only.
        case newRowsOnly
    }

    /// What a node's postings hold, for `tong status` and the bench.
    public struct Summary: Sendable, Equatable {
        /// Segments ready, and all segments (ready, building, stale).
        public var ready: Int
        public var segments: Int
        /// Rows covered by ready segments.
        public var rows: Int
        /// Highest row id a segment covers (0 with none).
        public var top: Int64
    }

    static func summary(_ db: Database) throws -> Summary {
        guard try db.tableExists("postings_segment", in: "search") else { return Summary(ready: 0, segments: 0, rows: 0, top: 0) }
        let row = try Row.fetchOne(
            db,
            sql: """
                SELECT count(*) FILTER (WHERE state = 1 AND format = ?1), count(*),
                    coalesce(sum(rows) FILTER (WHERE state = 1 AND format = ?1), 0), coalesce(max(hi), 0)
                FROM search.postings_segment
                """, arguments: [Postings.format])
        return Summary(ready: row?[0] ?? 0, segments: row?[1] ?? 0, rows: row?[2] ?? 0, top: row?[3] ?? 0)
    }
}

extension TongDatabase {
    /// Builds postings segments (`PostingsSegment`) while there is a range to build: segments
    /// made stale by writes, then each further `rows` searchable rows. Each segment is reserved
    /// and sealed in short transactions of the replica's writer; its records are read and
    /// tokenised on the calling thread in between (about 1 s of one core per 16,384 generated
    /// policies).
    /// - Parameters:
    ///   - rows: searchable rows per new segment.
    ///   - limit: most segments built by this call.
    /// - Returns: segments sealed. A segment that a write made stale while it was built is not
    ///   sealed and ends the call (the next call builds it again).
    /// - Throws: `StoreError` as `writing` does, or `DatabaseError` from SQLite.
    ///   - sealed: called after each seal with the segment's lowest and highest row id and its rows.
    @discardableResult
    public func buildPostings(
        rows: Int = PostingsSegment.rows, limit: Int = .max, sealed: ((_ lo: Int64, _ hi: Int64, _ rows: Int) -> Void)? = nil
    ) throws -> Int {
        var built = 0
        while built < limit {
            let reservation = try writing { db in try PostingsSegment.reserve(db, catalog: catalog.snapshot(), rows: max(1, rows)) }
            guard let reservation else { break }
            let builder = try pool.read { db in try PostingsSegment.collect(db, reservation) }
            guard try writing({ db in try PostingsSegment.seal(db, reservation, builder) }) else { break }
            built += 1
            sealed?(reservation.lo, reservation.hi, builder.rows)
        }
        return built
    }

    /// Whether `buildPostings` has something to do: a segment that is not ready, or at least
    /// `rows` searchable rows above the newest one. A read only (the catalog and one row of
    /// the index), cheap enough to ask every few seconds on an idle node.
    public func postingsPending(rows: Int = PostingsSegment.rows, counting: PostingsSegment.Due = .all) throws -> Bool {
        let (top, unready) = try pool.read { db -> (Int64, Int) in
            guard try db.tableExists("postings_segment", in: "search") else { return (0, 0) }
            let row = try Row.fetchOne(
                db, sql: "SELECT coalesce(max(hi), 0), count(*) FILTER (WHERE state <> 1 OR format <> ?) FROM search.postings_segment",
                arguments: [Postings.format])
            return (row?[0] ?? 0, row?[1] ?? 0)
        }
        if unready > 0, counting == .all { return true }
        let snapshot = catalog.snapshot()
        var seen = 0
        for p in min(Int((top + 1) >> SearchCatalog.Page.shift), snapshot.pages.count)..<snapshot.pages.count {
            guard let entries = snapshot.pages[p]?.entries else { continue }
            let base = Int64(p << SearchCatalog.Page.shift)
            for slot in 0..<SearchCatalog.Page.size where base + Int64(slot) > top && entries[slot].isPresent {
                seen += 1
                if seen >= rows { return true }
            }
        }
        return false
    }

    /// The index's generation (`node_state.search_generation`): it moves with every
    /// transaction that changes the full-text index, so an unchanged value means no writes.
    public func searchGeneration() throws -> Int64 {
        try pool.read { db in try Int64.fetchOne(db, sql: "SELECT search_generation FROM main.node_state WHERE id = 1") ?? 0 }
    }

    /// Segments and rows the postings hold.
    public func postingsSummary() throws -> PostingsSegment.Summary {
        try pool.read { db in try PostingsSegment.summary(db) }
    }
}
