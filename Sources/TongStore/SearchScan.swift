import Foundation
import GRDB
import GRDBSQLite
import TongCore

/// Which catalog entries a search keeps, precomputed from a `SearchRequest` so that the per-row
/// test is a few integer comparisons.
struct SearchFilter {
    /// Every test but the region's: plain values with no references, so the full-text scan's
    /// per-row callback keeps a copy at a fixed address and tests rows without reference counting.
    struct Attributes {
        var kindFlag: UInt8 = 0
        var themes: UInt32?
        var audiences: UInt32?
        var department: UInt32?
        var withdrawn: Bool?
        /// Validity on `today` (yyyymmdd): the state a row must be in, nil for any.
        var validity: PolicyValidity.State?
        var today: Int32 = 0

        @inline(__always)
        func accepts(_ e: SearchCatalog.Entry) -> Bool {
            if e.flags & SearchCatalog.Entry.policy != kindFlag { return false }
            if let t = themes, e.themes & t == 0 { return false }
            if let a = audiences, UInt32(e.audiences) & a == 0 { return false }
            if let d = department, e.department != d { return false }
            if let w = withdrawn, e.isWithdrawn != w { return false }
            if let v = validity {
                let state: PolicyValidity.State =
                    e.from != 0 && today < e.from ? .notYet : e.to != 0 && today > e.to ? .expired : .inForce
                if state != v { return false }
            }
            return true
        }
    }

    /// A row passes when `attributes.accepts` it and, with `regions`, its region id is true
    /// there. The two places that test rows (`TongDatabase.walk` and the scan's callback) each
    /// hold plain copies of both, so that no reference is counted per row.
    var attributes = Attributes()
    /// Accepted region ids (nil: any region).
    var regions: [Bool]?
    /// A filter value nothing can match (an unknown department, theme or status).
    var impossible = false
    /// `req.today` as yyyymmdd (0 without it): the day validity is counted for.
    var countDay: Int32 = 0

    var themes: UInt32? { attributes.themes }
    var audiences: UInt32? { attributes.audiences }
    var department: UInt32? { attributes.department }

    init(_ req: SearchRequest, kind: RecordKind, snapshot: SearchCatalog.Snapshot) {
        attributes.kindFlag = kind == .policy ? SearchCatalog.Entry.policy : 0
        countDay = req.today.map(SearchCatalog.day) ?? 0
        if let t = req.theme {
            attributes.themes = UInt32(Theme(rawValue: t)?.bit ?? 0)
            impossible = impossible || attributes.themes == 0
        }
        if let a = req.audience {
            attributes.audiences = UInt32(Audience(rawValue: a)?.bit ?? 0)
            impossible = impossible || attributes.audiences == 0
        }
        if let d = req.department {
            if let id = snapshot.departments.firstIndex(of: d) { attributes.department = UInt32(id) } else { impossible = true }
        }
        switch req.status {
        case nil: break
        case "active": attributes.withdrawn = false
        case "withdrawn": attributes.withdrawn = true
        case let v?:
            if let state = PolicyValidity.State(rawValue: v), let t = req.today, SearchCatalog.day(t) != 0 {
                attributes.withdrawn = false
                attributes.validity = state
                attributes.today = SearchCatalog.day(t)
            } else {
                impossible = true
            }
        }
        if let r = req.region {
            // The same half-open range of codes as before, compared bytewise like SQLite's BINARY collation.
            let (lo, hi) = TongDatabase.regionRange(r)
            regions = snapshot.regions.map { !$0.utf8.lexicographicallyPrecedes(lo.utf8) && $0.utf8.lexicographicallyPrecedes(hi.utf8) }
        }
    }
}

/// Totals and facet counts over the accepted rows.
struct FacetCounts {
    var total = 0
    var themes = [Int](repeating: 0, count: 32)
    var regions: [Int]
    var departments: [Int]
    /// Rows per validity on `day` (in_force, not_yet, expired, withdrawn); only when `day` is set.
    var validity = [Int](repeating: 0, count: 4)
    var day: Int32 = 0

    init(_ snapshot: SearchCatalog.Snapshot, day: Int32 = 0) {
        regions = [Int](repeating: 0, count: snapshot.regions.count)
        departments = [Int](repeating: 0, count: snapshot.departments.count)
        self.day = day
    }

    /// Adds another pass's counts (over other rows of the same snapshot).
    mutating func merge(_ other: FacetCounts) {
        total += other.total
        for i in themes.indices { themes[i] += other.themes[i] }
        for i in regions.indices { regions[i] += other.regions[i] }
        for i in departments.indices { departments[i] += other.departments[i] }
        for i in validity.indices { validity[i] += other.validity[i] }
    }

    @inline(__always)
    mutating func add(_ e: SearchCatalog.Entry) {
        total += 1
        if day != 0 {
            validity[e.isWithdrawn ? 3 : e.from != 0 && day < e.from ? 1 : e.to != 0 && day > e.to ? 2 : 0] += 1
        }
        regions[Int(e.region)] += 1
        departments[Int(e.department)] += 1
        var bits = e.themes
        while bits != 0 {
            themes[bits.trailingZeroBitCount] += 1
            bits &= bits - 1
        }
    }
}

/// One full-text search pass: FTS5 finds the matches and, for each, calls the `tong_scan`
/// auxiliary function, which filters the row against the catalog, counts its facets and keeps
/// what bm25 needs (weighted phrase frequencies and document length). Scores are computed after
/// the pass, once every phrase's document frequency is known, with the formula of FTS5's own
/// bm25() (k1 = 1.2; b and the column weights from `SearchRanking`): with `SearchRanking.fts5`
/// the order is exactly the one `ORDER BY bm25(text_fts, 10, 5, 1, 3)` gives (tested).
///
/// The per-row work runs up to 100k times per query, so its state is one struct at a fixed
/// address and the kept rows go to raw buffers (no dynamic exclusivity checks on a class's
/// properties on the hot path; the facet arrays are uniquely owned, so they never copy).
final class SearchScan {
    static let functionName = "tong_scan"
    static let pointerType: StaticString = "tong_scan_context"

    /// Mutable state of the pass; lives at a fixed address for the C callback.
    struct Accumulator {
        var matched = 0
        var phrases = 0
        var started = false
        var failure: Int32 = SQLITE_OK
        var rowCount: Int64 = 0
        var averageLength = 1.0
        var kept = 0
        var capacity = 0
        var rowids: UnsafeMutablePointer<Int64>?
        var lengths: UnsafeMutablePointer<UInt32>?
        var frequencies: UnsafeMutablePointer<Double>?
        /// Per kept row: `tierExactNumber` and/or `tierTitle`.
        var tiers: UnsafeMutablePointer<UInt8>?
        /// Sum of the phrases' token counts: a doc_number column of exactly this many tokens that
        /// holds every phrase is the number asked for.
        var phraseTokens: Int32 = 0
        /// Most rows kept; one more accepted row sets `overflow` and ends the pass.
        var cap = Int.max
        var overflow = false
        /// The pass stopped before the cap or the end: the first pass at its split's boundary,
        /// or a cancelled second pass (`SearchScanSplit`).
        var stopped = false
        /// The first pass's split boundary once launched (rows below it are the second pass's).
        var boundary: Int64 = .min
        /// Row id of the first row the pass met, and when it began (`DispatchTime` nanoseconds).
        var firstRowid: Int64 = 0
        var startNanos: UInt64 = 0
        var facets: FacetCounts
        // What each row is tested and weighed with, copied here so that the callback touches
        // no reference-counted value (a retain and release per row cost 8 % of a pass).
        var attributes: SearchFilter.Attributes
        /// Accepted region ids, `regionCount` of them (nil: any region).
        var regions: UnsafeMutablePointer<Bool>?
        var regionCount = 0
        /// Column weights of title, doc_number, body, tags (`SearchRanking.weights`).
        var weights: (Double, Double, Double, Double) = (0, 0, 0, 0)
        var rankTiers = false
        var pageBases: UnsafeMutablePointer<UnsafeMutablePointer<SearchCatalog.Entry>?>
        var pageCount: Int
        /// The split this pass takes part in (owned by the scan's `split`), and its probe size.
        var split: Unmanaged<SearchScanSplit>?
        var probeRows = Int.max
    }

    /// Tier bits: the document number is exactly the query; the title holds every term.
    static let tierExactNumber: UInt8 = 2, tierTitle: UInt8 = 1

    /// Keeps the catalog pages that `pageBases` points into alive while the scan lives.
    let snapshot: SearchCatalog.Snapshot
    let ranking: SearchRanking
    /// Phrases at the end of the query that are filter tokens (`SearchFacets`), not words:
    /// they narrow the matches but take no part in scores, tiers or document counts.
    let facetPhrases: Int
    let acc: UnsafeMutablePointer<Accumulator>
    private let pageBases: UnsafeMutablePointer<UnsafeMutablePointer<SearchCatalog.Entry>?>
    private let pageCount: Int
    /// Rows in the table containing each phrase (queries of several phrases).
    var phraseHits: [Int] = []

    /// The split this pass takes part in, if any, and whether it is the older (second) half:
    /// a second pass counts no phrases and no facets (the first pass does, for the rows it
    /// takes from it) and stops when both passes together passed the cap.
    let split: SearchScanSplit?
    let isSecond: Bool

    /// Phrase document counts (for IDF in queries of several phrases) stop at this many: past it
    /// a phrase is common and its exact count would cost a walk of its whole doclist.
    static let phraseCountCap = 20_000

    init(
        snapshot: SearchCatalog.Snapshot, filter: SearchFilter, ranking: SearchRanking = .tong, cap: Int = .max, facetPhrases: Int = 0,
        split: SearchScanSplit? = nil, second: Bool = false
    ) {
        self.facetPhrases = facetPhrases
        self.split = split
        self.isSecond = second
        self.snapshot = snapshot
        self.ranking = ranking
        pageCount = snapshot.pages.count
        pageBases = .allocate(capacity: max(1, pageCount))
        for (i, page) in snapshot.pages.enumerated() { (pageBases + i).initialize(to: page?.entries) }
        acc = .allocate(capacity: 1)
        acc.initialize(
            to: Accumulator(
                facets: FacetCounts(snapshot, day: filter.countDay), attributes: filter.attributes, pageBases: pageBases,
                pageCount: pageCount))
        acc.pointee.cap = cap
        if let regions = filter.regions {
            let mask = UnsafeMutablePointer<Bool>.allocate(capacity: max(1, regions.count))
            mask.initialize(from: regions, count: regions.count)
            acc.pointee.regions = mask
            acc.pointee.regionCount = regions.count
        }
        let w = ranking.weights
        acc.pointee.weights = (w[0], w[1], w[2], w[3])
        acc.pointee.rankTiers = ranking.tiers
        acc.pointee.split = split.map { Unmanaged.passUnretained($0) }
        acc.pointee.probeRows = split?.probeRows ?? .max
    }

    deinit {
        acc.pointee.rowids?.deallocate()
        acc.pointee.lengths?.deallocate()
        acc.pointee.frequencies?.deallocate()
        acc.pointee.tiers?.deallocate()
        acc.pointee.regions?.deallocate()
        acc.deinitialize(count: 1)
        acc.deallocate()
        pageBases.deallocate()
    }

    /// Rows kept (matched and accepted by the filter).
    var count: Int { acc.pointee.kept }
    /// More rows than the cap matched: `count` and the facets are lower bounds.
    var overflowed: Bool { acc.pointee.overflow }
    /// Every row FTS5 matched, of any kind and before filters.
    var matched: Int { acc.pointee.matched }
    /// Row id of kept row `i`.
    func rowid(_ i: Int) -> Int64 { acc.pointee.rowids![i] }
    /// Tier bits of kept row `i` (always 0 when the ranking has no tiers).
    func tier(_ i: Int) -> UInt8 { acc.pointee.tiers![i] }

    /// Totals and facets of the kept rows.
    var facets: FacetCounts { acc.pointee.facets }

    private func start(_ api: Fts5ExtensionApi, _ fts: OpaquePointer) {
        let a = acc
        a.pointee.started = true
        let phrases = max(1, Int(api.xPhraseCount(fts)) - facetPhrases)
        a.pointee.phrases = phrases
        a.pointee.phraseTokens = (0..<Int32(phrases)).reduce(0) { $0 + api.xPhraseSize(fts, $1) }
        var n: Int64 = 0, tokens: Int64 = 0
        _ = api.xRowCount(fts, &n)
        _ = api.xColumnTotalSize(fts, -1, &tokens)
        a.pointee.rowCount = n
        a.pointee.averageLength = n > 0 && tokens > 0 ? Double(tokens) / Double(n) : 1
        // One phrase: its IDF is the same for every row and does not change the order, so the
        // count of matches stands in (with filter phrases it is not the word's own count).
        if phrases > 1, !isSecond {
            phraseHits = (0..<phrases).map { i in
                // [count, cap]: the callback stops the walk (SQLITE_DONE) at the cap.
                var counter = [0, Self.phraseCountCap]
                let rc = counter.withUnsafeMutableBufferPointer { c in
                    api.xQueryPhrase(fts, Int32(i), c.baseAddress) { _, _, counter in
                        let c = counter!.assumingMemoryBound(to: Int.self)
                        c[0] += 1
                        return c[0] >= c[1] ? SQLITE_DONE : SQLITE_OK
                    }
                }
                if rc != SQLITE_OK { a.pointee.failure = rc }
                return counter[0]
            }
        }
    }

    func grow() {
        let a = acc
        let phrases = max(1, a.pointee.phrases)
        let old = a.pointee.capacity, new = max(1024, old * 2)
        let rowids = UnsafeMutablePointer<Int64>.allocate(capacity: new)
        let lengths = UnsafeMutablePointer<UInt32>.allocate(capacity: new)
        let frequencies = UnsafeMutablePointer<Double>.allocate(capacity: new * phrases)
        let tiers = UnsafeMutablePointer<UInt8>.allocate(capacity: new)
        if let t = a.pointee.tiers { tiers.moveInitialize(from: t, count: old); t.deallocate() }
        a.pointee.tiers = tiers
        if let r = a.pointee.rowids { rowids.moveInitialize(from: r, count: old); r.deallocate() }
        if let l = a.pointee.lengths { lengths.moveInitialize(from: l, count: old); l.deallocate() }
        if let f = a.pointee.frequencies { frequencies.moveInitialize(from: f, count: old * phrases); f.deallocate() }
        a.pointee.rowids = rowids
        a.pointee.lengths = lengths
        a.pointee.frequencies = frequencies
        a.pointee.capacity = new
    }

    /// Called once per matching row. Reads only `acc` (a plain pointer) and its plain values:
    /// the slow paths (the first row, growing the buffers, the probe) call back into the scan.
    @inline(__always)
    func visit(_ api: UnsafePointer<Fts5ExtensionApi>, _ fts: OpaquePointer) {
        let a = acc
        if !a.pointee.started { start(api.pointee, fts) }
        let rowid = api.pointee.xRowid(fts)
        if let split = a.pointee.split {
            if rowid < a.pointee.boundary {
                // The first pass met the second pass's rows: it stops unless the second never began.
                if split._withUnsafeGuaranteedRef({ $0.firstReachedBoundary() }) {
                    a.pointee.stopped = true
                    return
                }
                a.pointee.boundary = .min
            } else if isSecond, split._withUnsafeGuaranteedRef({ $0.cancelled.load(ordering: .relaxed) }) {
                a.pointee.stopped = true
                return
            }
            if a.pointee.matched == 0 { a.pointee.firstRowid = rowid }
        }
        a.pointee.matched += 1
        guard let e = Self.accepted(a, rowid) else { return }
        // The second pass's share of the cap is what the first has not kept yet.
        let others = isSecond ? a.pointee.split!._withUnsafeGuaranteedRef { $0.firstKept.load(ordering: .relaxed) } : 0
        guard let k = keep(rowid, e, others: others) else { return }
        let phrases = a.pointee.phrases
        let f = a.pointee.frequencies! + k * phrases
        f.initialize(repeating: 0, count: phrases)
        // Which phrases occur in the title, and in the document number (bit per phrase; at most
        // `SearchQuery.maxTerms` phrases).
        var inTitle: UInt64 = 0, inNumber: UInt64 = 0
        let w = a.pointee.weights
        // Each word phrase's own positions (xPhraseFirst/Next): xInst would first merge every
        // phrase's positions, the filter phrases' too, into one sorted array per row.
        var iterator = Fts5PhraseIter()
        var column: Int32 = 0, offset: Int32 = 0
        for phrase in 0..<phrases {
            _ = api.pointee.xPhraseFirst(fts, Int32(phrase), &iterator, &column, &offset)
            while column >= 0 {
                f[phrase] += column == 0 ? w.0 : column == 1 ? w.1 : column == 2 ? w.2 : column == 3 ? w.3 : 0
                if column == 0 { inTitle |= 1 << UInt64(phrase & 63) } else if column == 1 { inNumber |= 1 << UInt64(phrase & 63) }
                api.pointee.xPhraseNext(fts, &iterator, &column, &offset)
            }
        }
        var tier: UInt8 = 0
        if a.pointee.rankTiers {
            let all: UInt64 = phrases >= 64 ? ~0 : (1 << UInt64(phrases)) - 1
            if inTitle == all { tier |= Self.tierTitle }
            if inNumber == all {
                // Reads this row's docsize: only rows whose number holds every phrase get here.
                var size: Int32 = 0
                if api.pointee.xColumnSize(fts, 1, &size) == SQLITE_OK, size == a.pointee.phraseTokens { tier |= Self.tierExactNumber }
            }
        }
        a.pointee.tiers![k] = tier
        if let split = a.pointee.split, !isSecond {
            split._withUnsafeGuaranteedRef { $0.firstKept.store(k + 1, ordering: .relaxed) }
            if k + 1 == a.pointee.probeRows { probe(rowid, split.takeUnretainedValue()) }
        }
    }

    /// The catalog entry of `rowid` when it is present and the filters accept it. Reads the
    /// accumulator's fields one by one through the pointer (no copy of it, no reference counted).
    @inline(__always)
    static func accepted(_ a: UnsafeMutablePointer<Accumulator>, _ rowid: Int64) -> SearchCatalog.Entry? {
        let p = Int(rowid >> SearchCatalog.Page.shift)
        guard rowid >= 0, p < a.pointee.pageCount, let base = a.pointee.pageBases[p] else { return nil }
        let e = base[Int(rowid) & (SearchCatalog.Page.size - 1)]
        guard e.isPresent, a.pointee.attributes.accepts(e) else { return nil }
        if let regions = a.pointee.regions, Int(e.region) >= a.pointee.regionCount || !regions[Int(e.region)] { return nil }
        return e
    }

    /// Keeps an accepted row: its row id, length and (in a first pass) facets. Returns its index
    /// among the kept rows, or nil when `others` and the kept rows already fill the cap (then
    /// `overflow` is set).
    @inline(__always)
    func keep(_ rowid: Int64, _ e: SearchCatalog.Entry, others: Int = 0) -> Int? {
        let a = acc
        if a.pointee.kept + others >= a.pointee.cap {
            a.pointee.overflow = true
            return nil
        }
        if a.pointee.kept == a.pointee.capacity { grow() }
        let k = a.pointee.kept
        a.pointee.kept = k + 1
        a.pointee.rowids![k] = rowid
        a.pointee.lengths![k] = e.length
        // A second pass's or a helper's rows are counted when the first takes them (`absorb`).
        if !isSecond { a.pointee.facets.add(e) }
        return k
    }

    /// After the split's `probeRows` kept rows: estimates from the row ids crossed so far
    /// how many more the pass must cross to pass the cap (or to reach the first row), and how
    /// long that takes; when worth it, launches the second pass below the middle of the rest.
    private func probe(_ rowid: Int64, _ split: SearchScanSplit) {
        let a = acc
        let crossed = Double(max(1, a.pointee.firstRowid - rowid + 1))
        let needed = Double(a.pointee.cap) - Double(a.pointee.kept) + 1
        let rest = min(needed * crossed / Double(a.pointee.kept), Double(rowid))
        let elapsed = Double(DispatchTime.now().uptimeNanoseconds - a.pointee.startNanos) / 1e6
        guard rest >= 2, elapsed * rest / crossed >= split.minimumMilliseconds else { return }
        let boundary = rowid - Int64(rest / 2)
        a.pointee.boundary = boundary
        split.launch(below: boundary)
    }

    /// Takes the second pass's rows after this pass's own, up to the cap, and counts their
    /// facets (the second pass counts none: it cannot know how many of its rows will be taken).
    func absorb(_ other: SearchScan) {
        let a = acc, b = other.acc
        a.pointee.matched += b.pointee.matched
        let take = min(max(0, a.pointee.cap - a.pointee.kept), b.pointee.kept)
        if b.pointee.overflow || b.pointee.kept > take { a.pointee.overflow = true }
        guard take > 0 else { return }
        let phrases = a.pointee.phrases
        precondition(b.pointee.phrases == phrases, "the two halves of a pass ran different queries")
        for i in 0..<take {
            if a.pointee.kept == a.pointee.capacity { grow() }
            let k = a.pointee.kept
            let rowid = b.pointee.rowids![i]
            a.pointee.rowids![k] = rowid
            a.pointee.lengths![k] = b.pointee.lengths![i]
            a.pointee.tiers![k] = b.pointee.tiers![i]
            (a.pointee.frequencies! + k * phrases).initialize(from: b.pointee.frequencies! + i * phrases, count: phrases)
            a.pointee.facets.add(pageBases[Int(rowid >> SearchCatalog.Page.shift)]![Int(rowid) & (SearchCatalog.Page.size - 1)])
            a.pointee.kept = k + 1
        }
    }

    /// bm25 of every kept row (higher is better; FTS5's bm25() returns the negation), with the
    /// ranking's `b` and column weights.
    func scores() -> [Double] {
        let a = acc.pointee
        let phrases = a.phrases
        let hits = phrases > 1 ? phraseHits : [a.matched]
        let n = Double(a.rowCount)
        let idf = hits.map { h -> Double in
            let v = log((n - Double(h) + 0.5) / (Double(h) + 0.5))
            return v <= 0 ? 1e-6 : v
        }
        let k1 = 1.2, b = ranking.b
        var out = [Double](repeating: 0, count: a.kept)
        guard let lengths = a.lengths, let frequencies = a.frequencies else { return out }
        for r in 0..<a.kept {
            let norm = k1 * (1 - b + b * Double(lengths[r]) / a.averageLength)
            var s = 0.0
            for p in 0..<phrases {
                let f = frequencies[r * phrases + p]
                s += idf[p] * (f * (k1 + 1)) / (f + norm)
            }
            out[r] = s
        }
        return out
    }

    /// Registers `tong_scan` on a connection.
    static func register(_ db: Database) throws {
        let api = FTS5.api(db)
        let rc = api.pointee.xCreateFunction(
            UnsafeMutablePointer(mutating: api), functionName, nil,
            { pApi, pFts, ctx, nVal, apVal in
                guard let api = pApi, let fts = pFts, nVal == 1, let arg = apVal?[0],
                    let raw = sqlite3_value_pointer(arg, SearchScan.pointerType.utf8Start)
                else {
                    sqlite3_result_error(ctx, "tong_scan: no scan context", -1)
                    return
                }
                // `run` keeps the scan alive while FTS5 calls back (`withExtendedLifetime`): no retain per row.
                let failure = Unmanaged<SearchScan>.fromOpaque(raw)._withUnsafeGuaranteedRef { scan in
                    scan.visit(api, fts)
                    return scan.acc.pointee.failure
                }
                if failure != SQLITE_OK { sqlite3_result_error_code(ctx, failure) }
            }, nil)
        guard rc == SQLITE_OK else { throw StoreError(.unusable, "cannot register the \(functionName) function (\(rc))") }
    }

    /// Runs the pass for `match` on `db`, over the rows below `below` when given (a split's
    /// second pass). A first pass with a split waits for the second and takes its rows.
    /// - Throws: `DatabaseError` from SQLite, from either pass.
    func run(_ db: Database, match: String, below: Int64? = nil) throws {
        do {
            try walk(db, match: match, below: below)
        } catch {
            if let split, !isSecond { _ = try? split.join(firstOverflowed: true) }
            throw error
        }
        if let split, !isSecond, let other = try split.join(firstOverflowed: acc.pointee.overflow) { absorb(other) }
    }

    /// Walks FTS5's matches with `above < rowid < below` (either bound optional).
    func walk(_ db: Database, match: String, below: Int64?, above: Int64? = nil) throws {
        // Newest first, so that a capped pass keeps the newest matches.
        let range = (below == nil ? "" : " AND rowid < ?3") + (above == nil ? "" : " AND rowid > ?4")
        let statement = try db.makeStatement(
            sql: "SELECT \(Self.functionName)(text_fts, ?) FROM text_fts WHERE text_fts MATCH ?\(range) ORDER BY rowid DESC")
        let handle = statement.sqliteStatement
        defer { sqlite3_reset(handle); sqlite3_clear_bindings(handle) }
        let context = Unmanaged.passUnretained(self).toOpaque()
        var rc = sqlite3_bind_pointer(handle, 1, context, Self.pointerType.utf8Start, nil)
        guard rc == SQLITE_OK else { throw DatabaseError(resultCode: ResultCode(rawValue: rc), message: "cannot bind the scan context") }
        rc = match.withCString { sqlite3_bind_text(handle, 2, $0, -1, SQLITE_TRANSIENT) }
        guard rc == SQLITE_OK else { throw DatabaseError(resultCode: ResultCode(rawValue: rc), message: "cannot bind the query") }
        for (index, bound) in [(Int32(3), below), (4, above)] {
            guard let bound else { continue }
            rc = sqlite3_bind_int64(handle, index, bound)
            guard rc == SQLITE_OK else { throw DatabaseError(resultCode: ResultCode(rawValue: rc), message: "cannot bind the range") }
        }
        acc.pointee.startNanos = DispatchTime.now().uptimeNanoseconds
        try withExtendedLifetime(self) {
            while true {
                rc = sqlite3_step(handle)
                if rc == SQLITE_ROW {
                    if acc.pointee.overflow || acc.pointee.stopped { return }
                    continue
                }
                if rc == SQLITE_DONE { return }
                throw DatabaseError(resultCode: ResultCode(rawValue: rc), message: String(cString: sqlite3_errmsg(db.sqliteConnection)))
            }
        }
    }
}

private let SQLITE_TRANSIENT = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

/// How search results are ordered. `tong` is what the node uses; `fts5` reproduces FTS5's own
/// `bm25(text_fts, 10, 5, 1, 3)` order (the reference the scan is tested against, and the
/// "before" of docs/performance.md's judged set).
struct SearchRanking: Sendable {
    /// bm25's length normalisation (0: none, 1: full). FTS5 uses 0.75.
    var b: Double
    /// Weights of the columns title, doc_number, body, tags.
    var weights: [Double]
    /// Exact document number first, then documents whose title holds every term, then the rest
    /// (bm25 orders within a tier), and a term found only inside one longer compound (土地增值税
    /// for 增值税) after a standalone one in the same tier.
    var tiers: Bool

    /// FTS5's bm25 with the weights Tong always used.
    static let fts5 = SearchRanking(b: 0.75, weights: [10, 5, 1, 3], tiers: false)
    /// Tong's ranking: tiers; b = 0.3 and a title weight of 2 inside a tier (the tier already
    /// says the title matched), so that a long core document that uses the term throughout is
    /// not outranked by short summaries that mention it once (judged set: docs/performance.md).
    static let tong = SearchRanking(b: 0.3, weights: [2, 5, 1, 3], tiers: true)
}
