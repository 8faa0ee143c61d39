import TongCore

/// Stores a record's merge state compactly: the winning values go to `doc`, and `meta` lists
/// only what the values don't say. Most fields were written by the record's creating write
/// and never touched since; they share one "base" dot and cost nothing in `meta`.
enum RecordCodec {
    /// The three stored columns of a record.
    struct Columns: Sendable {
        var doc: String
        var meta: String
        var version: String
    }

    static func encode(_ r: RecordState) -> Columns {
        // Base: the (dot, at) shared by the most single-entry, cover-free fields.
        var counts: [FieldKey: Int] = [:]
        for f in r.fields.values where f.losers.isEmpty && f.cover.counters.isEmpty {
            counts[FieldKey(f.winner), default: 0] += 1
        }
        let base = counts.max { a, b in a.value < b.value || (a.value == b.value && a.key.sortKey < b.key.sortKey) }?.key
        var special: [String: JSONValue] = [:]
        for (name, f) in r.fields {
            if let base, f.losers.isEmpty, f.cover.counters.isEmpty, FieldKey(f.winner) == base { continue }
            special[name] = [
                "e": .array(f.entries.map { .array([$0.value, .string($0.dot.node), .int(Int64($0.dot.counter)), .int($0.at)]) }),
                "c": f.cover.json,
            ]
        }
        var meta: [String: JSONValue] = [:]
        if let base { meta["b"] = [.string(base.node), .int(Int64(base.counter)), .int(base.at)] }
        if !special.isEmpty { meta["f"] = .object(special) }
        return Columns(
            doc: String(decoding: CanonicalJSON.encode(.object(r.values)), as: UTF8.self),
            meta: String(decoding: CanonicalJSON.encode(.object(meta)), as: UTF8.self),
            version: String(decoding: CanonicalJSON.encode(r.version.json), as: UTF8.self))
    }

    static func decode(id: String, kind: RecordKind, owner: String, columns: Columns) throws -> RecordState {
        guard let doc = try JSONParser.parse(columns.doc).objectValue,
            let meta = try JSONParser.parse(columns.meta).objectValue,
            let version = VersionVector(json: try JSONParser.parse(columns.version))
        else { throw StoreError(.unusable, "record \(id) is not readable") }
        var base: FieldEntry?
        if let b = meta["b"]?.arrayValue, b.count == 3, let n = b[0].stringValue, let c = b[1].intValue, let at = b[2].intValue {
            base = FieldEntry(value: .null, dot: Dot(node: n, counter: UInt64(c)), at: at)
        }
        let special = meta["f"]?.objectValue ?? [:]
        var fields: [String: FieldState] = [:]
        for (name, s) in special {
            guard let es = s["e"]?.arrayValue, !es.isEmpty, let cover = s["c"].flatMap(VersionVector.init(json:)) else {
                throw StoreError(.unusable, "record \(id) field \(name) is not readable")
            }
            var entries: [FieldEntry] = []
            for e in es {
                guard let a = e.arrayValue, a.count == 4, let n = a[1].stringValue, let c = a[2].intValue, let at = a[3].intValue else {
                    throw StoreError(.unusable, "record \(id) field \(name) is not readable")
                }
                entries.append(FieldEntry(value: a[0], dot: Dot(node: n, counter: UInt64(c)), at: at))
            }
            fields[name] = FieldState(entries: entries, cover: cover)
        }
        for (name, value) in doc where special[name] == nil {
            guard var b = base else { throw StoreError(.unusable, "record \(id) has no base dot") }
            b.value = value
            fields[name] = FieldState(entry: b)
        }
        return RecordState(id: id, kind: kind, owner: owner, version: version, fields: fields)
    }

    private struct FieldKey: Hashable {
        var node: String
        var counter: UInt64
        var at: Int64
        init(_ e: FieldEntry) { node = e.dot.node; counter = e.dot.counter; at = e.at }
        var sortKey: String { "\(node):\(counter):\(at)" }
    }
}
