import Testing
import TongCore
import TongSim

/// Seeded property tests of the merge laws: replicas that apply the same writes, in any order
/// and with duplicates, agree; and what authority denies never applies.
struct MergePropertyTests {
    /// A write as it travels: the change and the node that made it.
    struct Write {
        var change: Change
        var origin: String
        var dot: Dot { Dot(node: origin, counter: change.counter) }
    }

    static let fields = ["title", "tags", "status", "summary"]

    /// A random causal history of one record: each origin writes with its replica's version as
    /// context, and from time to time catches up on a prefix of another origin's history (a
    /// prefix of a causal order is causally closed, so every context is a real past).
    static func history(_ rng: inout SplitMix64, origins: [String], steps: Int) -> [Write] {
        var replicas = origins.map { _ in RecordState(id: "r", kind: .policy, owner: origins[0]) }
        var seen: [[Int]] = origins.map { _ in [] }
        var counters = [UInt64](repeating: 0, count: origins.count)
        var writes: [Write] = []
        for _ in 0..<steps {
            let o = rng.below(origins.count)
            if rng.chance(0.55) {
                counters[o] += UInt64(1 + rng.below(3))  // gaps: a node's counter also serves its other records
                var f: [String: JSONValue] = [:]
                for _ in 0..<(1 + rng.below(2)) { f[rng.pick(fields)] = .string("v\(rng.below(1_000))") }
                // A narrow clock range makes equal `at` common, so the node and counter tie-breaks are exercised.
                let c = Change(
                    record: "r", kind: .policy, owner: origins[0], counter: counters[o], at: Int64(rng.below(4)),
                    context: replicas[o].version, fields: f)
                replicas[o].apply(c, origin: origins[o])
                seen[o].append(writes.count)
                writes.append(Write(change: c, origin: origins[o]))
            } else {
                let p = rng.below(origins.count)
                guard p != o else { continue }
                for w in seen[p].prefix(rng.below(seen[p].count + 1)) where !seen[o].contains(w) {
                    replicas[o].apply(writes[w].change, origin: writes[w].origin)
                    seen[o].append(w)
                }
            }
        }
        return writes
    }

    /// The merge rules restated independently: per field, the written entries no write's context
    /// covers are live; the winner is the latest `at`, then highest node id, then counter.
    static func model(_ writes: [Write]) -> (values: [String: JSONValue], losers: [String: [JSONValue]]) {
        var values: [String: JSONValue] = [:], losers: [String: [JSONValue]] = [:]
        for f in fields {
            let touching = writes.filter { $0.change.fields[f] != nil }
            guard !touching.isEmpty else { continue }
            let cover = touching.reduce(VersionVector()) { $0.merging($1.change.context) }
            let live = touching.filter { !cover.contains($0.dot) }.sorted {
                ($0.change.at, $0.origin, $0.change.counter) > ($1.change.at, $1.origin, $1.change.counter)
            }
            values[f] = live[0].change.fields[f]
            losers[f] = live.dropFirst().map { $0.change.fields[f]! }
        }
        return (values, losers)
    }

    /// Writes of `order`, some repeated at random positions after their first delivery
    /// (redelivery never precedes delivery, so a causal order stays causal).
    static func withDuplicates(_ order: [Int], _ rng: inout SplitMix64) -> [Int] {
        var out = order
        for w in order where rng.chance(0.3) {
            let first = out.firstIndex(of: w)!
            out.insert(w, at: first + 1 + rng.below(out.count - first))
        }
        return out
    }

    /// A random order that respects causality (and each origin's FIFO), as the tree delivers.
    static func causalOrder(_ writes: [Write], _ rng: inout SplitMix64) -> [Int] {
        let preds: [[Int]] = writes.indices.map { i in
            writes.indices.filter { j in
                j != i
                    && (writes[i].change.context.contains(writes[j].dot)
                        || (writes[j].origin == writes[i].origin && writes[j].change.counter < writes[i].change.counter))
            }
        }
        var done = [Bool](repeating: false, count: writes.count)
        var order: [Int] = []
        while order.count < writes.count {
            let ready = writes.indices.filter { !done[$0] && preds[$0].allSatisfy { done[$0] } }
            let pick = rng.pick(ready)
            done[pick] = true
            order.append(pick)
        }
        return order
    }

    @Test func anyOrderWithDuplicatesConverges() {
        var rng = SplitMix64(seed: 2_020)
        for round in 0..<300 {
            let origins = Array(["100000", "330000", "330100", "330106"].prefix(3 + rng.below(2)))
            let writes = Self.history(&rng, origins: origins, steps: 4 + rng.below(30))
            guard !writes.isEmpty else { continue }
            var states: [RecordState] = []
            for _ in 0..<4 {
                var order = Array(writes.indices)
                rng.shuffle(&order)
                var s = RecordState(id: "r", kind: .policy, owner: origins[0])
                for w in Self.withDuplicates(order, &rng) { s.apply(writes[w].change, origin: writes[w].origin) }
                states.append(s)
            }
            for s in states.dropFirst() {
                #expect(s.values == states[0].values, "round \(round)")
                #expect(s.version == states[0].version, "round \(round)")
                #expect(s.conflicts == states[0].conflicts, "round \(round)")
            }
            let m = Self.model(writes)
            #expect(states[0].values == m.values, "round \(round)")
            for f in Self.fields { #expect(states[0].conflicts.filter { $0.field == f }.map(\.value) == (m.losers[f] ?? []), "round \(round) \(f)") }
            var version = VersionVector()
            for w in writes { version.add(w.dot) }
            #expect(states[0].version == version)
        }
    }

    @Test func causalDeliveryWithTheStoreDedupConverges() {
        var rng = SplitMix64(seed: 7)
        for round in 0..<200 {
            let origins = Array(["100000", "110000", "110100", "110101"].prefix(3 + rng.below(2)))
            let writes = Self.history(&rng, origins: origins, steps: 4 + rng.below(24))
            guard !writes.isEmpty else { continue }
            let m = Self.model(writes)
            for _ in 0..<3 {
                var s = RecordState(id: "r", kind: .policy, owner: origins[0])
                for w in Self.withDuplicates(Self.causalOrder(writes, &rng), &rng) {
                    // As TongDatabase.applyChanges does: a dot the version covers is skipped.
                    if s.hasApplied(writes[w].dot) { continue }
                    s.apply(writes[w].change, origin: writes[w].origin)
                }
                #expect(s.values == m.values, "round \(round)")
                for f in Self.fields { #expect(s.conflicts.filter { $0.field == f }.map(\.value) == (m.losers[f] ?? []), "round \(round) \(f)") }
            }
        }
    }

    @Test func authorityViolationsNeverApply() {
        let topology = SimTree.build(nodes: 60)
        let ids = topology.nodes.map(\.id)
        var rng = SplitMix64(seed: 99)
        var state: [String: RecordState] = [:]
        var expectedVersion: [String: VersionVector] = [:]
        var allowedCount = 0, deniedCount = 0
        for k in 0..<2_000 {
            let owner = rng.pick(ids), origin = rng.chance(0.3) ? owner : rng.pick(ids)
            var f: [String: JSONValue] = [:]
            for _ in 0..<(1 + rng.below(2)) { f[rng.pick(["title", "themes", "tags", "status"])] = .string("x\(k)") }
            let record = "\(owner)-p1"
            let c = Change(
                record: record, kind: .policy, owner: owner, counter: UInt64(k + 1), at: Int64(k),
                context: state[record]?.version ?? VersionVector(), fields: f)
            let set = ChangeSet(origin: origin, scope: .owned(owner), createdAt: Int64(k), changes: [c])
            let mayWrite = origin == owner || (topology.isAncestor(origin, of: owner) && Set(f.keys).isSubset(of: ["themes", "tags"]))
            let verdict = ChangeSetVerifier.checkContent(set, topology: topology)
            #expect((verdict == .accepted) == mayWrite, "\(origin) → \(owner) \(f.keys.sorted())")
            if verdict == .accepted {
                allowedCount += 1
                state[record, default: RecordState(id: record, kind: .policy, owner: owner)].apply(c, origin: origin)
                expectedVersion[record, default: VersionVector()].add(Dot(node: origin, counter: c.counter))
            } else {
                deniedCount += 1
            }
        }
        #expect(allowedCount > 100 && deniedCount > 100)
        // Counters are unique across the run, so any applied denied write would show in a version.
        for (record, s) in state { #expect(s.version == expectedVersion[record]) }
    }
}
