import Dispatch
import GRDB
import GRDBSQLite
import Synchronization

/// The older part of a newest-first full-text pass, walked on the other core.
///
/// A pass (`SearchScan`) walks the matches newest first until it has kept
/// `SearchRequest.exactTotalCap` + 1 of them or the matches end. Nearly all of its time is
/// FTS5 decoding doclists over the row-id range it crosses, so the range is cut in two and
/// the halves are walked at once on two reader connections:
///
/// 1. The first pass (on the request's thread) keeps `probeRows` rows, then estimates from
///    the row ids it crossed how much further it must walk, and how long that takes. When the
///    rest is worth a second core (`minimumMilliseconds`), it picks a boundary halfway through
///    the rest and launches the second pass for the rows below it.
/// 2. The second pass (`rowid < boundary`, newest first, on a reader of its own) keeps rows
///    until its rows and the first pass's make more than the cap.
/// 3. The first pass stops at the boundary and takes the second pass's rows after its own, up
///    to the cap: the same rows, totals and facets as one pass would give (tested).
///
/// Nothing ever waits for a second pass that has not started: when the first pass reaches the
/// boundary before the second one began (every reader busy, say), it abandons it and walks on
/// alone. A first pass that passes the cap before the boundary cancels the second
/// (`sqlite3_interrupt`). A split is only tried when no other search is running on the node
/// (`TongDatabase.search`): under load the other core is busy anyway.
///
/// The second pass reads in a transaction of its own that starts a moment after the first
/// one's. Both see every row of the catalog snapshot the search took before either began; a
/// row deleted in between is missing from the older half, as it would be a moment later.
final class SearchScanSplit: @unchecked Sendable {
    /// Rows the first pass keeps before it estimates the rest.
    static let probeRows = 256
    /// The estimated rest of the pass must take at least this long (milliseconds, on one core)
    /// for a second pass to be worth its set-up (about 0.2 ms: a reader, a statement, FTS5
    /// opening the query's doclists).
    static let minimumMilliseconds = 1.5

    /// This split's `probeRows` and `minimumMilliseconds` (tests lower them on small corpora).
    let probeRows: Int
    let minimumMilliseconds: Double

    enum State: Int {
        /// The first pass has not decided.
        case idle
        /// The second pass was handed to a thread but has not taken its reader yet.
        case launched
        /// The second pass is walking; the first one stops at the boundary and waits for it.
        case running
        /// The first pass reached the boundary before the second began: it walks on alone.
        case abandoned
    }

    private let state = Atomic<Int>(State.idle.rawValue)
    /// Rows the first pass has kept so far (the second one's cap shrinks as it grows).
    let firstKept = Atomic<Int>(0)
    /// Set when the first pass no longer needs the second one's rows.
    let cancelled = Atomic<Bool>(false)
    /// The second pass's connection while it walks, for `sqlite3_interrupt`.
    private let connection = Mutex<UInt>(0)  // the handle's address, 0 when none
    private let done = DispatchSemaphore(value: 0)
    /// Signalled when the second pass's thread has taken its reader (or failed to).
    private let began = DispatchSemaphore(value: 0)
    /// Rows below this row id belong to the second pass. Written once before the launch.
    private(set) var boundary: Int64 = .min
    /// The second pass's result, written by its thread before it signals `done`.
    private var second: SearchScan?
    private var failure: (any Error)?
    /// Runs the second pass: given the split, it must call `walk(on:make:)` from another thread.
    private let launcher: @Sendable (SearchScanSplit) -> Void

    init(
        probeRows: Int = SearchScanSplit.probeRows, minimumMilliseconds: Double = SearchScanSplit.minimumMilliseconds,
        launcher: @escaping @Sendable (SearchScanSplit) -> Void
    ) {
        self.probeRows = max(1, probeRows)
        self.minimumMilliseconds = minimumMilliseconds
        self.launcher = launcher
    }

    var current: State { State(rawValue: state.load(ordering: .acquiring)) ?? .idle }

    /// Called by the first pass once: hands the rows below `boundary` to another thread.
    func launch(below boundary: Int64) {
        self.boundary = boundary
        state.store(State.launched.rawValue, ordering: .releasing)
        launcher(self)
    }

    /// Called by the first pass when it meets a row below the boundary: true when it must stop
    /// there (the second pass is walking), false when it abandoned the second pass and goes on.
    func firstReachedBoundary() -> Bool {
        let (exchanged, original) = state.compareExchange(
            expected: State.launched.rawValue, desired: State.abandoned.rawValue, ordering: .acquiringAndReleasing)
        // Abandoned now, or already (its thread could not take a reader): walk on.
        return !exchanged && original == State.running.rawValue
    }

    /// The second pass, on its own thread and reader: `make` builds its scan, which is run over
    /// the rows below the boundary, unless the first pass abandoned it already.
    /// Returns false when it did not run (abandoned already).
    @discardableResult
    func walk(on db: Database, match: String, make: () -> SearchScan) -> Bool {
        let (exchanged, _) = state.compareExchange(
            expected: State.launched.rawValue, desired: State.running.rawValue, ordering: .acquiringAndReleasing)
        began.signal()
        guard exchanged else { return false }
        connection.withLock { $0 = UInt(bitPattern: db.sqliteConnection.map { Int(bitPattern: $0) } ?? 0) }
        defer {
            connection.withLock { $0 = 0 }
            done.signal()
        }
        // Cancelled before it began: an interrupt before the statement starts would not stop it.
        if cancelled.load(ordering: .relaxed) { return true }
        let scan = make()
        do {
            try scan.run(db, match: match, below: boundary)
            second = scan
        } catch {
            if !cancelled.load(ordering: .relaxed) { failure = error }
        }
        return true
    }

    /// The launcher's thread could not take a reader: the first pass walks on alone when it
    /// reaches the boundary (unless `walk` ran already, which then ended the split itself).
    func launchFailed() {
        _ = state.compareExchange(expected: State.launched.rawValue, desired: State.abandoned.rawValue, ordering: .acquiringAndReleasing)
        began.signal()
    }

    /// Blocks until the second pass's thread took its reader: for tests, which must see second
    /// passes walk on corpora so small that the first pass would reach them first. A node never
    /// calls it (the first pass never waits for a second one that has not begun).
    func waitUntilBegun() { began.wait() }

    /// Called by the first pass when it ended: when the second pass was walking, waits for it
    /// and returns its scan (nil when the first pass `overflowed` and no longer needs it, or
    /// when it never ran). Throws what the second pass threw.
    func join(firstOverflowed: Bool) throws -> SearchScan? {
        // A second pass not yet started is abandoned here: nobody may wait for it.
        let (exchanged, _) = state.compareExchange(
            expected: State.launched.rawValue, desired: State.abandoned.rawValue, ordering: .acquiringAndReleasing)
        if exchanged || current != .running { return nil }
        if firstOverflowed { cancel() }
        done.wait()
        // The second scan holds this split: let go of it here, or the two keep each other
        // (and the catalog snapshot, and the store through the launcher) alive for ever.
        let scan = second
        second = nil
        if firstOverflowed { return nil }
        if let failure { throw failure }
        return scan
    }

    /// Stops the second pass as soon as it can (its next row, or SQLite's next check).
    func cancel() {
        cancelled.store(true, ordering: .relaxed)
        connection.withLock { handle in
            if let handle = OpaquePointer(bitPattern: handle) { sqlite3_interrupt(handle) }
        }
    }
}
