import Foundation
import Testing
import TongCore
import X509

@testable import TongPeer

/// Certificate minting and verification at a fixed instant, so results never depend on the wall clock.
@Suite struct CertificateTests {
    static let t0 = Date(timeIntervalSince1970: 1_767_225_600)  // 2026-01-01T00:00:00Z

    @Test func caIssuesTrustedNodeCertificate() throws {
        let ca = try FederationCA.create(federation: "canada", now: Self.t0)
        let node = try FederationCA.issueNode(nodeID: "on", nodeName: "Ontario", ca: ca, now: Self.t0)
        let verifier = try NodeCertificateVerifier(caCertificatePEM: ca.certificatePEM)
        let cert = try Certificate(pemEncoded: node.certificatePEM)
        let verdict = verifier.verify(certificateDER: try derBytes(cert), now: Self.t0.addingTimeInterval(86400))
        guard case .trusted(let id, let keyDER) = verdict else {
            Issue.record("expected trusted, got \(verdict)")
            return
        }
        #expect(id == "on")
        #expect(!keyDER.isEmpty)
        #expect(NodeIdentity.nodeID(of: cert) == "on")
        #expect(cert.subject.description.contains("CN=on"))
        #expect(cert.subject.description.contains("O=canada"))
        let sans = try #require(try cert.extensions.subjectAlternativeNames)
        #expect(sans.contains(.dnsName("on.node.tong")))
        #expect(sans.contains(.uniformResourceIdentifier("urn:tong:node:on")))
        // The key returned must be the one in the certificate the node holds the private key for.
        let priv = try Certificate.PrivateKey(pemEncoded: node.privateKeyPEM)
        #expect(priv.publicKey == cert.publicKey)
    }

    @Test func foreignCAIsUntrusted() throws {
        let ca = try FederationCA.create(federation: "canada", now: Self.t0)
        let other = try FederationCA.create(federation: "canada", now: Self.t0)  // same name, different key
        let node = try FederationCA.issueNode(nodeID: "qc", nodeName: "Quebec", ca: other, now: Self.t0)
        let verifier = try NodeCertificateVerifier(caCertificatePEM: ca.certificatePEM)
        let verdict = verifier.verify(certificateDER: try derBytes(Certificate(pemEncoded: node.certificatePEM)), now: Self.t0)
        guard case .untrusted(let reason) = verdict else {
            Issue.record("foreign certificate was trusted")
            return
        }
        #expect(reason.contains("signature"))
    }

    @Test func expiredAndNotYetValidAreUntrusted() throws {
        let ca = try FederationCA.create(federation: "canada", now: Self.t0)
        let node = try FederationCA.issueNode(nodeID: "bc", nodeName: "BC", ca: ca, now: Self.t0, days: 1)
        let verifier = try NodeCertificateVerifier(caCertificatePEM: ca.certificatePEM)
        let der = try derBytes(Certificate(pemEncoded: node.certificatePEM))
        if case .untrusted(let reason) = verifier.verify(certificateDER: der, now: Self.t0.addingTimeInterval(12 * 3600)) {
            Issue.record("valid certificate rejected: \(reason)")
        }
        if case .trusted = verifier.verify(certificateDER: der, now: Self.t0.addingTimeInterval(2 * 86400)) {
            Issue.record("expired certificate was trusted")
        }
        if case .trusted = verifier.verify(certificateDER: der, now: Self.t0.addingTimeInterval(-2 * 86400)) {
            Issue.record("not-yet-valid certificate was trusted")
        }
    }

    @Test func caCertificateAndGarbageAreUntrusted() throws {
        let ca = try FederationCA.create(federation: "canada", now: Self.t0)
        let verifier = try NodeCertificateVerifier(caCertificatePEM: ca.certificatePEM)
        let caDER = try derBytes(Certificate(pemEncoded: ca.certificatePEM))
        if case .trusted = verifier.verify(certificateDER: caDER, now: Self.t0) {
            Issue.record("CA certificate accepted as a node")
        }
        if case .trusted = verifier.verify(certificateDER: [0x30, 0x03, 0x01, 0x02], now: Self.t0) {
            Issue.record("garbage accepted")
        }
    }

    @Test func invalidNodeIDsAreRejected() throws {
        let ca = try FederationCA.create(federation: "canada", now: Self.t0)
        for bad in ["", "a.b", "-x", "x y", String(repeating: "a", count: 64)] {
            #expect(throws: PeerError.self) { try FederationCA.issueNode(nodeID: bad, nodeName: "", ca: ca, now: Self.t0) }
        }
    }

    @Test func keyFileIsWrittenOwnerOnly() throws {
        let dir = try tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/certs/node.key"
        try KeyFile.writePrivate("secret-1", to: path)
        #expect(try permissions(path) == 0o600)
        // Overwriting a file that was left world-readable must not keep the loose mode.
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: path)
        try KeyFile.writePrivate("secret-2", to: path)
        #expect(try permissions(path) == 0o600)
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "secret-2")
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir + "/certs") == ["node.key"])
    }

    @Test(.enabled(if: opensslPath != nil, "openssl not installed"))
    func opensslVerifiesIssuedCertificate() throws {
        let ca = try FederationCA.create(federation: "canada", now: Self.t0)
        let node = try FederationCA.issueNode(nodeID: "ab", nodeName: "Alberta", ca: ca, now: Self.t0)
        let dir = try tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try ca.certificatePEM.write(toFile: dir + "/ca.pem", atomically: true, encoding: .utf8)
        try node.certificatePEM.write(toFile: dir + "/node.pem", atomically: true, encoding: .utf8)
        let at = String(Int(Self.t0.timeIntervalSince1970) + 3600)
        for purpose in ["sslserver", "sslclient"] {
            let (status, output) = try run(
                opensslPath!, ["verify", "-attime", at, "-purpose", purpose, "-CAfile", dir + "/ca.pem", dir + "/node.pem"])
            #expect(status == 0, "openssl verify (\(purpose)) failed: \(output)")
            #expect(output.contains("OK"))
        }
    }
}

let opensslPath: String? = {
    let dirs = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":")
    return dirs.map { "\($0)/openssl" }.first { FileManager.default.isExecutableFile(atPath: $0) }
}()

func derBytes(_ cert: Certificate) throws -> [UInt8] {
    try cert.serializeAsPEM().derBytes
}

func tempDir() throws -> String {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tong-peer-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    return dir
}

func permissions(_ path: String) throws -> Int {
    (try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? NSNumber)?.intValue ?? -1
}

func run(_ exe: String, _ args: [String]) throws -> (Int32, String) {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: exe)
    p.arguments = args
    let pipe = Pipe()
    p.standardOutput = pipe
    p.standardError = pipe
    try p.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    return (p.terminationStatus, String(decoding: data, as: UTF8.self))
}
