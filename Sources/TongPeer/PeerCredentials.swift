import Foundation
import NIOSSL
import TongCore
import X509

/// This node's TLS identity plus the federation CA it trusts, parsed once so every connection reuses it.
public struct PeerCredentials: Sendable {
    /// Federation CA certificate, PEM.
    public let caPEM: String
    /// This node's certificate, PEM.
    public let certificatePEM: String
    /// This node's private key, PEM.
    public let privateKeyPEM: String
    /// Parsed federation CA certificates (trust roots).
    public let caCertificates: [NIOSSLCertificate]
    /// Parsed certificate chain presented to peers.
    public let certificateChain: [NIOSSLCertificate]
    /// Parsed private key.
    public let privateKey: NIOSSLPrivateKey
    /// Node id named by our own certificate.
    public let nodeID: String

    /// Parses PEM material; fails early if the certificate carries no node id so misconfiguration surfaces at startup.
    public init(caPEM: String, certificatePEM: String, privateKeyPEM: String) throws {
        self.caPEM = caPEM
        self.certificatePEM = certificatePEM
        self.privateKeyPEM = privateKeyPEM
        do {
            self.caCertificates = try NIOSSLCertificate.fromPEMBytes(Array(caPEM.utf8))
            self.certificateChain = try NIOSSLCertificate.fromPEMBytes(Array(certificatePEM.utf8))
            self.privateKey = try NIOSSLPrivateKey(bytes: Array(privateKeyPEM.utf8), format: .pem)
        } catch {
            throw PeerError(.invalidCredential, "cannot parse PEM credentials: \(error)")
        }
        guard !caCertificates.isEmpty, let leaf = certificateChain.first else {
            throw PeerError(.invalidCredential, "CA or node certificate PEM is empty")
        }
        guard let cert = try? Certificate(derEncoded: leaf.toDERBytes()), let id = NodeIdentity.nodeID(of: cert) else {
            throw PeerError(.invalidCredential, "node certificate carries no tong node id")
        }
        self.nodeID = id
    }

    /// Reads HOME/certs/ca.pem, HOME/certs/node.pem and HOME/certs/node.key.
    public static func load(home: String) throws -> PeerCredentials {
        func read(_ name: String) throws -> String {
            let path = home + "/certs/" + name
            do {
                return try String(contentsOfFile: path, encoding: .utf8)
            } catch {
                throw PeerError(.io, "cannot read \(path): \(error)")
            }
        }
        return try PeerCredentials(caPEM: read("ca.pem"), certificatePEM: read("node.pem"), privateKeyPEM: read("node.key"))
    }
}

extension PeerCredentials {
    /// This node's certificate, DER (shipped inside every change set it signs).
    public var certificateDER: [UInt8] { (try? certificateChain[0].toDERBytes()) ?? [] }
}
