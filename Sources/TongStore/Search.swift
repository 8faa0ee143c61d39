import Foundation
import GRDB
import TongCore

/// A policy or service-item search: free text plus filters. Any input is safe.
public struct SearchRequest: Sendable {
    /// Free text, Chinese or Latin.
    public var q: String = ""
    /// Theme code filter.
    public var theme: String?
    /// Region filter: a division code; a province or city code also matches the regions under it.
    public var region: String?
    /// Department id filter.
    public var department: String?
    /// Audience code filter.
    public var audience: String?
    /// Status filter (`active`, `withdrawn`).
    public var status: String?
    /// Page size.
    public var limit: Int = 20
    /// Page start.
    public var offset: Int = 0
    /// Makes an empty request (everything, newest first).
    public init() {}
}

/// One search hit.
public struct SearchHit: Sendable {
    /// The record.
    public var record: StoredRecord
    /// Title with matches wrapped in `SearchHit.markOpen` / `markClose`.
    public var titleMarked: String?
    /// A body excerpt with matches wrapped the same way.
    public var snippetMarked: String?
    /// Private-use characters that bracket matches; the HTTP layer escapes the text, then
    /// turns these into `<mark>` tags, so replicated text can never inject markup.
    public static let markOpen = "\u{E000}", markClose = "\u{E001}"
}

/// The result of a search.
public struct SearchResult: Sendable {
    /// Number of matching records.
    public var total: Int
    /// The requested page.
    public var hits: [SearchHit]
    /// Counts per theme code over all matches.
    public var themeFacets: [String: Int]
    /// Counts per region code over all matches.
    public var regionFacets: [String: Int]
    /// Counts per department over all matches.
    public var departmentFacets: [String: Int]
}

extension TongDatabase {
    /// Searches policies (`kind == .policy`) or service items.
    public func search(_ req: SearchRequest, kind: RecordKind = .policy) throws -> SearchResult {
        let index = kind == .serviceItem ? "service_index" : "policy_index"
        let match = SearchQuery.match(for: req.q)
        if !req.q.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty, match == nil {
            // Nothing searchable (only punctuation, say): an honest empty answer.
            return SearchResult(total: 0, hits: [], themeFacets: [:], regionFacets: [:], departmentFacets: [:])
        }
        var from = "\(index) p"
        var conditions: [String] = []
        var args: [any DatabaseValueConvertible] = []
        if let match {
            from = "text_fts JOIN \(index) p ON p.rowid = text_fts.rowid"
            conditions.append("text_fts MATCH ?")
            args.append(match)
        }
        if let t = req.theme {
            conditions.append("(p.themes & ?) != 0"); args.append(Theme(rawValue: t)?.bit ?? 0)
        }
        if let a = req.audience {
            conditions.append("(p.audiences & ?) != 0"); args.append(Audience(rawValue: a)?.bit ?? 0)
        }
        if let d = req.department { conditions.append("p.department = ?"); args.append(d) }
        if let s = req.status { conditions.append("p.status = ?"); args.append(s) }
        if let r = req.region {
            let (lo, hi) = Self.regionRange(r)
            conditions.append("p.region >= ? AND p.region < ?"); args.append(lo); args.append(hi)
        }
        let whereSQL = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
        let limit = max(0, min(req.limit, 100))
        let offset = max(0, min(req.offset, 100_000))
        return try pool.read { db in
            // One pass over the matches gives the total and every facet: group by the two
            // single-valued facets and sum the theme bits; the rest is added up here.
            let themeSums = Theme.allCases.map { "sum((p.themes & \($0.bit)) != 0)" }.joined(separator: ", ")
            var total = 0
            var themes: [String: Int] = [:], regions: [String: Int] = [:], departments: [String: Int] = [:]
            let rows = try Row.fetchCursor(db, sql: "SELECT p.region, p.department, count(*), \(themeSums) FROM \(from) \(whereSQL) GROUP BY p.region, p.department",
                                           arguments: StatementArguments(args))
            while let row = try rows.next() {
                let n: Int = row[2]
                total += n
                regions[row[0], default: 0] += n
                departments[row[1], default: 0] += n
                for (i, t) in Theme.allCases.enumerated() {
                    let k: Int = row[i + 3]
                    if k > 0 { themes[t.rawValue, default: 0] += k }
                }
            }
            if departments.count > 50 {
                departments = Dictionary(uniqueKeysWithValues: departments.sorted { $0.value > $1.value }.prefix(50).map { ($0.key, $0.value) })
            }
            var hits: [SearchHit] = []
            if total > 0, limit > 0 {
                if let match {
                    // Rank first, mark up after: SQLite evaluates every result column of every
                    // match before sorting, and highlight()/snippet() re-tokenize the document,
                    // so they run only for the page's rows, in a second query.
                    let ranked = try Int64.fetchAll(db, sql: """
                        SELECT p.rowid FROM \(from) \(whereSQL)
                        ORDER BY bm25(text_fts, 10.0, 5.0, 1.0, 3.0) LIMIT ? OFFSET ?
                        """, arguments: StatementArguments(args + [limit, offset]))
                    var marked: [Int64: (String?, String?)] = [:]
                    if !ranked.isEmpty {
                        let list = ranked.map(String.init).joined(separator: ",")
                        for row in try Row.fetchAll(db, sql: """
                            SELECT rowid, highlight(text_fts, 0, '\(SearchHit.markOpen)', '\(SearchHit.markClose)'),
                                   snippet(text_fts, 2, '\(SearchHit.markOpen)', '\(SearchHit.markClose)', '…', 40)
                            FROM text_fts WHERE text_fts MATCH ? AND rowid IN (\(list))
                            """, arguments: [match]) {
                            marked[row[0]] = (row[1], row[2])
                        }
                    }
                    for rowid in ranked {
                        guard let id = try String.fetchOne(db, sql: "SELECT id FROM record WHERE rowid = ?", arguments: [rowid]),
                              let rec = try Self.load(db, id: id) else { continue }
                        hits.append(SearchHit(record: rec, titleMarked: marked[rowid]?.0, snippetMarked: marked[rowid]?.1))
                    }
                } else {
                    let order = kind == .policy ? "p.issued_on DESC, p.rowid DESC" : "p.rowid DESC"
                    let sql = "SELECT r.id FROM \(from) JOIN record r ON r.rowid = p.rowid \(whereSQL) ORDER BY \(order) LIMIT ? OFFSET ?"
                    for id in try String.fetchAll(db, sql: sql, arguments: StatementArguments(args + [limit, offset])) {
                        guard let rec = try Self.load(db, id: id) else { continue }
                        hits.append(SearchHit(record: rec, titleMarked: nil, snippetMarked: nil))
                    }
                }
            }
            return SearchResult(total: total, hits: hits, themeFacets: themes, regionFacets: regions, departmentFacets: departments)
        }
    }

    /// A province code matches its whole province, a city code its whole city; codes sort so
    /// that this is a range on the indexed column.
    static func regionRange(_ code: String) -> (String, String) {
        guard code.count == 6, code.allSatisfy(\.isASCII), let n = Int(code), code != "100000" else { return (code, code + "\u{1}") }
        if code.hasSuffix("0000") { return (code, String(format: "%06d", n + 10_000)) }
        if code.hasSuffix("00") { return (code, String(format: "%06d", n + 100)) }
        return (code, code + "\u{1}")
    }
}
