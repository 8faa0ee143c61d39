import Foundation
import GRDB
import Testing

@testable import TongCore
@testable import TongStore

/// The in-memory search path (catalog + `tong_scan`) must give exactly what plain SQL over the
/// projection tables and FTS5's own bm25() give: same totals, same facets, same order.
@Suite struct SearchCatalogTests {
    static let words = ["企业", "社保", "缓缴", "补贴", "租金", "减免", "贷款", "稳岗", "增值税", "复工复产", "小微", "个体工商户", "LPR", "5G"]
    static let regions = ["330000", "330100", "330106", "330200", "330203"]
    static let themes = Theme.allCases.map(\.rawValue)

    /// A seeded corpus with varied lengths, so bm25's length normalisation and IDF matter.
    static func corpus(_ n: Int, seed: UInt64) -> [LocalWrite] {
        var rng = SplitMix64(seed: seed)
        func next(_ bound: Int) -> Int { rng.below(bound) }
        func text(_ count: Int) -> String { (0..<count).map { _ in words[next(words.count)] + ["的", "，", "和", " ", "。"][next(5)] }.joined() }
        return (0..<n).map { i in
            var w = policy(
                text(1 + next(4)), body: text(next(40)), themes: [themes[next(themes.count)], themes[next(themes.count)]],
                region: regions[next(regions.count)])
            w.fields["issued_on"] = .string(String(format: "2022-%02d-%02d", 1 + next(12), 1 + next(28)))
            w.fields["tags"] = .strings([words[next(words.count)]])
            w.fields["audiences"] = .strings([["micro", "small", "individual"][next(3)]])
            if i % 7 == 3 { w.fields["status"] = "withdrawn" }
            return w
        }
    }

    /// What the search must return, from SQL over the tables (no catalog involved).
    static func expected(_ db: TongDatabase, _ req: SearchRequest) throws -> (
        ids: [Int64], total: Int, themes: [String: Int], regions: [String: Int], departments: [String: Int]
    ) {
        var conditions: [String] = [], args: [any DatabaseValueConvertible] = []
        let match = SearchQuery.match(for: req.q)
        var from = "policy_index p"
        if let match { from = "text_fts JOIN policy_index p ON p.rowid = text_fts.rowid"; conditions.append("text_fts MATCH ?"); args.append(match) }
        if let t = req.theme { conditions.append("(p.themes & ?) != 0"); args.append(Theme(rawValue: t)?.bit ?? 0) }
        if let a = req.audience { conditions.append("(p.audiences & ?) != 0"); args.append(Audience(rawValue: a)?.bit ?? 0) }
        if let d = req.department { conditions.append("p.department = ?"); args.append(d) }
        if let s = req.status { conditions.append("p.status = ?"); args.append(s) }
        if let r = req.region {
            let (lo, hi) = TongDatabase.regionRange(r)
            conditions.append("p.region >= ? AND p.region < ?"); args += [lo, hi]
        }
        let whereSQL = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
        let order = match == nil ? "p.issued_on DESC, p.rowid DESC" : "bm25(text_fts, 10.0, 5.0, 1.0, 3.0), p.rowid DESC"
        return try db.pool.read { d in
            let ids = try Int64.fetchAll(d, sql: "SELECT p.rowid FROM \(from) \(whereSQL) ORDER BY \(order)", arguments: StatementArguments(args))
            var themes: [String: Int] = [:], regions: [String: Int] = [:], departments: [String: Int] = [:]
            for row in try Row.fetchAll(
                d, sql: "SELECT p.region, p.department, p.themes FROM \(from) \(whereSQL)", arguments: StatementArguments(args))
            {
                regions[row[0], default: 0] += 1
                departments[row[1], default: 0] += 1
                for t in Theme.allCases where (row[2] as Int) & t.bit != 0 { themes[t.rawValue, default: 0] += 1 }
            }
            return (ids, ids.count, themes, regions, departments)
        }
    }

    static func requests() -> [SearchRequest] {
        var out: [SearchRequest] = []
        for q in ["", "企业", "社保", "社保 缓缴", "复工复产", "增值税 补贴 稳岗", "社", "lpr", "5g 贷款", "不存在的词"] {
            for f in 0..<6 {
                var r = SearchRequest()
                r.q = q
                r.limit = 100
                // The scan must reproduce FTS5's own bm25 order exactly; Tong's tiers are tested
                // in SearchFidelityTests.
                r.ranking = .fts5
                switch f {
                case 1: r.region = "330100"
                case 2: r.theme = "social_insurance"; r.status = "active"
                case 3: r.audience = "micro"; r.region = "330000"
                case 4: r.department = "330000-hrss"; r.status = "withdrawn"
                case 5: r.region = "330106"; r.theme = "rent_relief"
                default: break
                }
                out.append(r)
            }
        }
        return out
    }

    @Test func matchesPlainSQLAndFTS5Bm25() throws {
        let db = try TongDatabase(path: tempDir() + "/t.sqlite", nodeID: "330000", now: 1)
        // Several transactions, so the catalog spans pages published by different commits.
        for chunk in 0..<4 {
            _ = try db.write(Self.corpus(150, seed: UInt64(chunk + 1)), signer: signer("330000"), topology: storeTopology, now: 2)
        }
        var compared = 0
        for req in Self.requests() {
            let want = try Self.expected(db, req)
            let got = try db.search(req)
            #expect(got.total == want.total, "total of \(req.q) \(req.region ?? "") \(req.theme ?? "")")
            #expect(got.hits.map(\.record.rowid) == Array(want.ids.prefix(100)), "order of \(req.q) \(req.region ?? "") \(req.theme ?? "")")
            #expect(got.themeFacets == want.themes)
            #expect(got.regionFacets == want.regions)
            #expect(got.departmentFacets == want.departments)
            // A later page continues the same order.
            var next = req
            next.offset = 7
            next.limit = 5
            #expect(try db.search(next).hits.map(\.record.rowid) == Array(want.ids.dropFirst(7).prefix(5)))
            compared += want.total
        }
        #expect(compared > 1_000)  // the requests do find things
    }

    /// Filters also travel to FTS5 as hidden tokens (`SearchFacets`): exact, so every row FTS5
    /// hands the scan passes the filter, and narrower than the words alone.
    @Test func filterTokensAreExactAndNarrowTheMatches() throws {
        let db = try TongDatabase(path: tempDir() + "/t.sqlite", nodeID: "330000", now: 1)
        for chunk in 0..<4 {
            _ = try db.write(Self.corpus(150, seed: UInt64(chunk + 11)), signer: signer("330000"), topology: storeTopology, now: 2)
        }
        var checked = 0
        for q in ["企业", "社保 缓缴", "lpr", "复工复产"] {
            for f in 0..<6 {
                var r = SearchRequest()
                r.q = q
                switch f {
                case 0: r.region = "330000"
                case 1: r.region = "330100"
                case 2: r.region = "330203"; r.theme = "social_insurance"
                case 3: r.audience = "micro"
                case 4: r.department = "330000-hrss"
                default: r.theme = "rent_relief"; r.audience = "individual"; r.region = "330200"
                }
                let snapshot = db.catalog.snapshot()
                let filter = SearchFilter(r, kind: .policy, snapshot: snapshot)
                let match = try #require(SearchQuery.match(for: q))
                let clause = SearchFacets.clause(r, filter: filter, snapshot: snapshot, maxShare: 1)
                #expect(clause.phrases > 0)
                // Left out when carried by most rows: the whole province (every row here).
                let selective = SearchFacets.clause(r, filter: filter, snapshot: snapshot)
                #expect(selective.text.contains("xrp33") == false)
                if f == 1 || f == 2 { #expect(selective.text.contains(f == 1 ? "xrc3301" : "xre330203")) }
                let narrowed = SearchScan(snapshot: snapshot, filter: filter, facetPhrases: clause.phrases)
                let plain = SearchScan(snapshot: snapshot, filter: filter)
                try db.pool.read { d in
                    try narrowed.run(d, match: "(\(match))" + clause.text)
                    try plain.run(d, match: match)
                }
                #expect(narrowed.matched == narrowed.count, "\(q) #\(f): FTS5 handed rows the filter rejects")
                #expect(narrowed.count == plain.count, "\(q) #\(f)")
                #expect(Set((0..<narrowed.count).map(narrowed.rowid)) == Set((0..<plain.count).map(plain.rowid)))
                // Not for the whole province (330000 is every region here) nor the one department the corpus has.
                if f != 0, f != 4 { #expect(narrowed.matched < plain.matched, "\(q) #\(f): the tokens did not narrow") }
                checked += narrowed.count
            }
        }
        #expect(checked > 100)
        // The hidden tokens are not words: typing one finds nothing (every row carries xrp33).
        var byDepartment = SearchRequest()
        byDepartment.department = "330000-hrss"
        let snapshot = db.catalog.snapshot()
        let departmentTokens = SearchFacets.required(
            byDepartment, filter: SearchFilter(byDepartment, kind: .policy, snapshot: snapshot), snapshot: snapshot
        ).map(\.token)
        for token in ["xrp33", "xrc3301", "xre330106", "xt0", "xa0"] + departmentTokens {
            var r = SearchRequest()
            r.q = token
            #expect(try db.search(r).total == 0, "\(token) was found as a word")
        }
        // And through `search`, with the tokens on and off, the same answers.
        for var r in Self.requests() {
            let on = try db.search(r)
            r.facetTokens = false
            let off = try db.search(r)
            #expect(on.total == off.total && on.hits.map(\.record.rowid) == off.hits.map(\.record.rowid))
        }
    }

    @Test func followsEditsAndIsRebuiltOnOpen() throws {
        let path = tempDir() + "/t.sqlite"
        var db = try TongDatabase(path: path, nodeID: "330000", now: 1)
        let made = try db.write(Self.corpus(60, seed: 9), signer: signer("330000"), topology: storeTopology, now: 2)
        // Withdraw one policy and move another to a new theme and region: filters follow at once.
        var withdraw = LocalWrite(id: made[0].id, kind: .policy, owner: "330000", scope: .owned("330000"), fields: ["status": "withdrawn"])
        withdraw.mustExist = true
        let move = LocalWrite(
            id: made[1].id, kind: .policy, owner: "330000", scope: .owned("330000"),
            fields: ["themes": .strings(["utilities"]), "region": "330299", "title": "全新的标题水电气"])
        _ = try db.write([withdraw, move], signer: signer("330000"), topology: storeTopology, now: 3)
        var req = SearchRequest()
        req.region = "330299"
        let moved = try db.search(req)
        #expect(moved.hits.map(\.record.state.id) == [made[1].id])
        #expect(moved.themeFacets == ["utilities": 1])
        req = SearchRequest()
        req.q = "水电气"
        #expect(try db.search(req).hits.map(\.record.state.id) == [made[1].id])
        Self.expectCountsMatchEntries(db.catalog.snapshot())
        let before = try Self.requests().map { try db.search($0) }
        for (r, got) in zip(Self.requests(), before) {
            let want = try Self.expected(db, r)
            #expect(got.total == want.total)
            #expect(got.hits.map(\.record.rowid) == Array(want.ids.prefix(100)))
        }
        // Reopened: the catalog is rebuilt from the tables and answers the same.
        try db.close()
        db = try TongDatabase(path: path, nodeID: "330000", now: 4)
        Self.expectCountsMatchEntries(db.catalog.snapshot())
        for (r, old) in zip(Self.requests(), before) {
            let new = try db.search(r)
            #expect(new.total == old.total)
            #expect(new.hits.map(\.record.rowid) == old.hits.map(\.record.rowid))
            #expect(new.regionFacets == old.regionFacets && new.themeFacets == old.themeFacets && new.departmentFacets == old.departmentFacets)
        }
    }

    /// The catalog's running counts (filter selectivity) equal a count of its present entries.
    static func expectCountsMatchEntries(_ snapshot: SearchCatalog.Snapshot) {
        var present = 0, regions: [Int: Int] = [:], themes = [Int](repeating: 0, count: 32)
        for page in snapshot.pages.compactMap({ $0 }) {
            for slot in 0..<SearchCatalog.Page.size where page.entries[slot].isPresent {
                let e = page.entries[slot]
                present += 1
                regions[Int(e.region), default: 0] += 1
                for b in 0..<32 where e.themes & (1 << b) != 0 { themes[b] += 1 }
            }
        }
        #expect(present > 0 && snapshot.present == present)
        #expect(snapshot.regionCounts.enumerated().filter { $0.element != 0 }.count == regions.count)
        for (r, n) in regions { #expect(snapshot.regionCounts[r] == n) }
        #expect(snapshot.themeCounts == themes)
    }

    @Test func aRolledBackTransactionPublishesNothing() throws {
        let db = try TongDatabase(path: tempDir() + "/t.sqlite", nodeID: "330000", now: 1)
        struct Abort: Error {}
        var state = RecordState(id: "330000-p1", kind: .policy, owner: "330000")
        state.apply(
            Change(
                record: state.id, kind: .policy, owner: "330000", counter: 1, at: 1, context: VersionVector(),
                fields: ["title": "缓缴社保费", "region": "330000", "department": "330000-hrss"]), origin: "330000")
        #expect(throws: Abort.self) {
            try db.pool.write { d in
                let rowid = try TongDatabase.save(d, state, rowid: nil, previous: nil, now: 1, catalog: db.catalog)
                #expect(rowid > 0)
                throw Abort()
            }
        }
        #expect(db.catalog.snapshot().pages.allSatisfy { $0 == nil })
        #expect(try db.search(SearchRequest()).total == 0)
        // The next transaction that commits publishes only its own rows.
        _ = try db.write([policy("租金减免", body: "减免房租")], signer: signer("330000"), topology: storeTopology, now: 2)
        #expect(try db.search(SearchRequest()).total == 1)
    }

    @Test func docsizeVarintsAndDates() {
        #expect(SearchCatalog.tokenCount(Data([3, 0, 0x81, 0x00, 2])) == 3 + 0 + 128 + 2)
        #expect(SearchCatalog.tokenCount(Data()) == 0)
        #expect(SearchCatalog.day("2024-03-01") == 20_240_301)
        #expect(SearchCatalog.day("2024-3-1") == 0)
        #expect(SearchCatalog.day("") == 0)
        #expect(SearchCatalog.day("２０２４-03-01") == 0)
    }

    @Test func topSelectsLikeAFullSort() {
        var rng = SplitMix64(seed: 42)
        let values = (0..<5_000).map { _ in rng.below(1 << 14) }  // many ties, so the tie-break matters
        let better: (Int, Int) -> Bool = { values[$0] != values[$1] ? values[$0] > values[$1] : $0 < $1 }
        let sorted = (0..<values.count).sorted(by: better)
        for (offset, limit) in [(0, 20), (40, 20), (0, 1), (4_990, 20), (0, 0), (6_000, 10), (100, 3_000)] {
            let want = Array(sorted.dropFirst(offset).prefix(limit))
            #expect(TongDatabase.top(values.count, offset: offset, limit: limit, by: better) == want)
        }
    }
}
