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

    /// A node certificate with a fresh key made here: P-256, subject CN = nodeID, O = federation
    /// name, SAN DNS "<nodeID>.node.tong" and URI "urn:tong:node:<nodeID>", EKU serverAuth+clientAuth,
    /// valid `days` from now. The all-in-one path (`tong federation create`, tests); elsewhere the
    /// node makes its key itself (`request`) and the CA signs the request (`sign`).
    /// - Throws: `PeerError` (`invalidNodeID`, `invalidCredential`).
    public static func issueNode(nodeID: String, nodeName: String, ca: IssuedCredential, now: Date, days: Int = 825) throws -> IssuedCredential {
        let key = P256.Signing.PrivateKey()
        let pem = try certify(
            publicKey: Certificate.PrivateKey(key).publicKey, nodeID: nodeID, nodeName: nodeName, ca: ca, now: now, days: days)
        return IssuedCredential(certificatePEM: pem, privateKeyPEM: key.pemRepresentation)
    }

    /// A node certificate for `publicKey` (see `issueNode`), PEM; valid from `now` (backdated by
    /// the skew allowance) for `days` days, never past the CA's expiry.
    /// - Throws: `PeerError` (`invalidNodeID`, `invalidCredential`).
    public static func certify(
        publicKey: Certificate.PublicKey, nodeID: String, nodeName: String, ca: IssuedCredential, now: Date, days: Int = 825
    ) throws -> String {
        try validate(nodeID: nodeID)
        guard days > 0 else { throw PeerError(.invalidCredential, "validity must be at least one day") }
        let (caCert, caKey) = try load(ca)
        let federation =
            caCert.subject.lazy.flatMap { $0 }
            .first { $0.type == .RDNAttributeType.organizationName }
            .flatMap { String($0.value) } ?? ""
        let subject = try DistinguishedName {
            CommonName(nodeID)
            OrganizationName(federation)
            if !nodeName.isEmpty { OrganizationalUnitName(nodeName) }
        }
        let extensions = try Certificate.Extensions {
            Critical(BasicConstraints.notCertificateAuthority)
            Critical(KeyUsage(digitalSignature: true))
            try ExtendedKeyUsage([.serverAuth, .clientAuth])
            SubjectAlternativeNames(sans(nodeID))
            SubjectKeyIdentifier(hash: publicKey)
            AuthorityKeyIdentifier(keyIdentifier: SubjectKeyIdentifier(hash: caCert.publicKey).keyIdentifier)
        }
        var notAfter = now + TimeInterval(days) * 86400
        // A node cert outliving its CA would be rejected by peers anyway; clamp so the expiry shown is the real one.
        notAfter = min(notAfter, caCert.notValidAfter)
        let cert = try Certificate(
            version: .v3,
            serialNumber: Certificate.SerialNumber(),
            publicKey: publicKey,
            notValidBefore: max(now - clockSkewAllowance, caCert.notValidBefore),
            notValidAfter: notAfter,
            issuer: caCert.subject,
            subject: subject,
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: extensions,
            issuerPrivateKey: caKey
        )
        return try cert.serializeAsPEM().pemString
    }

    /// A fresh P-256 key and a PKCS#10 request for it naming `nodeID` (CN and SAN), made where
    /// the key will live: only the request travels to the CA.
    /// - Returns: the private key (PKCS#8 PEM) and the request (PEM).
    /// - Throws: `PeerError.invalidNodeID`.
    public static func request(nodeID: String, nodeName: String) throws -> (privateKeyPEM: String, csrPEM: String) {
        try validate(nodeID: nodeID)
        let key = P256.Signing.PrivateKey()
        let subject = try DistinguishedName {
            CommonName(nodeID)
            if !nodeName.isEmpty { OrganizationalUnitName(nodeName) }
        }
        let extensions = try Certificate.Extensions { SubjectAlternativeNames(sans(nodeID)) }
        let csr = try CertificateSigningRequest(
            version: .v1, subject: subject, privateKey: Certificate.PrivateKey(key),
            attributes: CertificateSigningRequest.Attributes([.init(ExtensionRequest(extensions: extensions))]),
            signatureAlgorithm: .ecdsaWithSHA256)
        return (key.pemRepresentation, try csr.serializeAsPEM().pemString)
    }

    /// Signs a node's request: its signature must verify (the requester holds the key), its key
    /// must be P-256, and the node id it names (CN, and the URI SAN if present) must be `nodeID`.
    /// - Returns: the certificate, PEM (the only thing that travels back).
    /// - Throws: `PeerError` (`invalidCredential` for an unreadable or mismatched request, `invalidNodeID`).
    public static func sign(csrPEM: String, nodeID: String, nodeName: String, ca: IssuedCredential, now: Date, days: Int = 825) throws -> String {
        let csr: CertificateSigningRequest
        do { csr = try CertificateSigningRequest(pemEncoded: csrPEM) } catch {
            throw PeerError(.invalidCredential, "not a PEM certificate signing request: \(error)")
        }
        guard csr.publicKey.isValidSignature(csr.signature, for: csr) else {
            throw PeerError(.invalidCredential, "the request's signature does not verify with its own key")
        }
        guard P256.Signing.PublicKey(csr.publicKey) != nil else { throw PeerError(.invalidCredential, "the request's key is not P-256") }
        let cn = csr.subject.lazy.flatMap { $0 }.first { $0.type == .RDNAttributeType.commonName }.flatMap { String($0.value) }
        guard cn == nodeID else { throw PeerError(.invalidCredential, "the request names node \(cn ?? "<none>"), not \(nodeID)") }
        let requested = (try? csr.attributes.extensionRequest)?.extensions
        if let sans = try? requested?.subjectAlternativeNames {
            for name in sans {
                if case .uniformResourceIdentifier(let uri) = name, uri.hasPrefix(NodeIdentity.uriPrefix), uri != NodeIdentity.uriPrefix + nodeID {
                    throw PeerError(.invalidCredential, "the request's SAN names \(uri), not node \(nodeID)")
                }
            }
        }
        return try certify(publicKey: csr.publicKey, nodeID: nodeID, nodeName: nodeName, ca: ca, now: now, days: days)
    }

    /// A new revocation list: every entry of `previous` (which this CA must have signed) plus
    /// `adding` (an entry already listed keeps its earlier time and the lower counter bound,
    /// `RevocationList.Entry.merged`), issued at `now`, signed.
    /// - Throws: `PeerError.invalidCredential` if the CA cannot be loaded or did not sign `previous`.
    public static func revocations(
        previous: SignedRevocationList?, adding: [RevocationList.Entry], ca: IssuedCredential, now: Date
    ) throws -> SignedRevocationList {
        let (caCert, _) = try load(ca)
        var byFingerprint: [String: RevocationList.Entry] = [:]
        if let previous {
            guard previous.isSigned(by: caCert) else { throw PeerError(.invalidCredential, "the previous revocation list is not signed by this CA") }
            for e in previous.list.entries { byFingerprint[e.fingerprint] = e }
        }
        // A certificate revoked again keeps its earlier time and the lower counter bound.
        for e in adding { byFingerprint[e.fingerprint] = byFingerprint[e.fingerprint].map { $0.merged(with: e) } ?? e }
        let list = RevocationList(issuedAt: Int64(now.timeIntervalSince1970 * 1000), entries: Array(byFingerprint.values))
        do { return try list.signed(caKey: P256.Signing.PrivateKey(pemRepresentation: ca.privateKeyPEM)) } catch {
            throw PeerError(.invalidCredential, "cannot sign with the CA key: \(error)")
        }
    }

    static func sans(_ nodeID: String) -> [GeneralName] {
        [.dnsName(NodeIdentity.hostname(for: nodeID)), .uniformResourceIdentifier(NodeIdentity.uriPrefix + nodeID)]
    }

    static func load(_ ca: IssuedCredential) throws -> (Certificate, Certificate.PrivateKey) {
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
        return (caCert, caKey)
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
