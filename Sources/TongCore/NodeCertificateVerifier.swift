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

    /// A verifier for an already parsed CA certificate.
    public init(caCertificate: Certificate) {
        self.caCertificate = caCertificate
    }

    /// Verifies a node certificate (DER) was issued by the federation CA and is valid at `now`; returns the node id and its P-256 signing public key.
    public func verify(certificateDER: [UInt8], now: Date) -> NodeCertificateVerdict {
        switch inspect(certificateDER: certificateDER) {
        case .untrusted(let why): return .untrusted(why)
        case .trusted(let c):
            if let why = c.validity(at: now) { return .untrusted(why) }
            return .trusted(nodeID: c.nodeID, publicKeyDER: c.publicKeyDER)
        }
    }

    /// Everything about a node certificate that does not depend on time: issued by the federation
    /// CA, not a CA itself, names a node, carries a P-256 key. The caller checks `validity(at:)`
    /// against the time that matters (now for a TLS peer, the signing time for a change set).
    public func inspect(certificateDER: [UInt8]) -> NodeCertificateInspection {
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
        let usages = (try? cert.extensions.extendedKeyUsage).map { Array($0) } ?? []
        return .trusted(
            NodeCertificate(
                nodeID: nodeID, publicKeyDER: Array(key.derRepresentation), fingerprint: NodeIdentity.fingerprint(der: certificateDER),
                serial: NodeIdentity.hex(Array(cert.serialNumber.bytes)),
                // The chain is valid only while both links are: a node certificate never outlives its CA.
                notBefore: max(cert.notValidBefore, caCertificate.notValidBefore),
                notAfter: min(cert.notValidAfter, caCertificate.notValidAfter),
                serverAuth: usages.contains(.serverAuth), clientAuth: usages.contains(.clientAuth)))
    }
}

/// A node certificate the federation CA issued, with what verifying sets and peers needs.
public struct NodeCertificate: Sendable, Equatable {
    /// The node id its SAN names.
    public var nodeID: String
    /// Its P-256 SubjectPublicKeyInfo, DER.
    public var publicKeyDER: [UInt8]
    /// Lower-case hex SHA-256 of the certificate's DER (`openssl x509 -fingerprint -sha256` without colons).
    public var fingerprint: String
    /// The serial number, lower-case hex.
    public var serial: String
    /// First instant the chain (certificate and CA) is valid.
    public var notBefore: Date
    /// Last instant the chain (certificate and CA) is valid.
    public var notAfter: Date
    /// Extended key usage allows a TLS server.
    public var serverAuth: Bool
    /// Extended key usage allows a TLS client.
    public var clientAuth: Bool

    /// Why the chain is not valid at `time`, or nil if it is.
    public func validity(at time: Date) -> String? {
        if time < notBefore { return "certificate not valid before \(notBefore)" }
        if time > notAfter { return "certificate expired at \(notAfter)" }
        return nil
    }
}

/// Outcome of `NodeCertificateVerifier.inspect`.
public enum NodeCertificateInspection: Sendable, Equatable {
    /// Issued by the federation CA; its validity window still has to be checked.
    case trusted(NodeCertificate)
    /// Rejected, with a human-readable reason.
    case untrusted(String)
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

    /// The DER bytes of a PEM certificate; nil if it is not one.
    public static func der(pem: String) -> [UInt8]? {
        guard let cert = try? Certificate(pemEncoded: pem) else { return nil }
        var s = DER.Serializer()
        guard (try? s.serialize(cert)) != nil else { return nil }
        return s.serializedBytes
    }

    /// A certificate's serial number, lower-case hex, as `NodeCertificate.serial` gives it; nil
    /// if the bytes are not a certificate.
    public static func serial(der: [UInt8]) -> String? {
        (try? Certificate(derEncoded: der)).map { hex(Array($0.serialNumber.bytes)) }
    }

    /// Lower-case hex SHA-256 of a certificate's DER: how key histories and revocation lists name it.
    public static func fingerprint(der: [UInt8]) -> String { hex(Array(SHA256.hash(data: der))) }

    /// Lower-case hex of bytes.
    public static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count * 2)
        for b in bytes { out.append(digits[Int(b >> 4)]); out.append(digits[Int(b & 15)]) }
        return String(decoding: out, as: UTF8.self)
    }

    /// The DNS name a node's certificate carries and that TLS hostname verification checks.
    public static func hostname(for nodeID: String) -> String {
        nodeID + dnsSuffix
    }
}
