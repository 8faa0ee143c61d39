import GRDB
import GRDBSQLite

/// FTS5 tokenizer for Chinese policy texts: overlapping CJK bigrams plus lower-cased Latin/digit words.
///
/// Register it on every connection (`config.prepareDatabase { db in db.add(tokenizer: BigramTokenizer.self) }`)
/// and create tables with `tokenize='tong_bigram'`.
///
/// Rules (documents and queries are tokenized identically, so phrases line up):
/// - every scalar is first folded by `TextFold` (ignorables dropped, NFKC, lower case,
///   Traditional → Simplified); the rules below see the folded scalars, token offsets stay those
///   of the original bytes;
/// - a run of CJK characters emits overlapping bigrams (缓缴社保费 → 缓缴 缴社 社保 保费);
///   a lone CJK character emits itself;
/// - a run of letters/digits emits one whole token (icp100049 is one word: ICP does not match inside it);
/// - everything else separates tokens.
///
/// Documents additionally get the last character of every multi-character CJK run as a
/// colocated synonym of the last bigram. Without it a one-character prefix query (保*) could
/// never find a character that only ends a run (社保), because no bigram *starts* with it.
/// Queries don't get it, otherwise the query 社保 would turn into "社保 OR 保".
///
/// It is `Sendable` without `@unchecked`: it holds no state at all (the token buffers live on the
/// stack of each `tokenize` call, the fold table never changes), so FTS5 may use one instance
/// from any connection/thread.
///
/// Hand-written rather than FTS5's unicode61 or trigram: unicode61 keeps a run of Chinese as one
/// token and trigram misses every query under three characters (docs/architecture.md).
public final class BigramTokenizer: FTS5CustomTokenizer, Sendable {
    /// Name used in `tokenize='tong_bigram'`.
    public static let name = "tong_bigram"

    /// Longest word token in bytes; longer Latin/digit runs are truncated (offsets still cover the run).
    static let maxWordBytes = 128

    /// Character class of a Unicode scalar: separator, word (letter/digit) or CJK.
    enum CharClass: UInt8 {
        case separator, word, cjk
    }

    /// Creates the tokenizer; it accepts and ignores any arguments.
    public init(db: Database, arguments: [String]) throws {}

    /// Creates the tokenizer outside of SQLite (tests, tooling).
    public init() {}

    /// Classifies a scalar. Shared with `SearchQuery` so query terms split exactly like documents.
    @inline(__always)
    static func charClass(_ v: UInt32) -> CharClass {
        if v < 0x80 {
            // ASCII: digits, A-Z, a-z.
            if (v >= 0x30 && v <= 0x39) || ((v | 0x20) >= 0x61 && (v | 0x20) <= 0x7A) { return .word }
            return .separator
        }
        switch v {
        case 0x4E00...0x9FFF,  // CJK Unified Ideographs
            0x3400...0x4DBF,  // Ext A
            0xF900...0xFAFF,  // Compatibility Ideographs
            0x20000...0x3134F,  // Ext B-G, Compatibility Supplement
            0x3005, 0x3007,  // 々 〇 (二〇二二年)
            0x3040...0x309F,  // Hiragana
            0x30A0...0x30FF,  // Katakana
            0x31F0...0x31FF,  // Katakana ext
            0xAC00...0xD7AF,  // Hangul syllables
            0x1100...0x11FF,  // Hangul jamo
            0x3130...0x318F:  // Hangul compatibility jamo
            return .cjk
        case 0xFF10...0xFF19, 0xFF21...0xFF3A, 0xFF41...0xFF5A:
            // Full-width digits/letters, common in Chinese typesetting (２０２２年).
            return .word
        case 0x00C0...0x00D6, 0x00D8...0x00F6, 0x00F8...0x024F,  // Latin-1 / Extended letters
            0x0370...0x03FF, 0x0400...0x04FF:  // Greek, Cyrillic
            return .word
        default:
            return .separator
        }
    }

    /// Tokenizes `pText` for FTS5 (the `xTokenize` entry point).
    public func tokenize(
        context: UnsafeMutableRawPointer?,
        tokenization: FTS5Tokenization,
        pText: UnsafePointer<CChar>?,
        nText: CInt,
        tokenCallback: @escaping FTS5TokenCallback
    ) -> CInt {
        guard let pText, nText > 0 else { return SQLITE_OK }
        let isQuery = tokenization.contains(.query)
        let n = Int(nText)
        return pText.withMemoryRebound(to: UInt8.self, capacity: n) { bytes in
            // The word buffer, then 8 bytes where the previous and current CJK character sit side by side.
            withUnsafeTemporaryAllocation(of: UInt8.self, capacity: Self.maxWordBytes + 8) { buf in
                Self.scan(
                    bytes: bytes, count: n, buffer: buf.baseAddress!, colocateRunEnd: !isQuery,
                    context: context, callback: tokenCallback)
            }
        }
    }

    /// Writes the UTF-8 form of `v` at `p`; returns its length (1-4).
    @inline(__always)
    static func encode(_ v: UInt32, _ p: UnsafeMutablePointer<UInt8>) -> Int {
        if v < 0x80 {
            p[0] = UInt8(v)
            return 1
        }
        if v < 0x800 {
            p[0] = UInt8(0xC0 | (v >> 6)); p[1] = UInt8(0x80 | (v & 0x3F))
            return 2
        }
        if v < 0x10000 {
            p[0] = UInt8(0xE0 | (v >> 12)); p[1] = UInt8(0x80 | ((v >> 6) & 0x3F)); p[2] = UInt8(0x80 | (v & 0x3F))
            return 3
        }
        p[0] = UInt8(0xF0 | (v >> 18)); p[1] = UInt8(0x80 | ((v >> 12) & 0x3F))
        p[2] = UInt8(0x80 | ((v >> 6) & 0x3F)); p[3] = UInt8(0x80 | (v & 0x3F))
        return 4
    }

    /// The scanner proper: one pass over the UTF-8 bytes. Every scalar is folded (`TextFold`)
    /// before it is classified; token text is the folded form, token offsets are the original
    /// bytes (so highlight() marks what the document really says, ignorables inside included).
    static func scan(
        bytes: UnsafePointer<UInt8>,
        count n: Int,
        buffer: UnsafeMutablePointer<UInt8>,
        colocateRunEnd: Bool,
        context: UnsafeMutableRawPointer?,
        callback: FTS5TokenCallback
    ) -> CInt {
        let table = TextFold.table
        let map = table.map, expansions = table.expansions
        let limit = UInt32(TextFold.limit)
        // CJK run state: how many characters the run has, the previous one's input range, and its
        // folded bytes, kept right-aligned at pair[0..<4] so that pair[4-prevLen ..< 4+len] is a bigram.
        let pair = buffer + maxWordBytes
        var cjkCount = 0
        var prevStart = 0
        var prevEnd = 0
        var prevLen = 0
        // Word run state: folded bytes go to `buffer`.
        var inWord = false
        var wordStart = 0
        var wordEnd = 0
        var tokLen = 0
        var full = false

        @inline(__always)
        func emit(_ p: UnsafePointer<UInt8>, _ len: Int, _ start: Int, _ end: Int, _ flags: CInt) -> CInt {
            p.withMemoryRebound(to: CChar.self, capacity: len) { cp in
                callback(context, flags, cp, CInt(len), CInt(start), CInt(end))
            }
        }

        @inline(__always)
        func flushCJK() -> CInt {
            defer { cjkCount = 0 }
            if cjkCount == 1 {
                return emit(pair + (4 - prevLen), prevLen, prevStart, prevEnd, 0)
            }
            if cjkCount > 1 && colocateRunEnd {
                return emit(pair + (4 - prevLen), prevLen, prevStart, prevEnd, FTS5_TOKEN_COLOCATED)
            }
            return SQLITE_OK
        }

        @inline(__always)
        func flushWord() -> CInt {
            guard inWord else { return SQLITE_OK }
            inWord = false
            return emit(buffer, tokLen, wordStart, wordEnd, 0)
        }

        /// One folded scalar `v` that came from input bytes `start ..< end`.
        @inline(__always)
        func process(_ v: UInt32, _ start: Int, _ end: Int) -> CInt {
            switch charClass(v) {
            case .cjk:
                let rc = flushWord(); if rc != SQLITE_OK { return rc }
                let len = encode(v, pair + 4)
                if cjkCount > 0 {
                    let rc = emit(pair + (4 - prevLen), prevLen + len, prevStart, end, 0)
                    if rc != SQLITE_OK { return rc }
                }
                // This character becomes the previous one: move it to the right of pair[0..<4].
                for k in 0..<len { pair[4 - len + k] = pair[4 + k] }
                prevLen = len
                cjkCount += 1
                prevStart = start
                prevEnd = end

            case .word:
                let rc = flushCJK(); if rc != SQLITE_OK { return rc }
                if !inWord {
                    inWord = true
                    wordStart = start
                    tokLen = 0
                    full = false
                }
                wordEnd = end
                if !full {
                    let need = v < 0x80 ? 1 : v < 0x800 ? 2 : v < 0x10000 ? 3 : 4
                    if tokLen + need > maxWordBytes {
                        // Over-long word: keep the prefix (the offsets still cover the whole run).
                        full = true
                    } else {
                        tokLen += encode(v, buffer + tokLen)
                    }
                }

            case .separator:
                var rc = flushCJK(); if rc != SQLITE_OK { return rc }
                rc = flushWord(); if rc != SQLITE_OK { return rc }
            }
            return SQLITE_OK
        }

        var i = 0
        while i < n {
            let b0 = bytes[i]
            if b0 < 0x80 {
                // ASCII: folds to itself or its lower case, never through the table.
                let rc = process(b0 >= 0x41 && b0 <= 0x5A ? UInt32(b0 + 0x20) : UInt32(b0), i, i + 1)
                if rc != SQLITE_OK { return rc }
                i += 1
                continue
            }
            // Decode one scalar; malformed bytes count as one-byte separators.
            var v: UInt32
            var len: Int
            if b0 & 0xE0 == 0xC0, i + 1 < n, bytes[i + 1] & 0xC0 == 0x80 {
                v = (UInt32(b0 & 0x1F) << 6) | UInt32(bytes[i + 1] & 0x3F); len = 2
            } else if b0 & 0xF0 == 0xE0, i + 2 < n, bytes[i + 1] & 0xC0 == 0x80, bytes[i + 2] & 0xC0 == 0x80 {
                v = (UInt32(b0 & 0x0F) << 12) | (UInt32(bytes[i + 1] & 0x3F) << 6) | UInt32(bytes[i + 2] & 0x3F)
                len = 3
            } else if b0 & 0xF8 == 0xF0, i + 3 < n, bytes[i + 1] & 0xC0 == 0x80,
                bytes[i + 2] & 0xC0 == 0x80, bytes[i + 3] & 0xC0 == 0x80
            {
                v =
                    (UInt32(b0 & 0x07) << 18) | (UInt32(bytes[i + 1] & 0x3F) << 12)
                    | (UInt32(bytes[i + 2] & 0x3F) << 6) | UInt32(bytes[i + 3] & 0x3F)
                len = 4
            } else {
                v = 0xFFFD; len = 1
            }
            let end = i + len
            let m = v < limit ? map[Int(v)] : 0
            var rc = SQLITE_OK
            if m == 0 {
                rc = process(v, i, end)
            } else if m == TextFold.ignore {
                // Dropped: the runs on either side continue as if it were not there.
            } else if m & TextFold.expansionFlag != 0 {
                let first = Int((m & ~TextFold.expansionFlag) >> 8)
                for k in first..<first + Int(m & 0xFF) where rc == SQLITE_OK { rc = process(expansions[k], i, end) }
            } else {
                rc = process(m, i, end)
            }
            if rc != SQLITE_OK { return rc }
            i = end
        }
        var rc = flushCJK(); if rc != SQLITE_OK { return rc }
        rc = flushWord()
        return rc
    }
}
