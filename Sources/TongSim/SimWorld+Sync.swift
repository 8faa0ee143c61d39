import TongCore

/// The sync shell around `PushSession`, as `SyncService.link` and `PeerRoutes` drive it, over
/// a network that loses, duplicates, delays and partitions.
extension SimWorld {
    /// Something new is in `n`'s log: wake idle links after a short coalescing delay.
    func notify(_ n: SimNode) {
        guard n.up else { return }
        for k in n.links.indices where n.links[k].outstanding == nil { scheduleTick(n, k, at: now + pushDelay) }
    }

    func scheduleTick(_ n: SimNode, _ k: Int, at t: Int64) {
        // One pending tick per link: the earliest wins, later ones are dropped as stale.
        guard t < n.links[k].nextTick else { return }
        n.links[k].nextTick = t
        queue.push(.tick(node: n.index, link: Int32(k)), at: t)
    }

    func onTick(_ n: SimNode, _ k: Int) {
        guard n.up, n.links[k].nextTick == now else { return }
        n.links[k].nextTick = .max
        step(n, k)
    }

    /// Performs the session's next action.
    func step(_ n: SimNode, _ k: Int) {
        guard n.up, n.links[k].outstanding == nil else { return }
        let peer = n.neighbors[k]
        switch n.links[k].session.next(head: Int64(n.log.count), now: now) {
        case .hello:
            request(n, k, .hello)
        case .push(let after):
            let (ids, upto) = outgoing(n, to: peer, after: after)
            request(n, k, .push(epoch: n.epoch, after: after, upto: upto, sets: ids))
        case .wait(let until):
            scheduleTick(n, k, at: max(until, now + 1))
        }
    }

    func onTimeout(_ n: SimNode, _ k: Int, request r: UInt64) {
        guard n.up, n.links[k].outstanding == r else { return }
        n.links[k].outstanding = nil
        n.links[k].session.failed(now: now)
        step(n, k)
    }

    private func request(_ n: SimNode, _ k: Int, _ body: SimMessage.Body) {
        requestSeq += 1
        n.links[k].outstanding = requestSeq
        send(SimMessage(from: n.index, to: n.neighbors[k], incarnation: n.incarnation, request: requestSeq, body: body))
        queue.push(.timeout(node: n.index, link: Int32(k), request: requestSeq), at: now + requestTimeout)
    }

    /// `TongDatabase.outgoing`: log entries after `after` that the peer holds and did not send us,
    /// scanning at most 2,000; `upto` covers skipped entries too.
    func outgoing(_ n: SimNode, to peer: Int32, after: Int64) -> ([Int32], Int64) {
        var out: [Int32] = []
        var seq = Int(max(0, after))
        let end = min(n.log.count, seq + 2_000)
        let p = nodes[Int(peer)]
        while seq < end {
            let e = n.log[seq]
            seq += 1
            // ReplicaRules.sends, with the scope test memoised per node.
            if e.from != peer, isHeld(p, scope: setScope[Int(e.set)]) { out.append(e.set) }
        }
        return (out, Int64(seq))
    }

    func send(_ m: SimMessage) {
        counters.messages += 1
        if linkDown(m.from, m.to) { counters.lost += 1; return }
        if !healed, rng.chance(faults.loss) { counters.lost += 1; return }
        queue.push(.deliver(m), at: now + rng.between(faults.minDelay, faults.maxDelay))
        if !healed, rng.chance(faults.duplication) {
            counters.duplicated += 1
            queue.push(.deliver(m), at: now + rng.between(faults.minDelay, faults.maxDelay))
        }
    }

    func deliver(_ m: SimMessage) {
        let r = nodes[Int(m.to)]
        let s = nodes[Int(m.from)]
        // A partition or a crash at either end kills what was on the wire.
        guard !linkDown(m.from, m.to), r.up, s.up, s.incarnation == m.incarnation else { counters.lost += 1; return }
        switch m.body {
        case .hello:
            reply(r, to: m, .helloReply(r.cursors[m.from]))
        case .push(let epoch, let after, let upto, let ids):
            let (cursor, accepted) = receive(at: r, from: m.from, epoch: epoch, after: after, upto: upto, sets: ids)
            reply(r, to: m, .pushReply(cursor, accepted: accepted))
        case .helloReply(let c):
            answered(r, from: m.from, request: m.request, cursor: c ?? Cursor(epoch: r.epoch, seq: 0))
        case .pushReply(let c, _):
            answered(r, from: m.from, request: m.request, cursor: c)
        }
    }

    private func reply(_ r: SimNode, to m: SimMessage, _ body: SimMessage.Body) {
        send(SimMessage(from: r.index, to: m.from, incarnation: r.incarnation, request: m.request, body: body))
    }

    private func answered(_ n: SimNode, from peer: Int32, request: UInt64, cursor: Cursor) {
        // Only the answer to the request still outstanding counts: duplicates and late answers are void.
        guard let k = n.link(to: peer), n.links[k].outstanding == request else { return }
        n.links[k].outstanding = nil
        n.links[k].session.answered(cursor: cursor, now: now)
        step(n, k)
    }

    /// `TongNode.receive` + `TongDatabase.apply(batch:)`: the batch must start at our cursor on
    /// the sender's log; each set is checked (content, authority, scope), applied whole or
    /// rejected whole, logged; the cursor advances to `upto`. One transaction.
    func receive(at r: SimNode, from peer: Int32, epoch: String, after: Int64, upto: Int64, sets ids: [Int32]) -> (Cursor, Bool) {
        let current = r.cursors[peer]
        let effective = current?.epoch == epoch ? current!.seq : 0
        guard after == effective, upto >= after else { return (Cursor(epoch: epoch, seq: effective), false) }
        var appliedAny = false
        for sid in ids {
            if r.logged.contains(sid) { continue }
            if apply(sid, at: r) != nil {
                reject(sid)
                continue
            }
            r.log.append(SimLogEntry(set: sid, from: peer))
            r.logged.insert(sid)
            appliedAny = true
        }
        r.cursors[peer] = Cursor(epoch: epoch, seq: upto)
        if appliedAny { notify(r) }
        return (Cursor(epoch: epoch, seq: upto), true)
    }

    private func reject(_ sid: Int32) {
        counters.rejected += 1
        if forged[Int(sid)] { forgedRejections[sid, default: 0] += 1 } else { counters.wrongRejections += 1 }
    }
}
