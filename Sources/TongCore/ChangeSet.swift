import Crypto
import Foundation

/// A batch of changes made by one origin node, all in one scope: the unit that is signed,
/// travels, is verified and is applied whole or not at all.
public struct ChangeSet: Sendable, Hashable {
    /// Format version of the payload.
    public static let formatVersion: Int64 = 1
    /// Most changes one set may carry.
    public static let maxChanges = 2_000

    /// The node that made every change in the set and signed it.
    public var origin: String
    /// Where the set travels.
    public var scope: Scope
    /// Origin's clock (ms) when the set was made.
    public var createdAt: Int64
    /// The changes, in the order they were made.
    public var changes: [Change]

    /// Makes a set.
    public init(origin: String, scope: Scope, createdAt: Int64, changes: [Change]) {
        self.origin = origin; self.scope = scope; self.createdAt = createdAt; self.changes = changes
    }

    /// The payload object that is canonically encoded and signed.
    public var payloadJSON: JSONValue {
        [
            "v": .int(Self.formatVersion), "origin": .string(origin), "scope": scope.json,
            "created_at": .int(createdAt), "changes": .array(changes.map(\.json)),
        ]
    }

    /// Parses a payload object; nil if it is not a well-formed set.
    public init?(payload: JSONValue) {
        guard case .object(let o) = payload, o.count == 5, o["v"] == .int(Self.formatVersion),
            let origin = o["origin"]?.stringValue,
            let scope = o["scope"].flatMap(Scope.init(json:)),
            let at = o["created_at"]?.intValue,
            let arr = o["changes"]?.arrayValue, !arr.isEmpty, arr.count <= Self.maxChanges
        else { return nil }
        var changes: [Change] = []
        changes.reserveCapacity(arr.count)
        for v in arr {
            guard let c = Change(json: v) else { return nil }
            changes.append(c)
        }
        self.init(origin: origin, scope: scope, createdAt: at, changes: changes)
    }

    /// Signs the set with the origin's certified key.
    public func signed(key: P256.Signing.PrivateKey, certificateDER: [UInt8]) throws -> SignedChangeSet {
        let payload = CanonicalJSON.encode(payloadJSON)
        let sig = try key.signature(for: payload)
        return SignedChangeSet(payload: payload, signature: Array(sig.derRepresentation), certificate: certificateDER, set: self)
    }
}

/// A change set with its signature and the origin's certificate: everything a receiver needs
/// to verify it against the federation CA alone, however many relays it crossed.
public struct SignedChangeSet: Sendable, Hashable {
    /// The canonical JSON bytes that were signed.
    public var payload: [UInt8]
    /// ECDSA P-256 / SHA-256 signature over `payload`, DER.
    public var signature: [UInt8]
    /// The origin's certificate, DER.
    public var certificate: [UInt8]
    /// The decoded payload.
    public var set: ChangeSet

    /// Content id: hex SHA-256 of the payload. Identical sets have identical ids.
    public let id: String

    static func contentID(_ payload: [UInt8]) -> String {
        let hex = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(64)
        for b in SHA256.hash(data: payload) { out.append(hex[Int(b >> 4)]); out.append(hex[Int(b & 15)]) }
        return String(decoding: out, as: UTF8.self)
    }

    /// The wire form: `{"payload": "<canonical json>", "sig": "<base64>", "cert": "<base64>"}`.
    public var wireJSON: JSONValue {
        [
            "payload": .string(String(decoding: payload, as: UTF8.self)),
            "sig": .string(Data(signature).base64EncodedString()),
            "cert": .string(Data(certificate).base64EncodedString()),
        ]
    }

    /// Wire bytes (canonical).
    public var wireBytes: [UInt8] { CanonicalJSON.encode(wireJSON) }

    /// Makes one (used by signing and decoding).
    public init(payload: [UInt8], signature: [UInt8], certificate: [UInt8], set: ChangeSet) {
        self.payload = payload; self.signature = signature; self.certificate = certificate; self.set = set
        id = Self.contentID(payload)
    }

    /// Decodes the wire form without verifying anything; nil if malformed.
    public init?(wire: JSONValue) {
        guard case .object(let o) = wire, o.count == 3,
            let p = o["payload"]?.stringValue,
            let s = o["sig"]?.stringValue.flatMap({ Data(base64Encoded: $0) }),
            let c = o["cert"]?.stringValue.flatMap({ Data(base64Encoded: $0) }),
            let parsed = try? JSONParser.parse(Array(p.utf8)),
            let set = ChangeSet(payload: parsed)
        else { return nil }
        self.init(payload: Array(p.utf8), signature: Array(s), certificate: Array(c), set: set)
    }
}
