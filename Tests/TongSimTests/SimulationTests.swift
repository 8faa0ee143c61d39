import Testing
import TongCore
import TongSim

/// The simulator converges under faults, replays exactly, and can fail.
struct SimulationTests {
    @Test(arguments: [40, 80, 120])
    func convergesUnderFaults(nodes: Int) {
        for seed: UInt64 in [1, 2, 3] {
            let r = Simulation.run(nodes: nodes, seed: seed)
            #expect(r.ok, "\(r.summary)")
            #expect(r.summary.hasSuffix("converged=yes"))
        }
    }

    @Test func sameSeedSameSummary() {
        let a = Simulation.run(nodes: 80, seed: 42)
        let b = Simulation.run(nodes: 80, seed: 42)
        #expect(a.summary == b.summary)
        #expect(!a.summary.contains("\n"))
        #expect(Simulation.run(nodes: 80, seed: 43).summary != a.summary)
    }

    @Test func faultsActuallyHappen() {
        let r = Simulation.run(nodes: 120, seed: 5)
        for key in ["lost", "duplicated", "crashes", "partitions", "rejected", "delivered", "conflicted"] {
            let value = r.summary.split(separator: " ").first { $0.hasPrefix("\(key)=") }.flatMap { Int($0.dropFirst(key.count + 1)) }
            #expect((value ?? 0) > 0, "\(key) in \(r.summary)")
        }
    }

    @Test func convergesOnAHarshNetwork() {
        let harsh = SimFaults(loss: 0.3, duplication: 0.2, minDelay: 1, maxDelay: 900, crashesPer100: 15, partitionsPer100: 10)
        for seed: UInt64 in [7, 8] {
            let r = Simulation.run(nodes: 60, seed: seed, faults: harsh)
            #expect(r.ok, "\(r.summary)")
        }
    }

    @Test func convergesWithoutFaults() {
        let r = Simulation.run(nodes: 50, seed: 9, faults: .none)
        #expect(r.ok, "\(r.summary)")
    }

    @Test func brokenMergeIsCaught() {
        for seed: UInt64 in [1, 2] {
            let r = Simulation.run(nodes: 60, seed: seed, brokenMerge: true)
            #expect(!r.ok, "\(r.summary)")
            #expect(r.summary.contains("converged=no"))
        }
    }

    /// The simulator runs the store's own apply decisions: skip the content (authority) check in
    /// them and forged sets get applied, which the audit must catch.
    @Test func brokenApplyIsCaught() {
        for seed: UInt64 in [1, 2] {
            let r = Simulation.run(nodes: 60, seed: seed, rules: ReplicaRules(checksContent: false))
            #expect(!r.ok, "\(r.summary)")
            #expect(r.summary.contains("converged=no"))
        }
    }

    @Test func tinyFederations() {
        for n in [1, 2, 3, 5, 10] {
            let r = Simulation.run(nodes: n, seed: 3)
            #expect(r.ok, "\(r.summary)")
        }
    }

    @Test func treeHasTheRealShape() {
        let t = SimTree.build(nodes: 3_000)
        #expect(t.nodes.count == 3_000)
        #expect(t.root == "100000")
        let byDepth = Dictionary(grouping: t.nodes.map { t.depth(of: $0.id)! }, by: { $0 }).mapValues(\.count)
        #expect(byDepth[1] == 31)
        #expect((300...360).contains(byDepth[2] ?? 0))
        #expect(byDepth[3] == 3_000 - 1 - 31 - (byDepth[2] ?? 0))
        for n in t.nodes {
            #expect(Validation.divisionCode(n.id))
            #expect(n.departments.map(\.id) == ["\(n.id)-gov"])
            if let p = n.parent, t.depth(of: n.id) == 2 { #expect(n.id.prefix(2) == p.prefix(2) && n.id.hasSuffix("00")) }
            if let p = n.parent, t.depth(of: n.id) == 3 { #expect(n.id.prefix(4) == p.prefix(4)) }
        }
        let small = SimTree.build(nodes: 10)
        #expect(small.nodes.count == 10)
        #expect(small.nodes.map { small.depth(of: $0.id)! }.max() == 3)
    }

    @Test func randomIsReproducible() {
        var a = SplitMix64(seed: 1), b = SplitMix64(seed: 1)
        let xs = (0..<100).map { _ in a.below(1_000) }
        #expect(xs == (0..<100).map { _ in b.below(1_000) })
        #expect(xs.allSatisfy { (0..<1_000).contains($0) })
        #expect(Set(xs).count > 80)
    }
}
