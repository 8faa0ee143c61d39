import Foundation
import GRDBSQLite

/// Tong's own postings for a range of row ids: for every token of the four visible full-text
/// columns, the rows that hold it, newest first, each with its positions. A sealed
/// `PostingsSegment` stores one blob per token in this format; a search walks it instead of
/// FTS5's doclists for the rows the segment covers (docs/architecture.md, "Postings beside
/// FTS5").
///
/// Why not FTS5: at a million policies FTS5 spends 7–10 ms of a core on the heaviest query
/// (a five-character word and a theme, the newest 10,000 matches; `scripts/fts5-floor/`), about
/// 70 ns per doclist entry through its expression tree and cursor. This format walks an entry in
/// a few nanoseconds, skips a row's positions without decoding them, and reads positions only
/// for rows the catalog's filters keep.
///
/// A token of the hidden `facets` column (`xt4`) is stored like the others, but its positions
/// in that column are not: a row that holds it only there has an empty position list.
///
/// Format of one token's blob, entries in descending row id:
/// - varint: the row's distance below the previous entry's row id (the first entry's: below
///   the segment's `hi`);
/// - varint: the byte length of the position list that follows;
/// - the position list, in column order: a 0 and the column's number (varints) where the
///   column changes from the previous one (from column 0 at the start), then each position as
///   a varint of its distance from the previous one in the column plus one (the first: its
///   offset plus one). As in FTS5's own format, so that a position usually takes one byte.
///   The switch to column 1 (doc_number) is followed by that column's token count, so that
///   the exact-number tier needs no lookup of FTS5's `docsize`.
///   An offset counts the column's tokens from 0 exactly as FTS5 does (a colocated token takes
///   no position, and is not stored: a query that could match one, a prefix or a lone CJK
///   character, stays on FTS5, `isStored`).
///   Decoded positions are `column << 28 | offset`.
enum Postings {
    /// The format's version, stored with each segment: a segment of another version is built
    /// again (`PostingsSegment`), never read.
    static let format = 3

    /// Bits of an encoded position that hold the offset within the column.
    static let offsetBits: UInt64 = 28

    /// The visible columns (title, doc_number, body, tags), in the FTS5 table's order; the
    /// fifth, `facets` (`SearchFacets`), is stored without positions: its tokens only narrow
    /// a walk, as in FTS5 (the catalog decides).
    static let columns = 4
    static let facetsColumn = 4

    @inline(__always)
    static func encode(column: Int, offset: Int) -> UInt64 {
        UInt64(column) << offsetBits | UInt64(min(offset, (1 << 28) - 1))
    }

    @inline(__always)
    static func appendVarint(_ value: UInt64, to out: inout [UInt8]) {
        var v = value
        while v >= 0x80 {
            out.append(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        out.append(UInt8(v))
    }

    /// Reads a varint at `p[i]`, advancing `i`; nil past `end` or for a varint longer than 10 bytes.
    @inline(__always)
    static func readVarint(_ p: UnsafePointer<UInt8>, _ i: inout Int, _ end: Int) -> UInt64? {
        var v: UInt64 = 0, shift: UInt64 = 0
        while i < end, shift < 64 {
            let b = p[i]
            i += 1
            v |= UInt64(b & 0x7F) << shift
            if b < 0x80 { return v }
            shift += 7
        }
        return nil
    }

    /// Appends a position list (encoded positions, ascending) in the blob's format.
    /// `numberSize` is the row's doc_number token count (written after a switch to column 1).
    static func appendPositions(_ positions: [UInt64], numberSize: Int, to out: inout [UInt8]) {
        var column: UInt64 = 0, last: UInt64 = 0
        var started = false
        for p in positions {
            let c = p >> offsetBits, offset = p & ((1 << offsetBits) - 1)
            if c != column {
                out.append(0)
                appendVarint(c, to: &out)
                if c == 1 { appendVarint(UInt64(numberSize), to: &out) }
                column = c
                started = false
            }
            appendVarint(started ? offset - last : offset + 1, to: &out)
            last = offset
            started = true
        }
    }

    /// Whether a query token is in the postings as FTS5 matches it. A lone CJK character (第 in
    /// 第3条规定) is not: FTS5 also matches it against the colocated copy of a run's last
    /// character (法第 → 第, `BigramTokenizer`), which the postings leave out. Such a query
    /// walks FTS5 alone.
    static func isStored(_ token: [UInt8]) -> Bool {
        let scalars = String(decoding: token, as: UTF8.self).unicodeScalars
        return !(scalars.count == 1 && BigramTokenizer.charClass(scalars.first!.value) == .cjk)
    }

    /// Whether a query's phrases (each term's tokens) walk the postings: every token stored
    /// (`isStored`), and either one phrase, or several of one token each (the segments keep
    /// their document counts, which bm25's IDF needs) in a query without an `x` (with one, FTS5
    /// puts a column filter on the words; `SearchQuery.visible`).
    static func walks(_ phrases: [[[UInt8]]], query: String) -> Bool {
        guard !phrases.isEmpty, phrases.allSatisfy({ !$0.isEmpty && $0.allSatisfy(isStored) }) else { return false }
        if phrases.count == 1 { return true }
        return phrases.allSatisfy { $0.count == 1 } && !query.unicodeScalars.contains { $0 == "x" || $0 == "X" }
    }

    /// The tokens `BigramTokenizer` makes of `text` (UTF-8 bytes, query mode: no colocated
    /// tokens), in order.
    static func queryTokens(_ text: String) -> [[UInt8]] {
        var collector = TokenCollector()
        var bytes = Array(text.utf8)
        withUnsafeMutablePointer(to: &collector) { c in
            bytes.withUnsafeMutableBufferPointer { b in
                guard let base = b.baseAddress, b.count > 0 else { return }
                withUnsafeTemporaryAllocation(of: UInt8.self, capacity: BigramTokenizer.maxWordBytes + 8) { buf in
                    _ = BigramTokenizer.scan(
                        bytes: base, count: b.count, buffer: buf.baseAddress!, colocateRunEnd: false, context: UnsafeMutableRawPointer(c),
                        callback: { ctx, flags, token, length, _, _ in
                            guard let ctx, let token, length > 0 else { return SQLITE_OK }
                            let c = ctx.assumingMemoryBound(to: TokenCollector.self)
                            token.withMemoryRebound(to: UInt8.self, capacity: Int(length)) { t in
                                c.pointee.tokens.append(Array(UnsafeBufferPointer(start: t, count: Int(length))))
                            }
                            return SQLITE_OK
                        })
                }
            }
        }
        return collector.tokens
    }

    private struct TokenCollector { var tokens: [[UInt8]] = [] }
}

/// Builds the postings of one segment from its rows' text, newest row first
/// (`PostingsSegment.build`). Memory is the encoded postings plus one dictionary entry per
/// distinct token: about 15 MB for 16,384 generated policies.
final class PostingsBuilder {
    /// Encoded entries, row count and last row id of each token, by token number.
    private(set) var data: [[UInt8]] = []
    private(set) var documentCounts: [Int] = []
    private var lastRowid: [Int64] = []
    private var tokenNumbers: [[UInt8]: Int] = [:]
    private(set) var tokens: [[UInt8]] = []
    /// The row being added: positions per token number, and which numbers it touched.
    private var rowPositions: [[UInt64]] = []
    private var touched: [Int] = []
    /// The row (`rows` when it was added) that last touched each token.
    private var touchedRow: [Int] = []
    private var column = 0, offset = 0, numberSize = 0
    let hi: Int64
    private var previous = Int64.max
    private(set) var rows = 0

    /// - Parameter hi: the segment's highest row id (the first entry's delta is from it).
    init(hi: Int64) { self.hi = hi }

    /// Adds one row's columns: the four visible ones and, when given, `facets`. Rows must come
    /// in strictly descending row id.
    func add(rowid: Int64, columns: [String]) {
        precondition(rowid < previous && rowid <= hi, "postings rows must come newest first")
        previous = rowid
        rows += 1
        let me = Unmanaged.passUnretained(self).toOpaque()
        numberSize = 0
        for (c, text) in columns.prefix(Postings.columns + 1).enumerated() where !text.isEmpty {
            column = c
            offset = 0
            defer { if c == 1 { numberSize = offset } }
            var bytes = Array(text.utf8)
            bytes.withUnsafeMutableBufferPointer { b in
                withUnsafeTemporaryAllocation(of: UInt8.self, capacity: BigramTokenizer.maxWordBytes + 8) { buf in
                    _ = BigramTokenizer.scan(
                        bytes: b.baseAddress!, count: b.count, buffer: buf.baseAddress!, colocateRunEnd: true, context: me,
                        callback: { ctx, flags, token, length, _, _ in
                            guard let ctx, let token else { return SQLITE_OK }
                            let builder = Unmanaged<PostingsBuilder>.fromOpaque(ctx).takeUnretainedValue()
                            // FTS5 gives a colocated token the previous token's position and stores it;
                            // the queries that could match one stay on FTS5 (`Postings.isStored`).
                            guard flags & FTS5_TOKEN_COLOCATED == 0 else { return SQLITE_OK }
                            token.withMemoryRebound(to: UInt8.self, capacity: Int(length)) { t in
                                builder.hit(UnsafeBufferPointer(start: t, count: Int(length)))
                            }
                            return SQLITE_OK
                        })
                }
            }
        }
        for n in touched {
            let positions = rowPositions[n]
            var encoded: [UInt8] = []
            encoded.reserveCapacity(positions.count * 2)
            Postings.appendPositions(positions, numberSize: numberSize, to: &encoded)
            let from = lastRowid[n] == Int64.max ? hi : lastRowid[n]
            Postings.appendVarint(UInt64(from - rowid), to: &data[n])
            Postings.appendVarint(UInt64(encoded.count), to: &data[n])
            data[n].append(contentsOf: encoded)
            lastRowid[n] = rowid
            documentCounts[n] += 1
            rowPositions[n].removeAll(keepingCapacity: true)
        }
        touched.removeAll(keepingCapacity: true)
    }

    private func hit(_ token: UnsafeBufferPointer<UInt8>) {
        let key = Array(token)
        let n: Int
        if let known = tokenNumbers[key] {
            n = known
        } else {
            n = tokens.count
            tokenNumbers[key] = n
            tokens.append(key)
            data.append([])
            documentCounts.append(0)
            lastRowid.append(.max)
            rowPositions.append([])
            touchedRow.append(0)
        }
        if touchedRow[n] != rows {
            touchedRow[n] = rows
            touched.append(n)
        }
        if column < Postings.facetsColumn { rowPositions[n].append(Postings.encode(column: column, offset: offset)) }
        offset += 1
    }
}

/// A walk over one token's blob, newest row first. The blob must stay alive and unmoved while
/// the cursor is used. A malformed blob ends the walk (`isMalformed`), never reads past it.
struct PostingsCursor {
    let base: UnsafePointer<UInt8>
    let end: Int
    private var i = 0
    /// Current row id (valid after `next()` returned true).
    private(set) var rowid: Int64
    /// Byte range of the current row's position list.
    private(set) var positionStart = 0
    private(set) var positionEnd = 0
    private(set) var isMalformed = false

    init(_ base: UnsafePointer<UInt8>, count: Int, hi: Int64) {
        self.base = base
        self.end = count
        self.rowid = hi
    }

    /// Moves to the next (older) row; false at the end.
    @inline(__always)
    mutating func next() -> Bool {
        guard i < end else { return false }
        // Row ids strictly descend: only the first entry may sit at `hi` itself.
        let first = i == 0
        guard let delta = Postings.readVarint(base, &i, end), let length = Postings.readVarint(base, &i, end),
            delta <= UInt64(Int64.max), first || delta > 0, length <= UInt64(end - i), rowid - Int64(delta) >= 0
        else {
            isMalformed = true
            i = end
            return false
        }
        rowid -= Int64(delta)
        positionStart = i
        i += Int(length)
        positionEnd = i
        return true
    }

    /// Moves to the newest row at or below `target`; false at the end.
    @inline(__always)
    mutating func advance(to target: Int64) -> Bool {
        while rowid > target { if !next() { return false } }
        return true
    }

    /// Decodes the current row's encoded positions into `out`, which holds at least
    /// `positionEnd - positionStart` values; returns how many.
    @inline(__always)
    func positions(into out: UnsafeMutablePointer<UInt64>, numberSize: inout Int) -> Int {
        var j = positionStart, n = 0
        var column: UInt64 = 0, last: UInt64 = 0
        var started = false
        while j < positionEnd, let d = Postings.readVarint(base, &j, positionEnd) {
            if d == 0 {
                guard let c = Postings.readVarint(base, &j, positionEnd) else { return n }
                if c == 1 {
                    guard let size = Postings.readVarint(base, &j, positionEnd) else { return n }
                    numberSize = Int(min(size, 1 << 28))
                }
                column = min(c, 15)
                started = false
                continue
            }
            last = started ? last &+ d : d - 1
            started = true
            out[n] = column << Postings.offsetBits | min(last, (1 << Postings.offsetBits) - 1)
            n += 1
        }
        return n
    }

    /// The current row's positions as an array (tests).
    func positions() -> [UInt64] {
        let buffer = UnsafeMutablePointer<UInt64>.allocate(capacity: max(1, positionEnd - positionStart))
        defer { buffer.deallocate() }
        var numberSize = 0
        return Array(UnsafeBufferPointer(start: buffer, count: positions(into: buffer, numberSize: &numberSize)))
    }
}
