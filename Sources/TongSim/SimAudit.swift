import TongCore

/// The end-of-run verdict: every node holds exactly what the flow rules say, every holder of a
/// record agrees on it, no forbidden change was applied, and every feedback was acknowledged once.
struct SimAudit {
    private(set) var failures = 0
    private(set) var first: String?
    private(set) var records = 0
    /// Records whose holders show a conflict (concurrent writes of one field, unsettled).
    private(set) var conflicted = 0

    private mutating func fail(_ why: @autoclosure () -> String) {
        failures += 1
        if first == nil { first = why() }
    }

    init(_ w: SimWorld) {
        if !w.quiescent { fail("not quiescent after \(w.counters.steps) steps, virtual \(w.now) ms") }
        if w.counters.violations > 0 { fail("\(w.counters.violations) changes applied against authority") }
        if w.counters.wrongRejections > 0 { fail("\(w.counters.wrongRejections) valid sets rejected") }
        for (k, f) in w.forged.enumerated() where f && (w.forgedRejections[Int32(k)] ?? 0) == 0 {
            fail("forged set \(k) from \(w.sets[k].origin) never rejected")
        }
        var expectedCount = [Int](repeating: 0, count: w.nodes.count)
        for id in w.expectedOrder {
            let e = w.expected[id]!
            records += 1
            let holders: [String]
            switch e.scope {
            case .directory: holders = w.topology.nodes.map(\.id)
            case .owned(let o): holders = w.topology.holders(ofRecordOwnedBy: o)
            case .route(let f, let t): holders = w.topology.path(from: f, to: t)
            }
            var reference: RecordState?
            for h in holders {
                let k = Int(w.index[h]!)
                expectedCount[k] += 1
                guard let st = w.nodes[k].records[id] else { fail("\(h) lacks \(id)"); continue }
                if st.version != e.version {
                    fail(
                        "\(h) has \(id) at \(st.version.counters.sorted { $0.key < $1.key }), "
                            + "expected \(e.version.counters.sorted { $0.key < $1.key })"
                    )
                }
                if let ref = reference {
                    if st.values != ref.values { fail("\(h) and \(holders[0]) disagree on the values of \(id)") }
                    if st.conflicts != ref.conflicts { fail("\(h) and \(holders[0]) disagree on the conflicts of \(id)") }
                    if st.version != ref.version { fail("\(h) and \(holders[0]) disagree on the version of \(id)") }
                } else {
                    reference = st
                }
            }
            if let ref = reference, !ref.conflicts.isEmpty { conflicted += 1 }
            if e.kind == .feedback {
                if reference?["status"] != "delivered" { fail("feedback \(id) is not delivered") }
                if w.acks[id] != 1 { fail("feedback \(id) acknowledged \(w.acks[id] ?? 0) times") }
            }
        }
        for (k, n) in w.nodes.enumerated() where n.records.count != expectedCount[k] {
            fail("\(n.id) holds \(n.records.count) records, the flow rules say \(expectedCount[k])")
        }
    }
}
