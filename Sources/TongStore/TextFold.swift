import COpenCC
import Foundation

/// The one normalisation of search text, applied by `BigramTokenizer` to every document and
/// query and by `SearchQuery` when it splits a query into terms, so both sides always agree.
///
/// Per Unicode scalar, in this order:
/// 1. format characters (general category Cf: U+200B, U+00AD, U+FEFF, U+2060 …) and the other
///    Default_Ignorable_Code_Point scalars (variation selectors U+FE00-U+FE0F …) are dropped:
///    they neither produce nor break a token (稳\u{200B}岗 indexes as 稳岗);
/// 2. NFKC (Unicode UAX #15) of the scalar alone: full-width Ａ/０ → A/0, Kangxi radicals
///    U+2F00-U+2FD5 (⼀ → 一, ⼈ → 人), CJK compatibility ideographs, ㈱ → (株);
/// 3. simple lower-casing where it maps to one scalar (A → a, É → é);
/// 4. Traditional → Simplified by character, from OpenCC (libopencc, Debian `libopencc-data`):
///    its `t2s` conversion (TSCharacters), then `tw2s` and `hk2s` for Taiwan and Hong Kong
///    variant forms, keeping only one-character-to-one-character results (門 → 门, 後 → 后).
///
/// Why a table: every change a node receives passes through the tokenizer, so the hot path is
/// one array read per non-ASCII scalar (ASCII never looks at the table). OpenCC is asked once
/// per process, when the table is first used (0.4-1 s on a loaded 2-core machine: OpenCC looks up
/// about 130,000 characters), with all CJK characters in one call per configuration.
/// Phrase-level conversion (OpenCC's TSPhrases) is not used: it depends on context, and a
/// per-character fold needs none, so a document and a query fold alike whatever surrounds them.
///
/// The fold works per scalar, so it is not NFKC of the whole text where composition crosses
/// characters (a base letter plus a combining mark): combining marks stay separators, as before.
public enum TextFold {
    /// Table entry meaning "drop this scalar".
    static let ignore: UInt32 = 0xFFFF_FFFF
    /// Set on entries that index into `FoldTable.expansions` (offset << 8 | count).
    static let expansionFlag: UInt32 = 0x8000_0000
    /// Scalars below this have a table entry; those above are never changed.
    static let limit = 0x30000

    /// The table, built on first use (thread-safe lazy global).
    static let table = FoldTable()

    /// The fold of one scalar: `body` is called zero (ignored), one or several (NFKC expansion) times.
    @inline(__always)
    static func forEach(_ v: UInt32, _ body: (UInt32) -> Void) {
        if v < 0x80 {
            body(v >= 0x41 && v <= 0x5A ? v + 0x20 : v)
            return
        }
        let m = v < limit ? table.map[Int(v)] : 0
        if m == 0 {
            body(v)
        } else if m == ignore {
            return
        } else if m & expansionFlag != 0 {
            let start = Int((m & ~expansionFlag) >> 8), count = Int(m & 0xFF)
            for k in 0..<count { body(table.expansions[start + k]) }
        } else {
            body(m)
        }
    }

    /// `text` folded as the index sees it (for tests, tools and re-ranking; the tokenizer does
    /// the same inline without building a string).
    public static func fold(_ text: String) -> String {
        var out = String.UnicodeScalarView()
        for s in text.unicodeScalars {
            forEach(s.value) { u in if let scalar = Unicode.Scalar(u) { out.append(scalar) } }
        }
        return String(out)
    }

    /// The folded scalars of `text` (re-ranking reads a few documents per query this way; one
    /// table read per non-ASCII scalar, no closure, no intermediate string).
    static func foldScalars(_ text: String) -> [UInt32] {
        let t = table
        let map = t.map, expansions = t.expansions
        var out: [UInt32] = []
        out.reserveCapacity(text.utf8.count / 2)
        for s in text.unicodeScalars {
            let v = s.value
            if v < 0x80 {
                out.append(v >= 0x41 && v <= 0x5A ? v + 0x20 : v)
                continue
            }
            let m = v < UInt32(limit) ? map[Int(v)] : 0
            if m == 0 {
                out.append(v)
            } else if m == ignore {
                continue
            } else if m & expansionFlag != 0 {
                let first = Int((m & ~expansionFlag) >> 8)
                for k in first..<first + Int(m & 0xFF) { out.append(expansions[k]) }
            } else {
                out.append(m)
            }
        }
        return out
    }

    /// How many Traditional → Simplified character mappings came from OpenCC (0 when its data
    /// could not be opened: then only NFKC, case and ignorable folding apply).
    public static var traditionalMappings: Int { table.traditionalMappings }

    /// A hash of the whole table (hex). Stored with the index: when it changes (a new OpenCC
    /// release, a new Unicode version) the full-text index is rebuilt, because documents indexed
    /// under the old fold would no longer meet queries folded under the new one.
    public static var fingerprint: String { String(table.fingerprint, radix: 16) }
}

/// The fold table: one `UInt32` per scalar below `TextFold.limit` (768 KiB), plus expansions.
/// `@unchecked Sendable`: both buffers are written only in `init` and never again.
final class FoldTable: @unchecked Sendable {
    let map: UnsafeMutablePointer<UInt32>
    let expansions: UnsafeMutablePointer<UInt32>
    let traditionalMappings: Int
    let fingerprint: UInt64

    init() {
        let limit = TextFold.limit
        var map = [UInt32](repeating: 0, count: limit)
        var expansions: [UInt32] = []
        // 1-3: ignorables, NFKC, lower case. Only scalars that can change are normalised
        // through Foundation (`changesWhenNFKCCaseFolded` is the Unicode property that says so).
        var nfkcOf: [UInt32: [UInt32]] = [:]
        for v in 0x80..<UInt32(limit) {
            guard let s = Unicode.Scalar(v) else { continue }
            let p = s.properties
            if p.generalCategory == .format || p.isDefaultIgnorableCodePoint {
                map[Int(v)] = TextFold.ignore
                continue
            }
            guard p.changesWhenNFKCCaseFolded else { continue }
            var out: [UInt32] = []
            for n in String(s).precomposedStringWithCompatibilityMapping.unicodeScalars {
                let lower = n.properties.lowercaseMapping.unicodeScalars
                out.append(lower.count == 1 ? lower.first!.value : n.value)
            }
            if out != [v] { nfkcOf[v] = out }
        }
        // 4: Traditional → Simplified, asked of OpenCC for every CJK character in one call each.
        let ts = Self.traditionalToSimplified()
        for v in 0x80..<UInt32(limit) {
            var out = nfkcOf[v] ?? [v]
            out = out.map { ts[$0] ?? $0 }
            if out == [v] || map[Int(v)] == TextFold.ignore { continue }
            // Ignorables inside an expansion are dropped too.
            out = out.filter { $0 >= UInt32(limit) || $0 < 0x80 || map[Int($0)] != TextFold.ignore }
            if out.count == 1 {
                map[Int(v)] = out[0]
            } else if out.isEmpty {
                map[Int(v)] = TextFold.ignore
            } else {
                map[Int(v)] = TextFold.expansionFlag | UInt32(expansions.count) << 8 | UInt32(min(out.count, 255))
                expansions += out.prefix(255)
            }
        }
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for (v, m) in map.enumerated() where m != 0 {
            for x in [UInt32(v), m] {
                hash = (hash ^ UInt64(x)) &* 0x0000_0100_0000_01B3
            }
        }
        for x in expansions { hash = (hash ^ UInt64(x)) &* 0x0000_0100_0000_01B3 }
        self.map = .allocate(capacity: limit)
        self.map.initialize(from: map, count: limit)
        self.expansions = .allocate(capacity: max(1, expansions.count))
        self.expansions.initialize(from: expansions, count: expansions.count)
        traditionalMappings = ts.count
        fingerprint = hash
    }

    /// OpenCC's single-character Traditional → Simplified mappings: `t2s` first, then `tw2s`
    /// and `hk2s` for characters `t2s` leaves alone. Empty when OpenCC's data is missing.
    static func traditionalToSimplified() -> [UInt32: UInt32] {
        // The BMP's CJK blocks through all three configurations; the supplementary blocks (Ext B-F,
        // 60,000 characters, a few hundred mappings) through t2s only, which keeps the build near 0.4 s.
        let bmp: [ClosedRange<UInt32>] = [0x3400...0x4DBF, 0x4E00...0x9FFF, 0xF900...0xFAFF]
        let supplementary: [ClosedRange<UInt32>] = [0x20000...0x2A6DF, 0x2A700...0x2EBEF]
        func scalars(_ ranges: [ClosedRange<UInt32>]) -> [UInt32] { ranges.flatMap { $0.filter { Unicode.Scalar($0) != nil } } }
        var result: [UInt32: UInt32] = [:]
        for (config, candidates) in [("t2s.json", scalars(bmp + supplementary)), ("tw2s.json", scalars(bmp)), ("hk2s.json", scalars(bmp))] {
            let remaining = candidates.filter { result[$0] == nil }
            guard let converted = convert(remaining, config: config) else { continue }
            for (from, to) in zip(remaining, converted) where to != from { result[from] = to }
        }
        return result
    }

    /// Converts each scalar on its own line (so no phrase spans two), in one OpenCC call.
    /// Nil when the configuration cannot be opened or the answer does not line up.
    private static func convert(_ scalars: [UInt32], config: String) -> [UInt32]? {
        let handle = opencc_open(config)
        guard let handle, Int(bitPattern: handle) != -1 else { return nil }
        defer { _ = opencc_close(handle) }
        var input = String.UnicodeScalarView()
        for v in scalars {
            input.append(Unicode.Scalar(v)!)
            input.append("\n")
        }
        let text = String(input)
        let utf8 = Array(text.utf8)
        guard let out = utf8.withUnsafeBufferPointer({ b in
            b.withMemoryRebound(to: CChar.self) { opencc_convert_utf8(handle, $0.baseAddress, $0.count) }
        }) else { return nil }
        defer { opencc_convert_utf8_free(out) }
        let lines = String(cString: out).split(separator: "\n", omittingEmptySubsequences: false)
        guard lines.count >= scalars.count else { return nil }
        return (0..<scalars.count).map { i in
            let s = lines[i].unicodeScalars
            // Only one character to one character: a fold must keep a bigram a bigram.
            return s.count == 1 ? s.first!.value : scalars[i]
        }
    }
}
