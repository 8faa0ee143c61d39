import Foundation
import GRDB
import Testing

@testable import TongCore
@testable import TongStore

/// The full-text table keeps no copy of the text (migration v5): FTS5 reads it from `record`
/// through `text_fts_source`. The view must yield exactly what was indexed, or FTS5 would remove
/// the wrong tokens on an edit; `integrity-check` compares the index with the view token by token.
@Suite struct ExternalContentTests {
    static func integrityCheck(_ db: TongDatabase) throws {
        try db.pool.write { d in try d.execute(sql: "INSERT INTO text_fts (text_fts, rank) VALUES ('integrity-check', 1)") }
    }

    @Test func editsKeepTheIndexEqualToTheRecords() throws {
        let db = try TongDatabase(path: tempDir() + "/t.sqlite", nodeID: "330000", now: 1)
        let made = try db.write(SearchCatalogTests.corpus(80, seed: 3), signer: signer("330000"), topology: storeTopology, now: 2)
        var edits: [LocalWrite] = []
        for (k, r) in made.prefix(10).enumerated() {
            var w = LocalWrite(
                id: r.id, kind: .policy, owner: "330000", scope: .owned("330000"),
                fields: ["title": .string("改过的标题水电气\(k)"), "body": .string("新的正文冷链物流 Ｌｐｒ２０２２"), "tags": .strings(["区块链", "A b"])])
            w.mustExist = true
            edits.append(w)
        }
        _ = try db.write(edits, signer: signer("330000"), topology: storeTopology, now: 3)
        try Self.integrityCheck(db)
        var req = SearchRequest()
        req.q = "水电气"
        req.limit = 100
        #expect(Set(try db.search(req).hits.map(\.record.state.id)) == Set(made.prefix(10).map(\.id)))
        req.q = "冷链物流 lpr2022"
        #expect(try db.search(req).total == 10)
        req.q = "区块链"
        #expect(try db.search(req).total == 10)
        // The old title of an edited policy is gone from the index.
        let oldTitle = try #require(made[0]["title"]?.stringValue)
        req.q = oldTitle
        #expect(!(try db.search(req).hits.contains { $0.record.state.id == made[0].id }))
        // Highlights read the text from the record.
        req.q = "水电气"
        let hit = try #require(try db.search(req).hits.first)
        #expect(hit.titleMarked?.contains(SearchHit.markOpen + "水电气" + SearchHit.markClose) == true, "\(hit.titleMarked ?? "-")")
        #expect(hit.snippetMarked == nil || hit.snippetMarked?.isEmpty == false)
        // A rebuild from the view (what the migration does) answers exactly the same.
        let before = try SearchCatalogTests.requests().map { try db.search($0) }
        try db.pool.write { d in try d.execute(sql: "INSERT INTO text_fts (text_fts) VALUES ('rebuild')") }
        try Self.integrityCheck(db)
        for (r, old) in zip(SearchCatalogTests.requests(), before) {
            let new = try db.search(r)
            #expect(new.total == old.total)
            #expect(new.hits.map(\.record.rowid) == old.hits.map(\.record.rowid))
            #expect(new.hits.map(\.titleMarked) == old.hits.map(\.titleMarked))
        }
        try db.close()
    }

    /// A replica written before v5 (text stored in FTS5's own content table) is migrated: the
    /// index is rebuilt from the records and finds the same rows, in the same order.
    @Test func aVersion4ReplicaIsMigrated() throws {
        let path = tempDir() + "/old.sqlite"
        let corpus = SearchCatalogTests.corpus(40, seed: 11)
        let changes = (0..<40).map { i in
            Change(
                record: "330000-p\(i + 1)", kind: .policy, owner: "330000", counter: UInt64(i + 1), at: 5, context: VersionVector(),
                fields: corpus[i].fields)
        }
        let rows = changes.compactMap { TongDatabase.baselineRow(for: $0, origin: "330000") }
        #expect(rows.count == 40)
        do {
            let old = try DatabasePool(path: path, configuration: TongDatabase.configuration(readonly: false))
            try Schema.migrator.migrate(old, upTo: "v4-readable-views")
            try old.write { d in
                for r in rows {
                    try d.execute(
                        sql: "INSERT INTO record (id, kind, owner, version, meta, doc, conflicts, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, 5)",
                        arguments: [r.id, r.kind, r.owner, r.version, r.meta, r.doc, r.conflicts])
                    let rowid = d.lastInsertedRowID
                    try d.execute(
                        sql: """
                            INSERT INTO policy_index (rowid, region, department, themes, audiences, status, issued_on)
                            VALUES (?, ?, ?, ?, ?, ?, ?)
                            """,
                        arguments: [rowid, r.region, r.department, r.themes, r.audiences, r.status, r.issuedOn])
                    try d.execute(
                        sql: "INSERT INTO text_fts (rowid, title, doc_number, body, tags) VALUES (?, ?, ?, ?, ?)",
                        arguments: [rowid, r.title, r.docNumber, r.body, r.tags])
                }
            }
            let oldOrder = try old.read { d in
                try SearchCatalogTests.requests().compactMap { SearchQuery.match(for: $0.q) }.map { m in
                    try Int64.fetchAll(
                        d, sql: "SELECT rowid FROM text_fts WHERE text_fts MATCH ? ORDER BY bm25(text_fts, 10.0, 5.0, 1.0, 3.0), rowid DESC",
                        arguments: [m])
                }
            }
            try old.close()
            let db = try TongDatabase(path: path, nodeID: "330000", now: 6)
            try Self.integrityCheck(db)
            let content = try db.pool.read { d in try Int.fetchOne(d, sql: "SELECT count(*) FROM sqlite_master WHERE name = 'text_fts_content'") }
            #expect(content == 0)
            let newOrder = try db.pool.read { d in
                try SearchCatalogTests.requests().compactMap { SearchQuery.match(for: $0.q) }.map { m in
                    try Int64.fetchAll(
                        d, sql: "SELECT rowid FROM text_fts WHERE text_fts MATCH ? ORDER BY bm25(text_fts, 10.0, 5.0, 1.0, 3.0), rowid DESC",
                        arguments: [m])
                }
            }
            #expect(newOrder == oldOrder)
            #expect(newOrder.reduce(0) { $0 + $1.count } > 100)
            var req = SearchRequest()
            req.q = rows[7].title
            #expect(try db.search(req).hits.contains { $0.record.state.id == rows[7].id })
            try db.close()
        }
    }
}
