import Foundation
import GRDB
import GRDBSQLite

extension SearchScan {
    /// The pass of a query `Postings.walks` accepts over sealed postings (`PostingsSegment`) and
    /// FTS5 for the rest, newest first: each piece in turn until the cap. `phrases` are each
    /// term's tokens (a phrase when more than one); `filterTokens` the filters' hidden tokens (`SearchFacets`),
    /// intersected too so that the catalog tests fewer rows; `match` is the FTS5 expression of
    /// the same query (with its filter phrases) for the FTS5 pieces. The rows kept, their facets, frequencies and tiers
    /// are those FTS5 alone would give (`SearchPostingsTests`).
    /// - Throws: `DatabaseError` from SQLite; `StoreError(.corrupt)` for a malformed postings blob.
    func runPieces(
        _ db: Database, phrases: [[[UInt8]]], filterTokens: [[UInt8]] = [], match: String, pieces: [PostingsSegment.Piece],
        helper: (() -> SearchScan)? = nil
    ) throws {
        let tokens = phrases.flatMap { $0 }, sizes = phrases.map(\.count)
        try prepareStatistics(db, phrases: phrases.count, phraseTokens: tokens.count)
        if phrases.count > 1 { phraseHits = try phrases.map { try Self.documentCount(db, phrase: $0, pieces: pieces) } }
        let reader = try PostingsReader(db, tokens: tokens + filterTokens)
        let walker = PostingsWalker(phraseSizes: sizes, filters: filterTokens.count)
        var helperWalker: PostingsWalker?
        var segmentsWalked = 0
        // Bytes of blobs the last segment (or pair) walked: a rare word's segments are walked one
        // at a time, where handing one to the other core would cost more than it saves.
        var lastWalkBytes = 0
        var i = 0
        func malformed(_ id: Int64) -> StoreError { StoreError(.corrupt, "postings segment \(id) of the full-text index is malformed") }
        while i < pieces.count, !acc.pointee.overflow {
            switch pieces[i] {
            case .fullText(let above, let upTo):
                try walk(db, match: match, below: upTo.map { $0 == .max ? .max : $0 + 1 }, above: above == .min ? nil : above)
                i += 1
            case .segment(let id, _, let hi):
                // Once one segment did not reach the cap, the walk goes on: the next two segments are
                // walked at once, the older on the other core into a scan of its own, whose rows
                // are then taken after this one's, up to the cap (`absorb`, as a split pass's).
                if let helper, segmentsWalked > 0, i + 1 < pieces.count, case .segment(let older, _, let olderHi) = pieces[i + 1],
                    lastWalkBytes >= Self.pairedWalkBytes
                {
                    let mine = try reader.blobs(segment: id), theirs = try reader.blobs(segment: older)
                    lastWalkBytes = (mine?.bytes ?? 0) + (theirs?.bytes ?? 0)
                    let other = helper()
                    other.shareStatistics(with: self)
                    let otherWalker = helperWalker ?? PostingsWalker(phraseSizes: sizes, filters: filterTokens.count)
                    helperWalker = otherWalker
                    let job = PostingsJob(scan: other, walker: otherWalker, blobs: theirs, hi: olderHi)
                    let done = DispatchSemaphore(value: 0)
                    if theirs != nil {
                        DispatchQueue.global(qos: .userInitiated).async {
                            job.run()
                            done.signal()
                        }
                    }
                    let failed = mine.map { walker.walk(self, $0.pointers, hi: hi) } ?? false
                    if theirs != nil { done.wait() }
                    if failed { throw malformed(id) }
                    if job.failed { throw malformed(older) }
                    absorb(other)
                    segmentsWalked += 2
                    i += 2
                } else {
                    let blobs = try reader.blobs(segment: id)
                    lastWalkBytes = blobs?.bytes ?? 0
                    if let blobs, walker.walk(self, blobs.pointers, hi: hi) { throw malformed(id) }
                    segmentsWalked += 1
                    i += 1
                }
            }
        }
    }

    /// Blob bytes a segment (or a pair) must have had for the next two to be walked at once:
    /// below it the hand-off (a dispatch, a helper scan, about 30 µs) costs more than the walk.
    static let pairedWalkBytes = 32 << 10

    /// Rows holding a one-token phrase, as `start` counts them with `xQueryPhrase` for bm25's
    /// IDF (up to `phraseCountCap`): the ready segments' stored document counts, and FTS5's count
    /// in the ranges it answers for.
    /// - Throws: `DatabaseError` from SQLite; `StoreError(.unusable)` for a phrase of several tokens.
    static func documentCount(_ db: Database, phrase: [[UInt8]], pieces: [PostingsSegment.Piece]) throws -> Int {
        guard phrase.count == 1 else { throw StoreError(.unusable, "document counts of postings are kept for one-token phrases only") }
        // Every segment's count of the token in one statement, the ready ones summed.
        var counts: [Int64: Int] = [:]
        for row in try Row.fetchAll(
            db.cachedStatement(sql: "SELECT segment, df FROM search.postings WHERE token = ?"), arguments: [Data(phrase[0])])
        {
            counts[row[0]] = row[1]
        }
        var n = 0
        let quoted = "\"" + String(decoding: phrase[0], as: UTF8.self).replacingOccurrences(of: "\"", with: "\"\"") + "\""
        for piece in pieces where n < phraseCountCap {
            switch piece {
            case .segment(let id, _, _):
                n += counts[id] ?? 0
            case .fullText(let above, let upTo):
                n += try Int.fetchOne(
                    db.cachedStatement(sql: "SELECT count(*) FROM text_fts WHERE text_fts MATCH ? AND rowid > ? AND rowid <= ?"),
                    arguments: [quoted, above, upTo ?? .max]) ?? 0
            }
        }
        return min(n, phraseCountCap)
    }

    /// Gives a helper scan the statistics this one read (`prepareStatistics`).
    private func shareStatistics(with first: SearchScan) {
        let a = acc, b = first.acc
        a.pointee.started = true
        a.pointee.phrases = b.pointee.phrases
        a.pointee.phraseTokens = b.pointee.phraseTokens
        a.pointee.rowCount = b.pointee.rowCount
        a.pointee.averageLength = b.pointee.averageLength
    }

    /// The statistics the first FTS5 row would give (`start`): the row count and the average
    /// length, from FTS5's averages record (`%_data` id 1: SQLite varints, the row count and
    /// then each column's token total).
    private func prepareStatistics(_ db: Database, phrases: Int, phraseTokens: Int) throws {
        let a = acc
        a.pointee.started = true
        a.pointee.phrases = phrases
        a.pointee.phraseTokens = Int32(phraseTokens)
        guard let blob = try Data.fetchOne(db, sql: "SELECT block FROM search.text_fts_data WHERE id = 1") else { return }
        let values = Self.sqliteVarints(blob)
        guard let n = values.first else { return }
        let tokens = values.dropFirst().reduce(0, &+)
        a.pointee.rowCount = Int64(truncatingIfNeeded: n)
        a.pointee.averageLength = n > 0 && tokens > 0 ? Double(tokens) / Double(n) : 1
    }

    /// The values of a blob of SQLite varints (FTS5's `%_data` records and `docsize`).
    static func sqliteVarints(_ blob: Data) -> [UInt64] {
        var values: [UInt64] = []
        SearchCatalog.forEachVarint(blob) { values.append($0) }
        return values
    }

    /// One row every token holds and the catalog's filters accept: its phrase hits per column
    /// (title, doc_number, body, tags) are kept exactly as `visit` keeps an FTS5 row's.
    @inline(__always)
    fileprivate func keepPostingsRow(
        _ rowid: Int64, _ e: SearchCatalog.Entry, hits: UnsafeMutablePointer<Int>, phrases: Int, numberSize: Int
    ) {
        let a = acc
        a.pointee.matched += 1
        guard let k = keep(rowid, e) else { return }
        let w = a.pointee.weights
        let f = a.pointee.frequencies! + k * phrases
        var inTitle = true, inNumber = true
        for p in 0..<phrases {
            let h = hits + 4 * p
            f[p] = Double(h[0]) * w.0 + Double(h[1]) * w.1 + Double(h[2]) * w.2 + Double(h[3]) * w.3
            inTitle = inTitle && h[0] > 0
            inNumber = inNumber && h[1] > 0
        }
        var tier: UInt8 = 0
        if a.pointee.rankTiers {
            if inTitle { tier |= Self.tierTitle }
            if inNumber, numberSize == Int(a.pointee.phraseTokens) { tier |= Self.tierExactNumber }
        }
        a.pointee.tiers![k] = tier
    }
}

/// One statement per query token over `postings` (by token, then segment, newest first), so
/// that a search meets each segment's blob of each token with one step, not one lookup.
final class PostingsReader {
    private var statements: [Statement] = []
    /// Each token's current segment id (nil: no more segments hold it) and its blob's bytes
    /// (valid until the statement steps again).
    private var current: [Int64?] = []
    private var data: [(UnsafePointer<UInt8>?, Int)] = []
    private var fetched: [Bool] = []

    init(_ db: Database, tokens: [[UInt8]]) throws {
        for token in tokens {
            let statement = try db.makeStatement(sql: "SELECT segment, data FROM search.postings WHERE token = ? ORDER BY segment DESC")
            let handle = statement.sqliteStatement
            let rc = token.withUnsafeBytes { sqlite3_bind_blob(handle, 1, $0.baseAddress, Int32($0.count), SQLITE_TRANSIENT_POSTINGS) }
            guard rc == SQLITE_OK else { throw DatabaseError(resultCode: ResultCode(rawValue: rc), message: "cannot bind a token") }
            statements.append(statement)
            current.append(.max)
            data.append((nil, 0))
            fetched.append(false)
        }
    }

    deinit { for s in statements { sqlite3_reset(s.sqliteStatement) } }

    /// Each token's blob in `segment`, nil when a token has none there (no row matches).
    /// Segments must be asked for newest (highest id) first.
    /// - Throws: `DatabaseError` from SQLite.
    func blobs(segment: Int64) throws -> PostingsBlobs? {
        var out: [(UnsafePointer<UInt8>, Int)] = []
        for i in statements.indices {
            let handle = statements[i].sqliteStatement
            while let c = current[i], c > segment {
                let rc = sqlite3_step(handle)
                if rc == SQLITE_ROW {
                    current[i] = sqlite3_column_int64(handle, 0)
                    fetched[i] = false
                } else if rc == SQLITE_DONE {
                    current[i] = nil
                } else {
                    throw DatabaseError(resultCode: ResultCode(rawValue: rc), message: "reading postings failed")
                }
            }
            guard current[i] == segment else { return nil }
            // (SQLite has read the blob of every row it stepped over already; stale segments, the
            // only ones skipped, are few.)
            if !fetched[i] {
                let count = Int(sqlite3_column_bytes(handle, 1))
                data[i] = (sqlite3_column_blob(handle, 1).map { $0.assumingMemoryBound(to: UInt8.self) }, count)
                fetched[i] = true
            }
            guard let base = data[i].0, data[i].1 > 0 else { return nil }
            out.append((base, data[i].1))
        }
        return PostingsBlobs(copying: out)
    }
}

/// Copies of one segment's token blobs (SQLite's own buffers last only until its statement steps).
final class PostingsBlobs: @unchecked Sendable {
    let pointers: [(UnsafePointer<UInt8>, Int)]
    /// All the blobs' bytes.
    var bytes: Int { pointers.reduce(0) { $0 + $1.1 } }

    init(copying blobs: [(UnsafePointer<UInt8>, Int)]) {
        pointers = blobs.map { base, count in
            let copy = UnsafeMutablePointer<UInt8>.allocate(capacity: count)
            copy.initialize(from: base, count: count)
            return (UnsafePointer(copy), count)
        }
    }

    deinit { for (p, _) in pointers { UnsafeMutablePointer(mutating: p).deallocate() } }
}

/// A segment walked on the other core: only its own scan, walker and blobs are touched there.
private final class PostingsJob: @unchecked Sendable {
    let scan: SearchScan
    let walker: PostingsWalker
    let blobs: PostingsBlobs?
    let hi: Int64
    private(set) var failed = false

    init(scan: SearchScan, walker: PostingsWalker, blobs: PostingsBlobs?, hi: Int64) {
        self.scan = scan
        self.walker = walker
        self.blobs = blobs
        self.hi = hi
    }

    func run() {
        if let blobs { failed = walker.walk(scan, blobs.pointers, hi: hi) }
    }
}

/// The intersection of a segment's blobs, with reusable position buffers (no allocation per row).
final class PostingsWalker {
    /// Word tokens (their positions are read), and all cursors (the filter tokens after them).
    private let k: Int
    private let all: Int
    /// Cursor numbers in the order the intersection tries them: the smallest blob first.
    private var order: UnsafeMutablePointer<Int>
    private var cursors: UnsafeMutablePointer<PostingsCursor>
    private var buffers: UnsafeMutablePointer<UnsafeMutablePointer<UInt64>>
    private var capacity = 256
    private var counts: UnsafeMutablePointer<Int>
    private var next: UnsafeMutablePointer<Int>

    /// Each word phrase's first token and token count (the tokens are laid out phrase after phrase).
    private let phrases: [(start: Int, size: Int)]
    /// Hits per phrase and column (title, doc_number, body, tags), four per phrase.
    private var hits: UnsafeMutablePointer<Int>

    init(phraseSizes: [Int], filters: Int) {
        var start = 0
        phrases = phraseSizes.map { size in
            defer { start += size }
            return (start, size)
        }
        k = start
        all = k + filters
        hits = .allocate(capacity: 4 * max(1, phraseSizes.count))
        order = .allocate(capacity: all)
        cursors = .allocate(capacity: all)
        buffers = .allocate(capacity: k)
        for i in 0..<k { buffers[i] = .allocate(capacity: capacity) }
        counts = .allocate(capacity: k)
        next = .allocate(capacity: k)
    }

    deinit {
        for i in 0..<k { buffers[i].deallocate() }
        buffers.deallocate()
        cursors.deallocate()
        order.deallocate()
        counts.deallocate()
        next.deallocate()
        hits.deallocate()
    }

    /// Visits the rows all `blobs` hold, newest first, until the scan's cap. Returns whether a
    /// blob was malformed.
    func walk(_ scan: SearchScan, _ blobs: [(UnsafePointer<UInt8>, Int)], hi: Int64) -> Bool {
        let a = scan.acc
        for i in 0..<all { (cursors + i).initialize(to: PostingsCursor(blobs[i].0, count: blobs[i].1, hi: hi)) }
        defer { (cursors).deinitialize(count: all) }
        for (n, i) in (0..<all).sorted(by: { blobs[$0].1 < blobs[$1].1 }).enumerated() { order[n] = i }
        for i in 0..<all where !cursors[i].next() { return cursors[i].isMalformed }
        let lead = order[0]
        var target = cursors[lead].rowid
        outer: while !a.pointee.overflow {
            var n = 0
            while n < all {
                let i = order[n]
                guard cursors[i].advance(to: target) else { break outer }
                if cursors[i].rowid < target {
                    target = cursors[i].rowid
                    n = 0
                    continue
                }
                n += 1
            }
            visit(scan, a, target)
            guard cursors[lead].next() else { break }
            target = cursors[lead].rowid
        }
        for i in 0..<all where cursors[i].isMalformed { return true }
        return false
    }

    @inline(__always)
    private func visit(_ scan: SearchScan, _ a: UnsafeMutablePointer<SearchScan.Accumulator>, _ rowid: Int64) {
        guard let e = SearchScan.accepted(a, rowid) else { return }
        var numberSize = -1
        for i in 0..<k {
            // A position takes at least one byte: the byte length bounds the count.
            let need = cursors[i].positionEnd - cursors[i].positionStart
            if need > capacity { grow(need) }
            counts[i] = cursors[i].positions(into: buffers[i], numberSize: &numberSize)
        }
        // Hits per phrase and column: every position of a phrase's first token with its others
        // right after it. A row holds the query when every phrase has a hit.
        hits.initialize(repeating: 0, count: 4 * phrases.count)
        for (p, phrase) in phrases.enumerated() {
            let first = buffers[phrase.start]
            var found = false
            for i in 1..<max(1, phrase.size) { next[phrase.start + i] = 0 }
            for j in 0..<counts[phrase.start] {
                let position = first[j]
                var all = true
                for i in 1..<max(1, phrase.size) {
                    let t = phrase.start + i
                    let want = position + UInt64(i), b = buffers[t], n = counts[t]
                    var x = next[t]
                    while x < n, b[x] < want { x += 1 }
                    next[t] = x
                    if x == n || b[x] != want {
                        all = false
                        break
                    }
                }
                guard all else { continue }
                let column = Int(position >> Postings.offsetBits)
                if column < 4 {
                    hits[4 * p + column] += 1
                    found = true
                }
            }
            if !found { return }
        }
        scan.keepPostingsRow(rowid, e, hits: hits, phrases: phrases.count, numberSize: numberSize)
    }

    private func grow(_ need: Int) {
        capacity = max(need, capacity * 2)
        for i in 0..<k {
            buffers[i].deallocate()
            buffers[i] = .allocate(capacity: capacity)
        }
    }
}

private let SQLITE_TRANSIENT_POSTINGS = unsafeBitCast(-1, to: sqlite3_destructor_type.self)
