import Foundation
import GRDB
import Synchronization
import TongCore

/// The search attributes of every policy and service item, in memory: what filters, facets,
/// newest-first ordering and bm25's length normalisation need per row, so a search touches
/// SQLite only for the full-text match itself.
///
/// Why: a common word (企业) matches nearly every policy. Reading region, department and themes
/// for 100k matches from `policy_index` and grouping them costs about 50 ms, and FTS5's own
/// bm25() reads each match's `text_fts_docsize` row (another 50 ms); from memory both take a
/// few nanoseconds per row.
///
/// The tables stay the durable truth: the catalog is built from `policy_index`,
/// `service_index` and `text_fts_docsize` when the database opens, and every write that
/// rewrites a projection stages the new entry, published when its transaction commits (before
/// the write returns) and dropped if it rolls back. Searches work on an immutable snapshot.
final class SearchCatalog: Sendable {
    /// One row's attributes. Region and department are indexes into the snapshot's string tables.
    /// Laid out in 32 bytes (`MemoryLayout.stride`, tested), so that no entry straddles two
    /// cache lines: a search reads one entry per match, at random, from a million.
    struct Entry: Sendable {
        static let present: UInt8 = 1, policy: UInt8 = 2, withdrawn: UInt8 = 4
        var region: UInt32 = 0
        var department: UInt32 = 0
        var themes: UInt32 = 0
        /// `issued_on` as yyyymmdd (0 when there is none).
        var issued: Int32 = 0
        /// `effective_from` as yyyymmdd (0: none, in force from the start).
        var from: Int32 = 0
        /// `effective_to` as yyyymmdd (0: none, in force without end).
        var to: Int32 = 0
        /// Tokens in all full-text columns (what FTS5's bm25 calls the document length).
        var length: UInt32 = 0
        /// Audience bits (`Audience.bit`: four audiences, room for sixteen).
        var audiences: UInt16 = 0
        var flags: UInt8 = 0

        var isPresent: Bool { flags & Self.present != 0 }
        var kind: RecordKind { flags & Self.policy != 0 ? .policy : .serviceItem }
        var isWithdrawn: Bool { flags & Self.withdrawn != 0 }
    }

    /// Entries by row id, in fixed pages so that a commit copies only the pages it touches.
    /// A page never changes once made, and its entries sit at a fixed address, so the scan
    /// reads them through plain pointers (`@unchecked`: the only state is that immutable buffer).
    final class Page: @unchecked Sendable {
        static let shift = 10
        static let size = 1 << shift
        let entries: UnsafeMutablePointer<Entry>

        init(copying other: Page?) {
            entries = .allocate(capacity: Self.size)
            if let other {
                entries.initialize(from: other.entries, count: Self.size)
            } else {
                entries.initialize(repeating: Entry(), count: Self.size)
            }
        }

        deinit { entries.deallocate() }
    }

    /// An immutable view of the catalog.
    struct Snapshot: Sendable {
        var pages: [Page?] = []
        var regions: [String] = []
        var departments: [String] = []
        /// Present entries in all, and per region id, department id, theme bit and audience bit:
        /// how selective a filter is (`SearchFacets.clause` leaves out a filter token that most
        /// rows carry).
        var present = 0
        var regionCounts: [Int] = []
        var departmentCounts: [Int] = []
        var themeCounts = [Int](repeating: 0, count: 32)
        var audienceCounts = [Int](repeating: 0, count: 32)

        /// Adds (`sign` 1) or removes (-1) a present entry from the counts.
        mutating func count(_ e: Entry, _ sign: Int) {
            guard e.isPresent else { return }
            present += sign
            let r = Int(e.region), d = Int(e.department)
            if r >= regionCounts.count { regionCounts += Array(repeating: 0, count: r + 1 - regionCounts.count) }
            if d >= departmentCounts.count { departmentCounts += Array(repeating: 0, count: d + 1 - departmentCounts.count) }
            regionCounts[r] += sign
            departmentCounts[d] += sign
            var bits = e.themes
            while bits != 0 {
                themeCounts[bits.trailingZeroBitCount] += sign
                bits &= bits - 1
            }
            bits = UInt32(e.audiences)
            while bits != 0 {
                audienceCounts[bits.trailingZeroBitCount] += sign
                bits &= bits - 1
            }
        }

        @inline(__always)
        func entry(_ rowid: Int64) -> Entry? {
            guard rowid >= 0 else { return nil }
            let p = Int(rowid >> Page.shift)
            guard p < pages.count, let page = pages[p] else { return nil }
            let e = page.entries[Int(rowid) & (Page.size - 1)]
            return e.isPresent ? e : nil
        }
    }

    private struct State {
        var snapshot = Snapshot()
        var regionIDs: [String: UInt32] = [:]
        var departmentIDs: [String: UInt32] = [:]
        /// Entries written by the open transaction (one writer at a time).
        var pending: [Int64: Entry] = [:]
        var hooked = false

        mutating func intern(region: String) -> UInt32 { Self.intern(region, ids: &regionIDs, names: &snapshot.regions) }

        mutating func intern(department: String) -> UInt32 { Self.intern(department, ids: &departmentIDs, names: &snapshot.departments) }

        /// The number of `value` in `names`, appending it the first time (names are never removed).
        static func intern(_ value: String, ids: inout [String: UInt32], names: inout [String]) -> UInt32 {
            if let id = ids[value] { return id }
            let id = UInt32(names.count)
            names.append(value)
            ids[value] = id
            return id
        }

        mutating func publish(_ changes: [Int64: Entry]) {
            var byPage: [Int: [(Int, Entry)]] = [:]
            for (rowid, e) in changes where rowid >= 0 {
                byPage[Int(rowid >> Page.shift), default: []].append((Int(rowid) & (Page.size - 1), e))
            }
            for (p, slots) in byPage {
                if p >= snapshot.pages.count { snapshot.pages += Array(repeating: nil, count: p + 1 - snapshot.pages.count) }
                let page = Page(copying: snapshot.pages[p])
                for (slot, e) in slots {
                    snapshot.count(page.entries[slot], -1)
                    snapshot.count(e, 1)
                    page.entries[slot] = e
                }
                snapshot.pages[p] = page
            }
        }
    }

    private let state = Mutex(State())

    /// The current published state.
    func snapshot() -> Snapshot { state.withLock { $0.snapshot } }

    /// Builds the catalog from the projection tables (when the database opens).
    func load(_ db: Database) throws {
        var rows: [Int64: Entry] = [:]
        try state.withLock { s in
            for (table, kind) in [("policy_index", RecordKind.policy), ("service_index", .serviceItem)] {
                let issued = kind == .policy ? "p.issued_on, p.effective_from, p.effective_to" : "'', '', ''"
                let cursor = try Row.fetchCursor(
                    db,
                    sql: """
                        SELECT p.rowid, p.region, p.department, p.themes, p.audiences, p.status, \(issued), d.sz
                        FROM \(table) p LEFT JOIN text_fts_docsize d ON d.id = p.rowid
                        """)
                while let row = try cursor.next() {
                    let rowid: Int64 = row[0], region: String = row[1], department: String = row[2]
                    let themes: Int64 = row[3], audiences: Int64 = row[4], status: String = row[5], issuedOn: String = row[6]
                    let validity = PolicyValidity(from: row[7], to: row[8])
                    let docsize: Data? = row[9]
                    rows[rowid] = Self.entry(
                        &s, kind: kind, region: region, department: department, themes: themes, audiences: audiences,
                        status: status, issuedOn: issuedOn, validity: validity, docsize: docsize)
                }
            }
            s.publish(rows)
        }
    }

    /// Stages the new attributes of `rowid`, written inside the open transaction of `db`.
    /// - Returns: true for the first record staged in this transaction.
    @discardableResult
    func stage(
        _ db: Database, rowid: Int64, kind: RecordKind, region: String, department: String, themes: Int64, audiences: Int64,
        status: String, issuedOn: String, validity: PolicyValidity, docsize known: Data?? = nil
    ) throws -> Bool {
        // `known`: the row's token counts as the index writer read them (`SearchIndexJob`); else read here.
        let docsize = try known ?? Data.fetchOne(db.cachedStatement(sql: "SELECT sz FROM text_fts_docsize WHERE id = ?"), arguments: [rowid])
        let hook = state.withLock { s in
            s.pending[rowid] = Self.entry(
                &s, kind: kind, region: region, department: department, themes: themes, audiences: audiences,
                status: status, issuedOn: issuedOn, validity: validity, docsize: docsize)
            defer { s.hooked = true }
            return !s.hooked
        }
        if hook {
            db.afterNextTransaction(
                onCommit: { [self] _ in
                    state.withLock { s in
                        s.publish(s.pending); s.pending = [:]; s.hooked = false
                    }
                },
                onRollback: { [self] _ in
                    state.withLock { s in
                        s.pending = [:]; s.hooked = false
                    }
                })
        }
        return hook
    }

    private static func entry(
        _ s: inout State, kind: RecordKind, region: String, department: String, themes: Int64, audiences: Int64,
        status: String, issuedOn: String, validity: PolicyValidity, docsize: Data?
    ) -> Entry {
        var e = Entry()
        e.flags = Entry.present | (kind == .policy ? Entry.policy : 0) | (status == "withdrawn" ? Entry.withdrawn : 0)
        e.region = s.intern(region: region)
        e.department = s.intern(department: department)
        e.themes = UInt32(truncatingIfNeeded: themes)
        e.audiences = UInt16(truncatingIfNeeded: audiences)
        e.issued = Self.day(issuedOn)
        e.from = Self.day(validity.from)
        e.to = Self.day(validity.to)
        e.length = docsize.map(Self.tokenCount) ?? 0
        return e
    }

    /// "2024-03-01" as 20240301; anything else 0. Same order as the ISO text.
    static func day(_ text: String) -> Int32 {
        let u = Array(text.utf8)
        guard u.count == 10, u[4] == UInt8(ascii: "-"), u[7] == UInt8(ascii: "-") else { return 0 }
        var n: Int32 = 0
        for (i, c) in u.enumerated() where i != 4 && i != 7 {
            guard c >= UInt8(ascii: "0"), c <= UInt8(ascii: "9") else { return 0 }
            n = n * 10 + Int32(c - UInt8(ascii: "0"))
        }
        return n
    }

    /// Sum of the per-column token counts in an FTS5 `docsize` blob (SQLite varints).
    static func tokenCount(_ blob: Data) -> UInt32 {
        var total: UInt64 = 0
        forEachVarint(blob) { total &+= $0 }
        return UInt32(truncatingIfNeeded: min(total, UInt64(UInt32.max)))
    }

    /// Calls `body` with each value of a blob of SQLite varints (big-endian groups of 7 bits,
    /// the ninth byte whole), as FTS5 writes its `docsize` and `%_data` records.
    @inline(__always)
    static func forEachVarint(_ blob: Data, _ body: (UInt64) -> Void) {
        var value: UInt64 = 0
        var bytes = 0
        for b in blob {
            bytes += 1
            if bytes == 9 {
                value = (value << 8) | UInt64(b)
            } else {
                value = (value << 7) | UInt64(b & 0x7F)
                if b & 0x80 != 0 { continue }
            }
            body(value)
            value = 0
            bytes = 0
        }
    }
}
