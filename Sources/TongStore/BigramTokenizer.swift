import GRDB
import GRDBSQLite

/// FTS5 tokenizer for Chinese policy texts: overlapping CJK bigrams plus lower-cased Latin/digit words.
///
/// Register it on every connection (`config.prepareDatabase { db in db.add(tokenizer: BigramTokenizer.self) }`)
/// and create tables with `tokenize='tong_bigram'`.
///
/// Rules (documents and queries are tokenized identically, so phrases line up):
/// - a run of CJK characters emits overlapping bigrams (缓缴社保费 → 缓缴 缴社 社保 保费);
///   a lone CJK character emits itself;
/// - a run of letters/digits emits one token, ASCII lower-cased, full-width Ａ-Ｚ ０-９ folded to ASCII;
/// - everything else separates tokens.
///
/// Documents additionally get the last character of every multi-character CJK run as a
/// colocated synonym of the last bigram. Without it a one-character prefix query (保*) could
/// never find a character that only ends a run (社保), because no bigram *starts* with it.
/// Queries don't get it, otherwise the query 社保 would turn into "社保 OR 保".
///
/// It is `Sendable` without `@unchecked`: it holds no state at all (the fold buffer lives on the
/// stack of each `tokenize` call), so FTS5 may use one instance from any connection/thread.
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

    /// Folds a word scalar to a single ASCII byte when it has one (A→a, Ａ→a, ０→0), else returns nil.
    @inline(__always)
    static func asciiFold(_ v: UInt32) -> UInt8? {
        if v < 0x80 {
            return (v >= 0x41 && v <= 0x5A) ? UInt8(v + 0x20) : UInt8(v)
        }
        if v >= 0xFF10 && v <= 0xFF19 { return UInt8(0x30 + (v - 0xFF10)) }
        if v >= 0xFF21 && v <= 0xFF3A { return UInt8(0x61 + (v - 0xFF21)) }
        if v >= 0xFF41 && v <= 0xFF5A { return UInt8(0x61 + (v - 0xFF41)) }
        return nil
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
            withUnsafeTemporaryAllocation(of: UInt8.self, capacity: Self.maxWordBytes) { buf in
                Self.scan(
                    bytes: bytes, count: n, buffer: buf.baseAddress!, colocateRunEnd: !isQuery,
                    context: context, callback: tokenCallback)
            }
        }
    }

    /// The scanner proper: one pass over the UTF-8 bytes, tokens point into the input wherever possible.
    private static func scan(
        bytes: UnsafePointer<UInt8>,
        count n: Int,
        buffer: UnsafeMutablePointer<UInt8>,
        colocateRunEnd: Bool,
        context: UnsafeMutableRawPointer?,
        callback: FTS5TokenCallback
    ) -> CInt {
        // CJK run state: the previous character and how many characters the run has so far.
        var cjkCount = 0
        var prevStart = 0
        var prevEnd = 0
        // Word run state. Until a character needs folding the token is the input bytes themselves.
        var inWord = false
        var wordStart = 0
        var wordEnd = 0
        var tokLen = 0
        var copied = false
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
                return emit(bytes + prevStart, prevEnd - prevStart, prevStart, prevEnd, 0)
            }
            if cjkCount > 1 && colocateRunEnd {
                return emit(bytes + prevStart, prevEnd - prevStart, prevStart, prevEnd, FTS5_TOKEN_COLOCATED)
            }
            return SQLITE_OK
        }

        @inline(__always)
        func flushWord() -> CInt {
            guard inWord else { return SQLITE_OK }
            inWord = false
            let p = copied ? UnsafePointer(buffer) : bytes + wordStart
            return emit(p, tokLen, wordStart, wordEnd, 0)
        }

        var i = 0
        while i < n {
            // Decode one scalar; malformed bytes count as one-byte separators.
            let b0 = bytes[i]
            var v: UInt32
            var len: Int
            if b0 < 0x80 {
                v = UInt32(b0); len = 1
            } else if b0 & 0xE0 == 0xC0, i + 1 < n, bytes[i + 1] & 0xC0 == 0x80 {
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

            switch charClass(v) {
            case .cjk:
                let rc = flushWord(); if rc != SQLITE_OK { return rc }
                if cjkCount > 0 {
                    // Bigram = previous char + this one: contiguous in the input, no copy needed.
                    let rc = emit(bytes + prevStart, end - prevStart, prevStart, end, 0)
                    if rc != SQLITE_OK { return rc }
                }
                cjkCount += 1
                prevStart = i
                prevEnd = end

            case .word:
                let rc = flushCJK(); if rc != SQLITE_OK { return rc }
                if !inWord {
                    inWord = true
                    wordStart = i
                    tokLen = 0
                    copied = false
                    full = false
                }
                wordEnd = end
                let folded = asciiFold(v)
                let outLen = folded == nil ? len : 1
                if full || tokLen + outLen > maxWordBytes {
                    // Over-long word: keep the prefix, stop appending so in-place bytes stay contiguous.
                    full = true
                } else {
                    if let f = folded {
                        if !copied && (len != 1 || f != b0) {
                            // First character that differs from its input: switch to the buffer.
                            if tokLen > 0 { buffer.update(from: bytes + wordStart, count: tokLen) }
                            copied = true
                        }
                        if copied { buffer[tokLen] = f }
                    } else if copied {
                        buffer.advanced(by: tokLen).update(from: bytes + i, count: len)
                    }
                    tokLen += outLen
                }

            case .separator:
                var rc = flushCJK(); if rc != SQLITE_OK { return rc }
                rc = flushWord(); if rc != SQLITE_OK { return rc }
            }
            i = end
        }
        var rc = flushCJK(); if rc != SQLITE_OK { return rc }
        rc = flushWord()
        return rc
    }
}
