import Foundation
import GRDB
import Testing

@testable import TongStore

/// End-to-end FTS5 tests on a real SQLite file: tokenizer + SearchQuery + highlight/bm25.
@Suite final class FullTextSearchTests {
    let dbQueue: DatabaseQueue
    let dir: URL

    init() throws {
        dir = FileManager.default.temporaryDirectory
            .appendingPathComponent("tong-fts-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        var config = Configuration()
        // Every connection needs the tokenizer, or reading the table fails with "no such tokenizer".
        config.prepareDatabase { db in db.add(tokenizer: BigramTokenizer.self) }
        dbQueue = try DatabaseQueue(path: dir.appendingPathComponent("fts.sqlite").path, configuration: config)
        try dbQueue.write { db in
            try db.execute(
                sql: """
                    CREATE VIRTUAL TABLE doc USING fts5(title, doc_number, body, tags, tokenize='tong_bigram')
                    """)
            let rows: [(Int, String, String, String, String)] = [
                (
                    1, "关于阶段性缓缴社会保险费的通知", "人社部发〔2022〕31号",
                    "对受疫情影响的企业实施缓缴社保费政策，并落实稳岗返还。", "社保 缓缴"
                ),
                (
                    2, "增值税留抵退税政策公告", "财税〔2020〕8号",
                    "VAT refunds for small businesses; 增值税期末留抵。", "税收"
                ),
                (
                    3, "稳岗返还政策解读", "人社厅发〔2021〕5号",
                    "失业保险稳岗返还的申领流程。", "就业"
                ),
                (
                    4, "关于做好就业工作的意见", "国发〔2019〕28号",
                    "加强职业技能培训，做好稳岗工作。", "就业"
                ),
            ]
            for r in rows {
                try db.execute(
                    sql: "INSERT INTO doc(rowid, title, doc_number, body, tags) VALUES (?, ?, ?, ?, ?)",
                    arguments: [r.0, r.1, r.2, r.3, r.4])
            }
        }
    }

    deinit {
        try? FileManager.default.removeItem(at: dir)
    }

    func search(_ userText: String) throws -> [Int] {
        guard let pattern = SearchQuery.match(for: userText) else { return [] }
        return try dbQueue.read { db in
            try Int.fetchAll(
                db,
                sql: """
                    SELECT rowid FROM doc WHERE doc MATCH ? ORDER BY bm25(doc, 10.0, 5.0, 1.0, 3.0), rowid
                    """, arguments: [pattern])
        }
    }

    @Test func bigramQueries() throws {
        #expect(try search("社保") == [1])
        #expect(try search("缓缴") == [1])
        #expect(try search("社保费") == [1])
        #expect(try search("社保 稳岗") == [1])
        #expect(try search("社保 增值税") == [])
        #expect(try search("量子计算") == [])
    }

    @Test func oneCharacterUsesPrefix() throws {
        #expect(try search("社").contains(1))
        // 费 only ends runs (保险费, 社保费): found through the colocated run-end token.
        #expect(try search("费") == [1])
        #expect(try search("鲲") == [])
    }

    @Test func latinAndDigits() throws {
        #expect(try search("vat") == [2])
        #expect(try search("ＶＡＴ") == [2])
        #expect(try search("2020") == [2])
        #expect(try search("2020 增值税") == [2])
        #expect(try search("〔2022〕31号") == [1])
    }

    @Test func highlightWrapsExactlyTheMatch() throws {
        let pattern = try #require(SearchQuery.match(for: "社保"))
        let body = try dbQueue.read { db in
            try String.fetchOne(
                db, sql: "SELECT highlight(doc, 2, '[', ']') FROM doc WHERE doc MATCH ?",
                arguments: [pattern])
        }
        #expect(body == "对受疫情影响的企业实施缓缴[社保]费政策，并落实稳岗返还。")
        // One-character prefix queries mark the whole bigram: highlight() ignores colocated tokens,
        // so a run-end hit is drawn on the bigram sharing its position…
        let one = try #require(SearchQuery.match(for: "保"))
        let tags = try dbQueue.read { db in
            try String.fetchOne(
                db, sql: "SELECT highlight(doc, 3, '[', ']') FROM doc WHERE doc MATCH ?",
                arguments: [one])
        }
        #expect(tags == "[社保] 缓缴")
        // …and a mid-run hit is the bigram the character starts.
        let title = try dbQueue.read { db in
            try String.fetchOne(
                db, sql: "SELECT highlight(doc, 0, '[', ']') FROM doc WHERE doc MATCH ?",
                arguments: [SearchQuery.match(for: "费")])
        }
        #expect(title == "关于阶段性缓缴社会保险[费的]通知")
    }

    @Test func bm25RanksTitleAboveBody() throws {
        // Doc 3 has 稳岗 in the title, docs 1 and 4 only in the body.
        let ids = try search("稳岗")
        #expect(Set(ids) == [1, 3, 4])
        #expect(ids.first == 3)
    }

    @Test func hostileQueriesNeverThrow() throws {
        let hostile = [
            "\"", "社保\" OR \"", "*", "NEAR(a b)", "title:社保", "社保 AND", "NOT 社保", "OR",
            String(repeating: "社保\"*( ", count: 700), "社\u{0}保", "😀 社保 🎉", "。，、；：！？",
            "", "   ", "-社保", "+社保", "{title body}: 社保", "社保^", "'; DROP TABLE doc; --",
            String(repeating: "a ", count: 2500),
        ]
        for q in hostile {
            _ = try search(q)
        }
        #expect(try search("title:社保") == [])  // "title" is a term, not a column filter
        #expect(try search("社保\" OR \"") == [])  // OR is a word, and no doc has it
    }

    @Test func tenThousandDocumentsIndexAndMatchExactly() throws {
        let words = ["社会保险", "稳岗返还", "增值税", "留抵退税", "就业创业", "职业技能", "医疗保障", "住房公积金"]
        let clock = ContinuousClock()
        let elapsed = try clock.measure {
            try dbQueue.write { db in
                try db.execute(sql: "CREATE VIRTUAL TABLE bench USING fts5(title, body, tokenize='tong_bigram')")
                let stmt = try db.makeStatement(sql: "INSERT INTO bench(title, body) VALUES (?, ?)")
                for i in 0..<10_000 {
                    let a = words[i % words.count], b = words[(i / 8) % words.count]
                    try stmt.execute(arguments: [
                        "关于\(a)的通知（第\(i)号）",
                        "为进一步做好\(a)和\(b)工作，现就有关事项通知如下：各地要落实政策 2024。",
                    ])
                }
            }
        }
        let ms = Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15
        print("tong_bigram: indexed 10k short docs in \(Int(ms)) ms")
        let n = try dbQueue.read { db in
            try Int.fetchOne(
                db, sql: "SELECT count(*) FROM bench WHERE bench MATCH ?",
                arguments: [SearchQuery.match(for: "稳岗")])
        }
        let expected = (0..<10_000).filter { $0 % 8 == 1 || ($0 / 8) % 8 == 1 }.count
        #expect(n == expected)
    }
}
