/// Builds safe FTS5 MATCH expressions for tables tokenized with `BigramTokenizer`.
public enum SearchQuery {
    /// Longest user input considered, in characters; the rest is ignored before any parsing.
    public static let maxInputCharacters = 200

    /// Most terms kept; more terms only slow the query without narrowing it usefully.
    public static let maxTerms = 16

    /// Turns any user text into an FTS5 MATCH expression, or nil when nothing searchable remains.
    ///
    /// Terms are the runs of letters/digits/CJK (the same classes `BigramTokenizer` indexes);
    /// everything else, including `"`, `*`, `^`, `:`, parentheses and NUL, only separates terms,
    /// so user input can never become FTS5 syntax. Operator words (AND, OR, NOT, NEAR) end up
    /// inside quotes, where FTS5 treats them as plain words.
    /// Terms are split after `TextFold` (so ⼈社, 人\u{200B}社 and 人社 are one term, 門 is 门).
    /// A term that ends with a single CJK character becomes a prefix phrase (`"社"*`,
    /// `"2022年"*`): the index holds bigrams, and the document may continue the run (2022年度,
    /// 5G网络, 第3条规定). Every other term becomes a quoted phrase; a letter/digit run must
    /// match a whole indexed word (ICP does not find icp100049). Terms are ANDed.
    public static func match(for userText: String) -> String? {
        let quoted = terms(for: userText).map { term in
            // Characters are letters/digits/CJK only, but escape anyway so this never depends on that.
            var q = "\""
            for ch in term.text { q += ch == "\"" ? "\"\"" : String(ch) }
            q += "\""
            return term.prefix ? q + "*" : q
        }
        return quoted.isEmpty ? nil : quoted.joined(separator: " ")
    }

    /// The terms of `match(for:)`, in order and without repeats: each one's folded text, and
    /// whether it is a prefix phrase (it ends with a single CJK character). `SearchMarkup`
    /// marks the same phrases in a hit's text.
    static func terms(for userText: String) -> [(text: String, prefix: Bool)] {
        let input = userText.prefix(maxInputCharacters)
        var terms: [(text: String, prefix: Bool)] = []
        var seen = Set<String>()
        var current = String.UnicodeScalarView()
        // Length of the CJK run the term currently ends with (0 when it ends with a word).
        var trailingCJK = 0

        func finishTerm() {
            defer {
                current = String.UnicodeScalarView()
                trailingCJK = 0
            }
            guard !current.isEmpty, terms.count < maxTerms else { return }
            let text = String(current)
            guard seen.insert(text).inserted else { return }
            // Ends with one CJK character: the document may continue the run (2022年 in 2022年度).
            terms.append((text, trailingCJK == 1))
        }

        for scalar in input.unicodeScalars {
            // Split on the folded text, exactly as the tokenizer will see it (ignorables vanish).
            TextFold.forEach(scalar.value) { v in
                guard let folded = Unicode.Scalar(v) else { return }
                switch BigramTokenizer.charClass(v) {
                case .cjk:
                    current.append(folded)
                    trailingCJK += 1
                case .word:
                    current.append(folded)
                    trailingCJK = 0
                case .separator:
                    finishTerm()
                }
            }
        }
        finishTerm()
        return terms
    }

    /// `match` restricted to the visible columns: the hidden `facets` column holds filter
    /// tokens (`SearchFacets`) that a typed `xrp33` must not find. Every filter token starts
    /// with `x`, so a query with no `x` in any term cannot find one, and it goes without the
    /// column filter, which makes FTS5 sort each match's positions by column (measured at 1M
    /// policies: 5–30 % of a pass, docs/performance.md, eighth session).
    static func visible(_ match: String) -> String {
        match.utf8.contains(where: { $0 == UInt8(ascii: "x") || $0 == UInt8(ascii: "X") })
            ? "{title doc_number body tags} : (" + match + ")" : match
    }

    /// The folded text of a query that is one run of two or more CJK characters (增值税), else
    /// nil. Such queries are checked for compound-only matches when ranking.
    static func singleCJKTerm(_ userText: String) -> String? {
        var out = String.UnicodeScalarView()
        var ended = false
        for scalar in userText.prefix(maxInputCharacters).unicodeScalars {
            var ok = true
            TextFold.forEach(scalar.value) { v in
                switch BigramTokenizer.charClass(v) {
                case .cjk:
                    if ended { ok = false } else if let u = Unicode.Scalar(v) { out.append(u) }
                case .word: ok = false
                case .separator: if !out.isEmpty { ended = true }
                }
            }
            if !ok { return nil }
        }
        return out.count >= 2 ? String(out) : nil
    }
}
