import Foundation
import GRDB
import CSQLiteConfig
import Synchronization
import TongCore

/// The one database facade of a node: its SQLite replica. Every write method is one
/// transaction that keeps the invariants: a record, its projections and its entry in the change
/// log are written together or not at all.
public final class TongDatabase: Sendable {
    let pool: DatabasePool
    /// Search attributes of policies and service items, in memory (see `SearchCatalog`).
    let catalog = SearchCatalog()
    /// Registered enterprises, in memory, for matching inside write transactions.
    let enterprises = EnterpriseCatalog()
    /// Full-text searches running now: a search splits its pass over two cores
    /// (`SearchScanSplit`) only when it is the only one.
    let searchesRunning = Atomic<Int>(0)
    /// Second passes launched since the store opened (`SearchScanSplit`), and how many of them
    /// walked (the others were abandoned: the first pass reached them first).
    let searchSplits = Atomic<Int>(0)
    let searchSplitsWalked = Atomic<Int>(0)
    /// Full-text passes that walked sealed postings (`PostingsSegment`).
    let searchPostingPasses = Atomic<Int>(0)
    /// This node's id.
    public let nodeID: String
    /// The replica decisions this store executes (always `.standard` in a node).
    let rules = ReplicaRules.standard
    /// The database file.
    public let path: String
    /// Set when opening rebuilt the full-text index (its file was new, missing, damaged or out of
    /// step with the replica): how many records were indexed and why. Nil when it was current.
    public let searchIndexRebuild: SearchIndexFile.Rebuild?
    /// The index file's own writer, for received batches (`SearchIndexWriter`).
    let searchWriter: SearchIndexWriter
    /// Told of every rebuild of the full-text index while the replica is open (not the one at
    /// open, which `searchIndexRebuild` reports).
    private let rebuildObserver = Mutex<(@Sendable (SearchIndexFile.Rebuild) -> Void)?>(nil)

    /// This node's persistent sync state.
    public struct NodeState: Sendable, Equatable {
        /// Last counter handed out.
        public var counter: UInt64
        /// Epoch of this node's change log (changes on restore).
        public var logEpoch: String
        /// True after a restore until the node caught up from its peers.
        public var restorePending: Bool
    }

    /// Opens (creating or migrating) the replica at `path` for node `nodeID`. With
    /// `holdIfNew`, a database created now starts held (as after `tong restore`): the node ran
    /// before and lost its replica, so it must learn its highest counter from its neighbours
    /// before it hands one out again. Throws `StoreError(.corrupt)` naming the file when
    /// SQLite's `quick_check` finds damage (the node must not start on it: restore a backup),
    /// `StoreError(.unusable)` for a file that cannot be opened or is another node's.
    public init(path: String, nodeID: String, now: Int64, holdIfNew: Bool = false) throws {
        let searchFile = Self.searchIndexPath(for: path)
        do {
            let discarded = try Self.discardDamagedSearchIndex(searchFile)
            pool = try DatabasePool(path: path, configuration: Self.configuration(readonly: false, searchFile: searchFile))
            // A damaged file must stop the node here, with one line, not fail every request later.
            if let problem = try pool.read({ db in try Self.quickCheck(db) }) {
                throw StoreError(.corrupt, Self.corruptMessage(path, problem))
            }
            try Schema.migrator.migrate(pool)
            try pool.write { db in
                if let existing = try String.fetchOne(db, sql: "SELECT node_id FROM node_state WHERE id = 1") {
                    guard existing == nodeID else {
                        throw StoreError(.unusable, "database \(path) belongs to node \(existing), not \(nodeID)")
                    }
                } else {
                    try db.execute(
                        sql: "INSERT INTO node_state (id, node_id, counter, log_epoch, created_at, restore_pending) VALUES (1, ?, 0, ?, ?, ?)",
                        arguments: [nodeID, Self.newEpoch(), now, holdIfNew ? 1 : 0])
                    if holdIfNew {
                        try Self.audit(db, event: "hold.start", subject: nodeID,
                                       detail: "the replica was created anew for a node that ran before: writes held until it caught up", now: now)
                    }
                }
            }
            var rebuild: SearchIndexFile.Rebuild?
            do {
                rebuild = try pool.write { db in try SearchIndexFile.ensure(db) }
            } catch let e as DatabaseError where e.resultCode == .SQLITE_FULL {
                throw StoreError(
                    .storageFull,
                    "the disk is full: the full-text index \(searchFile) must be rebuilt from the replica and needs free space "
                        + "about the size of its last copy; free some and start again")
            }
            if rebuild != nil { rebuild?.reclaimedBytes = try pool.writeWithoutTransaction { db in SearchIndexFile.reclaim(db) } }
            if discarded { rebuild?.reason = "the full-text index file was damaged (quick_check) and was discarded" }
            searchIndexRebuild = rebuild
            searchWriter = try SearchIndexWriter(path: searchFile)
        } catch let e as DatabaseError {
            if [ResultCode.SQLITE_CORRUPT, .SQLITE_NOTADB].contains(e.resultCode) {
                throw StoreError(.corrupt, Self.corruptMessage(path, e.message ?? "\(e)"))
            }
            throw StoreError(.unusable, "cannot open database \(path): \(e.message ?? "\(e)")")
        }
        self.nodeID = nodeID
        self.path = path
        try pool.read { db in
            try catalog.load(db)
            try enterprises.load(db)
        }
    }

    /// Checks that `path` is a sound replica of node `nodeID` (for `tong restore`, before it
    /// touches the home), changing nothing and creating no file beside it.
    /// - Throws: `StoreError(.corrupt)` when `quick_check` finds damage, `StoreError(.unusable)`
    ///   for a file that is not a replica or is another node's.
    public static func checkReplica(path: String, nodeID: String) throws {
        do {
            // Not read-only: a backup made by SQLite's backup API is marked WAL, and a read-only
            // connection cannot open a WAL file without its -shm. Nothing is written.
            let q = try DatabaseQueue(path: path, configuration: configuration(readonly: false))
            defer { try? q.close() }
            try q.read { db in
                if let problem = try quickCheck(db) { throw StoreError(.corrupt, corruptMessage(path, problem)) }
                guard try db.tableExists("node_state"), let owner = try String.fetchOne(db, sql: "SELECT node_id FROM node_state WHERE id = 1")
                else { throw StoreError(.unusable, "\(path) is not a Tong replica") }
                guard owner == nodeID else { throw StoreError(.unusable, "database \(path) belongs to node \(owner), not \(nodeID)") }
            }
        } catch let e as DatabaseError {
            if [ResultCode.SQLITE_CORRUPT, .SQLITE_NOTADB].contains(e.resultCode) {
                throw StoreError(.corrupt, corruptMessage(path, e.message ?? "\(e)"))
            }
            throw StoreError(.unusable, "cannot open database \(path): \(e.message ?? "\(e)")")
        }
    }

    /// Online backup of the replica at `path` (node `nodeID`) to `target`, with SQLite's backup
    /// API from a plain connection: safe beside a running node, and it touches neither the
    /// replica's schema nor its full-text index file (the backup needs only the replica).
    /// - Throws: as `checkReplica`; `DatabaseError` when `target` cannot be written.
    public static func backup(path: String, nodeID: String, to target: String) throws {
        try checkReplica(path: path, nodeID: nodeID)
        let source = try DatabaseQueue(path: path, configuration: configuration(readonly: false))
        defer { try? source.close() }
        let destination = try DatabaseQueue(path: target)
        try source.backup(to: destination)
        try destination.close()
    }

    /// The full-text index's own file beside the replica: `data/tong.sqlite` → `data/tong.search.sqlite`.
    public static func searchIndexPath(for path: String) -> String {
        (path.hasSuffix(".sqlite") ? String(path.dropLast(".sqlite".count)) : path) + ".search.sqlite"
    }

    /// Removes the index file (and its WAL) when SQLite finds it damaged or cannot open it: it
    /// is derived data, rebuilt from the replica at open, so damage there must not stop a node.
    /// - Returns: true when a damaged file was removed.
    @discardableResult
    static func discardDamagedSearchIndex(_ file: String) throws -> Bool {
        guard FileManager.default.fileExists(atPath: file) else { return false }
        var damaged: Bool
        do {
            let q = try DatabaseQueue(path: file, configuration: configuration(readonly: false))  // read-only cannot open a WAL file without its -shm
            damaged = try q.read { db in try Self.quickCheck(db) } != nil
            try q.close()
        } catch {
            damaged = true
        }
        if damaged {
            for f in [file, file + "-wal", file + "-shm"] where FileManager.default.fileExists(atPath: f) {
                try FileManager.default.removeItem(atPath: f)
            }
        }
        return damaged
    }

    /// Connection settings. `searchFile`, when given, is attached as schema `search` (the
    /// full-text index's own file, `SearchIndexFile`); a read-only connection attaches it only
    /// if it exists.
    static func configuration(readonly: Bool, searchFile: String? = nil) -> Configuration {
        _ = sqliteSettings
        var config = Configuration()
        config.foreignKeysEnabled = true
        config.busyMode = .timeout(10)
        config.readonly = readonly
        config.prepareDatabase { db in
            db.add(tokenizer: BigramTokenizer.self)
            try SearchScan.register(db)
            let writer = !db.configuration.readonly
            if let searchFile, writer || FileManager.default.fileExists(atPath: searchFile) {
                try db.execute(sql: "ATTACH DATABASE ? AS search", arguments: [searchFile])
                // WAL like the replica; only the writer may switch it (a no-op once the file is WAL).
                if writer { try db.execute(sql: "PRAGMA search.journal_mode = WAL") }
            }
            // WAL with synchronous=FULL: a commit that returned is on disk (rule 10), in both files.
            if writer { try db.execute(sql: "PRAGMA synchronous = FULL") }
            if writer, searchFile != nil { try db.execute(sql: "PRAGMA search.synchronous = FULL") }
            // A pushed batch or bulk import is one transaction of many MB; with SQLite's default
            // 2 MB page cache the writer spills dirty pages into the WAL mid-transaction and
            // reads them back (FTS segment merges touch them again), several writes per page.
            if writer { try db.execute(sql: "PRAGMA cache_size = -\(Self.writerCacheKiB)") }
            if writer, searchFile != nil { try db.execute(sql: "PRAGMA search.cache_size = -\(Self.writerCacheKiB)") }
        }
        return config
    }

    /// SQLite's process-wide settings, made once before the process's first connection (every
    /// connection of the store starts from `configuration`): memory statistics off
    /// (`CSQLiteConfig`), so that two searches' threads do not queue on one mutex at every
    /// allocation. False when SQLite was already initialized (another library opened a
    /// connection first): then it keeps its defaults, which only costs speed.
    static let sqliteSettings: Bool = tong_sqlite3_disable_memstatus() == 0

    static func corruptMessage(_ path: String, _ problem: String) -> String {
        "database \(path) is corrupt (\(problem)); restore it from a backup with `tong restore`"
    }

    /// The first problem `PRAGMA quick_check` reports (with how many more), or nil for "ok".
    static func quickCheck(_ db: Database) throws -> String? {
        let lines = try String.fetchAll(db, sql: "PRAGMA quick_check")
        guard lines != ["ok"] else { return nil }
        return (lines.first ?? "quick_check returned nothing") + (lines.count > 1 ? " and \(lines.count - 1) more problems" : "")
    }

    /// Runs SQLite's `quick_check` on a fresh read-only connection (so it reads the file, not a
    /// page cache): nil when the file is sound, else why it is not, naming the file. It reads
    /// every page once (about a second per GB); the node runs it every 10 minutes.
    public func integrityProblem() -> String? {
        do {
            let q = try DatabaseQueue(path: path, configuration: Self.configuration(readonly: true))
            defer { try? q.close() }
            return try q.read { db in try Self.quickCheck(db) }.map { Self.corruptMessage(path, $0) }
        } catch let e as DatabaseError where [ResultCode.SQLITE_CORRUPT, .SQLITE_NOTADB].contains(e.resultCode) {
            return Self.corruptMessage(path, e.message ?? "\(e)")
        } catch {
            // Busy or unreadable for a moment is not corruption; the next check tries again.
            return nil
        }
    }

    /// Runs `updates` in one write transaction; a full disk (or size limit) becomes
    /// `StoreError(.storageFull)` and a malformed page `StoreError(.corrupt)`, both naming the file.
    func writing<T>(_ updates: (Database) throws -> T) throws -> T {
        do {
            return try pool.writeWithoutTransaction { db in
                // A local write may touch the index through the attached schema: the index
                // writer's last job must have committed (else this would wait on its lock).
                try prepareIndex(db)
                var result: T?
                try db.inTransaction(.immediate) {
                    result = try updates(db)
                    return .commit
                }
                guard let result else { throw StoreError(.unusable, "write transaction ended without a result") }
                return result
            }
        } catch let e as DatabaseError {
            throw storeError(e)
        }
    }

    /// A full disk (or size limit) as `StoreError(.storageFull)`, a malformed page as
    /// `StoreError(.corrupt)`, both naming the replica; any other error as it is.
    private func storeError(_ e: DatabaseError) -> any Error {
        switch e.resultCode {
        case .SQLITE_FULL: StoreError(.storageFull, "database or disk is full: \(path)")
        case .SQLITE_CORRUPT, .SQLITE_NOTADB: StoreError(.corrupt, Self.corruptMessage(path, e.message ?? "\(e)"))
        default: e
        }
    }

    /// Runs `updates` in one write transaction with a `SearchIndexJob`: the full-text rows it
    /// adds are written by the index file's own writer on the other core meanwhile. The
    /// replica commits first, then the index (on the index writer, after this returns); on any
    /// error before the replica's commit both roll back. Errors as `writing`. Should the index
    /// alone fail to commit, the next job rebuilds it from the replica first (and a restart
    /// would, since its generation is behind).
    func writingWithIndexJob<T>(_ updates: (Database, SearchIndexJob) throws -> T) throws -> T {
        do {
            return try pool.writeWithoutTransaction { db in
                try prepareIndex(db)
                let job = SearchIndexJob(writer: searchWriter)
                var result: T?
                do {
                    // Deferred: the replica's transaction must not lock the index file the job writes.
                    try db.inTransaction(.deferred) {
                        result = try updates(db, job)
                        try job.finish(db, catalog: catalog)
                        return .commit
                    }
                } catch {
                    job.rollback()
                    throw error
                }
                // The index's commit was queued by the replica's commit (`SearchIndexJob.finish`).
                job.endIfUnused()
                guard let result else { throw StoreError(.unusable, "write transaction ended without a result") }
                return result
            }
        } catch let e as DatabaseError {
            throw storeError(e)
        }
    }

    /// Registers `observer` for rebuilds of the full-text index while the replica is open (a
    /// failed index commit, or generations apart), so the node can log them.
    public func onSearchIndexRebuild(_ observer: @escaping @Sendable (SearchIndexFile.Rebuild) -> Void) {
        rebuildObserver.withLock { $0 = observer }
    }

    /// Called in the replica's writer before each write transaction: waits for the index
    /// writer's last job, and rebuilds the index from the replica when that job's commit failed
    /// or the generations differ (nothing else writes either file meanwhile). The flag is
    /// cleared only once the rebuild committed.
    /// - Throws: `DatabaseError` from the rebuild.
    func prepareIndex(_ db: Database) throws {
        searchWriter.drain()
        let behind = searchWriter.isBehind
        if !behind {
            let mine = try Int64.fetchOne(db, sql: "SELECT search_generation FROM main.node_state WHERE id = 1")
            let theirs = try Int64.fetchOne(db, sql: "SELECT generation FROM search.index_state WHERE id = 1")
            if mine == theirs { return }
        }
        var rebuild: SearchIndexFile.Rebuild?
        try db.inTransaction(.immediate) {
            rebuild = try SearchIndexFile.ensure(db)
            return .commit
        }
        if behind { searchWriter.clearBehind() }
        if rebuild != nil { rebuild?.reclaimedBytes = SearchIndexFile.reclaim(db) }
        if let rebuild, let observer = rebuildObserver.withLock({ $0 }) { observer(rebuild) }
    }

    /// Repairs the index when the index writer's last commit failed (a search found it behind).
    func repairIndexIfBehind() throws {
        searchWriter.drain()
        guard searchWriter.isBehind else { return }
        try pool.writeWithoutTransaction { db in try prepareIndex(db) }
    }

    /// Waits until the full-text index holds everything applied so far (the index writer's last
    /// job committed). Searches do this themselves; the benchmark stops its clock after it.
    public func settleSearchIndex() { searchWriter.drain() }

    /// Fault injection for tests: caps the file at its current size plus `extraPages` pages
    /// (`PRAGMA max_page_count` on the writer), so the next writes that grow it fail as on a
    /// full disk; `nil` lifts the cap. Returns the cap in force.
    @discardableResult
    package func limitSize(extraPages: Int?) throws -> Int {
        try pool.writeWithoutTransaction { db in
            let current = try Int.fetchOne(db, sql: "PRAGMA page_count") ?? 0
            let cap = extraPages.map { current + $0 } ?? 4_294_967_294
            return try Int.fetchOne(db, sql: "PRAGMA max_page_count = \(cap)") ?? 0
        }
    }

    /// Page cache of the writing connection, KiB (readers keep SQLite's default).
    static let writerCacheKiB = 65_536

    static func newEpoch() -> String { UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "").prefix(16).description }

    /// The node's sync state.
    public func state() throws -> NodeState {
        try pool.read { db in try Self.state(db) }
    }

    static func state(_ db: Database) throws -> NodeState {
        guard let row = try Row.fetchOne(db, sql: "SELECT counter, log_epoch, restore_pending FROM node_state WHERE id = 1") else {
            throw StoreError(.unusable, "node state missing")
        }
        return NodeState(counter: UInt64(row[0] as Int64), logEpoch: row[1], restorePending: (row[2] as Int64) != 0)
    }

    /// Marks the database as restored from a backup: a new log epoch (peers' positions in the
    /// old log are void) and writes held back until the node caught up from its peers.
    public func markRestored() throws {
        try writing { db in
            try db.execute(sql: "UPDATE node_state SET restore_pending = 1, log_epoch = ? WHERE id = 1", arguments: [Self.newEpoch()])
            try Self.audit(db, event: "hold.start", subject: nodeID, detail: "writes held until the node caught up from its neighbours",
                           now: Int64(Date().timeIntervalSince1970 * 1000))
        }
    }

    /// After a restore: raise the counter above what peers saw from us; clear the hold when done.
    public func catchUp(seenByPeers: UInt64, finished: Bool) throws {
        try writing { db in
            try db.execute(sql: "UPDATE node_state SET counter = max(counter, ?) WHERE id = 1", arguments: [Int64(seenByPeers)])
            if finished, try Self.state(db).restorePending {
                try db.execute(sql: "UPDATE node_state SET restore_pending = 0 WHERE id = 1")
                try Self.audit(db, event: "hold.end", subject: nodeID, detail: "caught up; counters continue above \(seenByPeers)",
                               now: Int64(Date().timeIntervalSince1970 * 1000))
            }
        }
    }

    /// Copies the live database to `path` with SQLite's online backup.
    public func backup(to path: String) throws {
        let target = try DatabaseQueue(path: path)
        try pool.backup(to: target)
        try target.close()
    }

    /// Highest counter of `origin` seen here.
    public func seen(from origin: String) throws -> UInt64 {
        try pool.read { db in UInt64(try Int64.fetchOne(db, sql: "SELECT counter FROM origin_seen WHERE origin = ?", arguments: [origin]) ?? 0) }
    }

    /// Runs the checkpoint that folds the WAL into the main file (used before backups and on stop).
    public func checkpoint() throws {
        _ = try pool.writeWithoutTransaction { db in
            searchWriter.drain()
            return try db.checkpoint(.truncate, on: nil)
        }  // nil: every attached file too
    }

    /// Closes the database.
    public func close() throws {
        defer { try? pool.close() }
        try searchWriter.close()
        try pool.close()
    }
}
