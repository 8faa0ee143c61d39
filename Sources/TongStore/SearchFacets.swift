import TongCore

/// Filter values as tokens of a hidden full-text column (`text_fts.facets`), so that a search
/// with words and a filter lets FTS5 intersect the doclists (skipping through the common word's
/// doclist with its index) instead of walking every row that holds the word and rejecting it
/// against the catalog one by one. The catalog still checks every filter on every kept row:
/// the tokens only narrow what FTS5 hands it, so a row the filter accepts must carry them.
///
/// Tokens are ASCII letters and digits (the tokenizer keeps such a run whole and never folds
/// it, docs/architecture.md "Search text normalisation"):
/// - region, following `TongDatabase.regionRange` (GB/T 2260 codes): `xrp` + the first two
///   digits (a province's filter covers its whole range), `xrc` + the first four (a city's),
///   `xre` + the whole code (a county's, and 100000); `xrh` + the UTF-8 bytes in hex for a code
///   that is not six digits (the API refuses those; kept exact all the same);
/// - department: `xd` + FNV-1a (32 bits, hex) of the id (ids hold `-`, which splits tokens).
///   Two ids with one hash would only make FTS5 hand the scan rows the catalog then rejects:
///   the catalog decides, the token narrows;
/// - theme and audience: `xt` / `xa` + the bit's index (`Theme.bit`, `Audience.bit`).
///
/// The column is last, so the other columns keep their numbers and weights; its tokens count
/// in a row's length as FTS5's bm25 counts every column (a handful beside hundreds of body tokens).
enum SearchFacets {
    /// The `facets` text of a row.
    static func document(region: String, department: String, themes: Int64, audiences: Int64) -> String {
        var tokens: [String] = []
        if let (province, city) = divisions(region) {
            tokens.append("xrp" + province)
            tokens.append("xrc" + city)
        }
        tokens.append(exact(region))
        if !department.isEmpty { tokens.append(departmentToken(department)) }
        for b in 0..<63 where themes & (1 << b) != 0 { tokens.append("xt\(b)") }
        for b in 0..<63 where audiences & (1 << b) != 0 { tokens.append("xa\(b)") }
        return tokens.joined(separator: " ")
    }

    /// The tokens a request's filters require (all of them), for `facets : "…"` phrases, each
    /// with the share of the catalog's rows that carry it (0...1; 0 for an empty catalog).
    static func required(_ req: SearchRequest, filter: SearchFilter, snapshot: SearchCatalog.Snapshot) -> [(token: String, share: Double)] {
        let all = Double(max(1, snapshot.present))
        func share(_ n: Int) -> Double { Double(n) / all }
        func bitShare(_ counts: [Int], _ mask: UInt32?) -> Double { mask.map { share(counts[$0.trailingZeroBitCount & 31]) } ?? 1 }
        var tokens: [(String, Double)] = []
        if let r = req.region {
            let n = filter.regions.map { accepted in
                zip(accepted, snapshot.regionCounts).reduce(0) { $0 + ($1.0 ? $1.1 : 0) }
            } ?? snapshot.present
            if let (province, city) = divisions(r) {
                tokens.append((r.hasSuffix("0000") ? "xrp" + province : r.hasSuffix("00") ? "xrc" + city : exact(r), share(n)))
            } else {
                tokens.append((exact(r), share(n)))
            }
        }
        if let d = req.department, !d.isEmpty {
            let n = filter.department.map { Int($0) < snapshot.departmentCounts.count ? snapshot.departmentCounts[Int($0)] : 0 } ?? 0
            tokens.append((departmentToken(d), share(n)))
        }
        if let t = req.theme, let bit = Theme(rawValue: t)?.bit {
            tokens.append(("xt\(bit.trailingZeroBitCount)", bitShare(snapshot.themeCounts, filter.themes)))
        }
        if let a = req.audience, let bit = Audience(rawValue: a)?.bit {
            tokens.append(("xa\(bit.trailingZeroBitCount)", bitShare(snapshot.audienceCounts, filter.audiences)))
        }
        return tokens
    }

    /// Filter tokens carried by more than this share of the rows are left out of the query: FTS5
    /// would seek through their doclists once per row the words match (a few microseconds each)
    /// to confirm what the catalog then checks again in nanoseconds. Measured at 1M policies
    /// (docs/performance.md, sixth session): 个体工商户 in the whole province (xrp33, every row)
    /// and one theme took 20-30 ms with every token, 9-12 ms without the province's.
    static let maxTokenShare = 0.9

    /// The clause appended to a words query (`(words) AND facets : "…" AND …`), and how many
    /// phrases it adds (they come after the words' phrases, so the scan knows to skip them).
    /// Only selective tokens go in (`maxTokenShare`); the catalog checks every filter anyway.
    static func clause(
        _ req: SearchRequest, filter: SearchFilter, snapshot: SearchCatalog.Snapshot, maxShare: Double = maxTokenShare
    ) -> (text: String, phrases: Int) {
        clause(tokens: Self.tokens(req, filter: filter, snapshot: snapshot, maxShare: maxShare))
    }

    /// The clause of `tokens` (from `tokens(_:filter:snapshot:maxShare:)`).
    static func clause(tokens: [String]) -> (text: String, phrases: Int) {
        (tokens.map { " AND facets : \"\($0)\"" }.joined(), tokens.count)
    }

    /// The selective tokens of `required` (`maxTokenShare`): those `clause` puts in a query,
    /// and a walk of sealed postings intersects (`SearchScan.runPieces`).
    static func tokens(_ req: SearchRequest, filter: SearchFilter, snapshot: SearchCatalog.Snapshot, maxShare: Double = maxTokenShare) -> [String] {
        required(req, filter: filter, snapshot: snapshot).filter { $0.share <= maxShare }.map(\.token)
    }

    /// Province and city prefixes of a six-digit division code other than 100000 (the
    /// national level), as `regionRange` reads them; nil for anything else.
    private static func divisions(_ code: String) -> (String, String)? {
        let u = Array(code.utf8)
        guard u.count == 6, u.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }), code != "100000" else { return nil }
        return (String(code.prefix(2)), String(code.prefix(4)))
    }

    /// The token of one exact region code: six digits as they are, anything else in hex.
    private static func exact(_ code: String) -> String {
        let u = code.utf8
        return u.count == 6 && u.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) ? "xre" + code : "xrh" + hex(code)
    }

    /// FNV-1a, 32 bits, of the id's UTF-8 bytes, as 8 hex digits after `xd`.
    private static func departmentToken(_ id: String) -> String {
        var h: UInt32 = 0x811C_9DC5
        for b in id.utf8 { h = (h ^ UInt32(b)) &* 0x0100_0193 }
        let s = String(h, radix: 16)
        return "xd" + String(repeating: "0", count: 8 - s.count) + s
    }

    /// The text's UTF-8 bytes in lowercase hex.
    private static func hex(_ s: String) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(s.utf8.count * 2)
        for b in s.utf8 {
            out.append(digits[Int(b >> 4)])
            out.append(digits[Int(b & 15)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
