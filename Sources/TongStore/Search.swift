import Foundation
import GRDB
import TongCore

/// A policy or service-item search: free text plus filters. Any input is safe.
public struct SearchRequest: Sendable {
    /// Free text, Chinese or Latin.
    public var q: String = ""
    /// Theme code filter.
    public var theme: String?
    /// Region filter: a division code; a province or city code also matches the regions under it.
    public var region: String?
    /// Department id filter.
    public var department: String?
    /// Audience code filter.
    public var audience: String?
    /// Status filter: `active` (not withdrawn, whatever the dates), `withdrawn`, or a validity
    /// computed on `today`: `in_force` (现行有效), `expired` (已失效), `not_yet` (尚未生效).
    public var status: String?
    /// The day validity is computed for (`YYYY-MM-DD`, the Beijing date; see
    /// `SimpleDate(beijingMillis:)`). Required by the three validity statuses: without it they match nothing.
    public var today: String?
    /// Every status value the filter accepts.
    public static let statuses: [String] = ["active", "withdrawn", "in_force", "expired", "not_yet"]
    /// Page size; above `maxLimit` the page is `maxLimit` long (not an error).
    public var limit: Int = 20
    /// The largest page a search answers.
    public static let maxLimit = 100
    /// How hits are ordered (tests compare against FTS5's own order with `.fts5`).
    var ranking = SearchRanking.tong
    /// Full-text totals are exact up to this many matches (the contract asks for at least
    /// 10,000); past it the pass stops, `total` is this lower bound and `totalExact` is false.
    public static let exactTotalCap = 10_000
    /// The cap this request uses (tests lower it).
    var totalCap = SearchRequest.exactTotalCap
    /// Page start.
    public var offset: Int = 0
    /// Whether a long full-text pass may be split over two cores (`SearchScanSplit`): `.auto`
    /// on a machine with more than one core; tests compare `.never` with `.always`, which
    /// splits whatever the estimate and the cores, and lets the second pass begin before the
    /// first one walks on.
    var splitPass = SearchSplitMode.auto
    /// Rows a split's first pass keeps before it estimates the rest (`SearchScanSplit`); tests
    /// lower it on small corpora.
    var splitProbeRows = SearchScanSplit.probeRows
    /// Whether filters also go to FTS5 as hidden tokens (`SearchFacets`); tests turn it off to
    /// compare with the catalog-only pass.
    var facetTokens = true
    /// Whether a query the postings can answer (`Postings.walks`) walks the sealed postings
    /// (`PostingsSegment`) where there are some; tests and the bench turn it off to compare with
    /// FTS5 alone.
    package var postings = true
    /// Makes an empty request (everything, newest first).
    public init() {}
}

/// When a search may split its full-text pass over two cores (`SearchScanSplit`).
enum SearchSplitMode: Sendable {
    case auto, never, always
}

/// One search hit.
public struct SearchHit: Sendable {
    /// The record.
    public var record: StoredRecord
    /// Title with matches wrapped in `SearchHit.markOpen` / `markClose`.
    public var titleMarked: String?
    /// A body excerpt with matches wrapped the same way.
    public var snippetMarked: String?
    /// Private-use characters that bracket matches; the HTTP layer escapes the text, then
    /// turns these into `<mark>` tags, so replicated text can never inject markup.
    public static let markOpen = "\u{E000}", markClose = "\u{E001}"
}

/// The result of a search.
public struct SearchResult: Sendable {
    /// Number of matching records; a lower bound when `totalExact` is false.
    public var total: Int
    /// The requested page.
    public var hits: [SearchHit]
    /// Counts per theme code over all matches.
    public var themeFacets: [String: Int]
    /// Counts per region code over all matches.
    public var regionFacets: [String: Int]
    /// Counts per department over all matches.
    public var departmentFacets: [String: Int]
    /// Counts per validity (`in_force`, `not_yet`, `expired`, `withdrawn`) over all matches, on
    /// the request's `today`; empty without it.
    public var validityFacets: [String: Int] = [:]
    /// False when more than `SearchRequest.exactTotalCap` records matched the words: then
    /// `total` and the facet counts are lower bounds, taken over the newest matches, and the
    /// hits are the best of those (the contract's `"total_exact": false`).
    public var totalExact = true
}

extension TongDatabase {
    /// Searches policies (`kind == .policy`) or service items.
    ///
    /// Free text goes to FTS5; everything else (filters, exact total, facets, ranking, newest
    /// first) is computed from the in-memory `SearchCatalog` in the same pass, so a word found
    /// in every policy costs one walk over its doclist and no per-row table reads.
    public func search(_ req: SearchRequest, kind: RecordKind = .policy) throws -> SearchResult {
        let empty = SearchResult(total: 0, hits: [], themeFacets: [:], regionFacets: [:], departmentFacets: [:])
        let match = SearchQuery.match(for: req.q).map(SearchQuery.visible)
        if !req.q.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty, match == nil {
            // Nothing searchable (only punctuation, say): an honest empty answer.
            return empty
        }
        let limit = max(0, min(req.limit, SearchRequest.maxLimit))
        let offset = max(0, min(req.offset, 100_000))
        // Taken before the read transaction starts: the catalog only ever publishes committed
        // rows, so every row it holds is visible to the read below.
        let snapshot = catalog.snapshot()
        let filter = SearchFilter(req, kind: kind, snapshot: snapshot)
        if filter.impossible { return empty }
        try repairIndexIfBehind()  // and waits for a received batch's index commit (SearchIndexWriter)
        return try pool.read { db in
            var facets: FacetCounts
            var page: [Int64] = []
            var exact = true
            if let match {
                // Filters as hidden tokens too: FTS5 intersects them with the words (SearchFacets).
                let facetTokens = req.facetTokens ? SearchFacets.tokens(req, filter: filter, snapshot: snapshot) : []
                let clause = SearchFacets.clause(tokens: facetTokens)
                let text = clause.phrases > 0 ? "(\(match))" + clause.text : match
                let running = searchesRunning.add(1, ordering: .relaxed).newValue
                defer { searchesRunning.subtract(1, ordering: .relaxed) }
                // A query the postings answer as FTS5 would (`Postings.walks`) walks the sealed
                // postings where there are some, and FTS5 for the rest; anything else walks FTS5
                // alone, on both cores when it is long.
                let terms = SearchQuery.terms(for: req.q)
                let phrases = req.postings && !terms.contains(where: \.prefix) ? terms.map { Postings.queryTokens($0.text) } : []
                let walksPostings = Postings.walks(phrases, query: req.q)
                let pieces = walksPostings ? try PostingsSegment.pieces(db) : nil
                let scan: SearchScan
                let splits = req.splitPass == .always || (req.splitPass == .auto && running == 1 && Self.cores > 1)
                if let pieces {
                    let cap = max(1, req.totalCap), ranking = req.ranking
                    scan = SearchScan(snapshot: snapshot, filter: filter, ranking: ranking, cap: cap, facetPhrases: clause.phrases)
                    // The filter tokens FTS5 intersects (the tokenizer keeps at most 128 bytes of a word).
                    let filterTokens = facetTokens.filter { $0.utf8.count <= BigramTokenizer.maxWordBytes }
                    // Two segments at once on two cores, under the same rule as a split FTS5 pass.
                    let helper = splits ? { SearchScan(snapshot: snapshot, filter: filter, ranking: ranking, cap: cap, second: true) } : nil
                    try scan.runPieces(
                        db, phrases: phrases, filterTokens: filterTokens.map { Array($0.utf8) }, match: text, pieces: pieces, helper: helper)
                    searchPostingPasses.add(1, ordering: .relaxed)
                } else {
                    let split = splits ? secondPass(snapshot, filter, req, clause.phrases, text) : nil
                    scan = SearchScan(
                        snapshot: snapshot, filter: filter, ranking: req.ranking, cap: max(1, req.totalCap), facetPhrases: clause.phrases,
                        split: split)
                    try scan.run(db, match: text)
                }
                facets = scan.facets
                exact = !scan.overflowed
                let scores = scan.scores()
                let better: (Int, Int) -> Bool = { i, j in
                    let ti = scan.tier(i), tj = scan.tier(j)
                    if ti != tj { return ti > tj }
                    return scores[i] != scores[j] ? scores[i] > scores[j] : scan.rowid(i) > scan.rowid(j)
                }
                let compoundTerm = req.ranking.tiers ? SearchQuery.singleCJKTerm(req.q) : nil
                if let term = compoundTerm {
                    // The best `compoundWindow` hits are always the same rows, whatever the page:
                    // in each tier of that window, rows that hold the term only inside a compound
                    // go after the rest; past the window the ranking's order stands. So every page
                    // is a slice of one order. Rows are checked only as far as the page reaches
                    // into the window (the same order as checking it all: a tier's unchecked rows
                    // could only come later).
                    let window = Self.top(scores.count, offset: 0, limit: Self.compoundWindow, by: better)
                    let need = min(offset + limit, window.count)
                    var ordered: [Int] = []
                    var i = 0
                    while i < window.count, ordered.count < need {
                        let tier = scan.tier(window[i])
                        var compounds: [Int] = []
                        while i < window.count, scan.tier(window[i]) == tier, ordered.count < need {
                            if try Self.onlyInCompounds(db, rowid: scan.rowid(window[i]), term: term) {
                                compounds.append(window[i])
                            } else {
                                ordered.append(window[i])
                            }
                            i += 1
                        }
                        if ordered.count < need { ordered += compounds }
                    }
                    let head = ordered.count > offset ? Array(ordered[offset..<min(ordered.count, offset + limit)]) : []
                    let from = max(offset, window.count)
                    let tail = offset + limit > from ? Self.top(scores.count, offset: from, limit: offset + limit - from, by: better) : []
                    page = (head + tail).map { scan.rowid($0) }
                } else {
                    page = Self.top(scores.count, offset: offset, limit: limit, by: better).map { scan.rowid($0) }
                }
            } else {
                // Policies newest first by date of issue, service items newest first by arrival.
                let walk = Self.walk(snapshot, filter: filter, keep: offset + limit, byDate: kind == .policy)
                facets = walk.facets
                page = Array(walk.best.dropFirst(offset).prefix(limit))
            }
            // Mark-up only for the page, from each hit's own text (SearchMarkup: FTS5's
            // highlight()/snippet() would run the phrase query again for every row).
            let markup = match == nil ? nil : SearchMarkup(query: req.q)
            // Rows read here, decoded and marked up on both cores (20 hits: about 1 ms of CPU).
            let rows = try page.compactMap { try Self.raw(db, rowid: $0) }
            let hits = try rows.concurrentMap(minimumCount: 4) { row in
                Result { () throws -> SearchHit in
                    let rec = try row.decode()
                    var hit = SearchHit(record: rec, titleMarked: nil, snippetMarked: nil)
                    if let markup, let text = Projection.searchText(rec.state) {
                        hit.titleMarked = markup.highlight(text.title)
                        hit.snippetMarked = markup.snippet(text.body)
                    }
                    return hit
                }
            }.map { try $0.get() }
            var themes: [String: Int] = [:], regions: [String: Int] = [:], departments: [String: Int] = [:]
            for t in Theme.allCases {
                let n = facets.themes[t.bit.trailingZeroBitCount]
                if n > 0 { themes[t.rawValue] = n }
            }
            for (id, n) in facets.regions.enumerated() where n > 0 { regions[snapshot.regions[id], default: 0] += n }
            let topDepartments = facets.departments.enumerated().filter { $0.element > 0 }
                .sorted { $0.element != $1.element ? $0.element > $1.element : snapshot.departments[$0.offset] < snapshot.departments[$1.offset] }
                .prefix(50)
            for (id, n) in topDepartments { departments[snapshot.departments[id]] = n }
            var validity: [String: Int] = [:]
            if facets.day != 0 {
                let order: [PolicyValidity.State] = [.inForce, .notYet, .expired, .withdrawn]
                for (i, state) in order.enumerated() { validity[state.rawValue] = facets.validity[i] }
            }
            return SearchResult(
                total: facets.total, hits: hits, themeFacets: themes, regionFacets: regions, departmentFacets: departments,
                validityFacets: validity, totalExact: exact)
        }
    }

    /// Cores this process may run on.
    static let cores = ProcessInfo.processInfo.activeProcessorCount

    /// A split whose second pass runs on a global dispatch thread with a reader of its own.
    func secondPass(
        _ snapshot: SearchCatalog.Snapshot, _ filter: SearchFilter, _ req: SearchRequest, _ facetPhrases: Int, _ match: String
    ) -> SearchScanSplit {
        let ranking = req.ranking, cap = max(1, req.totalCap)
        let minimum = req.splitPass == .always ? 0 : SearchScanSplit.minimumMilliseconds
        return SearchScanSplit(probeRows: req.splitProbeRows, minimumMilliseconds: minimum) { [self] split in
            searchSplits.add(1, ordering: .relaxed)
            DispatchQueue.global(qos: .userInitiated).async { [pool, self] in
                do {
                    let walked = try pool.read { db in
                        split.walk(on: db, match: match) {
                            SearchScan(
                                snapshot: snapshot, filter: filter, ranking: ranking, cap: cap, facetPhrases: facetPhrases, split: split,
                                second: true)
                        }
                    }
                    if walked { searchSplitsWalked.add(1, ordering: .relaxed) }
                } catch {
                    split.launchFailed()
                }
            }
            if req.splitPass == .always { split.waitUntilBegun() }
        }
    }

    /// A search without words: every catalog entry the filter accepts is counted into the
    /// facets, and the best `keep` (newest first) are kept, in page order. The pages are split
    /// between the cores (`concurrentMap`: two halves walked at once, each with its own counts,
    /// merged after), since at a million rows the walk is the whole cost of the request.
    static func walk(_ snapshot: SearchCatalog.Snapshot, filter: SearchFilter, keep: Int, byDate: Bool) -> (facets: FacetCounts, best: [Int64]) {
        let workers = max(1, min(cores, snapshot.pages.count / 16))
        let parts = Array(0..<workers).concurrentMap(minimumCount: 2) { w -> (FacetCounts, [Int64], [Int32]) in
            var facets = FacetCounts(snapshot, day: filter.countDay)
            var rowids: [Int64] = [], issued: [Int32] = []
            // Locals, so the loop reads plain values (no reference counting per entry).
            let attributes = filter.attributes
            let regions = filter.regions ?? []
            let anyRegion = filter.regions == nil
            for p in stride(from: w, to: snapshot.pages.count, by: workers) {
                guard let entries = snapshot.pages[p]?.entries else { continue }
                let base = Int64(p << SearchCatalog.Page.shift)
                for slot in 0..<SearchCatalog.Page.size {
                    let e = entries[slot]
                    guard e.isPresent, attributes.accepts(e), anyRegion || regions[Int(e.region)] else { continue }
                    facets.add(e)
                    rowids.append(base + Int64(slot))
                    issued.append(e.issued)
                }
            }
            let best = top(rowids.count, offset: 0, limit: keep) { i, j in
                byDate && issued[i] != issued[j] ? issued[i] > issued[j] : rowids[i] > rowids[j]
            }
            return (facets, best.map { rowids[$0] }, best.map { issued[$0] })
        }
        var facets = parts[0].0
        for part in parts.dropFirst() { facets.merge(part.0) }
        let rowids = parts.flatMap(\.1), issued = parts.flatMap(\.2)
        let best = top(rowids.count, offset: 0, limit: keep) { i, j in
            byDate && issued[i] != issued[j] ? issued[i] > issued[j] : rowids[i] > rowids[j]
        }
        return (facets, best.map { rowids[$0] })
    }

    /// How many of the best hits are checked for compound-only matches: always the same rows,
    /// so that every page is a slice of one order (past them the bm25/tier order stands).
    static let compoundWindow = 50

    /// Whether `term` occurs in the row's title and body (first 3,000 characters) only inside
    /// one longer word: at least two occurrences, and at least 80% of them right after the same
    /// CJK character (土地增值税, 土地增值税 … for 增值税). A heuristic without a dictionary: a
    /// standalone word is preceded by varied characters (关于增值税, 免征增值税, 的增值税).
    static func onlyInCompounds(_ db: Database, rowid: Int64, term: String) throws -> Bool {
        // From the record (the index keeps no copy of the text); JSON read by SQLite, not decoded whole.
        let statement = try db.cachedStatement(
            sql: """
                SELECT coalesce(json_extract(doc, '$.title'), json_extract(doc, '$.name')), substr(json_extract(doc, '$.body'), 1, 3000)
                FROM record WHERE rowid = ?
                """)
        guard let row = try Row.fetchOne(statement, arguments: [rowid]) else { return false }
        let title: String = row[0] ?? "", body: String = row[1] ?? ""
        return onlyInCompounds(text: title + "\n" + body, term: term)
    }

    /// The text-level test of `onlyInCompounds(_:rowid:term:)`; `term` is already folded.
    static func onlyInCompounds(text: String, term: String) -> Bool {
        let hay = TextFold.foldScalars(text), needle = term.unicodeScalars.map(\.value)
        guard !needle.isEmpty, hay.count >= needle.count else { return false }
        var occurrences = 0
        var before: [UInt32: Int] = [:]
        var i = 0
        while i + needle.count <= hay.count {
            if hay[i] == needle[0], hay[i..<i + needle.count].elementsEqual(needle) {
                occurrences += 1
                if i > 0, BigramTokenizer.charClass(hay[i - 1]) == .cjk { before[hay[i - 1], default: 0] += 1 }
                i += needle.count
            } else {
                i += 1
            }
        }
        guard occurrences >= 2, let most = before.values.max() else { return false }
        return Double(most) >= 0.8 * Double(occurrences)
    }

    /// Indexes `offset ..< offset + limit` of `0 ..< n` in the order of `better`, without
    /// sorting all `n`: a bounded max-heap of the best `offset + limit` seen so far.
    static func top(_ n: Int, offset: Int, limit: Int, by better: (Int, Int) -> Bool) -> [Int] {
        let k = min(n, offset + limit)
        guard k > offset else { return [] }
        if n <= 4 * k { return Array((0..<n).sorted(by: better)[offset..<k]) }
        // heap[0] is the worst of the kept ones.
        var heap: [Int] = []
        heap.reserveCapacity(k)
        func siftDown(_ start: Int) {
            var i = start
            while true {
                let l = 2 * i + 1, r = l + 1
                var worst = i
                if l < heap.count, better(heap[worst], heap[l]) { worst = l }
                if r < heap.count, better(heap[worst], heap[r]) { worst = r }
                if worst == i { return }
                heap.swapAt(i, worst)
                i = worst
            }
        }
        for i in 0..<n {
            if heap.count < k {
                heap.append(i)
                var c = heap.count - 1
                while c > 0 {
                    let parent = (c - 1) / 2
                    guard better(heap[parent], heap[c]) else { break }
                    heap.swapAt(parent, c)
                    c = parent
                }
            } else if better(i, heap[0]) {
                heap[0] = i
                siftDown(0)
            }
        }
        return Array(heap.sorted(by: better)[offset..<k])
    }

    /// A province code matches its whole province, a city code its whole city; codes sort so
    /// that this is a range on the indexed column.
    static func regionRange(_ code: String) -> (String, String) {
        guard code.count == 6, code.allSatisfy(\.isASCII), let n = Int(code), code != "100000" else { return (code, code + "\u{1}") }
        if code.hasSuffix("0000") { return (code, String(format: "%06d", n + 10_000)) }
        if code.hasSuffix("00") { return (code, String(format: "%06d", n + 100)) }
        return (code, code + "\u{1}")
    }
}
