/// A point in one node's history: the `counter`-th change that `node` made.
public struct Dot: Sendable, Hashable, Codable, CustomStringConvertible {
    /// The node that made the change.
    public var node: String
    /// That node's change counter, strictly increasing, never reused.
    public var counter: UInt64
    /// Makes a dot.
    public init(node: String, counter: UInt64) { self.node = node; self.counter = counter }
    public var description: String { "\(node):\(counter)" }
}

/// How two version vectors relate causally.
public enum CausalOrder: Sendable, Equatable {
    case equal, before, after, concurrent
}

/// A version vector: for each node, the highest counter of its changes that are known.
/// Changes of one node reach every holder in the order they were made (FIFO along the
/// tree), so "counter ≤ known" means "seen".
public struct VersionVector: Sendable, Hashable, Codable {
    /// Node id → highest known counter.
    public private(set) var counters: [String: UInt64]

    /// An empty vector.
    public init() { counters = [:] }
    /// A vector from explicit counters (zero entries dropped).
    public init(_ counters: [String: UInt64]) { self.counters = counters.filter { $0.value > 0 } }

    /// The counter known for `node` (0 if none).
    public subscript(node: String) -> UInt64 { counters[node] ?? 0 }

    /// Whether the change at `dot` is covered by this vector.
    public func contains(_ dot: Dot) -> Bool { self[dot.node] >= dot.counter }

    /// Raises the entry of `dot.node` to include `dot`.
    public mutating func add(_ dot: Dot) {
        if dot.counter > self[dot.node] { counters[dot.node] = dot.counter }
    }

    /// The pointwise maximum of two vectors.
    public func merging(_ other: VersionVector) -> VersionVector {
        var out = self
        for (n, c) in other.counters where c > out[n] { out.counters[n] = c }
        return out
    }

    /// Compares causally: before means every entry ≤ and one <.
    public func compare(_ other: VersionVector) -> CausalOrder {
        var less = false, greater = false
        for (n, c) in counters {
            let o = other[n]
            if c < o { less = true } else if c > o { greater = true }
        }
        for (n, o) in other.counters where counters[n] == nil && o > 0 { less = true }
        switch (less, greater) {
        case (false, false): return .equal
        case (true, false): return .before
        case (false, true): return .after
        case (true, true): return .concurrent
        }
    }

    /// JSON form: `{"node": counter}`.
    public var json: JSONValue { .object(counters.mapValues { .int(Int64($0)) }) }

    /// Parses the JSON form; nil if malformed.
    public init?(json: JSONValue) {
        guard case .object(let o) = json else { return nil }
        var c: [String: UInt64] = [:]
        for (k, v) in o {
            guard case .int(let i) = v, i >= 0 else { return nil }
            if i > 0 { c[k] = UInt64(i) }
        }
        counters = c
    }
}
