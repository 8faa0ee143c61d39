import Foundation
import GRDB
import Testing

@testable import TongCore
@testable import TongStore

/// `SearchMarkup` computes highlights and snippets in Swift; FTS5's own `highlight()` and
/// `snippet()` are the reference. A table with content (the node's index keeps none) holds the
/// same texts, and for every query and row both must give the same string.
@Suite struct SearchMarkupTests {
    /// Texts that exercise the cases: folded scripts, ignorables inside words, Kangxi radicals,
    /// Latin words and digits beside Chinese, ". " sentence starts, overlapping and repeated
    /// phrases, hits at the start, middle and end of bodies longer than the 40-token window.
    static func texts() -> [String] {
        var out = [
            "關於支持小微企業融資的通知",
            "稳\u{200B}岗返还政策",
            "\u{2F00}次性吸纳就业补贴",
            "2022年度小微企业所得税优惠 5G网络建设 第3条规定",
            "ICP备案 icp100049 LPR 贴息",
            "社保社保社保费缓缴，社保",
            "",
            "。，、",
            "Note: 小微企业. 社保缓缴 1. 租金减免: 按月",
        ]
        let words = [
            "小微企业", "社保", "缓缴", "租金", "减免", "增值税", "土地增值税", "稳岗", "返还", "贷款", "贴息", "LPR", "2022年度",
            "个体工商户", "复工复产", "關於", "企業", "的", "和", "对", "。", "，", "；", ". ", ": ", "\n", "5G", "第3条",
        ]
        var rng = SplitMix64(seed: 14)
        for n in [5, 20, 40, 60, 120, 300] {
            for _ in 0..<6 {
                var t = ""
                for _ in 0..<n { t += words[Int(rng.next() % UInt64(words.count))] }
                out.append(t)
            }
        }
        return out
    }

    static let queries = [
        "社保", "小微企业", "小微企業", "社保 缓缴", "增值税", "2022年", "5G网", "第3条", "LPR 贴息", "icp", "社", "税",
        "稳\u{200B}岗", "一次性", "租金 减免 社保", "个体工商户", "复工复产 企业",
    ]

    @Test func highlightAndSnippetEqualFTS5() throws {
        var config = Configuration()
        config.prepareDatabase { db in db.add(tokenizer: BigramTokenizer.self) }
        let q = try DatabaseQueue(configuration: config)
        let texts = Self.texts()
        try q.write { db in
            try db.execute(sql: "CREATE VIRTUAL TABLE t USING fts5(title, body, tokenize='tong_bigram')")
            for (i, text) in texts.enumerated() {
                // The title is the body's first 30 characters, as a title is short.
                try db.execute(sql: "INSERT INTO t (rowid, title, body) VALUES (?, ?, ?)", arguments: [i + 1, String(text.prefix(30)), text])
            }
        }
        let o = SearchHit.markOpen, c = SearchHit.markClose
        var compared = 0, marked = 0, cut = 0, repeated = 0
        for query in Self.queries {
            let match = try #require(SearchQuery.match(for: query))
            let markup = try #require(SearchMarkup(query: query))
            let rows = try q.read { db in
                try Row.fetchAll(
                    db,
                    sql: """
                        SELECT rowid, title, body, highlight(t, 0, '\(o)', '\(c)'), snippet(t, 1, '\(o)', '\(c)', '…', 40)
                        FROM t WHERE t MATCH ?
                        """, arguments: [match])
            }
            for row in rows {
                let title: String = row[1], body: String = row[2]
                let wantTitle: String = row[3], wantSnippet: String = row[4]
                let gotTitle = markup.highlight(title), gotSnippet = markup.snippet(body)
                // Ours never loses or repeats text: without the marks it is the title, and the
                // snippet a piece of the body.
                #expect(Self.unmarked(gotTitle) == title)
                #expect(body.contains(Self.unmarked(gotSnippet).trimmingCharacters(in: ["…"])))
                // Where bigrams of two marks overlap, FTS5 3.40 writes the rest of the text twice
                // (SearchMarkup.render); those rows are compared by the text alone, above.
                if Self.unmarked(wantTitle) == title {
                    #expect(gotTitle == wantTitle, "\(query) in row \(row[0] as Int64): title")
                } else {
                    repeated += 1
                }
                if body.contains(Self.unmarked(wantSnippet).trimmingCharacters(in: ["…"])) {
                    #expect(gotSnippet == wantSnippet, "\(query) in row \(row[0] as Int64): snippet")
                } else {
                    repeated += 1
                }
                compared += 1
                if wantSnippet.contains(o) { marked += 1 }
                if wantSnippet.hasPrefix("…") { cut += 1 }
            }
        }
        // The comparison covered real cases: many rows, marked snippets, windows cut at the front.
        #expect(compared > 300)
        #expect(marked > 200)
        #expect(cut > 20)
        #expect(repeated < compared / 10)
    }

    static func unmarked(_ s: String) -> String {
        s.replacingOccurrences(of: SearchHit.markOpen, with: "").replacingOccurrences(of: SearchHit.markClose, with: "")
    }

    @Test func marksTheOriginalBytes() throws {
        let o = SearchHit.markOpen, c = SearchHit.markClose
        let markup = try #require(SearchMarkup(query: "小微企业 社保"))
        #expect(markup.highlight("關於小微企業社保") == "關於\(o)小微企業\(c)\(o)社保\(c)")
        #expect(markup.highlight("无关的标题") == "无关的标题")
        #expect(SearchMarkup(query: "，。！") == nil)
        // The text's own U+E000/U+E001 cannot pose as marks (found by a user trial).
        #expect(markup.highlight("x\u{E000}y 社保 \u{E001}z") == "x\u{FFFD}y \(o)社保\(c) \u{FFFD}z")
        // A body with no hit gives its first 40 positions and an ellipsis.
        let long = String(repeating: "甲乙", count: 40)
        #expect(markup.snippet(long) == String(long.prefix(41)) + "…")
    }
}
