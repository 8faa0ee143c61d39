import Crypto
import Foundation
import X509

/// The federation CA's list of revoked node certificates: which certificate, whose, and from
/// when on nothing it signs is valid. Signed with the CA key, so anyone holding `ca.pem` can
/// check it and no node can add, alter or drop an entry; it travels inside the directory.
public struct RevocationList: Sendable, Hashable {
    /// Format version of the payload.
    public static let formatVersion: Int64 = 1

    /// One revoked certificate.
    public struct Entry: Sendable, Hashable, Comparable {
        /// The node the certificate was issued to.
        public var node: String
        /// The certificate's serial number, lower-case hex.
        public var serial: String
        /// Lower-case hex SHA-256 of the certificate's DER.
        public var fingerprint: String
        /// From this instant on (ms since 1970) the certificate signs nothing valid.
        public var revokedAt: Int64
        /// Why, in a few words (may be empty).
        public var reason: String
        /// The highest counter of `node` the CA still trusts from this certificate (JSON
        /// `last_counter`, absent when not given). A signing time is only the signer's claim, so
        /// whoever holds a leaked key can date a new set before `revokedAt`; with a bound, no set
        /// this certificate signed verifies with a counter above it, whatever its signing time.
        /// The same rule as a retired key's `KeyHistoryEntry.lastCounter`, but stated by the CA.
        public var lastCounter: UInt64?

        /// Makes one.
        public init(node: String, serial: String, fingerprint: String, revokedAt: Int64, reason: String = "", lastCounter: UInt64? = nil) {
            self.node = node; self.serial = serial; self.fingerprint = fingerprint; self.revokedAt = revokedAt; self.reason = reason
            self.lastCounter = lastCounter
        }

        /// One entry for a certificate known from two lists: the earlier revocation time and the
        /// lower counter bound (a later list can tighten a revocation, never loosen it).
        public func merged(with other: Entry) -> Entry {
            var out = other.revokedAt < revokedAt ? other : self
            out.revokedAt = min(revokedAt, other.revokedAt)
            out.lastCounter = [lastCounter, other.lastCounter].compactMap { $0 }.min()
            return out
        }

        public static func < (a: Entry, b: Entry) -> Bool { (a.node, a.fingerprint) < (b.node, b.fingerprint) }

        var json: JSONValue {
            var o: [String: JSONValue] = [
                "node": .string(node), "serial": .string(serial), "fingerprint": .string(fingerprint), "revoked_at": .int(revokedAt),
                "reason": .string(reason),
            ]
            // Only when given, so a list without bounds encodes as lists always did.
            if let lastCounter { o["last_counter"] = .int(Int64(clamping: lastCounter)) }
            return .object(o)
        }

        init?(json: JSONValue) {
            guard case .object(let o) = json, let node = o["node"]?.stringValue, let serial = o["serial"]?.stringValue,
                let fp = o["fingerprint"]?.stringValue, fp.count == 64, let at = o["revoked_at"]?.intValue
            else { return nil }
            guard let last = KeyHistoryEntry.counterBound(o["last_counter"]) else { return nil }
            self.init(node: node, serial: serial, fingerprint: fp, revokedAt: at, reason: o["reason"]?.stringValue ?? "", lastCounter: last)
        }
    }

    /// When the CA made this list (ms since 1970).
    public var issuedAt: Int64
    /// The revoked certificates, sorted by node and fingerprint.
    public var entries: [Entry]

    /// Makes a list (entries are sorted).
    public init(issuedAt: Int64, entries: [Entry]) {
        self.issuedAt = issuedAt
        self.entries = entries.sorted()
    }

    /// The payload object that is canonically encoded and signed.
    public var payloadJSON: JSONValue {
        ["v": .int(Self.formatVersion), "kind": "tong-revocations", "issued_at": .int(issuedAt), "entries": .array(entries.map(\.json))]
    }

    /// Parses a payload object; nil if it is not a well-formed list.
    public init?(payload: JSONValue) {
        guard case .object(let o) = payload, o["v"] == .int(Self.formatVersion), o["kind"] == "tong-revocations",
            let at = o["issued_at"]?.intValue, let arr = o["entries"]?.arrayValue
        else { return nil }
        var entries: [Entry] = []
        for e in arr {
            guard let entry = Entry(json: e) else { return nil }
            entries.append(entry)
        }
        self.init(issuedAt: at, entries: entries)
    }

    /// Entries of `older` that this list lacks (a newer list always keeps every older entry).
    public func missing(from older: [Entry]) -> [Entry] {
        let mine = Set(entries.map(\.fingerprint))
        return older.filter { !mine.contains($0.fingerprint) }
    }

    /// Signs the list with the CA's private key.
    /// - Throws: swift-crypto's error if signing fails.
    public func signed(caKey: P256.Signing.PrivateKey) throws -> SignedRevocationList {
        let payload = CanonicalJSON.encode(payloadJSON)
        let sig = try caKey.signature(for: payload)
        return SignedRevocationList(payload: payload, signature: Array(sig.derRepresentation), list: self)
    }
}

/// A revocation list with the CA's signature, in the same form as a change set: the canonical
/// payload as a string and a DER ECDSA P-256 / SHA-256 signature over its UTF-8 bytes.
public struct SignedRevocationList: Sendable, Hashable {
    /// The canonical JSON bytes that were signed.
    public var payload: [UInt8]
    /// The CA's signature over `payload`, DER.
    public var signature: [UInt8]
    /// The decoded payload.
    public var list: RevocationList

    /// Hex SHA-256 of the signed payload: the same list has the same id wherever it travelled.
    public var id: String { NodeIdentity.hex(Array(SHA256.hash(data: payload))) }

    /// Makes one (signing and decoding use this).
    public init(payload: [UInt8], signature: [UInt8], list: RevocationList) {
        self.payload = payload; self.signature = signature; self.list = list
    }

    /// The wire form: `{"payload": "<canonical json>", "sig": "<base64 DER>"}`.
    public var wireJSON: JSONValue {
        ["payload": .string(String(decoding: payload, as: UTF8.self)), "sig": .string(Data(signature).base64EncodedString())]
    }

    /// Decodes the wire form without verifying the signature; nil if malformed.
    public init?(wire: JSONValue) {
        guard case .object(let o) = wire, let p = o["payload"]?.stringValue,
            let s = o["sig"]?.stringValue.flatMap({ Data(base64Encoded: $0) }),
            let parsed = try? JSONParser.parse(Array(p.utf8)), let list = RevocationList(payload: parsed)
        else { return nil }
        self.init(payload: Array(p.utf8), signature: Array(s), list: list)
    }

    /// True if the federation CA signed exactly these payload bytes.
    public func isSigned(by ca: Certificate) -> Bool {
        guard let key = P256.Signing.PublicKey(ca.publicKey),
            let sig = try? P256.Signing.ECDSASignature(derRepresentation: signature)
        else { return false }
        return key.isValidSignature(sig, for: payload)
    }
}
