import GRDBSQLite

/// Highlights and snippets of a search hit, computed from the hit's own text the way FTS5's
/// `highlight()` and `snippet()` compute them (`fts5_aux.c` of SQLite 3.40: coalesced phrase
/// instances, the snippet window scored 1,000 per distinct phrase and 1 per repeat, centred on
/// its hits, with the document's start preferred by 120), so that a page needs no FTS5 query
/// per row.
///
/// Why not FTS5's own functions: they need `WHERE text_fts MATCH ? AND rowid = ?` per hit, and
/// at a million rows FTS5 sets up the whole phrase query for each of them: 0.8-1.8 ms per hit
/// for a three- or four-character word, 8-18 ms per page of 10, more than finding and ranking
/// every match (docs/performance.md, sixth session). Here the text is tokenized by
/// `BigramTokenizer`, so phrases match exactly where FTS5 found them; `SearchMarkupTests`
/// checks the output against FTS5's for the same rows.
///
/// Marks go around the original bytes (`SearchHit.markOpen` / `markClose`), so a folded match
/// (門 for 门, ⼈ for 人, a zero-width space inside a word) marks what the document says.
struct SearchMarkup {
    /// One query phrase: its tokens (folded UTF-8), the last one a prefix when `prefix`.
    struct Phrase {
        var tokens: [[UInt8]]
        var prefix: Bool
    }

    let phrases: [Phrase]

    /// The phrases of `SearchQuery.match(for: userText)`; nil when the query has none.
    init?(query userText: String) {
        let phrases = SearchQuery.terms(for: userText).compactMap { term -> Phrase? in
            let query = Self.tokenize(term.text, query: true)
            let tokens = query.positions.indices.map(query.first)
            return tokens.isEmpty ? nil : Phrase(tokens: tokens, prefix: term.prefix)
        }
        if phrases.isEmpty { return nil }
        self.phrases = phrases
    }

    /// A tokenized text: one entry per token position (colocated tokens share one), the token
    /// texts side by side in one buffer (no allocation per token: a page tokenizes ten bodies).
    struct Tokens {
        struct Position {
            /// Byte range of the position's first token in the original UTF-8.
            var start: Int32
            var end: Int32
            /// The position's tokens: `tokens[firstToken ..< firstToken + tokenCount]`.
            var firstToken: Int32
            var tokenCount: Int32
        }
        var positions: [Position] = []
        /// Each token's range in `bytes` (folded UTF-8).
        var tokens: [(offset: Int32, count: Int32)] = []
        var bytes: [UInt8] = []

        /// Whether a token at `position` is `want` (or starts with it, for a prefix).
        func has(_ want: [UInt8], at position: Int, prefix: Bool) -> Bool {
            let p = positions[position]
            for t in tokens[Int(p.firstToken)..<Int(p.firstToken + p.tokenCount)] {
                let n = Int(t.count)
                if n == want.count || (prefix && n > want.count) {
                    var same = true
                    for i in 0..<want.count where bytes[Int(t.offset) + i] != want[i] {
                        same = false
                        break
                    }
                    if same { return true }
                }
            }
            return false
        }

        /// The folded text of the first token at `position`.
        func first(_ position: Int) -> [UInt8] {
            let t = tokens[Int(positions[position].firstToken)]
            return Array(bytes[Int(t.offset)..<Int(t.offset + t.count)])
        }
    }

    /// Tokenizes `text` as FTS5 does for a document (`query == false`: run ends colocated) or
    /// a query phrase.
    static func tokenize(_ text: String, query: Bool) -> Tokens {
        final class Sink {
            var tokens = Tokens()
        }
        let sink = Sink()
        var utf8 = Array(text.utf8)
        if utf8.isEmpty { return sink.tokens }
        sink.tokens.bytes.reserveCapacity(utf8.count)
        sink.tokens.positions.reserveCapacity(utf8.count / 3)
        sink.tokens.tokens.reserveCapacity(utf8.count / 3)
        let context = Unmanaged.passUnretained(sink).toOpaque()
        utf8.withUnsafeMutableBufferPointer { bytes in
            withUnsafeTemporaryAllocation(of: UInt8.self, capacity: BigramTokenizer.maxWordBytes + 8) { buf in
                _ = BigramTokenizer.scan(
                    bytes: bytes.baseAddress!, count: bytes.count, buffer: buf.baseAddress!, colocateRunEnd: !query,
                    context: context,
                    callback: { ctx, flags, token, n, start, end in
                        let sink = Unmanaged<Sink>.fromOpaque(ctx!).takeUnretainedValue()
                        let offset = Int32(sink.tokens.bytes.count)
                        if let token, n > 0 {
                            token.withMemoryRebound(to: UInt8.self, capacity: Int(n)) {
                                sink.tokens.bytes.append(contentsOf: UnsafeBufferPointer(start: $0, count: Int(n)))
                            }
                        }
                        sink.tokens.tokens.append((offset, n))
                        let index = Int32(sink.tokens.tokens.count - 1)
                        if flags & FTS5_TOKEN_COLOCATED != 0, !sink.tokens.positions.isEmpty {
                            sink.tokens.positions[sink.tokens.positions.count - 1].tokenCount += 1
                        } else {
                            sink.tokens.positions.append(.init(start: start, end: end, firstToken: index, tokenCount: 1))
                        }
                        return SQLITE_OK
                    })
            }
        }
        return sink.tokens
    }

    /// One phrase instance: the phrase's index and its first and last token positions.
    struct Instance {
        var phrase: Int
        var first: Int
        var last: Int
    }

    /// Every instance of every phrase, by position, then by phrase (FTS5's `xInst` order).
    func instances(_ doc: Tokens) -> [Instance] {
        var out: [Instance] = []
        let count = doc.positions.count
        for p in 0..<count {
            for (k, phrase) in phrases.enumerated() where p + phrase.tokens.count <= count {
                var all = true
                for (i, want) in phrase.tokens.enumerated()
                where !doc.has(want, at: p + i, prefix: phrase.prefix && i == phrase.tokens.count - 1) {
                    all = false
                    break
                }
                if all { out.append(Instance(phrase: k, first: p, last: p + phrase.tokens.count - 1)) }
            }
        }
        return out
    }

    /// Overlapping instances merged (FTS5's `CInstIter`): ranges of positions, in order.
    static func coalesced(_ instances: [Instance]) -> [ClosedRange<Int>] {
        var out: [ClosedRange<Int>] = []
        for inst in instances {
            if let last = out.last, inst.first <= last.upperBound {
                out[out.count - 1] = last.lowerBound...max(last.upperBound, inst.last)
            } else {
                out.append(inst.first...inst.last)
            }
        }
        return out
    }

    /// `text` with every phrase instance marked (FTS5 `highlight()`).
    func highlight(_ text: String) -> String {
        let doc = Self.tokenize(text, query: false)
        return Self.render(Array(text.utf8), doc, marks: Self.coalesced(instances(doc)), range: nil, ellipsis: "")
    }

    /// The best window of `tokens` token positions of `text`, marked, with `ellipsis` where
    /// text was cut (FTS5 `snippet()` over one column).
    func snippet(_ text: String, tokens n: Int = 40, ellipsis: String = "…") -> String {
        let doc = Self.tokenize(text, query: false)
        let found = instances(doc)
        let size = doc.positions.count
        var bestScore = 0, bestStart = 0
        // Per window, only the instances inside it are visited (they are sorted by position),
        // so a long body with thousands of hits costs hits × window, not hits².
        var seen = [Bool](repeating: false, count: phrases.count)
        /// FTS5's `fts5SnippetScore`: the window's score and its start, centred on its hits.
        func score(from start: Int) -> (score: Int, start: Int) {
            var lo = 0, hi = found.count
            while lo < hi {
                let mid = (lo + hi) / 2
                if found[mid].first < start { lo = mid + 1 } else { hi = mid }
            }
            for k in seen.indices { seen[k] = false }
            var total = 0, first = -1, last = 0
            var i = lo
            while i < found.count, found[i].first < start + n {
                let inst = found[i]
                total += seen[inst.phrase] ? 1 : 1000
                seen[inst.phrase] = true
                if first < 0 { first = inst.first }
                last = inst.first + phrases[inst.phrase].tokens.count
                i += 1
            }
            var adjusted = first - (n - (last - first)) / 2
            if adjusted + n > size { adjusted = size - n }
            return (total, max(0, adjusted))
        }
        // FTS5's sentence finder: position 0, and a token after "." or ":" and white space.
        let bytes = Array(text.utf8)
        var sentences = [0]
        for (pos, p) in doc.positions.enumerated() where pos > 0 {
            var i = Int(p.start) - 1
            while i >= 0, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[i]) { i -= 1 }
            if i != Int(p.start) - 1, i >= 0, bytes[i] == 0x2E || bytes[i] == 0x3A { sentences.append(pos) }
        }
        var sentence = 0  // index in `sentences` of the last start at or before the instance
        var fromSentences: [Int: Int] = [:]  // a sentence start's window score, computed once
        for inst in found {
            let s = score(from: inst.first)
            if s.score > bestScore { (bestScore, bestStart) = s }
            // A window from the start of the hit's sentence is worth 100 more (120 from the
            // document's start); for Chinese text that is usually the document's start.
            while sentence + 1 < sentences.count, sentences[sentence + 1] <= inst.first { sentence += 1 }
            let start = sentences[sentence]
            if size > n, start < inst.first {
                let base = fromSentences[start] ?? score(from: start).score
                fromSentences[start] = base
                let fromSentence = base + (start == 0 ? 120 : 100)
                if fromSentence > bestScore { (bestScore, bestStart) = (fromSentence, start) }
            }
        }
        let range = bestStart...(bestStart + n - 1)
        // Instances merged first, then those that start before the window dropped, as FTS5 does.
        let marks = Self.coalesced(found).filter { $0.lowerBound >= bestStart }
        return Self.render(bytes, doc, marks: marks, range: range, ellipsis: ellipsis)
    }

    /// FTS5's `fts5HighlightCb` walk: copies the text, opening a mark at each coalesced
    /// instance's first position and closing it after its last, within `range` when given.
    static func render(_ bytes: [UInt8], _ doc: Tokens, marks: [ClosedRange<Int>], range: ClosedRange<Int>?, ellipsis: String) -> String {
        // Marks whose bytes overlap become one: bigrams overlap (社保费 is 社保 at 0-6 and 保费 at
        // 3-9), so the phrases 社保 and 保费 mark 社保费 once. FTS5 3.40 appends the rest of the
        // text again in that case (a negative length to its append); here the text stays whole.
        var marks = marks
        var k = 1
        while k < marks.count {
            if doc.positions[marks[k].lowerBound].start < doc.positions[marks[k - 1].upperBound].end {
                marks[k - 1] = marks[k - 1].lowerBound...max(marks[k - 1].upperBound, marks[k].upperBound)
                marks.remove(at: k)
            } else {
                k += 1
            }
        }
        let open = Array(SearchHit.markOpen.utf8), close = Array(SearchHit.markClose.utf8)
        // The text's own U+E000/U+E001 (private use, accepted in policy text) would read as
        // marks: they become U+FFFD, so only the marks made here are marks.
        var bytes = bytes
        if bytes.contains(0xEE) {
            var i = 0
            while i + 2 < bytes.count {
                if bytes[i] == 0xEE, bytes[i + 1] == 0x80, bytes[i + 2] == 0x80 || bytes[i + 2] == 0x81 {
                    bytes.replaceSubrange(i..<i + 3, with: [0xEF, 0xBF, 0xBD])  // same length: offsets stay
                }
                i += 1
            }
        }
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count + 16)
        var offset = 0
        var m = 0
        if let range, range.lowerBound > 0 { out += ellipsis.utf8 }
        for (pos, p) in doc.positions.enumerated() {
            if let range {
                if !range.contains(pos) { continue }
                if range.lowerBound > 0, pos == range.lowerBound { offset = Int(p.start) }
            }
            if m < marks.count, pos == marks[m].lowerBound {
                out += bytes[offset..<Int(p.start)]
                out += open
                offset = Int(p.start)
            }
            if m < marks.count, pos == marks[m].upperBound {
                out += bytes[offset..<Int(p.end)]
                out += close
                offset = Int(p.end)
                m += 1
            }
            if let range, pos == range.upperBound {
                out += bytes[offset..<Int(p.end)]
                offset = Int(p.end)
                if m < marks.count, pos >= marks[m].lowerBound, pos < marks[m].upperBound { out += close }
            }
        }
        if let range, range.upperBound < doc.positions.count - 1 {
            out += ellipsis.utf8
        } else {
            out += bytes[offset...]
        }
        return String(decoding: out, as: UTF8.self)
    }
}
