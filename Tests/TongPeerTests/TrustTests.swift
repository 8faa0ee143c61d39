import Crypto
import Foundation
import Hummingbird
import Logging
import NIOCore
import NIOPosix
import Synchronization
import Testing
import TongCore
import X509

@testable import TongPeer

/// Change sets judged as of their signing time, revocation lists, key histories, requests
/// signed by the CA: certificates minted at fixed instants, so nothing depends on the clock.
@Suite struct TrustTests {
    static let t0 = Date(timeIntervalSince1970: 1_767_225_600)  // 2026-01-01T00:00:00Z
    static let day: TimeInterval = 86_400

    struct Fixture {
        let ca: IssuedCredential
        let node: IssuedCredential
        let verifier: ChangeSetVerifier
        let fingerprint: String
        let serial: String
    }

    /// A CA at t0 and node "330000" valid `days` from t0.
    static func fixture(days: Int = 10) throws -> Fixture {
        let ca = try FederationCA.create(federation: "test", now: t0)
        let node = try FederationCA.issueNode(nodeID: "330000", nodeName: "浙江省", ca: ca, now: t0, days: days)
        let der = try #require(NodeIdentity.der(pem: node.certificatePEM))
        let c = try NodeCertificateVerifier(caCertificatePEM: ca.certificatePEM)
        guard case .trusted(let info) = c.inspect(certificateDER: der) else { throw PeerError(.invalidCredential, "fixture") }
        return Fixture(
            ca: ca, node: node, verifier: try ChangeSetVerifier(caCertificatePEM: ca.certificatePEM), fingerprint: info.fingerprint,
            serial: info.serial)
    }

    /// A one-change set of `origin` signed with `cred` at `at`, with counter `counter`.
    static func set(_ cred: IssuedCredential, origin: String = "330000", at: Date, counter: UInt64 = 1) throws -> SignedChangeSet {
        let ms = Int64(at.timeIntervalSince1970 * 1000)
        let change = Change(
            record: "p-\(counter)", kind: .policy, owner: origin, counter: counter, at: ms, context: VersionVector(), fields: ["title": "t"])
        let key = try P256.Signing.PrivateKey(pemRepresentation: cred.privateKeyPEM)
        return try ChangeSet(origin: origin, scope: .owned(origin), createdAt: ms, changes: [change])
            .signed(key: key, certificateDER: #require(NodeIdentity.der(pem: cred.certificatePEM)))
    }

    static func rejected(_ v: ChangeSetVerdict, containing text: String) -> Bool {
        if case .rejected(let why) = v { return why.contains(text) }
        return false
    }

    @Test func aSetIsJudgedAsOfItsSigningTimeNotTheReceiversClock() throws {
        let f = try Self.fixture(days: 10)
        let signedWhileValid = try Self.set(f.node, at: Self.t0 + 2 * Self.day)
        // Years later the certificate has long expired, and the history it signed still verifies.
        #expect(f.verifier.verifySignature(signedWhileValid, now: Self.t0 + 900 * Self.day) == .accepted)
        // Signed after the expiry: refused, whatever the receiver's clock says.
        let signedAfter = try Self.set(f.node, at: Self.t0 + 11 * Self.day)
        #expect(Self.rejected(f.verifier.verifySignature(signedAfter, now: Self.t0 + 11 * Self.day), containing: "expired"))
        #expect(Self.rejected(f.verifier.verifySignature(signedAfter, now: Self.t0 + 900 * Self.day), containing: "expired"))
        // Signed before the certificate was valid (the CA backdates by an hour only).
        let before = try Self.set(f.node, at: Self.t0 - 2 * Self.day)
        #expect(Self.rejected(f.verifier.verifySignature(before, now: Self.t0), containing: "not valid before"))
    }

    @Test func aSigningTimeFarInTheFutureIsRefused() throws {
        let f = try Self.fixture(days: 10)
        let now = Self.t0 + Self.day
        #expect(f.verifier.verifySignature(try Self.set(f.node, at: now + 5 * 60), now: now) == .accepted)
        #expect(Self.rejected(f.verifier.verifySignature(try Self.set(f.node, at: now + 11 * 60), now: now), containing: "future"))
    }

    @Test func theCacheNeverOutlivesACertificate() throws {
        let f = try Self.fixture(days: 1)
        let notAfter = Self.t0 + Self.day
        // Verified (and cached) while valid...
        #expect(f.verifier.verifySignature(try Self.set(f.node, at: Self.t0 + 3600), now: Self.t0 + 3600) == .accepted)
        #expect(f.verifier.cachedExpiries().allSatisfy { $0 <= notAfter })
        #expect(!f.verifier.cachedExpiries().isEmpty)
        // ...and 20 s after the expiry a set signed then is refused (the issue's one-hour window).
        let late = try Self.set(f.node, at: notAfter + 20, counter: 2)
        #expect(Self.rejected(f.verifier.verifySignature(late, now: notAfter + 20), containing: "expired"))
        // History signed while valid still verifies after the expiry, through the full check.
        #expect(f.verifier.verifySignature(try Self.set(f.node, at: Self.t0 + 7200, counter: 3), now: notAfter + 20) == .accepted)
    }

    @Test func aRevokedCertificateSignsNothingFromItsRevocationTimeOn() throws {
        let f = try Self.fixture(days: 30)
        let revokedAt = Self.t0 + 5 * Self.day
        let entry = RevocationList.Entry(
            node: "330000", serial: f.serial, fingerprint: f.fingerprint, revokedAt: Int64(revokedAt.timeIntervalSince1970 * 1000),
            reason: "key leaked")
        let list = try FederationCA.revocations(previous: nil, adding: [entry], ca: f.ca, now: Self.t0 + 6 * Self.day)
        var trust = TrustState()
        let added = trust.add(list, ca: f.verifier.caCertificate)
        #expect(added)
        let now = Self.t0 + 6 * Self.day
        #expect(f.verifier.verifySignature(try Self.set(f.node, at: revokedAt - 1), now: now, trust: trust) == .accepted)
        #expect(Self.rejected(f.verifier.verifySignature(try Self.set(f.node, at: revokedAt), now: now, trust: trust), containing: "revoked"))
        // A list another CA signed is ignored: no node can forge or drop entries.
        let rogueCA = try FederationCA.create(federation: "test", now: Self.t0)
        let forged = try FederationCA.revocations(previous: nil, adding: [], ca: rogueCA, now: now)
        var other = TrustState()
        let forgedAdded = other.add(forged, ca: f.verifier.caCertificate)
        #expect(!forgedAdded)
        // A tampered payload no longer verifies with ca.pem.
        var tampered = list
        tampered.payload = Array(String(decoding: list.payload, as: UTF8.self).replacingOccurrences(of: "key leaked", with: "key loaned").utf8)
        #expect(!tampered.isSigned(by: f.verifier.caCertificate))
    }

    @Test func aRevocationWithACounterBoundRefusesBackDatedSetsAboveIt() throws {
        let f = try Self.fixture(days: 30)
        let revokedAt = Self.t0 + 5 * Self.day
        let ms = Int64(revokedAt.timeIntervalSince1970 * 1000)
        let entry = RevocationList.Entry(
            node: "330000", serial: f.serial, fingerprint: f.fingerprint, revokedAt: ms, reason: "key leaked", lastCounter: 40)
        let list = try FederationCA.revocations(previous: nil, adding: [entry], ca: f.ca, now: Self.t0 + 6 * Self.day)
        var trust = TrustState()
        let added = trust.add(list, ca: f.verifier.caCertificate)
        #expect(added)
        let now = Self.t0 + 6 * Self.day
        // What the node signed before the leak still verifies...
        #expect(f.verifier.verifySignature(try Self.set(f.node, at: Self.t0 + Self.day, counter: 40), now: now, trust: trust) == .accepted)
        // ...but the thief's new write, dated before the revocation, is numbered above the bound.
        let backDated = try Self.set(f.node, at: revokedAt - 3600, counter: 41)
        #expect(Self.rejected(f.verifier.verifySignature(backDated, now: now, trust: trust), containing: "lies above 40"))
        // Without a bound (the time rule alone) the same set would pass: the gap the bound closes.
        var timeOnly = TrustState()
        var unbounded = entry
        unbounded.lastCounter = nil
        let timeList = try FederationCA.revocations(previous: nil, adding: [unbounded], ca: f.ca, now: now)
        let timeAdded = timeOnly.add(timeList, ca: f.verifier.caCertificate)
        #expect(timeAdded)
        #expect(f.verifier.verifySignature(backDated, now: now, trust: timeOnly) == .accepted)
        // The bound travels in the signed payload and survives the wire form.
        let back = try #require(SignedRevocationList(wire: try JSONParser.parse(CanonicalJSON.encode(list.wireJSON))))
        #expect(back.list.entries.first?.lastCounter == 40 && back.isSigned(by: f.verifier.caCertificate))
        // A list without bounds encodes as before: no `last_counter` key at all.
        let plain = try FederationCA.revocations(previous: nil, adding: [unbounded], ca: f.ca, now: now)
        #expect(!String(decoding: plain.payload, as: UTF8.self).contains("last_counter"))
        // A malformed bound makes the entry, and so the list, malformed.
        let bad = String(decoding: list.payload, as: UTF8.self).replacingOccurrences(of: "\"last_counter\":40", with: "\"last_counter\":-1")
        #expect(RevocationList(payload: try JSONParser.parse(Array(bad.utf8))) == nil)
    }

    @Test func aLaterRevocationCanTightenABoundButNeverLoosenIt() throws {
        let f = try Self.fixture(days: 30)
        let fp = f.fingerprint
        let first = RevocationList.Entry(node: "330000", serial: f.serial, fingerprint: fp, revokedAt: 500, lastCounter: 40)
        // The CA revokes again, later and with a looser bound: the earlier time and the lower bound stay.
        let looser = RevocationList.Entry(node: "330000", serial: f.serial, fingerprint: fp, revokedAt: 900, lastCounter: 90)
        let a = try FederationCA.revocations(previous: nil, adding: [first], ca: f.ca, now: Self.t0)
        let b = try FederationCA.revocations(previous: a, adding: [looser], ca: f.ca, now: Self.t0 + 1)
        #expect(b.list.entries.count == 1)
        #expect(b.list.entries[0].revokedAt == 500 && b.list.entries[0].lastCounter == 40)
        // A receiver that saw a hand-made looser list (still CA-signed) after the first keeps the tighter one too.
        let loose = try FederationCA.revocations(previous: nil, adding: [looser], ca: f.ca, now: Self.t0 + 2)
        var trust = TrustState()
        trust.add(a, ca: f.verifier.caCertificate)
        trust.add(loose, ca: f.verifier.caCertificate)
        #expect(trust.revokedAt(fp) == 500 && trust.revocationBound(fp) == 40)
        // A bound added to a revocation that had none applies from then on.
        var later = TrustState()
        let unbounded = RevocationList.Entry(node: "330000", serial: f.serial, fingerprint: fp, revokedAt: 500)
        later.add(try FederationCA.revocations(previous: nil, adding: [unbounded], ca: f.ca, now: Self.t0), ca: f.verifier.caCertificate)
        #expect(later.revocationBound(fp) == nil)
        later.add(try FederationCA.revocations(previous: nil, adding: [looser], ca: f.ca, now: Self.t0), ca: f.verifier.caCertificate)
        #expect(later.revokedAt(fp) == 500 && later.revocationBound(fp) == 90)
    }

    @Test func aRebuildThatReadTheDirectoryEarlierTakesNothingBack() throws {
        let f = try Self.fixture(days: 30)
        let entry = RevocationList.Entry(node: "330000", serial: f.serial, fingerprint: f.fingerprint, revokedAt: 500, lastCounter: 40)
        var with = TrustState()
        _ = with.add(try FederationCA.revocations(previous: nil, adding: [entry], ca: f.ca, now: Self.t0), ca: f.verifier.caCertificate)
        with.add(history: [KeyHistoryEntry(fingerprint: String(repeating: "c", count: 64), notAfter: 0, lastCounter: 7)], of: "330000")
        let registry = TrustRegistry()
        registry.replace(with)
        let generation = registry.revocationGeneration
        // Two refreshes raced; the one that read the directory before the list committed lands last.
        registry.replace(TrustState())
        #expect(registry.current.revocationBound(f.fingerprint) == 40 && registry.current.revokedAt(f.fingerprint) == 500)
        #expect(registry.current.lastCounter(node: "330000", fingerprint: String(repeating: "c", count: 64)) == 7)
        #expect(registry.revocationGeneration == generation, "nothing changed, so kept-alive connections stay")
    }

    /// The same certificate with its ECDSA signature (r, s) replaced by (r, n − s): still signed
    /// by the CA, byte for byte another certificate (another fingerprint), same serial.
    static func twin(_ der: [UInt8]) throws -> [UInt8] {
        func read(_ b: [UInt8], _ at: Int) -> (content: Int, length: Int) {
            var i = at + 1
            var length = Int(b[i])
            i += 1
            if length & 0x80 != 0 {
                let k = length & 0x7f
                length = b[i..<i + k].reduce(0) { $0 << 8 | Int($1) }
                i += k
            }
            return (i, length)
        }
        func tlv(_ tag: UInt8, _ content: [UInt8]) -> [UInt8] {
            var length: [UInt8]
            if content.count < 0x80 {
                length = [UInt8(content.count)]
            } else {
                var n = content.count, bytes: [UInt8] = []
                while n > 0 { bytes.insert(UInt8(n & 0xff), at: 0); n >>= 8 }
                length = [0x80 | UInt8(bytes.count)] + bytes
            }
            return [tag] + length + content
        }
        let outer = read(der, 0)
        let tbs = read(der, outer.content)
        let alg = read(der, tbs.content + tbs.length)
        let bits = read(der, alg.content + alg.length)
        let signature = Array(der[bits.content + 1..<bits.content + bits.length])
        let raw = Array(try P256.Signing.ECDSASignature(derRepresentation: signature).rawRepresentation)
        // n − s, big-endian, for P-256's group order n.
        let n: [UInt8] = [
            0xFF, 0xFF, 0xFF, 0xFF, 0x00, 0x00, 0x00, 0x00, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
            0xBC, 0xE6, 0xFA, 0xAD, 0xA7, 0x17, 0x9E, 0x84, 0xF3, 0xB9, 0xCA, 0xC2, 0xFC, 0x63, 0x25, 0x51,
        ]
        var s2 = [UInt8](repeating: 0, count: 32)
        var borrow = 0
        for i in (0..<32).reversed() {
            let d = Int(n[i]) - Int(raw[32 + i]) - borrow
            s2[i] = UInt8((d + 256) & 0xff)
            borrow = d < 0 ? 1 : 0
        }
        let flipped = Array(try P256.Signing.ECDSASignature(rawRepresentation: raw[0..<32] + s2).derRepresentation)
        let head = Array(der[outer.content..<alg.content + alg.length])
        return tlv(0x30, head + tlv(0x03, [0] + flipped))
    }

    @Test func aTwinOfARevokedCertificateIsRevokedToo() throws {
        let f = try Self.fixture(days: 30)
        let der = try #require(NodeIdentity.der(pem: f.node.certificatePEM))
        let twinDER = try Self.twin(der)
        let inspector = try NodeCertificateVerifier(caCertificatePEM: f.ca.certificatePEM)
        guard case .trusted(let twin) = inspector.inspect(certificateDER: twinDER) else {
            Issue.record("the twin must verify as a certificate of the CA, or the test shows nothing")
            return
        }
        #expect(twin.fingerprint != f.fingerprint && twin.serial == f.serial && twin.nodeID == "330000")
        let revokedAt = Self.t0 + 5 * Self.day
        let entry = RevocationList.Entry(
            node: "330000", serial: f.serial, fingerprint: f.fingerprint, revokedAt: Int64(revokedAt.timeIntervalSince1970 * 1000),
            lastCounter: 3)
        var trust = TrustState()
        _ = trust.add(try FederationCA.revocations(previous: nil, adding: [entry], ca: f.ca, now: revokedAt), ca: f.verifier.caCertificate)
        // A set the key signs after the revocation, carrying the twin: refused as revoked...
        let key = try P256.Signing.PrivateKey(pemRepresentation: f.node.privateKeyPEM)
        func signed(at: Date, counter: UInt64) throws -> SignedChangeSet {
            let ms = Int64(at.timeIntervalSince1970 * 1000)
            let change = Change(
                record: "p-\(counter)", kind: .policy, owner: "330000", counter: counter, at: ms, context: VersionVector(),
                fields: ["title": "t"])
            return try ChangeSet(origin: "330000", scope: .owned("330000"), createdAt: ms, changes: [change])
                .signed(key: key, certificateDER: twinDER)
        }
        let now = revokedAt + Self.day
        #expect(Self.rejected(f.verifier.verifySignature(try signed(at: now, counter: 9), now: now, trust: trust), containing: "revoked"))
        // ...and one back-dated past the bound, refused by the bound.
        let backDated = try signed(at: revokedAt - 60, counter: 4)
        #expect(Self.rejected(f.verifier.verifySignature(backDated, now: now, trust: trust), containing: "lies above 3"))
        #expect(f.verifier.verifySignature(try signed(at: revokedAt - 60, counter: 3), now: now, trust: trust) == .accepted)
        // The handshake check refuses the twin too.
        let registry = TrustRegistry()
        registry.replace(trust)
        #expect(registry.refusal(fingerprint: twin.fingerprint, serial: twin.serial, now: Int64(now.timeIntervalSince1970 * 1000)) != nil)
        #expect(registry.refusal(fingerprint: twin.fingerprint, now: Int64(now.timeIntervalSince1970 * 1000)) == nil, "by bytes alone it slips by")
    }

    @Test func aTwinOfARetiredCertificateKeepsItsBound() throws {
        let f = try Self.fixture(days: 30)
        let twinDER = try Self.twin(#require(NodeIdentity.der(pem: f.node.certificatePEM)))
        let key = try P256.Signing.PrivateKey(pemRepresentation: f.node.privateKeyPEM)
        let at = Self.t0 + 3600
        let ms = Int64(at.timeIntervalSince1970 * 1000)
        let change = Change(record: "p-6", kind: .policy, owner: "330000", counter: 6, at: ms, context: VersionVector(), fields: ["title": "t"])
        let above = try ChangeSet(origin: "330000", scope: .owned("330000"), createdAt: ms, changes: [change])
            .signed(key: key, certificateDER: twinDER)
        let now = Self.t0 + Self.day
        // A history that names the serial bounds the twin too...
        var trust = TrustState()
        trust.add(history: [KeyHistoryEntry(fingerprint: f.fingerprint, notAfter: 0, lastCounter: 5, serial: f.serial)], of: "330000")
        #expect(Self.rejected(f.verifier.verifySignature(above, now: now, trust: trust), containing: "retired"))
        // ...one published before serials were cannot (the gap this closes).
        var old = TrustState()
        old.add(history: [KeyHistoryEntry(fingerprint: f.fingerprint, notAfter: 0, lastCounter: 5)], of: "330000")
        #expect(f.verifier.verifySignature(above, now: now, trust: old) == .accepted)
        // The serial travels in the published form, and an entry in use gains it once.
        let entry = KeyHistoryEntry(fingerprint: f.fingerprint, notAfter: 1, lastCounter: nil, serial: f.serial)
        #expect(KeyHistoryEntry(json: entry.json) == entry)
        let before = [KeyHistoryEntry(fingerprint: f.fingerprint, notAfter: 1, lastCounter: nil)]
        #expect(KeyHistoryEntry.switching(before, to: entry, lastCounter: 9) == [entry])
        #expect(KeyHistoryEntry(json: ["fingerprint": .string(f.fingerprint), "not_after": 1, "last_counter": .null, "serial": 7]) == nil)
    }

    @Test func aNewerRevocationListKeepsEveryOlderEntry() throws {
        let f = try Self.fixture()
        let a = RevocationList.Entry(node: "330000", serial: "01", fingerprint: String(repeating: "a", count: 64), revokedAt: 100)
        let b = RevocationList.Entry(node: "330100", serial: "02", fingerprint: String(repeating: "b", count: 64), revokedAt: 200)
        let first = try FederationCA.revocations(previous: nil, adding: [a], ca: f.ca, now: Self.t0)
        let second = try FederationCA.revocations(previous: first, adding: [b], ca: f.ca, now: Self.t0 + 1)
        #expect(second.list.entries.map(\.fingerprint).sorted() == [a.fingerprint, b.fingerprint])
        #expect(second.list.missing(from: first.list.entries).isEmpty)
        #expect(first.list.missing(from: second.list.entries) == [b])
        // The wire form round-trips and still verifies.
        let back = try #require(SignedRevocationList(wire: try JSONParser.parse(CanonicalJSON.encode(second.wireJSON))))
        #expect(back == second && back.isSigned(by: f.verifier.caCertificate))
        let rogueCA = try FederationCA.create(federation: "test", now: Self.t0)
        #expect(throws: PeerError.self) { try FederationCA.revocations(previous: first, adding: [b], ca: rogueCA, now: Self.t0) }
    }

    @Test func aRetiredKeyVerifiesNothingAboveItsLastCounter() throws {
        let f = try Self.fixture(days: 30)
        var trust = TrustState()
        trust.add(history: [KeyHistoryEntry(fingerprint: f.fingerprint, notAfter: 0, lastCounter: 5)], of: "330000")
        let now = Self.t0 + Self.day
        #expect(f.verifier.verifySignature(try Self.set(f.node, at: Self.t0 + 3600, counter: 5), now: now, trust: trust) == .accepted)
        let above = try Self.set(f.node, at: Self.t0 + 3600, counter: 6)
        #expect(Self.rejected(f.verifier.verifySignature(above, now: now, trust: trust), containing: "retired"))
        // Another node's history cannot bound this node's certificate.
        var foreign = TrustState()
        foreign.add(history: [KeyHistoryEntry(fingerprint: f.fingerprint, notAfter: 0, lastCounter: 0)], of: "100000")
        #expect(f.verifier.verifySignature(above, now: now, trust: foreign) == .accepted)
        // A later history can only lower a bound, never raise it.
        trust.add(history: [KeyHistoryEntry(fingerprint: f.fingerprint, notAfter: 0, lastCounter: 50)], of: "330000")
        #expect(trust.lastCounter(node: "330000", fingerprint: f.fingerprint) == 5)
    }

    @Test func switchingKeysClosesTheOldEntryAndNeverReopensIt() {
        let a = KeyHistoryEntry(fingerprint: String(repeating: "a", count: 64), notAfter: 10, lastCounter: nil)
        let b = KeyHistoryEntry(fingerprint: String(repeating: "b", count: 64), notAfter: 20, lastCounter: nil)
        let first = KeyHistoryEntry.switching([], to: a, lastCounter: 0)
        #expect(first == [a])
        #expect(KeyHistoryEntry.switching([a], to: a, lastCounter: 9) == [a])
        let second = KeyHistoryEntry.switching([a], to: b, lastCounter: 42)
        #expect(second?.first?.lastCounter == 42 && second?.last == b)
        #expect(KeyHistoryEntry.switching(second ?? [], to: a, lastCounter: 50) == nil)
        #expect(KeyHistoryEntry.list(.array((second ?? []).map(\.json))) == second)
    }

    @Test func theCASignsARequestWithoutEverSeeingTheKey() throws {
        let f = try Self.fixture()
        let (keyPEM, csrPEM) = try FederationCA.request(nodeID: "330100", nodeName: "杭州市")
        #expect(!csrPEM.contains("PRIVATE"))
        let certPEM = try FederationCA.sign(csrPEM: csrPEM, nodeID: "330100", nodeName: "杭州市", ca: f.ca, now: Self.t0)
        let cert = try Certificate(pemEncoded: certPEM)
        let key = try P256.Signing.PrivateKey(pemRepresentation: keyPEM)
        #expect(cert.publicKey == Certificate.PrivateKey(key).publicKey)
        #expect(NodeIdentity.nodeID(of: cert) == "330100")
        let usage = try #require(try cert.extensions.extendedKeyUsage)
        #expect(usage.contains(.serverAuth) && usage.contains(.clientAuth))
        // A request for one node is not signed for another.
        #expect(throws: PeerError.self) { try FederationCA.sign(csrPEM: csrPEM, nodeID: "330000", nodeName: "", ca: f.ca, now: Self.t0) }
        // A request whose signature does not verify (altered in transit) is refused.
        let body = csrPEM.split(separator: "\n").filter { !$0.hasPrefix("-----") }.joined()
        var der = [UInt8](try #require(Data(base64Encoded: body)))
        der[der.count - 5] ^= 0x01
        let altered =
            "-----BEGIN CERTIFICATE REQUEST-----\n" + Data(der).base64EncodedString(options: .lineLength64Characters)
            + "\n-----END CERTIFICATE REQUEST-----\n"
        #expect(throws: PeerError.self) { try FederationCA.sign(csrPEM: altered, nodeID: "330100", nodeName: "", ca: f.ca, now: Self.t0) }
    }

    // MARK: TLS

    @Test func aRevokedCertificateIsRefusedAtTheHandshakeBothWays() async throws {
        let fed = try PeerTransportTests.federation()
        func info(_ c: PeerCredentials) throws -> NodeCertificate {
            let v = try NodeCertificateVerifier(caCertificatePEM: fed.ca.certificatePEM)
            guard case .trusted(let i) = v.inspect(certificateDER: c.certificateDER) else { throw PeerError(.invalidCredential, "x") }
            return i
        }
        let a = try info(fed.a)
        let b = try info(fed.b)
        func revoking(_ c: NodeCertificate) throws -> TrustRegistry {
            let e = RevocationList.Entry(node: c.nodeID, serial: c.serial, fingerprint: c.fingerprint, revokedAt: 0)
            var s = TrustState()
            s.add(
                try FederationCA.revocations(previous: nil, adding: [e], ca: fed.ca, now: Date()),
                ca: try Certificate(pemEncoded: fed.ca.certificatePEM))
            let r = TrustRegistry()
            r.replace(s)
            return r
        }
        let group = MultiThreadedEventLoopGroup.singleton
        // Nothing revoked: the policy accepts what BoringSSL accepted.
        let clean = try PeerCertificatePolicy(caPEM: fed.ca.certificatePEM, trust: TrustRegistry())
        try await Self.withServer(fed.b, policy: clean) { port in
            let client = try PeerClient(credentials: fed.a, group: group, policy: clean)
            let r = try await client.request(
                method: "GET", host: "127.0.0.1", port: port, path: "/whoami", expectedNodeID: "330000", body: nil,
                timeout: PeerTransportTests.loaded)
            #expect(String(decoding: r.body, as: UTF8.self) == "100000")
            // The client still pins the node it meant to reach.
            await #expect(throws: PeerError.self) {
                _ = try await client.request(
                    method: "GET", host: "127.0.0.1", port: port, path: "/whoami", expectedNodeID: "320000", body: nil,
                    timeout: PeerTransportTests.loaded)
            }
        }
        // The server knows the client's certificate is revoked: the handshake fails.
        let refusals = RefusalLog()
        let serverPolicy = try PeerCertificatePolicy(caPEM: fed.ca.certificatePEM, trust: try revoking(a)) { refusals.add($0) }
        try await Self.withServer(fed.b, policy: serverPolicy) { port in
            let client = try PeerClient(credentials: fed.a, group: group, policy: clean)
            do {
                _ = try await client.request(
                    method: "GET", host: "127.0.0.1", port: port, path: "/whoami", expectedNodeID: "330000", body: nil,
                    timeout: PeerTransportTests.loaded)
                Issue.record("a revoked client was served")
            } catch let e as PeerError {
                #expect([.tlsFailed, .connectionClosed].contains(e.code), "\(e)")
            }
            #expect(refusals.all.contains { $0.contains("revoked") })
        }
        // The client knows the server's certificate is revoked: it refuses to talk to it.
        let clientPolicy = try PeerCertificatePolicy(caPEM: fed.ca.certificatePEM, trust: try revoking(b))
        try await Self.withServer(fed.b, policy: clean) { port in
            let client = try PeerClient(credentials: fed.a, group: group, policy: clientPolicy)
            do {
                _ = try await client.request(
                    method: "GET", host: "127.0.0.1", port: port, path: "/whoami", expectedNodeID: "330000", body: nil,
                    timeout: PeerTransportTests.loaded)
                Issue.record("a client talked to a revoked server")
            } catch let e as PeerError {
                #expect(e.code == .tlsFailed, "\(e)")
            }
        }
    }

    static func withServer(_ creds: PeerCredentials, policy: PeerCertificatePolicy, _ body: @Sendable (Int) async throws -> Void) async throws {
        let router = Router(context: PeerRequestContext.self)
        router.get("/whoami") { _, context in await context.peerNodeID() ?? "anonymous" }
        let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
        let app = try PeerServer.application(
            router: router, host: "127.0.0.1", port: 0, tls: PeerTLS.server(creds), policy: policy, logger: PeerTransportTests.quiet,
            onServerRunning: { channel in
                continuation.yield(channel.localAddress?.port ?? 0)
                continuation.finish()
            })
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await app.run() }
            var iterator = ports.makeAsyncIterator()
            let port = try #require(await iterator.next())
            defer { group.cancelAll() }
            try await body(port)
        }
    }
}

/// Reasons a policy gave for refusing handshakes.
final class RefusalLog: Sendable {
    private let reasons = Mutex<[String]>([])
    func add(_ r: String) { reasons.withLock { $0.append(r) } }
    var all: [String] { reasons.withLock { $0 } }
}
