import TongCore

/// The whole simulated federation: nodes, the network between them, the scheduler, and the
/// oracle of what every write should have produced. Single-threaded by construction.
final class SimWorld {
    /// What the oracle knows of one record: where it may travel and every accepted write to it.
    struct Expected {
        let kind: RecordKind
        let owner: String
        let scope: Scope
        var version: VersionVector
    }

    /// Everything the summary line and the audit count.
    struct Counters {
        var writes = 0, sets = 0, delivered = 0, lost = 0, duplicated = 0, crashes = 0, partitions = 0
        var rejected = 0, refused = 0, forged = 0, violations = 0, wrongRejections = 0, messages = 0, steps = 0
    }

    let topology: Topology
    let nodes: [SimNode]
    let index: [String: Int32]
    let faults: SimFaults
    let brokenMerge: Bool
    /// The replica decisions every node executes: the store's own (`ReplicaRules.standard`), or a
    /// deliberately broken copy in the tests that prove the simulator catches a broken apply.
    let rules: ReplicaRules
    /// Network and machine faults.
    var rng: SplitMix64
    /// What users do; a separate stream so the workload does not shift when the network draws differ.
    var work: SplitMix64
    var queue = SimQueue()
    var now: Int64 = 0
    var healed = false
    var quiescent = false
    var requestSeq: UInt64 = 0
    /// Per-node clock skew (ms): the `at` tie-breaker must not depend on clocks agreeing.
    let skew: [Int64]

    // Every set ever made, interned: messages carry indexes, as the real wire carries bytes.
    var sets: [ChangeSet] = []
    var setScope: [Int32] = []
    var forged: [Bool] = []
    var forgedRejections: [Int32: Int] = [:]
    var scopes: [Scope] = []
    var scopeIndex: [Scope: Int32] = [:]
    /// Per non-root node: whether the link to its parent is partitioned.
    var cut: [Bool]

    var expected: [String: Expected] = [:]
    var expectedOrder: [String] = []
    var acks: [String: Int] = [:]
    var counters = Counters()

    let writePhase: Int64 = 20_000
    let pushDelay: Int64 = 50
    let requestTimeout: Int64 = 1_500
    let horizon: Int64 = 20_000 + 600_000
    let maxSteps = 50_000_000

    init(topology: Topology, seed: UInt64, faults: SimFaults, brokenMerge: Bool, rules: ReplicaRules = .standard) {
        self.topology = topology
        self.faults = faults
        self.brokenMerge = brokenMerge
        self.rules = rules
        var root = SplitMix64(seed: seed)
        rng = root.split()
        work = root.split()
        var idx: [String: Int32] = [:]
        for (k, n) in topology.nodes.enumerated() { idx[n.id] = Int32(k) }
        index = idx
        nodes = topology.nodes.enumerated().map { k, n in
            let parent = n.parent.flatMap { idx[$0] } ?? -1
            let kids = topology.children(of: n.id).compactMap { idx[$0] }
            return SimNode(index: Int32(k), id: n.id, parent: parent, neighbors: (parent >= 0 ? [parent] : []) + kids)
        }
        skew = topology.nodes.map { _ in root.between(-400, 400) }
        cut = [Bool](repeating: false, count: topology.nodes.count)
    }

    /// Runs the write phase, heals, and runs on until quiescent or out of budget.
    func run() {
        scheduleWorkload()
        for n in nodes {
            for k in n.links.indices { scheduleTick(n, k, at: rng.between(0, 200)) }
        }
        queue.push(.heal, at: writePhase)
        while !quiescent, let (t, e) = queue.pop() {
            now = t
            counters.steps += 1
            if now > horizon || counters.steps > maxSteps { break }
            handle(e)
        }
    }

    private func handle(_ e: SimEvent) {
        switch e {
        case .tick(let n, let k): onTick(nodes[Int(n)], Int(k))
        case .timeout(let n, let k, let r): onTimeout(nodes[Int(n)], Int(k), request: r)
        case .deliver(let m): deliver(m)
        case .write(let n): userWrite(nodes[Int(n)])
        case .burst(let n): burst(nodes[Int(n)])
        case .directoryWrite(let n): directoryWrite(nodes[Int(n)])
        case .forge(let n): forge(nodes[Int(n)])
        case .overreach(let n): overreach(nodes[Int(n)])
        case .crash(let n): crash(nodes[Int(n)])
        case .restart(let n): restart(nodes[Int(n)])
        case .cut(let n): cutLink(Int(n))
        case .mend(let n): cut[Int(n)] = false
        case .housekeeping(let n, let inc): housekeeping(nodes[Int(n)], incarnation: inc)
        case .heal: heal()
        case .check:
            if isQuiescent() { quiescent = true } else { queue.push(.check, at: now + 500) }
        }
    }

    // MARK: - Sets and scopes

    func intern(_ scope: Scope) -> Int32 {
        if let i = scopeIndex[scope] { return i }
        let i = Int32(scopes.count)
        scopes.append(scope)
        scopeIndex[scope] = i
        return i
    }

    func addSet(_ s: ChangeSet, forged isForged: Bool) -> Int32 {
        let i = Int32(sets.count)
        sets.append(s)
        setScope.append(intern(s.scope))
        forged.append(isForged)
        counters.sets += 1
        return i
    }

    /// The real flow rule, cached per node and scope because a link filters every log entry with it.
    func isHeld(_ node: SimNode, scope: Int32) -> Bool {
        if let h = node.heldMemo[scope] { return h }
        let h = scopes[Int(scope)].isHeld(by: node.id, in: topology)
        node.heldMemo[scope] = h
        return h
    }

    // MARK: - The store: local writes and received sets

    /// `TongDatabase.write`: the shared `ReplicaRules.planWrite` against this node's records,
    /// then its sets logged and the counter kept. All or nothing.
    @discardableResult
    func write(_ n: SimNode, _ writes: [LocalWrite]) -> [String]? {
        let plan: ReplicaRules.WritePlan
        do {
            plan = try rules.planWrite(writes, origin: n.id, counter: n.counter, at: now + skew[Int(n.index)], topology: topology) { n.records[$0] }
        } catch ReplicaRules.WriteRefusal.forbidden {
            counters.refused += 1
            return nil
        } catch {
            return nil
        }
        n.counter = plan.counter
        n.seen[n.id] = plan.counter
        for r in plan.records {
            if !r.existed { n.held.append(r.id) }
            n.records[r.id] = r.state
        }
        for b in plan.batches {
            let s = addSet(ChangeSet(origin: n.id, scope: b.scope, createdAt: now, changes: b.changes), forged: false)
            n.log.append(SimLogEntry(set: s, from: -1))
            n.logged.insert(s)
            for c in b.changes {
                if expected[c.record] == nil {
                    expected[c.record] = Expected(kind: c.kind, owner: c.owner, scope: b.scope, version: VersionVector())
                    expectedOrder.append(c.record)
                }
                expected[c.record]!.version.add(Dot(node: n.id, counter: c.counter))
            }
            counters.writes += b.changes.count
        }
        for r in plan.records { noteFeedback(n, r.id) }
        notify(n)
        return plan.results.map(\.id)
    }

    /// `TongDatabase.applyChanges` for one signature-verified set: the shared
    /// `ReplicaRules.planApply` (admission, authority, kind and owner, merge), whole or not at all.
    func apply(_ sid: Int32, at r: SimNode) -> String? {
        let set = sets[Int(sid)]
        switch rules.planApply(set, at: r.id, topology: topology, seen: r.seen[set.origin], load: { r.records[$0] }) {
        case .reject(let why):
            return why
        case .apply(let records, let maxCounter):
            if maxCounter > 0 { r.seen[set.origin] = max(r.seen[set.origin] ?? 0, maxCounter) }
            for rec in records {
                var state = rec.state
                if brokenMerge, let c = set.changes.first(where: { $0.record == rec.id }),
                    brokenSkip(r, Dot(node: set.origin, counter: c.counter))
                {
                    // The deliberately broken merge: claims the write, drops its fields.
                    state = r.records[rec.id] ?? RecordState(id: c.record, kind: c.kind, owner: c.owner)
                    state.version.add(Dot(node: set.origin, counter: c.counter))
                }
                if !rec.existed { r.held.append(rec.id) }
                r.records[rec.id] = state
                if forged[Int(sid)] { counters.violations += 1 }
                if state.kind == .feedback { noteFeedback(r, rec.id) }
            }
            return nil
        }
    }

    private func brokenSkip(_ r: SimNode, _ dot: Dot) -> Bool {
        var h = UInt64(UInt32(bitPattern: r.index)) &* 0x9E37_79B9_7F4A_7C15 ^ dot.counter &* 0xBF58_476D_1CE4_E5B9
        for b in dot.node.utf8 { h = (h ^ UInt64(b)) &* 0x100_0000_01B3 }
        return h % 4 == 0
    }

    /// Indexes feedback that reached the node owning its department and still has no status.
    func noteFeedback(_ n: SimNode, _ id: String) {
        guard let st = n.records[id], rules.awaitsAcknowledgement(st, at: n.id), !n.pendingAck.contains(id) else { return }
        n.pendingAck.append(id)
        if n.up { queue.push(.housekeeping(node: n.index, incarnation: n.incarnation), at: now + 20) }
    }

    /// `acknowledgeArrivals`: one local write marks every pending arrival delivered.
    func housekeeping(_ n: SimNode, incarnation: Int32) {
        guard n.up, incarnation == n.incarnation, !n.pendingAck.isEmpty else { return }
        var writes: [LocalWrite] = []
        for fid in n.pendingAck {
            guard let st = n.records[fid], rules.awaitsAcknowledgement(st, at: n.id) else { continue }
            writes.append(
                rules.acknowledgement(
                    of: st, at: n.id,
                    fields: ["status": "delivered", "delivered_at": .string("\(now)"), "due_on": "2020-03-20"]))
        }
        if writes.isEmpty { n.pendingAck = []; return }
        guard write(n, writes) != nil else { return }
        n.pendingAck = []
        for w in writes {
            acks[w.id!, default: 0] += 1
            counters.delivered += 1
        }
    }

    // MARK: - Machines and links failing

    private func crash(_ n: SimNode) {
        guard n.up, !healed else { return }
        n.up = false
        n.incarnation += 1
        n.links = n.freshLinks()
        counters.crashes += 1
        queue.push(.restart(node: n.index), at: now + rng.between(300, 4_000))
    }

    private func restart(_ n: SimNode) {
        guard !n.up else { return }
        n.up = true
        n.links = n.freshLinks()
        for k in n.links.indices { scheduleTick(n, k, at: now + 1) }
        if !n.pendingAck.isEmpty { queue.push(.housekeeping(node: n.index, incarnation: n.incarnation), at: now + 20) }
    }

    private func cutLink(_ n: Int) {
        guard !healed, !cut[n], nodes[n].parent >= 0 else { return }
        cut[n] = true
        counters.partitions += 1
        queue.push(.mend(node: Int32(n)), at: now + rng.between(500, 6_000))
    }

    private func heal() {
        healed = true
        for k in cut.indices { cut[k] = false }
        for n in nodes where !n.up { restart(n) }
        queue.push(.check, at: now + 500)
    }

    func linkDown(_ a: Int32, _ b: Int32) -> Bool {
        let child = nodes[Int(a)].parent == b ? a : b
        return cut[Int(child)]
    }

    /// Every link has delivered its sender's whole log and every arrival is acknowledged.
    func isQuiescent() -> Bool {
        for n in nodes {
            guard n.up, n.pendingAck.isEmpty else { return false }
            for m in n.neighbors {
                guard let c = nodes[Int(m)].cursors[n.index], c.epoch == n.epoch, c.seq == Int64(n.log.count) else { return false }
            }
        }
        return true
    }
}
