import TongCore

/// What the users and the hostile world do during the write phase, drawn from the seed.
extension SimWorld {
    static let themes: [JSONValue] = ["resume_work", "stabilize_jobs", "finance_tax", "social_insurance", "rent_relief", "utilities", "other"]

    func scheduleWorkload() {
        let count = nodes.count
        let end = writePhase * 9 / 10
        for n in nodes {
            let depth = topology.depth(of: n.id) ?? 3
            let writes = depth == 0 ? 6 : depth == 1 ? 4 : depth == 2 ? 3 : 2
            for _ in 0..<writes { queue.push(.write(node: n.index), at: work.between(0, end)) }
        }
        for _ in 0..<max(3, count / 25) { queue.push(.burst(node: Int32(work.below(count))), at: work.between(end / 3, end)) }
        for _ in 0..<min(25, max(3, count / 10)) { queue.push(.directoryWrite(node: Int32(work.below(count))), at: work.between(0, end)) }
        for _ in 0..<max(2, count / 150) { queue.push(.forge(node: Int32(work.below(count))), at: work.between(end / 4, end)) }
        for _ in 0..<max(2, count / 150) { queue.push(.overreach(node: Int32(work.below(count))), at: work.between(end / 4, end)) }
        if faults.crashesPer100 > 0 {
            for _ in 0..<max(1, count * faults.crashesPer100 / 100) {
                queue.push(.crash(node: Int32(work.below(count))), at: work.between(0, writePhase * 8 / 10))
            }
        }
        if faults.partitionsPer100 > 0, count > 1 {
            for _ in 0..<max(1, count * faults.partitionsPer100 / 100) {
                queue.push(.cut(node: Int32(1 + work.below(count - 1))), at: work.between(0, writePhase * 8 / 10))
            }
        }
    }

    /// A user of `n` creates, edits, withdraws, tags a descendant's policy, or submits feedback.
    func userWrite(_ n: SimNode) {
        guard n.up else { return }  // nobody can write to a dead node
        let r = work.below(100)
        if n.own.isEmpty || r < 30 { return createPolicy(n) }
        if r < 45 {
            let id = work.pick(n.own)
            let fields: [String: JSONValue] =
                work.chance(0.5)
                ? ["title": .string("政策\(id) 第\(n.counter + 1)次修订")]
                : ["body": .string("摘要 \(n.counter + 1)"), "tags": .array([.string("修订")])]
            write(n, [LocalWrite(id: id, kind: .policy, owner: n.id, scope: .owned(n.id), fields: fields, mustExist: false)])
            return
        }
        if r < 52 {
            write(
                n,
                [LocalWrite(id: work.pick(n.own), kind: .policy, owner: n.id, scope: .owned(n.id), fields: ["status": "withdrawn"], mustExist: false)]
            )
            return
        }
        if r < 72 {
            guard let st = descendantRecord(of: n) else { return createPolicy(n) }
            let fields: [String: JSONValue] =
                work.chance(0.5)
                ? ["tags": .array([.string("规范标签\(work.below(20))")])]
                : ["themes": .array([work.pick(Self.themes)])]
            write(n, [LocalWrite(id: st.id, kind: st.kind, owner: st.owner, scope: .owned(st.owner), fields: fields, mustExist: false)])
            return
        }
        submitFeedback(n)
    }

    private func createPolicy(_ n: SimNode) {
        let fields: [String: JSONValue] = [
            "title": .string("\(n.id)关于支持小微企业的若干措施"), "department": .string("\(n.id)-gov"),
            "doc_number": .string("政发〔2020〕\(n.counter + 1)号"), "themes": .array([work.pick(Self.themes)]),
            "tags": .array([]), "status": "active",
        ]
        if let ids = write(n, [LocalWrite(id: nil, kind: .policy, owner: n.id, scope: .owned(n.id), fields: fields, mustExist: false)]) {
            n.own.append(contentsOf: ids)
        }
    }

    private func submitFeedback(_ n: SimNode) {
        let target = nodes[work.below(nodes.count)]
        let about: JSONValue = n.held.isEmpty ? "" : .string(work.pick(n.held))
        let fields: [String: JSONValue] = [
            "form": "suggestion", "department": .string("\(target.id)-gov"), "about": about,
            "sealed": .string("sealed:\(work.next())"), "submitted_at": .string("\(now)"), "submitted_on": "2020-03-02", "survey": "",
        ]
        write(n, [LocalWrite(id: nil, kind: .feedback, owner: n.id, scope: .route(from: n.id, to: target.id), fields: fields, mustExist: false)])
    }

    /// A policy held at `n` whose owner is a strict descendant of `n`, if a few random draws find one.
    private func descendantRecord(of n: SimNode) -> RecordState? {
        guard !n.held.isEmpty else { return nil }
        for _ in 0..<8 {
            guard let st = n.records[work.pick(n.held)] else { continue }
            if st.kind == .policy, topology.isAncestor(n.id, of: st.owner) { return st }
        }
        return nil
    }

    /// The owner and up to two ancestors that already hold one of its policies tag it at the same
    /// instant: concurrent writes of one field that must resolve identically everywhere.
    func burst(_ n: SimNode) {
        guard n.up, !n.own.isEmpty else { return }
        let id = work.pick(n.own)
        var writers = [n]
        for a in topology.ancestors(of: n.id).prefix(2) {
            let m = nodes[Int(index[a]!)]
            if m.up, m.records[id] != nil { writers.append(m) }
        }
        for w in writers {
            write(
                w,
                [
                    LocalWrite(
                        id: id, kind: .policy, owner: n.id, scope: .owned(n.id),
                        fields: ["tags": .array([.string("并发\(w.id)")])], mustExist: false)
                ])
        }
    }

    /// `n` updates its own node or department entry in the directory that reaches every node.
    func directoryWrite(_ n: SimNode) {
        guard n.up else { return }
        if work.chance(0.5) {
            write(
                n,
                [
                    LocalWrite(
                        id: n.id, kind: .node, owner: n.id, scope: .directory,
                        fields: ["name": .string("节点\(n.id)"), "peer": .string("n\(n.id).tong.example:7443")], mustExist: false)
                ])
        } else {
            write(
                n,
                [
                    LocalWrite(
                        id: "\(n.id)-gov", kind: .department, owner: n.id, scope: .directory,
                        fields: ["name": .string("\(n.id)人民政府"), "seal_key": .string("key\(work.next() % 1_000_000)")], mustExist: false)
                ])
        }
    }

    /// A compromised node forges an edit of a sibling's policy and pushes it: the parent, the
    /// first node to see it, must reject it whole.
    func forge(_ s: SimNode) {
        guard s.up, s.parent >= 0 else { return }
        var siblings = nodes[Int(s.parent)].neighbors.filter { $0 != s.index && $0 != nodes[Int(s.parent)].parent }
        work.shuffle(&siblings)
        guard let t = siblings.map({ nodes[Int($0)] }).first(where: { !$0.own.isEmpty }) else { return }
        s.counter += 1
        let change = Change(
            record: work.pick(t.own), kind: .policy, owner: t.id, counter: s.counter, at: now + skew[Int(s.index)],
            context: VersionVector(), fields: ["title": "篡改的标题"])
        let sid = addSet(ChangeSet(origin: s.id, scope: .owned(t.id), createdAt: now, changes: [change]), forged: true)
        s.log.append(SimLogEntry(set: sid, from: -1))
        s.logged.insert(sid)
        counters.forged += 1
        notify(s)
    }

    /// An ancestor tries to retitle a descendant's policy: authority refuses it at the writer.
    func overreach(_ start: SimNode) {
        // Only a node with descendants can overreach; from a leaf, its parent tries.
        let n = start.neighbors.count > (start.parent >= 0 ? 1 : 0) || start.parent < 0 ? start : nodes[Int(start.parent)]
        guard n.up, let st = descendantRecord(of: n) else { return }
        if write(n, [LocalWrite(id: st.id, kind: st.kind, owner: st.owner, scope: .owned(st.owner), fields: ["title": "越权修改"], mustExist: false)])
            != nil
        {
            counters.violations += 1
        }
    }
}
