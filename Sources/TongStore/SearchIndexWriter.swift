import Foundation
import GRDB
import Synchronization
import TongCore

/// A second writer connection to the full-text index file (`SearchIndexFile`), so that the
/// index work of a received batch (tokenising every text and FTS5's segment writes, about a
/// third of an apply's CPU) runs on the machine's other core while the replica's writer checks,
/// merges and stores the same batch.
///
/// Used by `TongDatabase.apply(batch:…)` only, through a `SearchIndexJob`; local writes and the
/// rebuild at open write the index through the replica writer's attached `search` schema as
/// before. The two never overlap: a job runs inside the replica writer's queue, and the replica
/// transaction of a job is deferred and never touches `search`, so it takes no lock on the
/// index file.
///
/// Order of commits: the replica first, then the index (the replica is the truth). The
/// generation number (`SearchIndexFile`) moves in both: a crash between the two commits
/// leaves the index one generation behind, and the next open rebuilds it. Should the index's
/// commit fail after the replica's (a full disk), the writer is marked behind and the next
/// write or search rebuilds the index from the replica (`TongDatabase.prepareIndex`).
final class SearchIndexWriter: Sendable {
    let queue: DatabaseQueue
    /// Set when a job's commit failed after its replica's (the index is behind): the next job
    /// rebuilds the index first.
    private let behind = Mutex<String?>(nil)

    /// Opens the index file `path` (which the replica's open created and checked).
    /// - Throws: `DatabaseError` when SQLite cannot open it.
    init(path: String) throws {
        var config = Configuration()
        config.busyMode = .timeout(10)
        // A job's transaction spans several accesses (begin, one per set, commit).
        config.allowsUnsafeTransactions = true
        config.label = "tong.search-index-writer"
        config.prepareDatabase { db in
            db.add(tokenizer: BigramTokenizer.self)
            try db.execute(sql: "PRAGMA synchronous = FULL")
            try db.execute(sql: "PRAGMA cache_size = -\(TongDatabase.writerCacheKiB)")
        }
        queue = try DatabaseQueue(path: path, configuration: config)
    }

    /// Waits until every job handed to the index writer has committed or rolled back. Searches
    /// call it first, so a search that starts after a receive returned sees what it applied.
    func drain() {
        queue.writeWithoutTransaction { _ in }
    }

    /// Whether a job's commit failed after its replica's (the index is behind until rebuilt).
    var isBehind: Bool { behind.withLock { $0 != nil } }

    /// After the rebuild committed.
    func clearBehind() { behind.withLock { $0 = nil } }

    fileprivate func markBehind(_ why: String) { behind.withLock { $0 = why } }

    func close() throws {
        drain()
        try queue.close()
    }
}

/// One batch's full-text rows, written by the `SearchIndexWriter` while the replica's writer
/// goes on. The replica's writer adds texts (`add`) and the catalog entries that wait for their
/// row's token counts (`stage`); `finish` waits for the index writer, stages the catalog,
/// moves the generation inside the replica's transaction and ties the index's commit (or
/// rollback) to the replica's; `endIfUnused` ends the empty transaction of a batch without text.
///
/// Everything but the writer-side state is touched from the replica writer's queue only.
final class SearchIndexJob: @unchecked Sendable {
    /// One full-text row: a policy's title, document number, body and tags (a service item's
    /// name and code in the first two).
    struct Text: Sendable {
        /// The five column values of a full-text row, in the table's order.
        struct Columns: Sendable, Equatable {
            var title: String
            var docNumber: String
            var body: String
            var tags: String
            /// The hidden filter tokens (`SearchFacets.document`).
            var facets: String

            /// The statement arguments `rowid, title, doc_number, body, tags, facets`.
            func arguments(_ rowid: Int64) -> StatementArguments { [rowid, title, docNumber, body, tags, facets] }
        }

        var rowid: Int64
        var columns: Columns
        /// What the row holds now, nil when it is not indexed yet: the table keeps no copy of the
        /// text (`content=''`), so FTS5 deletes a row's tokens from the values it was given.
        var old: Columns?
    }

    /// A catalog entry waiting for its row's token counts (`text_fts_docsize.sz`).
    struct Staged {
        var rowid: Int64
        var kind: RecordKind
        var region: String
        var department: String
        var themes: Int64
        var audiences: Int64
        var status: String
        var issuedOn: String
        var validity: PolicyValidity
    }

    /// What the index writer's thread reports back.
    private struct Reported: Sendable {
        var failure: (any Error)?
        var docsizes: [Int64: Data] = [:]
    }

    private final class Shared: Sendable {
        let state = Mutex(Reported())
        func withLock<R>(_ body: (inout Reported) -> R) -> R { state.withLock { body(&$0) } }
    }

    private let writer: SearchIndexWriter
    private let shared = Shared()
    private var pending: [Text] = []
    private var staged: [Staged] = []
    private var pendingChars = 0
    private(set) var isEmpty = true
    /// Whether `finish` tied the index's commit to the replica's.
    private var hooked = false

    /// Texts are handed to the index writer in groups of about this many characters, so the
    /// two cores overlap without a dispatch per record.
    static let handOffCharacters = 64 << 10

    init(writer: SearchIndexWriter) {
        self.writer = writer
        let shared = self.shared
        writer.queue.asyncWriteWithoutTransaction { db in
            do { try db.beginTransaction(.immediate) } catch { shared.withLock { $0.failure = error } }
        }
    }

    /// Queues one full-text row; the index writer takes it up with the next hand-off.
    func add(_ text: Text) {
        isEmpty = false
        pendingChars += text.columns.title.utf8.count + text.columns.body.utf8.count
        pending.append(text)
        if pendingChars >= Self.handOffCharacters { handOff() }
    }

    /// Queues a catalog entry to publish with the replica's commit, once its token counts are known.
    func stage(_ s: Staged) { staged.append(s) }

    private func handOff() {
        guard !pending.isEmpty else { return }
        let texts = pending, shared = self.shared
        pending = []
        pendingChars = 0
        writer.queue.asyncWriteWithoutTransaction { db in
            guard shared.withLock({ $0.failure == nil }) else { return }
            do {
                var sizes: [(Int64, Data?)] = []
                sizes.reserveCapacity(texts.count)
                let docsize = try db.cachedStatement(sql: "SELECT sz FROM text_fts_docsize WHERE id = ?")
                for t in texts {
                    try Projection.replaceText(db, rowid: t.rowid, t.columns, old: t.old)
                    sizes.append((t.rowid, try Data.fetchOne(docsize, arguments: [t.rowid])))
                }
                shared.withLock { s in for (r, d) in sizes { s.docsizes[r] = d } }
            } catch {
                shared.withLock { $0.failure = error }
            }
        }
    }

    /// Waits for the index writer, stages the catalog entries in the replica's transaction `db`
    /// and moves the generation in both files (neither committed yet).
    /// - Throws: the index writer's error (then the caller rolls both back), or `DatabaseError`.
    func finish(_ db: Database, catalog: SearchCatalog) throws {
        handOff()
        let result = writer.queue.writeWithoutTransaction { _ in shared.withLock { $0 } }
        // A batch with no text (only directory or feedback sets) needs nothing of the index file.
        guard !isEmpty || !staged.isEmpty else { return }
        if let failure = result.failure { throw failure }
        // Queued at the replica's commit, before the catalog publishes (GRDB notifies in
        // registration order), so a search that sees the new entries waits for their text.
        hooked = true
        db.afterNextTransaction(onCommit: { _ in self.commitLater() }, onRollback: { _ in self.rollback() })
        for s in staged {
            _ = try catalog.stage(
                db, rowid: s.rowid, kind: s.kind, region: s.region, department: s.department, themes: s.themes,
                audiences: s.audiences, status: s.status, issuedOn: s.issuedOn, validity: s.validity,
                docsize: .some(result.docsizes[s.rowid]))
        }
        try db.cachedStatement(sql: "UPDATE main.node_state SET search_generation = search_generation + 1 WHERE id = 1").execute()
        let generation = try Int64.fetchOne(db, sql: "SELECT search_generation FROM main.node_state WHERE id = 1") ?? 0
        try writer.queue.writeWithoutTransaction { w in
            try w.execute(sql: "UPDATE index_state SET generation = ? WHERE id = 1", arguments: [generation])
        }
    }

    /// Commits the index's transaction (after the replica's) on the index writer, while the
    /// caller goes on: FTS5 writes its pending index data as a segment at commit, about a sixth
    /// of a large push's apply, and the next push's replica work overlaps it. Searches wait for
    /// it (`SearchIndexWriter.drain`). A failed commit rolls back and marks the index behind:
    /// the next job rebuilds it before anything else.
    private func commitLater() {
        let writer = self.writer
        writer.queue.asyncWriteWithoutTransaction { db in
            guard db.isInsideTransaction else { return }
            do { try db.commit() } catch {
                try? db.rollback()
                writer.markBehind("the full-text index's commit failed after the replica's: \(error)")
            }
        }
    }

    /// Ends the index's (empty) transaction when the batch had no text, so nothing was tied to the
    /// replica's commit.
    func endIfUnused() {
        if !hooked { rollback() }
    }

    /// Rolls the index's transaction back (the replica's rolled back, or failed).
    func rollback() {
        try? writer.queue.writeWithoutTransaction { db in if db.isInsideTransaction { try db.rollback() } }
    }
}
