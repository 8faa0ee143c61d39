/// One write to one record, as it travels inside a change set.
public struct Change: Sendable, Hashable {
    /// The record's id.
    public var record: String
    /// The record's kind.
    public var kind: RecordKind
    /// The node that owns the record (for feedback: the node where it was submitted).
    public var owner: String
    /// The origin's counter for this write; with the set's origin it forms the write's dot.
    public var counter: UInt64
    /// Writer's clock in milliseconds: only a tie-breaker between concurrent writes.
    public var at: Int64
    /// What the writer had seen of this record when it wrote: the writes this one supersedes.
    public var context: VersionVector
    /// The fields written and their new values.
    public var fields: [String: JSONValue]

    /// Makes a change.
    public init(record: String, kind: RecordKind, owner: String, counter: UInt64, at: Int64, context: VersionVector, fields: [String: JSONValue]) {
        self.record = record; self.kind = kind; self.owner = owner; self.counter = counter
        self.at = at; self.context = context; self.fields = fields
    }

    /// JSON form inside a payload.
    public var json: JSONValue {
        [
            "record": .string(record), "kind": .string(kind.rawValue), "owner": .string(owner),
            "counter": .int(Int64(counter)), "at": .int(at), "context": context.json, "fields": .object(fields),
        ]
    }

    /// Parses the JSON form; nil if anything is missing or malformed.
    public init?(json: JSONValue) {
        guard case .object(let o) = json, o.count == 7,
            let r = o["record"]?.stringValue, !r.isEmpty, r.utf8.count <= 128,
            let k = o["kind"]?.stringValue.flatMap(RecordKind.init(rawValue:)),
            let ow = o["owner"]?.stringValue,
            let c = o["counter"]?.intValue, c > 0,
            let at = o["at"]?.intValue,
            let ctx = o["context"].flatMap(VersionVector.init(json:)),
            let f = o["fields"]?.objectValue, !f.isEmpty
        else { return nil }
        self.init(record: r, kind: k, owner: ow, counter: UInt64(c), at: at, context: ctx, fields: f)
    }
}
