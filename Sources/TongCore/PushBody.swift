/// The body of `POST /sync/v1/push` (docs/protocol.md): `{"after", "epoch", "sets", "upto"}`,
/// canonical JSON, where each element of `sets` is a signed set's wire form exactly as it sits
/// in the sender's change log.
public struct PushBody: Sendable {
    /// The sender's log epoch.
    public var epoch: String
    /// The receiver's cursor on the sender's log the batch starts after.
    public var after: Int64
    /// The highest log seq the batch covers (entries the receiver does not hold included).
    public var upto: Int64
    /// Each set's wire bytes.
    public var sets: [[UInt8]]
    /// Each set's wire form, parsed (when read from bytes; nil when built to send).
    public var parsed: [JSONValue]?

    /// Makes one.
    public init(epoch: String, after: Int64, upto: Int64, sets: [[UInt8]]) {
        self.epoch = epoch; self.after = after; self.upto = upto; self.sets = sets
    }

    /// At most this many sets in one push.
    public static let maxSets = 10_000

    /// Canonical JSON bytes: the scalars through `CanonicalJSON`, the sets (canonical already,
    /// signed bytes never re-encoded) copied in.
    public func encoded() -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(64 + sets.reduce(0) { $0 + $1.count + 1 })
        out.append(contentsOf: #"{"after":"#.utf8)
        CanonicalJSON.write(.int(after), into: &out)
        out.append(contentsOf: #","epoch":"#.utf8)
        CanonicalJSON.write(.string(epoch), into: &out)
        out.append(contentsOf: #","sets":["#.utf8)
        for (k, s) in sets.enumerated() {
            if k > 0 { out.append(UInt8(ascii: ",")) }
            out.append(contentsOf: s)
        }
        out.append(contentsOf: #"],"upto":"#.utf8)
        CanonicalJSON.write(.int(upto), into: &out)
        out.append(UInt8(ascii: "}"))
        return out
    }

    /// Reads a push body; each set's bytes are kept as received.
    /// - Throws: `JSONParser.Failure` for text that is not JSON, or a body missing `epoch`,
    ///   `after`, `upto` or `sets`, with `after > upto`, negative, or over `maxSets` sets.
    public init(bytes: [UInt8]) throws(JSONParser.Failure) {
        let (m, spans) = try JSONParser.parseObject(bytes, rawArray: "sets")
        guard let epoch = m["epoch"]?.stringValue, let after = m["after"]?.intValue, let upto = m["upto"]?.intValue,
            after >= 0, upto >= after, spans.count <= Self.maxSets, m.count == 3
        else { throw JSONParser.Failure(offset: 0, message: "a push needs epoch, after ≤ upto and at most \(Self.maxSets) sets") }
        self.init(epoch: epoch, after: after, upto: upto, sets: spans.map { Array(bytes[$0.range]) })
        parsed = spans.map(\.value)
    }
}
