import Foundation
import Hummingbird
import Logging
import TongCore
import TongPeer
import TongStore

/// The `/sync/v1/` routes on the mutual-TLS listener (docs/protocol.md). The caller's node id
/// comes from its verified certificate; only this node's parent and children are served.
enum PeerRoutes {
    static let maxBody = 16 << 20

    static func add(to router: Router<PeerRequestContext>, node: TongNode) {
        router.get("/sync/v1/hello") { req, ctx in
            let peer = try await neighbour(ctx, node)
            if req.query("restoring") == "1" {
                // The peer lost recent state: restart our link to it and send its own sets back for a while.
                node.link.update(peer) { $0.echoUntil = TongNode.now() + 60_000; $0.restart = true }
                node.notifier.notify()
            }
            let st = try node.db.state()
            return HTTP.json([
                "node": .string(node.id), "epoch": .string(st.logEpoch), "head": .int(try node.db.head()),
                "cursor": try node.db.cursor(of: peer)?.json ?? .null,
                "seen": .int(Int64(try node.db.seen(from: peer))),
                "restoring": .bool(st.restorePending),
            ])
        }
        router.post("/sync/v1/push") { req, ctx in
            let peer = try await neighbour(ctx, node)
            let body: JSONValue
            do {
                body = try await HTTP.body(req, limit: maxBody)
                node.metrics.bytesReceived.increment(by: Int(req.headers[.contentLength].flatMap(Int.init) ?? 0))
            } catch let e as ServerError {
                node.rejectBody(peer: peer, reason: e.detail)
                throw e
            }
            guard let epoch = body["epoch"]?.stringValue, let after = body["after"]?.intValue, let upto = body["upto"]?.intValue,
                  let sets = body["sets"]?.arrayValue, after >= 0, upto >= after, sets.count <= 10_000
            else {
                node.rejectBody(peer: peer, reason: "malformed push body")
                throw ServerError.badRequest("a push needs epoch, after, upto and sets")
            }
            let (outcome, malformed) = try node.receive(sets: sets, from: peer, epoch: epoch, after: after, upto: upto)
            return HTTP.json([
                "accepted": .bool(outcome.accepted), "cursor": outcome.cursor.json, "applied": .int(Int64(outcome.applied)),
                "duplicates": .int(Int64(outcome.duplicates)), "rejected": .int(Int64(outcome.rejected.count)),
                "malformed": .int(Int64(malformed)),
            ])
        }
        router.get("/sync/v1/changes") { req, ctx in
            let peer = try await neighbour(ctx, node)
            let after = Int64(req.query("after") ?? "0") ?? 0
            let limit = min(max(Int(req.query("limit") ?? "500") ?? 500, 1), 5_000)
            let st = try node.db.state()
            let epochMatches = req.query("epoch").map { $0 == st.logEpoch } ?? true
            let from = epochMatches ? max(0, after) : 0
            let batch = try node.db.outgoing(to: peer, after: from, topology: node.topology, limit: limit)
            var sets: [JSONValue] = []
            for w in batch.sets { if let v = try? JSONParser.parse(w) { sets.append(v) } }
            return HTTP.json(["epoch": .string(st.logEpoch), "after": .int(from), "upto": .int(batch.upto),
                              "sets": .array(sets), "more": .bool(batch.upto < (try node.db.head()))])
        }
    }

    static func neighbour(_ ctx: PeerRequestContext, _ node: TongNode) async throws -> String {
        guard let peer = await ctx.peerNodeID() else { throw ServerError.unauthorized("no verified client certificate") }
        guard node.topology.isNeighbor(node.id, peer) else {
            node.logger.warning("refused non-neighbour peer", metadata: ["peer.id": .string(peer)])
            throw ServerError.forbidden("node \(peer) is not a parent or child of \(node.id)")
        }
        return peer
    }
}

extension TongNode {
    func rejectBody(peer: String, reason: String) {
        metrics.setsRejected.increment()
        logger.warning("rejected push", metadata: ["peer.id": .string(peer), "reason": .string(reason)])
        try? db.recordRejection(peer: peer, reason: reason, now: Self.now())
    }

    /// Verifies and applies sets pushed by a neighbour: each set whole or not at all; bad sets
    /// are rejected, counted and logged, good ones applied, the cursor advanced.
    func receive(sets: [JSONValue], from peer: String, epoch: String, after: Int64, upto: Int64) throws -> (BatchOutcome, malformed: Int) {
        let now = Date()
        var incoming: [IncomingSet] = []
        var malformed = 0
        for v in sets {
            guard let s = SignedChangeSet(wire: v) else {
                malformed += 1
                continue
            }
            var verdict = verifier.verify(s, topology: topology, now: now)
            if verdict == .accepted, !s.set.scope.isHeld(by: id, in: topology) {
                verdict = .rejected("set of scope \(s.set.scope.key) does not belong at node \(id)")
            }
            incoming.append(IncomingSet(signed: s, verdict: verdict))
        }
        let outcome = try db.apply(batch: incoming, from: peer, epoch: epoch, after: after, upto: upto, now: Self.now())
        if outcome.accepted {
            metrics.setsApplied.increment(by: outcome.applied)
            for r in outcome.rejected {
                metrics.setsRejected.increment()
                logger.warning("rejected change set", metadata: ["peer.id": .string(peer), "changeset.origin": .string(r.origin),
                                                                 "changeset.id": .string(r.setID), "reason": .string(r.reason)])
            }
            if malformed > 0 {
                metrics.setsRejected.increment(by: malformed)
                for _ in 0..<malformed { try db.recordRejection(peer: peer, reason: "malformed change set", now: Self.now()) }
                logger.warning("rejected malformed change sets", metadata: ["peer.id": .string(peer), "count": .stringConvertible(malformed)])
            }
            if outcome.applied > 0 { notifier.notify() }
        }
        return (outcome, outcome.accepted ? malformed : 0)
    }
}
