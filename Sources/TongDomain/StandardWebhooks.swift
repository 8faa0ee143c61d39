import Crypto
import Foundation

/// Signing as the Standard Webhooks specification says (standardwebhooks.com, v1): the
/// signature is HMAC-SHA256, keyed with the base64-decoded part of the `whsec_…` secret, over
/// `"{webhook-id}.{webhook-timestamp}.{body}"`, sent base64-encoded as `v1,<signature>` in the
/// `webhook-signature` header. Receivers verify it with the same secret.
package enum StandardWebhooks {
    /// The three headers for one message: `webhook-id`, `webhook-timestamp` (seconds since
    /// 1970) and `webhook-signature`. Nil if `secret` is not `whsec_<base64>`.
    package static func headers(id: String, timestamp: Int64, body: [UInt8], secret: String) -> [String: String]? {
        guard let signature = sign(id: id, timestamp: timestamp, body: body, secret: secret) else { return nil }
        return ["webhook-id": id, "webhook-timestamp": String(timestamp), "webhook-signature": "v1," + signature]
    }

    /// The base64 HMAC-SHA256 signature of one message.
    package static func sign(id: String, timestamp: Int64, body: [UInt8], secret: String) -> String? {
        guard secret.hasPrefix("whsec_"), let key = Data(base64Encoded: String(secret.dropFirst(6))) else { return nil }
        var content = Array("\(id).\(timestamp).".utf8)
        content.append(contentsOf: body)
        let mac = HMAC<SHA256>.authenticationCode(for: content, using: SymmetricKey(data: key))
        return Data(mac).base64EncodedString()
    }

    /// Verifies a `webhook-signature` header value (space-separated `v1,<sig>` entries, any may
    /// match), as a receiver does; also refuses timestamps more than `tolerance` seconds from `now`.
    package static func verify(id: String, timestamp: Int64, body: [UInt8], signatureHeader: String, secret: String,
                               now: Int64, tolerance: Int64 = 300) -> Bool {
        guard abs(now - timestamp) <= tolerance, let expected = sign(id: id, timestamp: timestamp, body: body, secret: secret) else {
            return false
        }
        return signatureHeader.split(separator: " ").contains { entry in
            entry.hasPrefix("v1,") && TokenAuth.constantTimeEqual(Array(entry.dropFirst(3).utf8), Array(expected.utf8))
        }
    }
}
