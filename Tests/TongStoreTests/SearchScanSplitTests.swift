import Foundation
import GRDB
import Synchronization
import Testing

@testable import TongCore
@testable import TongStore

/// A full-text pass split over two cores (`SearchScanSplit`) must answer exactly what one pass
/// answers: the same rows, totals, exactness, facets and order, whether it stops at the cap or
/// walks every match, and whether or not its second half ever starts.
@Suite struct SearchScanSplitTests {
    static func corpusDB() throws -> TongDatabase {
        let db = try TongDatabase(path: tempDir() + "/t.sqlite", nodeID: "330000", now: 1)
        for chunk in 0..<4 {
            _ = try db.write(SearchCatalogTests.corpus(300, seed: UInt64(chunk + 21)), signer: signer("330000"), topology: storeTopology, now: 2)
        }
        return db
    }

    /// A corpus, and what a first pass for `q` needs: a catalog snapshot, the filter, the MATCH text.
    static func wordPass(_ q: String) throws -> (TongDatabase, SearchCatalog.Snapshot, SearchFilter, String) {
        let db = try corpusDB()
        let snapshot = db.catalog.snapshot()
        var req = SearchRequest()
        req.q = q
        return (db, snapshot, SearchFilter(req, kind: .policy, snapshot: snapshot), try #require(SearchQuery.match(for: q)))
    }

    @Test func aSplitPassAnswersWhatOnePassAnswers() throws {
        let db = try Self.corpusDB()
        var compared = 0, overflowed = 0
        for base in SearchCatalogTests.requests() where !base.q.isEmpty {
            for (cap, ranking) in [(SearchRequest.exactTotalCap, SearchRanking.fts5), (60, .tong)] {
                var one = base
                one.totalCap = cap
                one.ranking = ranking
                one.today = "2022-06-01"
                one.splitPass = .never
                var two = one
                two.splitPass = .always
                two.splitProbeRows = 8
                let before = db.searchSplits.load(ordering: .relaxed)
                let a = try db.search(one), b = try db.search(two)
                let what = "\(base.q) region \(base.region ?? "-") theme \(base.theme ?? "-") cap \(cap)"
                #expect(b.total == a.total, "\(what)")
                #expect(b.totalExact == a.totalExact, "\(what)")
                #expect(b.hits.map(\.record.rowid) == a.hits.map(\.record.rowid), "\(what)")
                #expect(b.themeFacets == a.themeFacets && b.regionFacets == a.regionFacets, "\(what)")
                #expect(b.departmentFacets == a.departmentFacets && b.validityFacets == a.validityFacets, "\(what)")
                // Every pass that kept more than the probe launched a second pass.
                if a.total > two.splitProbeRows { #expect(db.searchSplits.load(ordering: .relaxed) == before + 1, "\(what)") }
                compared += a.total
                if !a.totalExact { overflowed += 1 }
            }
        }
        #expect(db.searchSplitsWalked.load(ordering: .relaxed) > 10)  // second passes did walk, not only get abandoned
        #expect(compared > 5_000)
        #expect(overflowed > 10)  // the caps were reached, so both halves' share of the cap was exercised
    }

    /// When the second pass never starts (every reader busy, say), the first pass abandons it
    /// at the boundary and walks on alone; nothing waits for it.
    @Test func aSecondPassThatNeverStartsIsAbandoned() throws {
        let (db, snapshot, filter, match) = try Self.wordPass("企业")
        let launched = Mutex(0)
        let split = SearchScanSplit(probeRows: 8, minimumMilliseconds: 0) { _ in launched.withLock { $0 += 1 } }
        let alone = SearchScan(snapshot: snapshot, filter: filter, split: split)
        let plain = SearchScan(snapshot: snapshot, filter: filter)
        try db.pool.read { d in
            try alone.run(d, match: match)
            try plain.run(d, match: match)
        }
        #expect(launched.withLock { $0 } == 1)
        #expect(split.current == .abandoned)
        #expect(plain.count > 100)
        #expect(alone.count == plain.count)
        #expect((0..<alone.count).map(alone.rowid) == (0..<plain.count).map(plain.rowid))
        #expect(alone.facets.total == plain.facets.total && alone.facets.regions == plain.facets.regions)
    }

    /// A second pass whose thread could not take a reader (`pool.read` threw before it began)
    /// leaves the first pass to walk on past the boundary: no older row may go missing.
    @Test func aSecondPassThatCouldNotTakeAReaderIsAbandoned() throws {
        let (db, snapshot, filter, match) = try Self.wordPass("企业")
        let split = SearchScanSplit(probeRows: 8, minimumMilliseconds: 0) { split in split.launchFailed() }
        let alone = SearchScan(snapshot: snapshot, filter: filter, split: split)
        let plain = SearchScan(snapshot: snapshot, filter: filter)
        try db.pool.read { d in
            try alone.run(d, match: match)
            try plain.run(d, match: match)
        }
        #expect(split.current == .abandoned)
        #expect(plain.count > 100)
        #expect(alone.count == plain.count && alone.overflowed == plain.overflowed)
        #expect((0..<alone.count).map(alone.rowid) == (0..<plain.count).map(plain.rowid))
    }

    /// A split and its second scan refer to each other while the second pass runs; once the
    /// search answered, both must be gone (they hold the catalog snapshot and, through the
    /// launcher, the store).
    @Test func aSplitIsReleasedAfterTheSearch() throws {
        let db = try Self.corpusDB()
        var req = SearchRequest()
        req.q = "企业"
        req.splitPass = .always
        req.splitProbeRows = 8
        weak var released: SearchScanSplit?
        var kept = 0
        do {
            let snapshot = db.catalog.snapshot()
            let filter = SearchFilter(req, kind: .policy, snapshot: snapshot)
            let match = try #require(SearchQuery.match(for: req.q))
            let split = db.secondPass(snapshot, filter, req, 0, match)
            released = split
            let scan = SearchScan(snapshot: snapshot, filter: filter, split: split)
            try db.pool.read { d in try scan.run(d, match: match) }
            kept = scan.count
            #expect(split.current == .running)  // the second pass did walk
        }
        #expect(kept > 100)
        // The second pass's thread lets go of the split a moment after it signalled.
        let deadline = Date().addingTimeInterval(5)
        while released != nil, Date() < deadline { Thread.sleep(forTimeInterval: 0.01) }
        #expect(released == nil, "the split (and its second scan) outlived the search")
    }

    /// Entries are 32 bytes, so none straddles two cache lines.
    @Test func catalogEntriesFitHalfACacheLine() {
        #expect(MemoryLayout<SearchCatalog.Entry>.stride == 32)
    }
}
