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
    /// A term that is a single CJK character becomes a prefix query (`"社"*`) because the index
    /// holds bigrams; every other term becomes a quoted phrase. Terms are ANDed.
    public static func match(for userText: String) -> String? {
        let input = userText.prefix(maxInputCharacters)
        var terms: [String] = []
        var seen = Set<String>()
        var current = String.UnicodeScalarView()
        var cjkCount = 0
        var wordCount = 0

        func finishTerm() {
            defer {
                current = String.UnicodeScalarView()
                cjkCount = 0
                wordCount = 0
            }
            guard !current.isEmpty, terms.count < maxTerms else { return }
            let text = String(current)
            guard seen.insert(text).inserted else { return }
            // Characters are letters/digits/CJK only, but escape anyway so this never depends on that.
            var quoted = "\""
            for ch in text { quoted += ch == "\"" ? "\"\"" : String(ch) }
            quoted += "\""
            terms.append(cjkCount == 1 && wordCount == 0 ? quoted + "*" : quoted)
        }

        for scalar in input.unicodeScalars {
            switch BigramTokenizer.charClass(scalar.value) {
            case .cjk:
                current.append(scalar)
                cjkCount += 1
            case .word:
                current.append(scalar)
                wordCount += 1
            case .separator:
                finishTerm()
            }
        }
        finishTerm()
        return terms.isEmpty ? nil : terms.joined(separator: " ")
    }
}
