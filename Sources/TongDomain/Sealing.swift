import Crypto
import Foundation
import TongCore

/// End-to-end sealing of feedback (rule 4) with HPKE (RFC 9180, P-256, HKDF-SHA256, AES-256-GCM):
/// content is sealed to the department's public key from the directory; replies to the
/// submitting node's. The record id is the associated data, so a relay cannot move a sealed
/// blob to another record.
public enum Sealing {
    package static var suite: HPKE.Ciphersuite { .P256_SHA256_AES_GCM_256 }
    package static let info = Data("tong feedback v1".utf8)

    /// Seals a JSON object to a recipient's public key (raw x9.63 base64). Returns "enc.ct" base64.
    public static func seal(_ value: JSONValue, to publicKeyBase64: String, aad: String) throws -> String {
        guard let raw = Data(base64Encoded: publicKeyBase64),
            let key = try? P256.KeyAgreement.PublicKey(x963Representation: raw)
        else { throw NodeError.invalid("recipient has no usable sealing key") }
        var sender = try HPKE.Sender(recipientKey: key, ciphersuite: suite, info: info)
        let ct = try sender.seal(CanonicalJSON.encode(value), authenticating: Data(aad.utf8))
        return sender.encapsulatedKey.base64EncodedString() + "." + ct.base64EncodedString()
    }

    /// Opens a sealed blob with our private key; nil if it is not for us or was altered.
    public static func open(_ sealed: String, with key: P256.KeyAgreement.PrivateKey, aad: String) -> JSONValue? {
        let parts = sealed.split(separator: ".")
        guard parts.count == 2, let enc = Data(base64Encoded: String(parts[0])), let ct = Data(base64Encoded: String(parts[1])),
            var r = try? HPKE.Recipient(privateKey: key, ciphersuite: suite, info: info, encapsulatedKey: enc),
            let pt = try? r.open(ct, authenticating: Data(aad.utf8))
        else { return nil }
        return try? JSONParser.parse(Array(pt))
    }

    /// The public half, as published in the directory.
    public static func publicKeyBase64(_ key: P256.KeyAgreement.PrivateKey) -> String {
        key.publicKey.x963Representation.base64EncodedString()
    }
}
