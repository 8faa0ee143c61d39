import Crypto
import Foundation

/// This node's signing identity: the private key its certificate certifies.
public struct ChangeSigner: Sendable {
    /// This node's id.
    public var nodeID: String
    /// The certified P-256 key, raw (swift-crypto's key type is not Sendable on Linux).
    private var keyRaw: Data
    /// This node's certificate, DER, shipped inside every set it signs.
    public var certificateDER: [UInt8]

    /// Makes a signer.
    public init(nodeID: String, key: P256.Signing.PrivateKey, certificateDER: [UInt8]) {
        self.nodeID = nodeID; self.keyRaw = key.rawRepresentation; self.certificateDER = certificateDER
    }

    /// Signs a set.
    public func sign(_ set: ChangeSet) throws -> SignedChangeSet {
        try set.signed(key: P256.Signing.PrivateKey(rawRepresentation: keyRaw), certificateDER: certificateDER)
    }
}
