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
    /// are rejected, counted and logged, good ones applied, the cursor advanced. Each set is
    /// verified as of its own signing time against the revocations and key histories known,
    /// including those that arrive in the same batch.
    package func receive(_ push: PushBody, from peer: String) throws -> (BatchOutcome, malformed: Int) {
        let now = Date()
        var parsed: [(SignedChangeSet, [UInt8])] = []
        var malformed = 0
        // Each set's JSON parsed once (by PushBody, else here); its payload decoded on every core.
        let values: [JSONValue?] = push.parsed.map { $0.map(Optional.some) } ?? push.sets.map { try? JSONParser.parse($0) }
        let decoded = values.concurrentMap { v in v.flatMap { SignedChangeSet(wire: $0) } }
        for (s, wire) in zip(decoded, push.sets) {
            // The bytes are kept for the log as received.
            guard let s else {
                malformed += 1
                continue
            }
            parsed.append((s, wire))
        }
        // Revocation lists and key histories in this batch count for every set of it, whatever
        // the order: a list is the CA's word and a history its node's, whoever relayed them.
        let known = trust.current
        var state = known
        for (s, _) in parsed where s.set.scope == .directory {
            if verifier.verifySignature(s, now: now, trust: known) == .accepted { state.fold(s.set, ca: verifier.caCertificate) }
        }
        // Signature and certificate here; content, scope and merge in the store (ReplicaRules).
        let incoming = parsed.map { s, wire in IncomingSet(signed: s, wire: wire, verdict: verifier.verifySignature(s, now: now, trust: state)) }
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
            if outcome.applied > 0 {
                if state != known { try refreshTrust() }
                notifier.notify()
            }
        }
        return (outcome, outcome.accepted ? malformed : 0)
    }
}
