import Crypto
import Foundation
import SwiftASN1
import X509

/// Decides whether a node certificate was issued by the federation CA; pure so callers control time and caching.
public struct NodeCertificateVerifier: Sendable {
    /// The federation CA certificate every node certificate must chain to directly.
    public let caCertificate: Certificate

    /// Parses the federation CA certificate from PEM.
    public init(caCertificatePEM: String) throws {
        self.caCertificate = try Certificate(pemEncoded: caCertificatePEM)
    }

    /// Verifies a node certificate (DER) was issued by the federation CA and is valid at `now`; returns the node id and its P-256 signing public key.
    public func verify(certificateDER: [UInt8], now: Date) -> NodeCertificateVerdict {
        let cert: Certificate
        do {
            cert = try Certificate(derEncoded: certificateDER)
        } catch {
            return .untrusted("certificate is not valid DER: \(error)")
        }
        guard cert.issuer == caCertificate.subject else {
            return .untrusted("issuer \(cert.issuer) is not the federation CA \(caCertificate.subject)")
        }
        guard caCertificate.publicKey.isValidSignature(cert.signature, for: cert) else {
            return .untrusted("signature does not verify against the federation CA key")
        }
        guard cert.notValidBefore <= now else {
            return .untrusted("certificate not valid before \(cert.notValidBefore)")
        }
        guard now <= cert.notValidAfter else {
            return .untrusted("certificate expired at \(cert.notValidAfter)")
        }
        // A CA certificate presented as a node would let its holder mint arbitrary node identities.
        if case .some(.isCertificateAuthority) = try? cert.extensions.basicConstraints {
            return .untrusted("certificate is a CA certificate, not a node certificate")
        }
        guard let nodeID = NodeIdentity.nodeID(of: cert) else {
            return .untrusted("certificate carries no tong node id")
        }
        guard let key = P256.Signing.PublicKey(cert.publicKey) else {
            return .untrusted("certificate key is not P-256")
        }
        return .trusted(nodeID: nodeID, publicKeyDER: Array(key.derRepresentation))
    }
}

/// Outcome of checking a node certificate against the federation CA.
public enum NodeCertificateVerdict: Sendable, Equatable {
    /// Issued by the CA and currently valid; `publicKeyDER` is the node's P-256 SubjectPublicKeyInfo.
    case trusted(nodeID: String, publicKeyDER: [UInt8])
    /// Rejected, with a human-readable reason.
    case untrusted(String)
}

/// Where a node's identity lives inside its certificate.
public enum NodeIdentity {
    /// URI SAN prefix that names a node; authoritative because it cannot collide with real DNS names.
    public static let uriPrefix = "urn:tong:node:"
    /// DNS SAN suffix used for TLS hostname verification of a node.
    public static let dnsSuffix = ".node.tong"

    /// Reads the node id from the certificate's SAN (URI `urn:tong:node:<id>`, else DNS `<id>.node.tong`).
    public static func nodeID(of certificate: Certificate) -> String? {
        guard let sans = try? certificate.extensions.subjectAlternativeNames else { return nil }
        for name in sans {
            if case .uniformResourceIdentifier(let uri) = name, uri.hasPrefix(uriPrefix) {
                let id = String(uri.dropFirst(uriPrefix.count))
                if !id.isEmpty { return id }
            }
        }
        for name in sans {
            if case .dnsName(let dns) = name, dns.hasSuffix(dnsSuffix) {
                let id = String(dns.dropLast(dnsSuffix.count))
                if !id.isEmpty, !id.contains(".") { return id }
            }
        }
        return nil
    }

    /// The DNS name a node's certificate carries and that TLS hostname verification checks.
    public static func hostname(for nodeID: String) -> String {
        nodeID + dnsSuffix
    }
}
