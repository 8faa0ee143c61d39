/// One value written to a field, with the write that produced it.
public struct FieldEntry: Sendable, Hashable {
    /// The value written.
    public var value: JSONValue
    /// The write's dot.
    public var dot: Dot
    /// The writer's clock (ms), the first tie-breaker between concurrent writes.
    public var at: Int64

    /// Makes an entry.
    public init(value: JSONValue, dot: Dot, at: Int64) { self.value = value; self.dot = dot; self.at = at }

    /// The deterministic order between concurrent entries: later clock, then node id, then counter.
    /// Every node computes the same winner from the same set of entries.
    public static func wins(_ a: FieldEntry, over b: FieldEntry) -> Bool {
        if a.at != b.at { return a.at > b.at }
        if a.dot.node != b.dot.node { return a.dot.node > b.dot.node }
        return a.dot.counter > b.dot.counter
    }
}

/// A field as a multi-value register: the live (mutually concurrent) entries and the union
/// of the contexts of every write applied to it, which says which entries are superseded.
public struct FieldState: Sendable, Hashable {
    /// The winning entry.
    public private(set) var winner: FieldEntry
    /// Concurrent entries that lost: the field's conflicts.
    public private(set) var losers: [FieldEntry]
    /// Union of the contexts of all writes applied to this field.
    public private(set) var cover: VersionVector

    /// A field written once.
    public init(entry: FieldEntry, cover: VersionVector = VersionVector()) {
        winner = entry; losers = []; self.cover = cover
    }

    /// Rebuilds a stored field state (entries in any order).
    public init(entries: [FieldEntry], cover: VersionVector) {
        precondition(!entries.isEmpty)
        let sorted = entries.sorted { FieldEntry.wins($0, over: $1) }
        winner = sorted[0]; losers = Array(sorted.dropFirst()); self.cover = cover
    }

    /// Every live entry, winner first.
    public var entries: [FieldEntry] { [winner] + losers }

    /// Applies one write. Order-independent and idempotent: the result is the set of all entries
    /// ever applied, minus those some applied write's context covers.
    public mutating func apply(_ entry: FieldEntry, context: VersionVector) {
        cover = cover.merging(context)
        var live = entries.filter { !cover.contains($0.dot) }
        if !cover.contains(entry.dot), !live.contains(where: { $0.dot == entry.dot }) {
            live.append(entry)
        }
        if live.isEmpty {
            // Only possible when a later write already superseded this one and was itself
            // superseded by a context naming it; keep the newest known entry rather than nothing.
            live = [FieldEntry.wins(entry, over: winner) ? entry : winner]
        }
        self = FieldState(entries: live, cover: cover)
    }
}

/// A replicated record as its fields' registers plus its version vector.
public struct RecordState: Sendable, Hashable {
    /// The record's id.
    public var id: String
    /// Its kind.
    public var kind: RecordKind
    /// The owning node.
    public var owner: String
    /// Every write applied to this record.
    public var version: VersionVector
    /// Field name → register.
    public var fields: [String: FieldState]

    /// An empty record about to receive its first write.
    public init(id: String, kind: RecordKind, owner: String) {
        self.id = id; self.kind = kind; self.owner = owner; version = VersionVector(); fields = [:]
    }

    /// Rebuilds a stored record.
    public init(id: String, kind: RecordKind, owner: String, version: VersionVector, fields: [String: FieldState]) {
        self.id = id; self.kind = kind; self.owner = owner; self.version = version; self.fields = fields
    }

    /// The winning value of every field.
    public var values: [String: JSONValue] { fields.mapValues { $0.winner.value } }

    /// The winning value of one field.
    public subscript(field: String) -> JSONValue? { fields[field]?.winner.value }

    /// The losing concurrent values, for the `conflicts` list.
    public var conflicts: [Conflict] {
        fields.keys.sorted().flatMap { name in
            fields[name]!.losers.map { Conflict(field: name, value: $0.value, node: $0.dot.node, counter: $0.dot.counter, at: $0.at) }
        }
    }

    /// Whether this write was already applied.
    public func hasApplied(_ dot: Dot) -> Bool { version.contains(dot) }

    /// Applies a write by `origin`; returns false if it was a duplicate (nothing changed).
    @discardableResult
    public mutating func apply(_ change: Change, origin: String) -> Bool {
        let dot = Dot(node: origin, counter: change.counter)
        let duplicate = version.contains(dot)
        for (name, value) in change.fields {
            let entry = FieldEntry(value: value, dot: dot, at: change.at)
            if var f = fields[name] {
                f.apply(entry, context: change.context)
                fields[name] = f
            } else {
                fields[name] = FieldState(entry: entry, cover: change.context)
            }
        }
        version.add(dot)
        return !duplicate
    }
}

/// A losing value of a field written concurrently with the winner.
public struct Conflict: Sendable, Hashable {
    /// The field.
    public var field: String
    /// The losing value.
    public var value: JSONValue
    /// The node that wrote it.
    public var node: String
    /// Its counter.
    public var counter: UInt64
    /// Its writer's clock (ms).
    public var at: Int64

    /// JSON form for the API.
    public var json: JSONValue {
        ["field": .string(field), "value": value, "node": .string(node), "counter": .int(Int64(counter)), "at": .int(at)]
    }
}
