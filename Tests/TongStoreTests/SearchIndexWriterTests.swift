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
            try d.execute(sql: "INSERT INTO text_fts (text_fts) VALUES ('delete-all')")
            try d.execute(sql: "UPDATE index_state SET generation = generation - 1")
            // Free pages, as a rebuild's merges leave them at scale (1.35 GB of 2.6 GB at 1M policies).
            try d.execute(sql: "CREATE TABLE filler (b BLOB); INSERT INTO filler VALUES (zeroblob(1000000)); DROP TABLE filler")
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
        // The old index's pages went back to the disk: the rebuilt file has no free pages.
        #expect(said.first.map { $0.reclaimedBytes > 0 } == true)
        let free = try DatabaseQueue(path: TongDatabase.searchIndexPath(for: path)).read { d in
            try Int64.fetchOne(d, sql: "PRAGMA freelist_count")
        }
        #expect(free == 0)
    }

    /// What the index holds, read from its file: FTS5's totals record (rows and tokens per
    /// column), every row's token counts, and the rows each word finds.
    static func indexContents(_ path: String, words: [String]) throws -> [String] {
        var config = Configuration()
        config.prepareDatabase { d in d.add(tokenizer: BigramTokenizer.self) }
        let index = try DatabaseQueue(path: TongDatabase.searchIndexPath(for: path), configuration: config)
        defer { try? index.close() }
        return try index.read { d in
            var out = [try Data.fetchOne(d, sql: "SELECT block FROM text_fts_data WHERE id = 1")?.base64EncodedString() ?? "none"]
            out += try Row.fetchAll(d, sql: "SELECT id, sz FROM text_fts_docsize ORDER BY id").map { row in
                "\(row[0] as Int64):\((row[1] as Data).base64EncodedString())"
            }
            for w in words {
                let m = try #require(SearchQuery.match(for: w))
                out.append(w + "=" + (try Int64.fetchAll(d, sql: "SELECT rowid FROM text_fts WHERE text_fts MATCH ? ORDER BY rowid", arguments: [m]))
                    .map(String.init).joined(separator: ","))
            }
            return out
        }
    }

    /// The index keeps no copy of the text (`content=''`), so an edit deletes the old row by its
    /// old values: after edits by received sets (two sets of one batch editing one record) and by local
    /// writes, the index is exactly what a rebuild from the records gives.
    @Test func editsLeaveTheIndexAsARebuildWouldBuildIt() throws {
        let path = tempDir() + "/r.sqlite"
        var db = try TongDatabase(path: path, nodeID: "100000", now: 1)
        let s = signer("330000")
        #expect(try ReceivedContentTests.push(db, s, after: 0, [
            ReceivedContentTests.change(1, "330000-p1", Self.policy("稳岗返还通知", "失业保险稳岗返还")),
            ReceivedContentTests.change(2, "330000-p2", Self.policy("技能提升补贴", "职业技能培训补贴")),
            ReceivedContentTests.change(3, "330000-p3", Self.policy("小微企业贷款贴息", "创业担保贷款")),
        ]) == nil)
        // Edits that saw the creations (their context), so they win.
        func edit(_ counter: UInt64, _ id: String, _ fields: [String: JSONValue]) -> Change {
            var c = ReceivedContentTests.change(counter, id, fields)
            c.context = VersionVector(["330000": counter - 1])
            return c
        }
        // Two sets in one batch, both editing p2: the second set's delete must use the values
        // the first set indexed (one transaction, the index writer's rows in order).
        let sets = try [
            [edit(4, "330000-p2", ["body": "以工代训补贴"])],
            [edit(5, "330000-p2", ["title": "以工代训", "themes": .strings(["rent_relief"])]), edit(6, "330000-p1", ["region": "330106"])],
        ].map { changes in
            IncomingSet(signed: try s.sign(ChangeSet(origin: "330000", scope: .owned("330000"), createdAt: 1, changes: changes)), verdict: .accepted)
        }
        let batch = try db.apply(batch: sets, from: "330000", epoch: "e", after: 1, upto: 3, topology: storeTopology, now: 2)
        #expect(batch.rejected.isEmpty && batch.applied == 2)
        var national = Self.policy("全国租金减免", "房租减免")
        national["department"] = "100000-mof"
        national["region"] = "100000"
        var own = LocalWrite(id: nil, kind: .policy, owner: "100000", scope: .owned("100000"), fields: national)
        let made = try db.write([own], signer: signer("100000"), topology: storeTopology, now: 2)
        own = LocalWrite(id: made[0].id, kind: .policy, owner: "100000", scope: .owned("100000"), fields: ["body": "水电气费用缓缴"])
        own.mustExist = true
        _ = try db.write([own], signer: signer("100000"), topology: storeTopology, now: 3)
        db.settleSearchIndex()
        let words = ["稳岗", "失业保险", "职业技能", "培训", "以工代训", "补贴", "贴息", "房租", "水电气", "租金", "xre330106", "xt3"]
        let edited = try Self.indexContents(path, words: words)
        #expect(edited.contains("职业技能=") && edited.contains("房租=") && edited.contains("以工代训=2") && edited.contains("xre330106=1"), "\(edited)")
        // Rebuilt from the records at the next open (its generation put back), and compared.
        try db.close()
        try DatabaseQueue(path: TongDatabase.searchIndexPath(for: path)).write { d in
            try d.execute(sql: "UPDATE index_state SET generation = generation - 1")
        }
        db = try TongDatabase(path: path, nodeID: "100000", now: 4)
        defer { try? db.close() }
        #expect(try Self.indexContents(path, words: words) == edited)
    }
}
