import Foundation
import GRDB
import Testing

@testable import TongCore
@testable import TongStore

/// Sealed postings (`PostingsSegment`) must answer exactly what FTS5 alone answers: the same
/// rows, totals, exactness, facets and order, for one-word queries with and without filters, at
/// the cap and below it; and after writes made a segment stale, both before and after it is
/// built again.
@Suite(.serialized) struct SearchPostingsTests {
    /// One-word queries; 第3条规定 holds a lone CJK character (第), which FTS5 also matches as the
    /// colocated end of 法第 in 本法第3条规定, so it walks FTS5 alone.
    /// Two-word queries of one token each walk the postings too (LPR 贴息); a longer word among
    /// several (社保 增值税) stays on FTS5.
    static let queries = [
        "企业", "社保", "复工复产", "个体工商户", "增值税", "lpr", "5g", "浙人社发", "不存在的词", "小微企业", "第3条规定", "社保 缓缴", "lpr 贷款",
        "社保 增值税",
    ]

    /// Compares every query and filter with postings on and off, on a dispatch thread (these
    /// are thousands of searches: on the cooperative pool, two threads on two cores, they would
    /// starve the suite's federations). Returns the matches compared and every difference.
    static func compare(
        _ db: TongDatabase, caps: [Int] = [SearchRequest.exactTotalCap, 60], queries: [String] = queries
    ) async throws -> (compared: Int, differences: [String]) {
        try await withCheckedThrowingContinuation { done in
            DispatchQueue.global().async { done.resume(with: Result { try differences(db, caps: caps, queries: queries) }) }
        }
    }

    private static func differences(_ db: TongDatabase, caps: [Int], queries: [String]) throws -> (compared: Int, differences: [String]) {
        var compared = 0
        var out: [String] = []
        // The first six requests are the six filter combinations (with no words).
        for base in SearchCatalogTests.requests().prefix(6) {
            for q in queries {
                for cap in caps {
                    for ranking in [SearchRanking.fts5, .tong] {
                        var off = base
                        off.q = q
                        off.totalCap = cap
                        off.ranking = ranking
                        off.today = "2022-06-01"
                        off.postings = false
                        var on = off
                        on.postings = true
                        // Segments two at a time on two cores, and one at a time.
                        on.splitPass = cap == SearchRequest.exactTotalCap ? .always : .never
                        let a = try db.search(off), b = try db.search(on)
                        let what = "\(q) region \(base.region ?? "-") theme \(base.theme ?? "-") cap \(cap) \(ranking.tiers)"
                        if b.total != a.total || b.totalExact != a.totalExact { out.append("\(what): total \(b.total) != \(a.total)") }
                        if b.hits.map(\.record.rowid) != a.hits.map(\.record.rowid) { out.append("\(what): hits differ") }
                        if b.themeFacets != a.themeFacets || b.regionFacets != a.regionFacets || b.departmentFacets != a.departmentFacets
                            || b.validityFacets != a.validityFacets
                        {
                            out.append("\(what): facets differ")
                        }
                        compared += a.total
                    }
                }
            }
        }
        return (compared, out)
    }

    /// The words the rewritten records hold, and one they lost.
    static let staleQueries = ["企业", "个体工商户", "复工复产", "社保", "第3条规定"]

    /// Runs `body` on a dispatch thread, off the cooperative pool (see `compare`).
    static func offPool<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { done in DispatchQueue.global().async { done.resume(with: Result { try body() }) } }
    }

    /// GRDB's blocking read (an async test would otherwise pick the async overload).
    static func read<T>(_ db: TongDatabase, _ body: (Database) throws -> T) throws -> T { try db.pool.read(body) }

    static func corpusDB() throws -> TongDatabase {
        let db = try TongDatabase(path: tempDir() + "/t.sqlite", nodeID: "330000", now: 1)
        for chunk in 0..<4 {
            var writes = SearchCatalogTests.corpus(300, seed: UInt64(chunk + 41))
            // Some documents carry the number a query asks for (the exact-number tier) and the
            // five-character word (a phrase of four tokens).
            for i in stride(from: chunk, to: writes.count, by: 37) { writes[i].fields["doc_number"] = .string("浙人社发〔2022〕\(i)号") }
            for i in stride(from: chunk, to: writes.count, by: 11) { writes[i].fields["body"] = "个体工商户房租减免，个体工商户。" }
            for i in stride(from: chunk + 3, to: writes.count, by: 13) { writes[i].fields["body"] = "依照本法第3条规定办理。第3条规定" }
            // A number that is the whole query (the exact-number tier of `SearchRanking.tong`).
            for i in stride(from: chunk + 5, to: writes.count, by: 53) { writes[i].fields["doc_number"] = "浙人社发" }
            _ = try db.write(writes, signer: signer("330000"), topology: storeTopology, now: 2)
        }
        return db
    }

    @Test func postingsAnswerWhatFTS5Answers() async throws {
        let db = try await Self.offPool { try Self.corpusDB() }
        defer { try? db.close() }
        // 1,200 policies in segments of 128: nine segments, and 48 rows FTS5 answers for above them.
        #expect(try db.postingsPending(rows: 128))
        #expect(try db.buildPostings(rows: 128) == 9)
        #expect(try !db.postingsPending(rows: 128))
        let summary = try db.postingsSummary()
        #expect(summary.ready == 9 && summary.segments == 9 && summary.rows == 9 * 128)
        let walks = db.searchPostingPasses.load(ordering: .relaxed)
        let (compared, differences) = try await Self.compare(db)
        #expect(differences.isEmpty, "\(differences.prefix(8))")
        #expect(compared > 20_000)
        // The postings were walked, not passed over: every one-word query with postings on.
        #expect(db.searchPostingPasses.load(ordering: .relaxed) - walks == 6 * (Self.queries.count - 2) * 4)
        // A segment of another format is never read, and is built again.
        try await db.pool.write { d in try d.execute(sql: "UPDATE search.postings_segment SET format = 1 WHERE id = 4") }
        #expect(try db.postingsPending(rows: 128))
        let pieces = try Self.read(db) { d in try PostingsSegment.pieces(d) }
        #expect(pieces?.contains { if case .segment(4, _, _) = $0 { true } else { false } } == false)
        #expect(try db.buildPostings(rows: 128) == 1)
        let current = try Self.read(db) { d in
            try Int.fetchOne(d, sql: "SELECT count(*) FROM search.postings_segment WHERE format = ? AND state = 1", arguments: [Postings.format])
        }
        #expect(current == 9)
    }

    @Test func aSegmentWrittenSinceItWasBuiltIsAnsweredByFTS5UntilBuiltAgain() async throws {
        let db = try await Self.offPool { try Self.corpusDB() }
        defer { try? db.close() }
        #expect(try db.buildPostings(rows: 256) == 4)
        // Rewrite records in the second-newest segment, one of them twice: it goes stale.
        let segments = try Self.read(db) { d in try Row.fetchAll(d, sql: "SELECT lo, hi FROM search.postings_segment ORDER BY hi DESC") }
        let (lo, hi): (Int64, Int64) = (segments[1][0], segments[1][1])
        let ids = try Self.read(db) { d in
            try String.fetchAll(d, sql: "SELECT id FROM record WHERE rowid BETWEEN ? AND ? AND kind = 'policy' LIMIT 5", arguments: [lo, hi])
        }
        for (n, id) in (ids + [ids[0]]).enumerated() {
            var w = LocalWrite(id: id, kind: .policy, owner: "330000", scope: .owned("330000"), fields: ["body": .string("企业社保个体工商户复工复产\(n)")])
            w.mustExist = true
            _ = try db.write([w], signer: signer("330000"), topology: storeTopology, now: 3)
        }
        let states = try Self.read(db) { d in try Int.fetchAll(d, sql: "SELECT state FROM search.postings_segment ORDER BY hi DESC") }
        #expect(states == [1, 2, 1, 1])
        #expect(try db.postingsPending(rows: 256))
        let stale = try await Self.compare(db, caps: [SearchRequest.exactTotalCap], queries: Self.staleQueries)
        #expect(stale.differences.isEmpty && stale.compared > 3_000, "\(stale.differences.prefix(8))")
        // Built again from the records as they are now, under the same range.
        #expect(try db.buildPostings(rows: 256) == 1)
        let again = try Self.read(db) { d in try Row.fetchAll(d, sql: "SELECT lo, hi, state FROM search.postings_segment ORDER BY hi DESC") }
        #expect(again.map { [$0[0], $0[1], $0[2]] as [Int64] } == segments.map { [$0[0], $0[1], 1] as [Int64] })
        let rebuilt = try await Self.compare(db, caps: [SearchRequest.exactTotalCap], queries: Self.staleQueries)
        #expect(rebuilt.differences.isEmpty && rebuilt.compared > 3_000, "\(rebuilt.differences.prefix(8))")
    }

    /// A received batch changes its rows on the index file's own writer (`SearchIndexWriter`),
    /// another connection: its stale mark must land there too, in the same transaction.
    @Test func aReceivedEditMakesItsSegmentStale() throws {
        let db = try TongDatabase(path: tempDir() + "/r.sqlite", nodeID: "100000", now: 1)
        defer { try? db.close() }
        let s = signer("330000")
        let changes = (1...6).map { i in
            ReceivedContentTests.change(UInt64(i), "330000-p\(i)", SearchIndexWriterTests.policy("稳岗返还通知\(i)", "失业保险稳岗返还"))
        }
        #expect(try ReceivedContentTests.push(db, s, after: 0, changes) == nil)
        #expect(try db.buildPostings(rows: 3) == 2)
        let edit = ReceivedContentTests.change(7, "330000-p2", ["body": "创业担保贷款贴息"])
        #expect(try ReceivedContentTests.push(db, s, after: 1, [edit]) == nil)
        db.settleSearchIndex()
        let states = try Self.read(db) { d in try Int.fetchAll(d, sql: "SELECT state FROM search.postings_segment ORDER BY hi") }
        #expect(states == [2, 1])
        var req = SearchRequest()
        req.q = "稳岗"
        #expect(try db.search(req).total == 6)  // every title has it
        req.q = "失业保险"
        #expect(try db.search(req).total == 5)
        req.q = "贴息"
        #expect(try db.search(req).hits.map { $0.record.state.id } == ["330000-p2"])
    }

    /// A reservation a crash left `building` is redone; one a write made stale while it was
    /// built is not sealed.
    @Test func aBuildThatAWriteOvertookIsNotSealed() async throws {
        let db = try await Self.offPool { try Self.corpusDB() }
        defer { try? db.close() }
        let reservation = try #require(try db.writing { d in try PostingsSegment.reserve(d, catalog: db.catalog.snapshot(), rows: 600) })
        let builder = try Self.read(db) { d in try PostingsSegment.collect(d, reservation) }
        let id = try Self.read(db) { d in
            try String.fetchOne(
                d, sql: "SELECT id FROM record WHERE rowid BETWEEN ? AND ? AND kind = 'policy'", arguments: [reservation.lo, reservation.hi])
        }
        var w = LocalWrite(id: id, kind: .policy, owner: "330000", scope: .owned("330000"), fields: ["body": "新的正文"])
        w.mustExist = true
        _ = try db.write([w], signer: signer("330000"), topology: storeTopology, now: 3)
        #expect(try db.writing { d in try PostingsSegment.seal(d, reservation, builder) } == false)
        #expect(try db.postingsSummary().ready == 0)
        // The next build seals the next 600 rows first, then takes the stale range again.
        #expect(try db.buildPostings(rows: 600) == 2)
        let summary = try db.postingsSummary()
        #expect(summary.ready == 2 && summary.segments == 2)
        let state = try Self.read(db) { d in
            try Int.fetchOne(
                d, sql: "SELECT state FROM search.postings_segment WHERE lo = ? AND hi = ?", arguments: [reservation.lo, reservation.hi])
        }
        #expect(state == 1)
        let after = try await Self.compare(db, caps: [60], queries: Self.staleQueries)
        #expect(after.differences.isEmpty && after.compared > 1_000, "\(after.differences.prefix(8))")
    }

    @Test func aMalformedBlobEndsTheWalkInsideIt() {
        var position: [UInt8] = []
        let written = [
            Postings.encode(column: 0, offset: 3), Postings.encode(column: 1, offset: 0), Postings.encode(column: 2, offset: 7),
            Postings.encode(column: 2, offset: 300),
        ]
        Postings.appendPositions(written, numberSize: 5, to: &position)
        // 4; the switch to column 1 (0, 1) and its size 5; 1; the switch to column 2; 8; 293 in two bytes.
        #expect(position == [4, 0, 1, 5, 1, 0, 2, 8, 0xA5, 0x02])
        var data: [UInt8] = []
        Postings.appendVarint(5, to: &data)  // row 95
        Postings.appendVarint(UInt64(position.count), to: &data)
        data += position
        Postings.appendVarint(3, to: &data)  // row 92, with 4 bytes of positions: only 1 follows
        Postings.appendVarint(4, to: &data)
        data.append(0x01)
        data.withUnsafeBufferPointer { b in
            var c = PostingsCursor(b.baseAddress!, count: b.count, hi: 100)
            #expect(c.next() && c.rowid == 95)
            #expect(c.positions() == written)
            var numberSize = 0
            let buffer = UnsafeMutablePointer<UInt64>.allocate(capacity: position.count)
            defer { buffer.deallocate() }
            #expect(c.positions(into: buffer, numberSize: &numberSize) == 4 && numberSize == 5)
            #expect(!c.next() && c.isMalformed)
        }
    }

    @Test func aLoneCJKCharacterIsLeftToFTS5() {
        #expect(Postings.queryTokens("第3条规定").map { Postings.isStored($0) } == [false, true, true, true])
        #expect(Postings.queryTokens("个体工商户").allSatisfy(Postings.isStored))
    }

    @Test func whichQueriesWalkThePostings() {
        func walks(_ q: String) -> Bool { Postings.walks(SearchQuery.terms(for: q).map { Postings.queryTokens($0.text) }, query: q) }
        #expect(walks("个体工商户") && walks("LPR 贴息") && walks("社保 缓缴"))
        #expect(!walks("社保 增值税") && !walks("第3条规定") && !walks("xt4 社保"))
    }

    @Test func queryTokensAreTheTokenizersOwn() {
        #expect(Postings.queryTokens("个体工商户").map { String(decoding: $0, as: UTF8.self) } == ["个体", "体工", "工商", "商户"])
        #expect(Postings.queryTokens("5G網絡").map { String(decoding: $0, as: UTF8.self) } == ["5g", "网络"])
    }
}
