import Testing

@testable import TongStore

/// Unit tests of the MATCH expression builder (pure string output; execution is in FullTextSearchTests).
@Suite struct SearchQueryTests {
    @Test func phrasesPrefixesAndAnd() {
        #expect(SearchQuery.match(for: "社保") == "\"社保\"")
        #expect(SearchQuery.match(for: "社") == "\"社\"*")
        #expect(SearchQuery.match(for: "社保 稳岗") == "\"社保\" \"稳岗\"")
        #expect(SearchQuery.match(for: "2020社保") == "\"2020社保\"")
        #expect(SearchQuery.match(for: "VAT，社") == "\"vat\" \"社\"*")
    }

    /// The hidden filter tokens all start with `x`: only a query that holds an `x` needs the
    /// column filter that keeps it out of them (typing one finds nothing: SearchCatalogTests).
    @Test func columnFilterOnlyWhenATermCouldBeAFilterToken() {
        #expect(SearchQuery.visible("\"社保\" \"lpr\"") == "\"社保\" \"lpr\"")
        #expect(SearchQuery.visible("\"xrp33\"") == "{title doc_number body tags} : (\"xrp33\")")
        #expect(SearchQuery.visible("\"社保\" \"box\"") == "{title doc_number body tags} : (\"社保\" \"box\")")
        #expect(SearchQuery.visible("\"Xt3\"").hasPrefix("{title doc_number body tags} : "))
    }

    @Test func syntaxNeverPassesThrough() {
        #expect(SearchQuery.match(for: "社保\" OR \"") == "\"社保\" \"or\"")
        #expect(SearchQuery.match(for: "title:社保") == "\"title\" \"社保\"")
        #expect(SearchQuery.match(for: "NEAR(a b)") == "\"near\" \"a\" \"b\"")
        #expect(SearchQuery.match(for: "^社保*") == "\"社保\"")
    }

    @Test func nothingSearchableIsNil() {
        for q in ["", "   ", "\"", "*", "。，！？〔〕", "😀🎉", "\u{0}"] {
            #expect(SearchQuery.match(for: q) == nil, "\(q.debugDescription)")
        }
    }

    @Test func limits() {
        let many = (1...40).map { "w\($0)" }.joined(separator: " ")
        #expect(SearchQuery.match(for: many)?.split(separator: " ").count == SearchQuery.maxTerms)
        // Only the first 200 characters are considered.
        let long = String(repeating: "社", count: 5000)
        #expect(SearchQuery.match(for: long) == "\"" + String(repeating: "社", count: 200) + "\"")
        #expect(SearchQuery.match(for: "a a a") == "\"a\"")
    }
}
