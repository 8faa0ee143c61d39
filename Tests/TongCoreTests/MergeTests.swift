import Testing

@testable import TongCore

@Suite struct VersionVectorTests {
    @Test func compareAnswersAllFourOrders() {
        let a = VersionVector(["A": 1, "B": 2])
        #expect(a.compare(a) == .equal)
        #expect(a.compare(VersionVector(["A": 2, "B": 2])) == .before)
        #expect(VersionVector(["A": 2, "B": 2]).compare(a) == .after)
        #expect(a.compare(VersionVector(["A": 2, "B": 1])) == .concurrent)
        #expect(a.compare(VersionVector(["A": 1, "B": 2, "C": 1])) == .before)
        #expect(VersionVector().compare(a) == .before)
    }

    @Test func mergeIsPointwiseMaxAndContainsDots() {
        let m = VersionVector(["A": 3, "B": 1]).merging(VersionVector(["B": 4, "C": 2]))
        #expect(m == VersionVector(["A": 3, "B": 4, "C": 2]))
        #expect(m.contains(Dot(node: "B", counter: 4)))
        #expect(!m.contains(Dot(node: "B", counter: 5)))
        #expect(VersionVector(json: m.json) == m)
    }
}

@Suite struct MergeTests {
    func change(_ origin: String, _ n: UInt64, at: Int64, ctx: VersionVector, _ f: [String: JSONValue]) -> (String, Change) {
        (origin, Change(record: "330100-p1", kind: .policy, owner: "330100", counter: n, at: at, context: ctx, fields: f))
    }

    @Test func concurrentEditsOfDifferentFieldsBothSurvive() {
        var r = RecordState(id: "330100-p1", kind: .policy, owner: "330100")
        r.apply(change("330100", 1, at: 1, ctx: VersionVector(), ["title": "原标题", "themes": ["other"]]).1, origin: "330100")
        let base = r.version
        var a = r, b = r
        let c1 = change("330100", 2, at: 5, ctx: base, ["title": "新标题"])
        let c2 = change("330000", 7, at: 4, ctx: base, ["themes": ["social_insurance"]])
        a.apply(c1.1, origin: c1.0); a.apply(c2.1, origin: c2.0)
        b.apply(c2.1, origin: c2.0); b.apply(c1.1, origin: c1.0)
        #expect(a == b)
        #expect(a["title"] == "新标题")
        #expect(a["themes"] == ["social_insurance"])
        #expect(a.conflicts.isEmpty)
    }

    @Test func concurrentEditsOfOneFieldPickOneWinnerAndKeepTheLoser() {
        var r = RecordState(id: "330100-p1", kind: .policy, owner: "330100")
        r.apply(change("330100", 1, at: 1, ctx: VersionVector(), ["themes": ["other"]]).1, origin: "330100")
        let base = r.version
        let owner = change("330100", 2, at: 10, ctx: base, ["themes": ["rent_relief"]])
        let hub = change("100000", 3, at: 9, ctx: base, ["themes": ["utilities"]])
        var x = r, y = r
        x.apply(owner.1, origin: owner.0); x.apply(hub.1, origin: hub.0)
        y.apply(hub.1, origin: hub.0); y.apply(owner.1, origin: owner.0)
        #expect(x == y)
        #expect(x["themes"] == ["rent_relief"])  // later clock wins
        #expect(x.conflicts.count == 1)
        #expect(x.conflicts.first?.value == ["utilities"])
        // A later edit that saw both settles the conflict.
        let settle = change("100000", 4, at: 20, ctx: x.version, ["themes": ["utilities"]])
        x.apply(settle.1, origin: settle.0)
        #expect(x.conflicts.isEmpty)
        #expect(x["themes"] == ["utilities"])
    }

    @Test func duplicatesAreIdempotent() {
        var r = RecordState(id: "330100-p1", kind: .policy, owner: "330100")
        let c = change("330100", 1, at: 1, ctx: VersionVector(), ["title": "标题"])
        let first = r.apply(c.1, origin: c.0)
        #expect(first)
        let once = r
        let second = r.apply(c.1, origin: c.0)
        #expect(!second)
        #expect(r == once)
    }

    /// Any order, duplication or regrouping of the same changes converges to the same state.
    @Test(arguments: [1, 2, 3, 4, 5, 6, 7, 8] as [UInt64])
    func anyDeliveryOrderConverges(seed: UInt64) {
        var rng = SplitMix64(seed: seed)
        let origins = ["330100", "330000", "100000"]
        let fields = ["title", "themes", "tags", "body"]
        // Build a causal history: each writer sees a random prefix-closed subset of earlier changes.
        var history: [(String, Change)] = []
        var counters: [String: UInt64] = [:]
        var replicas: [String: RecordState] = [:]
        for o in origins { replicas[o] = RecordState(id: "330100-p1", kind: .policy, owner: "330100") }
        for step in 0..<30 {
            let o = step == 0 ? "330100" : origins.randomElement(using: &rng)!
            var r = replicas[o]!
            // Catch up on a random number of earlier changes (in order: FIFO per origin holds).
            for (origin, c) in history.prefix(Int.random(in: 0...history.count, using: &rng)) { r.apply(c, origin: origin) }
            counters[o, default: 0] += 1
            let f = o == "330100" ? fields.randomElement(using: &rng)! : ["themes", "tags"].randomElement(using: &rng)!
            let c = Change(
                record: "330100-p1", kind: .policy, owner: "330100", counter: counters[o]!, at: Int64(Int.random(in: 0...50, using: &rng)),
                context: r.version, fields: [f: .string("v\(step)")])
            r.apply(c, origin: o)
            replicas[o] = r
            history.append((o, c))
        }
        var results: [RecordState] = []
        for _ in 0..<6 {
            var order = history + history.prefix(Int.random(in: 0...history.count, using: &rng))
            order.shuffle(using: &rng)
            var r = RecordState(id: "330100-p1", kind: .policy, owner: "330100")
            for (o, c) in order { r.apply(c, origin: o) }
            results.append(r)
        }
        for r in results.dropFirst() {
            #expect(r.values == results[0].values)
            #expect(r.version == results[0].version)
            #expect(r.conflicts == results[0].conflicts)
        }
    }
}
