import Foundation
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle
import Synchronization
import TongCore
import TongPeer
import TongStore

/// Pushes this node's change log to every neighbour (rule 9): at once after a change, and every
/// `syncIntervalMs` as anti-entropy. Each link is a `PushSession` state machine; this shell
/// performs its actions. Also acknowledges feedback that arrived for our departments and
/// republishes supervision figures.
public struct SyncService: Service {
    package let node: TongNode
    package let client: PeerClient

    /// A service for `node`, with a client on `group`.
    public init(node: TongNode, group: any EventLoopGroup) throws {
        self.node = node
        client = try PeerClient(credentials: node.credentials, group: group, policy: node.peerPolicy)
    }

    public func run() async throws {
        let caughtUp = CatchUp()
        if node.neighbours.isEmpty, (try? node.db.state().restorePending) == true {
            try? node.db.catchUp(seenByPeers: 0, finished: true)  // a one-node federation has nobody to ask
        }
        await withDiscardingTaskGroup { group in
            for (peer, _) in node.neighbours {
                group.addTask { await link(peer, caughtUp: caughtUp) }
            }
            group.addTask { await housekeeping() }
            // Stop when the service group shuts down.
            try? await gracefulShutdown()
            group.cancelAll()
        }
    }

    package func address(of peer: String) -> (String, Int)? {
        guard let a = node.config.peerAddresses[peer] ?? node.topology.node(peer)?.peer,
            let hp = try? NodeConfiguration.hostPort(a)
        else { return nil }
        return hp
    }

    package func link(_ peer: String, caughtUp: CatchUp) async {
        let logger = node.logger
        guard let (host, port) = address(of: peer) else {
            logger.error("no peer address", metadata: ["peer.id": .string(peer)])
            return
        }
        // One kept-alive mutual-TLS connection for the whole life of the link.
        let connection = PeerConnection(client: client, host: host, port: port, expectedNodeID: peer)
        defer { Task { await connection.close() } }
        // A stop closes the connection at once: a request in flight to a neighbour that hangs
        // fails now instead of at its timeout (30 s for a push), so the node exits in time.
        await withTaskCancellationHandler {
            await run(peer, connection: connection, caughtUp: caughtUp)
        } onCancel: {
            Task { await connection.close() }
        }
    }

    private func run(_ peer: String, connection: PeerConnection, caughtUp: CatchUp) async {
        var epoch = (try? node.db.state().logEpoch) ?? ""
        var session = PushSession(epoch: epoch, idleInterval: node.config.syncIntervalMs)
        var seenGeneration = -1
        var echo = false  // the peer was restored from a backup: send it its own sets back too
        var revocations = node.trust.revocationGeneration
        while !Task.isCancelled {
            let now = TongNode.now()
            if node.trust.revocationGeneration != revocations {
                // New revocations: the next request shakes hands again, so a revoked peer is refused.
                revocations = node.trust.revocationGeneration
                await connection.close()
            }
            if let e = try? node.db.state().logEpoch, e != epoch {
                epoch = e
                session = PushSession(epoch: e, idleInterval: node.config.syncIntervalMs)
            }
            if node.link.get(peer).restart {
                node.link.update(peer) { $0.restart = false }
                session = PushSession(epoch: epoch, idleInterval: node.config.syncIntervalMs)
            }
            echo = node.link.get(peer).echoUntil > now
            let head = (try? node.db.head()) ?? 0
            switch session.next(head: head, now: now) {
            case .hello:
                do {
                    let restoring = (try? node.db.state().restorePending) == true
                    let r = try await connection.request(
                        method: "GET", path: restoring ? "/sync/v1/hello?restoring=1" : "/sync/v1/hello",
                        body: nil)
                    guard r.status == 200, let v = try? JSONParser.parse(r.body) else {
                        throw PeerError(.protocolError, "hello answered \(r.status)")
                    }
                    let cursor = Cursor(json: v["cursor"]) ?? Cursor(epoch: epoch, seq: 0)
                    let seenByPeer = UInt64(max(0, v["seen"]?.intValue ?? 0))
                    if let st = try? node.db.state(), !st.restorePending, seenByPeer > st.counter {
                        // The neighbour saw counters of ours we no longer have: our replica is older than
                        // what we handed out (lost or copied back). Hold writes and catch up, as after a restore.
                        node.logger.error("replica is behind what a neighbour has seen of it; holding writes until caught up", metadata: [
                            "peer.id": .string(peer), "counter": .stringConvertible(st.counter), "seen": .stringConvertible(seenByPeer),
                        ])
                        try node.db.markRestored()
                        node.notifier.notify()
                        continue
                    }
                    session.answered(cursor: cursor, now: TongNode.now())
                    up(peer, cursor: session.peerCursor)
                    try await restoreCatchUp(peer: peer, seen: seenByPeer, caughtUp: caughtUp)
                } catch {
                    fail(&session, peer, error)
                }
            case .push(let after):
                do {
                    let batch = try node.db.outgoing(to: peer, after: after, topology: node.topology, includeEchoes: echo)
                    let body = PushBody(epoch: epoch, after: after, upto: batch.upto, sets: batch.sets).encoded()
                    let r = try await connection.request(method: "POST", path: "/sync/v1/push", body: body, timeout: .seconds(30))
                    guard r.status == 200, let v = try? JSONParser.parse(r.body), let c = Cursor(json: v["cursor"]) else {
                        throw PeerError(.protocolError, "push answered \(r.status): \(String(decoding: r.body.prefix(200), as: UTF8.self))")
                    }
                    session.answered(cursor: c, now: TongNode.now())
                    node.metrics.setsSent.increment(by: batch.sets.count)
                    node.metrics.bytesSent.increment(by: body.count)
                    node.metrics.pushed(peer: peer, sets: batch.sets.count, bytes: body.count)
                    up(peer, cursor: session.peerCursor)
                } catch {
                    fail(&session, peer, error)
                }
            case .wait(let until):
                let g = node.notifier.current
                if g != seenGeneration {
                    // Something changed since we last looked: loop at once (after a short
                    // coalescing delay so a burst of writes travels as one batch).
                    seenGeneration = g
                    if node.config.pushDelayMs > 0 { try? await Task.sleep(for: .milliseconds(node.config.pushDelayMs)) }
                    continue
                }
                let ms = max(0, until - now)
                await node.notifier.wait(changedFrom: g, until: .now + .milliseconds(ms))
            }
        }
    }

    /// Records a successful request on the link; logs "sync link up" once when it was down (or
    /// had never worked), as `fail` logs "sync link down" once.
    package func up(_ peer: String, cursor: Int64?) {
        var wasUp = true
        node.link.update(peer) {
            wasUp = $0.connected
            $0.connected = true; $0.lastSync = TongNode.now(); $0.peerCursor = cursor; $0.lastError = nil
        }
        if !wasUp { node.logger.notice("sync link up", metadata: ["peer.id": .string(peer)]) }
    }

    package func fail(_ session: inout PushSession, _ peer: String, _ error: any Error) {
        session.failed(now: TongNode.now())
        let l = node.link.get(peer)
        if l.connected || l.lastError == nil {
            node.logger.warning("sync link down", metadata: ["peer.id": .string(peer), "error": .string("\(error)")])
        }
        node.link.update(peer) {
            $0.connected = false; $0.lastError = "\(error)"
        }
    }

    /// After a restore: once every neighbour said how far it saw our counter, continue above it.
    package func restoreCatchUp(peer: String, seen: UInt64, caughtUp: CatchUp) async throws {
        guard (try? node.db.state().restorePending) == true else { return }
        let all = caughtUp.seen.withLock { c -> [String: UInt64] in
            c[peer] = max(c[peer] ?? 0, seen); return c
        }
        // A neighbour whose certificate was revoked can never say hello again (refused at TLS):
        // waiting for it would hold writes forever. It cannot receive our sets either.
        let revoked = node.trust.revokedNodes(now: TongNode.now())
        let finished = node.neighbours.allSatisfy { all[$0.id] != nil || revoked.contains($0.id) }
        try node.db.catchUp(seenByPeers: all.values.max() ?? 0, finished: finished)
        if finished {
            node.logger.notice("caught up after restore", metadata: ["counter": .stringConvertible(all.values.max() ?? 0)])
            node.notifier.notify()  // housekeeping republishes the directory at once
        }
    }

    /// Acknowledges arrived feedback whenever something changed, and republishes the
    /// supervision figures at most every 2 s after a change and once a minute otherwise (their
    /// overdue counts move with the date). Idle, it wakes once a minute.
    package func housekeeping() async {
        var lastStats: Int64 = 0
        var statsDirty = true
        var needAck = true
        var directoryPublished = false
        var seen = -1
        var failures = 0
        var lastFailure = ""
        var retryAt: Int64 = 0
        while !Task.isCancelled {
            let g = node.notifier.current
            var now = TongNode.now()
            if now >= retryAt {
                do {
                    if (try? node.db.state().restorePending) != true {
                        if !directoryPublished {
                            // Once caught up; a node whose own certificate cannot sign logs why and waits for a new one.
                            try node.publishDirectoryWhenPossible()
                            directoryPublished = true
                        }
                        if g != seen {
                            seen = g
                            statsDirty = true
                            needAck = true
                        }
                        if needAck || now - lastStats >= 60_000 {
                            _ = try node.acknowledgeArrivals()
                            _ = try node.mirrorTransfers()
                            needAck = false
                        }
                        if statsDirty && now - lastStats >= 2_000 || now - lastStats >= 60_000 {
                            try node.publishSupervision()
                            try node.db.pruneIdempotency(before: now - TongNode.idempotencyLifetimeMs)
                            lastStats = TongNode.now()
                            statsDirty = false
                        }
                    }
                    failures = 0
                    lastFailure = ""
                } catch {
                    // A node that cannot write (its certificate revoked, the disk full) must not spin:
                    // retry after 2 s, 4 s, … up to a minute, and log a failure once until it changes.
                    failures += 1
                    let message = "\(error)"
                    if message != lastFailure {
                        node.logger.error("housekeeping failed", metadata: ["error": .string(message)])
                        lastFailure = message
                    }
                }
            }
            now = TongNode.now()
            var due = (statsDirty ? lastStats + 2_000 : lastStats + 60_000) - now
            if failures > 0 {
                if retryAt <= now { retryAt = now + Int64(min(60_000, 2_000 << min(failures - 1, 5))) }
                due = max(due, retryAt - now)
            }
            await node.notifier.wait(changedFrom: g, until: .now + .milliseconds(max(10, due)))
        }
    }
}

/// What each neighbour saw of our counter, gathered after a restore.
package final class CatchUp: Sendable {
    package let seen = Mutex<[String: UInt64]>([:])
}
