import Foundation
import Logging
import TongCore
import TongStore

extension TongNode {
    /// Records a push whose body could not be read at all (counted, logged, stored as a rejection).
    package func rejectBody(peer: String, reason: String) {
        metrics.setsRejected.increment()
        logger.warning("rejected push", metadata: ["peer.id": .string(peer), "reason": .string(reason)])
        try? db.recordRejection(peer: peer, reason: reason, now: Self.now())
    }

    /// Verifies and applies sets pushed by a neighbour: each set whole or not at all; bad sets
    /// are rejected, counted and logged, good ones applied, the cursor advanced.
    package func receive(_ push: PushBody, from peer: String) throws -> (BatchOutcome, malformed: Int) {
        let now = Date()
        var incoming: [IncomingSet] = []
        var malformed = 0
        for (k, wire) in push.sets.enumerated() {
            // Parsed once, by PushBody; the bytes are kept for the log as received.
            guard let v = push.parsed?[k] ?? (try? JSONParser.parse(wire)), let s = SignedChangeSet(wire: v) else {
                malformed += 1
                continue
            }
            // Signature and certificate here; content, scope and merge in the store (ReplicaRules).
            incoming.append(IncomingSet(signed: s, wire: wire, verdict: verifier.verifySignature(s, now: now)))
        }
        let outcome = try db.apply(
            batch: incoming, from: peer, epoch: push.epoch, after: push.after, upto: push.upto, topology: topology,
            now: Self.now())
        if outcome.accepted {
            metrics.setsApplied.increment(by: outcome.applied)
            for r in outcome.rejected {
                metrics.setsRejected.increment()
                logger.warning(
                    "rejected change set",
                    metadata: [
                        "peer.id": .string(peer), "changeset.origin": .string(r.origin),
                        "changeset.id": .string(r.setID), "reason": .string(r.reason),
                    ])
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
