import Foundation
import GRDB
import Synchronization
import Testing

@testable import TongCore
@testable import TongStore

/// A received batch's full-text rows are written by the index file's own writer on the other
/// core (`SearchIndexWriter`): searchable once `apply` returns, repaired when the index fell
/// behind the replica.
@Suite struct SearchIndexWriterTests {
    static func policy(_ title: String, _ body: String) -> [String: JSONValue] {
        var f = ReceivedContentTests.good
        f["title"] = .string(title)
        f["body"] = .string(body)
        return f
    }

    func titles(_ db: TongDatabase, _ q: String) throws -> [String] {
        var req = SearchRequest()
        req.q = q
        return try db.search(req).hits.map { $0.record.state["title"]?.stringValue ?? "" }.sorted()
    }

    @Test func aReceivedBatchIsSearchableWhenApplyReturns() throws {
        let db = try TongDatabase(path: tempDir() + "/r.sqlite", nodeID: "100000", now: 1)
        defer { try? db.close() }
        let s = signer("330000")
        let first = try ReceivedContentTests.push(db, s, after: 0, [
            ReceivedContentTests.change(1, "330000-p1", Self.policy("稳岗返还通知", "失业保险稳岗返还")),
            ReceivedContentTests.change(2, "330000-p2", Self.policy("技能提升补贴", "职业技能培训补贴")),
        ])
        #expect(first == nil)
        #expect(try titles(db, "稳岗") == ["稳岗返还通知"])
        #expect(try titles(db, "补贴") == ["技能提升补贴"])
        // An edit replaces the indexed text: the old words no longer find it, the new ones do.
        let edit = try ReceivedContentTests.push(db, s, after: 1, [
            ReceivedContentTests.change(3, "330000-p2", ["body": "创业担保贷款贴息"])
        ])
        #expect(edit == nil)
        #expect(try titles(db, "职业技能培训") == [])
        #expect(try titles(db, "担保贷款") == ["技能提升补贴"])
        // A rejected push writes no text and leaves the index writer free for the next one.
        var bad = Self.policy("坏", "坏"); bad["source_url"] = "javascript:alert(1)"
        #expect(try ReceivedContentTests.push(db, s, after: 2, [ReceivedContentTests.change(4, "330000-p4", bad)]) != nil)
        #expect(try ReceivedContentTests.push(db, s, after: 3, [
            ReceivedContentTests.change(5, "330000-p5", Self.policy("首台套保险补偿", "首台套"))
        ]) == nil)
        #expect(try titles(db, "首台套") == ["首台套保险补偿"])
        #expect(try db.search(SearchRequest()).total == 3)
    }

    @Test func anIndexBehindTheReplicaIsRebuiltBeforeTheNextWrite() throws {
        let path = tempDir() + "/r.sqlite"
        let db = try TongDatabase(path: path, nodeID: "100000", now: 1)
        defer { try? db.close() }
        let s = signer("330000")
        #expect(try ReceivedContentTests.push(db, s, after: 0, [
            ReceivedContentTests.change(1, "330000-p1", Self.policy("稳岗返还通知", "失业保险稳岗返还"))
        ]) == nil)
        // As if the index's commit had been lost after the replica's: its row gone, its generation old.
        db.settleSearchIndex()
        var config = Configuration()
        config.prepareDatabase { d in d.add(tokenizer: BigramTokenizer.self) }
        let index = try DatabaseQueue(path: TongDatabase.searchIndexPath(for: path), configuration: config)
        try index.write { d in
            try d.execute(sql: "DELETE FROM text_fts")
            try d.execute(sql: "UPDATE index_state SET generation = generation - 1")
        }
        try index.close()
        let rebuilds = Mutex<[SearchIndexFile.Rebuild]>([])
        db.onSearchIndexRebuild { r in rebuilds.withLock { $0.append(r) } }
        // The next received batch finds the generations apart and rebuilds from the replica first.
        #expect(try ReceivedContentTests.push(db, s, after: 1, [
            ReceivedContentTests.change(2, "330000-p2", Self.policy("技能提升补贴", "职业技能培训补贴"))
        ]) == nil)
        #expect(try titles(db, "稳岗") == ["稳岗返还通知"])  // found again: the rebuild read it from the replica
        #expect(try titles(db, "补贴") == ["技能提升补贴"])
        let generations = try DatabaseQueue(path: path).read { d in
            try Int64.fetchOne(d, sql: "SELECT search_generation FROM node_state")
        }
        let indexed = try DatabaseQueue(path: TongDatabase.searchIndexPath(for: path)).read { d in
            try Int64.fetchOne(d, sql: "SELECT generation FROM index_state")
        }
        #expect(generations == indexed)
        // Said, for the node's log: one rebuild, with why.
        let said = rebuilds.withLock { $0 }
        #expect(said.count == 1 && said.first?.reason.contains("generation") == true && said.first?.records == 1)
    }
}
