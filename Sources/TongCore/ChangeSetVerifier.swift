import Crypto
import Foundation
import Synchronization

/// Why a change set was rejected; a value the caller counts and logs.
public enum ChangeSetVerdict: Sendable, Equatable {
    case accepted
    case rejected(String)
}

/// Verifies change sets against the federation CA: certificate, origin, signature, shape and
/// authority. Remembers certificates it already checked, so a busy link pays for the X.509
/// check once per origin, not per set. Pure apart from that cache: time comes in as a value.
public final class ChangeSetVerifier: Sendable {
    private let certificates: NodeCertificateVerifier
    private let cache = Mutex<[Data: CachedKey]>([:])

    private struct CachedKey: Sendable { var node: String; var keyRaw: Data; var notAfter: Date }

    /// A verifier for the federation whose CA is given.
    public init(caCertificatePEM: String) throws {
        certificates = try NodeCertificateVerifier(caCertificatePEM: caCertificatePEM)
    }

    /// Checks everything that does not depend on the receiver's records: the certificate chains
    /// to the federation CA, names the set's origin, and the signature covers the payload;
    /// every change is well-formed and allowed by rule 5 for the origin.
    public func verify(_ s: SignedChangeSet, topology: Topology, now: Date) -> ChangeSetVerdict {
        if case .rejected(let why) = verifySignature(s, now: now) { return .rejected(why) }
        return Self.checkContent(s.set, topology: topology)
    }

    /// Checks the origin's certificate chains to the federation CA and names the set's origin,
    /// and that the signature covers the payload. The content is `ReplicaRules.admit`'s to check.
    public func verifySignature(_ s: SignedChangeSet, now: Date) -> ChangeSetVerdict {
        let key: P256.Signing.PublicKey
        let certKey = Data(s.certificate)
        if let hit = cache.withLock({ $0[certKey] }), hit.notAfter >= now {
            guard hit.node == s.set.origin else { return .rejected("certificate is for \(hit.node), set claims origin \(s.set.origin)") }
            guard let k = try? P256.Signing.PublicKey(rawRepresentation: hit.keyRaw) else { return .rejected("origin key unreadable") }
            key = k
        } else {
            switch certificates.verify(certificateDER: s.certificate, now: now) {
            case .untrusted(let why):
                return .rejected("origin certificate not trusted: \(why)")
            case .trusted(let node, let spki):
                guard node == s.set.origin else { return .rejected("certificate is for \(node), set claims origin \(s.set.origin)") }
                guard let k = try? P256.Signing.PublicKey(derRepresentation: spki) else {
                    return .rejected("origin certificate key is not P-256")
                }
                key = k
                let entry = CachedKey(node: node, keyRaw: k.rawRepresentation, notAfter: now.addingTimeInterval(3600))  // re-check hourly
                cache.withLock { c in
                    if c.count > 10_000 { c.removeAll() }
                    c[certKey] = entry
                }
            }
        }
        guard let sig = try? P256.Signing.ECDSASignature(derRepresentation: s.signature),
            key.isValidSignature(sig, for: s.payload)
        else { return .rejected("bad signature") }
        return .accepted
    }

    /// The content checks alone: shape, scope and authority of every change.
    public static func checkContent(_ set: ChangeSet, topology: Topology) -> ChangeSetVerdict {
        guard topology.node(set.origin) != nil else { return .rejected("origin \(set.origin) is not in the topology") }
        switch set.scope {
        case .directory: break
        case .owned(let o): guard topology.node(o) != nil else { return .rejected("scope owner \(o) unknown") }
        case .route(let f, let t):
            guard topology.node(f) != nil, topology.node(t) != nil else { return .rejected("route ends unknown") }
        }
        var lastCounter: UInt64 = 0
        for c in set.changes {
            // Counters of one origin only grow inside a set: a relay cannot reorder them unseen.
            guard c.counter > lastCounter else { return .rejected("counters not increasing in set") }
            lastCounter = c.counter
            if case .denied(let why) = Authority.check(c, origin: set.origin, scope: set.scope, topology: topology) {
                return .rejected("authority: \(why) (record \(c.record))")
            }
        }
        return .accepted
    }
}
