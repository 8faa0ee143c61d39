import Foundation
import Hummingbird
import Logging
import TongCore
import TongDomain
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
                node.link.update(peer) {
                    $0.echoUntil = TongNode.now() + 60_000; $0.restart = true
                }
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
            let push: PushBody
            do {
                let bytes = try await HTTP.bytes(req, limit: maxBody)
                node.metrics.bytesReceived.increment(by: bytes.count)
                node.metrics.received(peer: peer, sets: 0, bytes: bytes.count)
                push = try PushBody(bytes: bytes)
                node.metrics.received(peer: peer, sets: push.sets.count, bytes: 0)
            } catch let e as NodeError {
                node.rejectBody(peer: peer, reason: e.message)
                throw e
            } catch {
                node.rejectBody(peer: peer, reason: "malformed push body: \(error)")
                throw NodeError.badRequest("a push needs epoch, after, upto and sets: \(error)")
            }
            let (outcome, malformed) = try node.receive(push, from: peer)
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
            return HTTP.json([
                "epoch": .string(st.logEpoch), "after": .int(from), "upto": .int(batch.upto),
                "sets": .array(sets), "more": .bool(batch.upto < (try node.db.head())),
            ])
        }
    }

    static func neighbour(_ ctx: PeerRequestContext, _ node: TongNode) async throws -> String {
        guard let peer = await ctx.peerNodeID(), let der = await ctx.peerCertificateDER() else {
            throw NodeError.unauthorized("no verified client certificate")
        }
        // A connection that was kept alive from before a revocation arrived is refused here;
        // new ones already fail at the handshake.
        let serial = NodeIdentity.serial(der: der)
        if let why = node.trust.refusal(fingerprint: NodeIdentity.fingerprint(der: der), serial: serial, now: TongNode.now()) {
            node.logger.warning("refused a revoked peer", metadata: ["peer.id": .string(peer), "reason": .string(why)])
            ctx.channel.close(promise: nil)
            throw NodeError.forbidden(why)
        }
        guard node.topology.isNeighbor(node.id, peer) else {
            node.logger.warning("refused non-neighbour peer", metadata: ["peer.id": .string(peer)])
            throw NodeError.forbidden("node \(peer) is not a parent or child of \(node.id)")
        }
        return peer
    }
}
