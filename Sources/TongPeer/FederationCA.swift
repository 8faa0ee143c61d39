import Crypto
import Foundation
import TongCore
import X509

/// A certificate and its private key, both PEM-encoded.
public struct IssuedCredential: Sendable {
    /// PEM certificate.
    public var certificatePEM: String
    /// PEM PKCS#8 private key (P-256).
    public var privateKeyPEM: String

    /// Wraps an existing PEM certificate and key.
    public init(certificatePEM: String, privateKeyPEM: String) {
        self.certificatePEM = certificatePEM
        self.privateKeyPEM = privateKeyPEM
    }
}

/// Mints the federation CA and the node certificates it signs.
public enum FederationCA {
    /// Backdating covers modest clock skew between nodes so a freshly issued cert is accepted everywhere at once.
    static let clockSkewAllowance: TimeInterval = 3600

    /// A self-signed P-256 CA, valid 10 years from `now`.
    public static func create(federation: String, now: Date) throws -> IssuedCredential {
        let key = P256.Signing.PrivateKey()
        let certKey = Certificate.PrivateKey(key)
        let name = try DistinguishedName {
            CommonName("\(federation) Tong Federation CA")
            OrganizationName(federation)
        }
        let extensions = try Certificate.Extensions {
            Critical(BasicConstraints.isCertificateAuthority(maxPathLength: 0))
            Critical(KeyUsage(keyCertSign: true, cRLSign: true))
            SubjectKeyIdentifier(hash: certKey.publicKey)
        }
        let cert = try Certificate(
            version: .v3,
            serialNumber: Certificate.SerialNumber(),
            publicKey: certKey.publicKey,
            notValidBefore: now - clockSkewAllowance,
            notValidAfter: now + 10 * 365.25 * 86400,
            issuer: name,
            subject: name,
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: extensions,
            issuerPrivateKey: certKey
        )
        return IssuedCredential(certificatePEM: try cert.serializeAsPEM().pemString, privateKeyPEM: key.pemRepresentation)
    }

    /// A node certificate: P-256, subject CN = nodeID, O = federation name, SAN DNS "<nodeID>.node.tong" and URI "urn:tong:node:<nodeID>", EKU
    /// serverAuth+clientAuth, valid `days` from now.
    public static func issueNode(nodeID: String, nodeName: String, ca: IssuedCredential, now: Date, days: Int = 825) throws -> IssuedCredential {
        try validate(nodeID: nodeID)
        guard days > 0 else { throw PeerError(.invalidCredential, "validity must be at least one day") }
        let caCert: Certificate
        let caKey: Certificate.PrivateKey
        do {
            caCert = try Certificate(pemEncoded: ca.certificatePEM)
            caKey = Certificate.PrivateKey(try P256.Signing.PrivateKey(pemRepresentation: ca.privateKeyPEM))
        } catch {
            throw PeerError(.invalidCredential, "cannot load CA credential: \(error)")
        }
        guard caKey.publicKey == caCert.publicKey else {
            throw PeerError(.invalidCredential, "CA private key does not match CA certificate")
        }
        let federation =
            caCert.subject.lazy.flatMap { $0 }
            .first { $0.type == .RDNAttributeType.organizationName }
            .flatMap { String($0.value) } ?? ""

        let key = P256.Signing.PrivateKey()
        let certKey = Certificate.PrivateKey(key)
        let subject = try DistinguishedName {
            CommonName(nodeID)
            OrganizationName(federation)
            if !nodeName.isEmpty { OrganizationalUnitName(nodeName) }
        }
        let extensions = try Certificate.Extensions {
            Critical(BasicConstraints.notCertificateAuthority)
            Critical(KeyUsage(digitalSignature: true))
            try ExtendedKeyUsage([.serverAuth, .clientAuth])
            SubjectAlternativeNames([
                .dnsName(NodeIdentity.hostname(for: nodeID)),
                .uniformResourceIdentifier(NodeIdentity.uriPrefix + nodeID),
            ])
            SubjectKeyIdentifier(hash: certKey.publicKey)
            AuthorityKeyIdentifier(keyIdentifier: SubjectKeyIdentifier(hash: caCert.publicKey).keyIdentifier)
        }
        var notAfter = now + TimeInterval(days) * 86400
        // A node cert outliving its CA would be rejected by peers anyway; clamp so the expiry shown is the real one.
        notAfter = min(notAfter, caCert.notValidAfter)
        let cert = try Certificate(
            version: .v3,
            serialNumber: Certificate.SerialNumber(),
            publicKey: certKey.publicKey,
            notValidBefore: max(now - clockSkewAllowance, caCert.notValidBefore),
            notValidAfter: notAfter,
            issuer: caCert.subject,
            subject: subject,
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: extensions,
            issuerPrivateKey: caKey
        )
        return IssuedCredential(certificatePEM: try cert.serializeAsPEM().pemString, privateKeyPEM: key.pemRepresentation)
    }

    /// Node ids become DNS labels in the SAN, so they must be valid labels for hostname verification to work.
    public static func validate(nodeID: String) throws {
        let scalars = Array(nodeID.unicodeScalars)
        let allowed = scalars.allSatisfy { ($0 >= "a" && $0 <= "z") || ($0 >= "A" && $0 <= "Z") || ($0 >= "0" && $0 <= "9") || $0 == "-" }
        guard (1...63).contains(scalars.count), allowed, scalars.first != "-", scalars.last != "-" else {
            throw PeerError(.invalidNodeID, "node id '\(nodeID)' must be 1-63 letters, digits or inner hyphens")
        }
    }
}
