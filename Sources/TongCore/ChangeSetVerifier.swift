import Crypto
import Foundation
import Synchronization
import X509

/// Why a change set was rejected; a value the caller counts and logs.
public enum ChangeSetVerdict: Sendable, Equatable {
    case accepted
    case rejected(String)
}

/// Verifies change sets against the federation CA: certificate, origin, signature, shape and
/// authority. A set is judged as of its own signing time (`created_at`), so history signed
/// while a certificate was valid stays valid after it expires; revocations and retired keys
/// (`TrustState`) bound what a certificate can still sign. Remembers certificates it already
/// checked, each until its expiry and never longer, so a busy link pays for the X.509 check
/// once per origin, not per set. Pure apart from that cache: time comes in as a value.
public final class ChangeSetVerifier: Sendable {
    /// How far past the receiver's clock a signing time may lie (clocks of two nodes differ).
    public static let maxClockSkew: TimeInterval = 600

    private let certificates: NodeCertificateVerifier
    private let cache = Mutex<[Data: NodeCertificate]>([:])

    /// A verifier for the federation whose CA is given.
    public init(caCertificatePEM: String) throws {
        certificates = try NodeCertificateVerifier(caCertificatePEM: caCertificatePEM)
    }

    /// The federation CA certificate.
    public var caCertificate: Certificate { certificates.caCertificate }

    /// Checks everything that does not depend on the receiver's records: the certificate chains
    /// to the federation CA, names the set's origin, and the signature covers the payload;
    /// every change is well-formed and allowed by rule 5 for the origin.
    public func verify(_ s: SignedChangeSet, topology: Topology, now: Date, trust: TrustState = TrustState()) -> ChangeSetVerdict {
        if case .rejected(let why) = verifySignature(s, now: now, trust: trust) { return .rejected(why) }
        return Self.checkContent(s.set, topology: topology)
    }

    /// Checks the set as of its signing time `created_at` (ms): not more than `maxClockSkew`
    /// past `now` (the receiver's clock); the origin's certificate chained to the federation CA
    /// and was valid then, names the set's origin, was not revoked at or before then (nor, when
    /// the revocation bounds its counters, used for a counter above that bound), and, if
    /// its node retired it, no counter of the set lies above the last one it signed; and the
    /// signature covers the payload. The content is `ReplicaRules.admit`'s to check.
    public func verifySignature(_ s: SignedChangeSet, now: Date, trust: TrustState = TrustState()) -> ChangeSetVerdict {
        let signedAt = Date(timeIntervalSince1970: Double(s.set.createdAt) / 1000)
        guard signedAt.timeIntervalSince(now) <= Self.maxClockSkew else {
            return .rejected("signed at \(s.set.createdAt) ms, more than \(Int(Self.maxClockSkew)) s in the future")
        }
        let cert: NodeCertificate
        let certKey = Data(s.certificate)
        // A cached certificate is used only until its expiry: past it, the full check runs again.
        if let hit = cache.withLock({ $0[certKey] }), now <= hit.notAfter {
            cert = hit
        } else {
            switch certificates.inspect(certificateDER: s.certificate) {
            case .untrusted(let why):
                return .rejected("origin certificate not trusted: \(why)")
            case .trusted(let c):
                cert = c
                if now <= c.notAfter {
                    cache.withLock { cache in
                        if cache.count > 10_000 { cache.removeAll() }
                        cache[certKey] = c
                    }
                }
            }
        }
        guard cert.nodeID == s.set.origin else { return .rejected("certificate is for \(cert.nodeID), set claims origin \(s.set.origin)") }
        if let why = cert.validity(at: signedAt) {
            return .rejected("origin certificate not trusted at the signing time \(s.set.createdAt) ms: \(why)")
        }
        if let revokedAt = trust.revokedAt(cert.fingerprint, serial: cert.serial), s.set.createdAt >= revokedAt {
            return .rejected("origin certificate was revoked at \(revokedAt) ms, before the signing time \(s.set.createdAt) ms")
        }
        if let bound = trust.revocationBound(cert.fingerprint, serial: cert.serial), let top = s.set.changes.map(\.counter).max(), top > bound {
            // Dated before the revocation, but numbered after what the CA still trusts: a back-dated set.
            return .rejected("counter \(top) lies above \(bound), the last one the CA trusts from the revoked certificate")
        }
        if let last = trust.lastCounter(node: cert.nodeID, fingerprint: cert.fingerprint, serial: cert.serial),
            let top = s.set.changes.map(\.counter).max(), top > last
        {
            return .rejected("counter \(top) lies above \(last), the last one signed with the retired certificate")
        }
        guard let key = try? P256.Signing.PublicKey(derRepresentation: cert.publicKeyDER) else {
            return .rejected("origin certificate key is not P-256")
        }
        guard let sig = try? P256.Signing.ECDSASignature(derRepresentation: s.signature),
            key.isValidSignature(sig, for: s.payload)
        else { return .rejected("bad signature") }
        return .accepted
    }

    /// Cached certificates (for tests: none outlives its expiry).
    package func cachedExpiries() -> [Date] { cache.withLock { $0.values.map(\.notAfter) } }

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
