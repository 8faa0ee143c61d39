import Foundation
import NIOCore
import NIOSSL
import TongCore
import X509

/// Decides, during the TLS handshake, whether a neighbour's certificate is acceptable: issued
/// by the federation CA, valid now, with the key usage of its role, naming the node we meant
/// to reach (as a client), and not revoked by a CA-signed list the node knows. It replaces
/// BoringSSL's chain check (NIOSSL's custom verification), so a revoked certificate fails the
/// handshake itself, on both ends, as soon as the list arrives.
public struct PeerCertificatePolicy: Sendable {
    let verifier: NodeCertificateVerifier
    let trust: TrustRegistry
    let onRefusal: @Sendable (_ reason: String) -> Void

    /// A policy for the federation whose CA is `caPEM`, reading revocations from `trust`;
    /// `onRefusal` hears why a handshake was refused (for the log).
    /// - Throws: `PeerError.invalidCredential` if `caPEM` is not a certificate.
    public init(caPEM: String, trust: TrustRegistry, onRefusal: @escaping @Sendable (String) -> Void = { _ in }) throws {
        do { verifier = try NodeCertificateVerifier(caCertificatePEM: caPEM) } catch {
            throw PeerError(.invalidCredential, "cannot parse the federation CA certificate: \(error)")
        }
        self.trust = trust
        self.onRefusal = onRefusal
    }

    /// Why the presented chain (leaf first) must be refused at `now`, or nil to accept it.
    /// `expectedNodeID` is the node a client dialled, whose certificate must allow serverAuth;
    /// nil on the server side, where the caller's certificate must allow clientAuth.
    public func refusal(chain: [NIOSSLCertificate], expectedNodeID: String?, now: Date) -> String? {
        guard let leaf = chain.first, let der = try? leaf.toDERBytes() else { return "no peer certificate" }
        let cert: NodeCertificate
        switch verifier.inspect(certificateDER: der) {
        case .untrusted(let why): return why
        case .trusted(let c): cert = c
        }
        if let why = cert.validity(at: now) { return why }
        if let expectedNodeID {
            guard cert.nodeID == expectedNodeID else { return "peer presented node \(cert.nodeID), expected \(expectedNodeID)" }
            guard cert.serverAuth else { return "certificate of \(cert.nodeID) is not for TLS servers" }
        } else {
            guard cert.clientAuth else { return "certificate of \(cert.nodeID) is not for TLS clients" }
        }
        return trust.refusal(fingerprint: cert.fingerprint, serial: cert.serial, now: Int64(now.timeIntervalSince1970 * 1000))
    }

    /// The NIOSSL callback for a connection to `expectedNodeID` (client) or from anyone (server).
    public func callback(expectedNodeID: String?) -> @Sendable ([NIOSSLCertificate], EventLoopPromise<NIOSSLVerificationResult>) -> Void {
        { chain, promise in
            if let why = refusal(chain: chain, expectedNodeID: expectedNodeID, now: Date()) {
                onRefusal(why)
                promise.succeed(.failed)
            } else {
                promise.succeed(.certificateVerified)
            }
        }
    }
}
