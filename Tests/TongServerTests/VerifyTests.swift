import Crypto
import Foundation
import GRDB
import Testing
import TongCore
import TongPeer

@testable import TongDomain
@testable import TongTools

/// `tong verify` as an auditor runs it, with the real binary on a stopped node's home.
@Suite(.serialized) struct VerifyTests {
    static func verify(_ home: String) throws -> (status: Int32, output: String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: DurabilityTests.binary)
        p.arguments = ["verify", "--home", home]
        let out = Pipe()
        p.standardOutput = out
        p.standardError = out
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    @Test func verifyPassesOnACleanNodeAndFindsATamperedRowABrokenChainAndAResignedSet() async throws {
        let c = try DurabilityTests.Cluster()
        try await c.start("100000")
        try await c.start("330000")
        let admin = try c.token("330000")
        var ids: [String] = []
        for i in 0..<3 {
            let r = try c.call("POST", "330000", "/api/v1/policies", token: admin, body: policyBody("核验用第\(i)号政策", dept: "330000-hrss"))
            ids.append(try #require(r.json?["id"]?.stringValue))
        }
        try await DemoRunner.waitUntil(seconds: 30) { try ids.allSatisfy { try c.get("100000", "/api/v1/policies/\($0)").status == 200 } }
        c.stop("330000")
        c.stop("100000")
        let home = c.root + "/100000"
        let clean = try Self.verify(home)
        #expect(clean.status == 0, "\(clean.output)")
        #expect(clean.output.contains("verify: ok"))

        let file = home + "/data/tong.sqlite"
        let target = ids[1]
        // A row changed behind the node's back (as in the sqlite3 shell).
        let q = try DatabaseQueue(path: file)
        try await q.write { db in try db.execute(sql: "UPDATE record SET doc = json_set(doc, '$.title', '篡改后的标题') WHERE id = ?", arguments: [target])
        }
        let tampered = try Self.verify(home)
        #expect(tampered.status == 1)
        #expect(tampered.output.contains("record \(ids[1]): field title"), "\(tampered.output)")
        try await q.write { db in
            try db.execute(sql: "UPDATE record SET doc = json_set(doc, '$.title', '核验用第1号政策') WHERE id = ?", arguments: [target])
        }
        #expect(try Self.verify(home).status == 0)

        // An audit entry edited: the chain breaks there.
        try await q.write { db in try db.execute(sql: "UPDATE audit SET detail = 'nothing happened' WHERE seq = 2") }
        let chain = try Self.verify(home)
        #expect(chain.status == 1 && chain.output.contains("audit entry 2 was altered"), "\(chain.output)")

        // A set re-signed by someone else (a key and certificate of another CA): found.
        let seq = try #require(
            try await q.read { db in try Int64.fetchOne(db, sql: "SELECT seq FROM change_log WHERE origin = '330000' ORDER BY seq LIMIT 1") })
        let wire = try #require(try await q.read { db in try Data.fetchOne(db, sql: "SELECT wire FROM change_log WHERE seq = ?", arguments: [seq]) })
        let original = try #require(SignedChangeSet(wire: try JSONParser.parse(Array(wire))))
        let rogueCA = try FederationCA.create(federation: "rogue", now: Date())
        let rogue = try FederationCA.issueNode(nodeID: "330000", nodeName: "浙江省", ca: rogueCA, now: Date())
        let key = try P256.Signing.PrivateKey(pemRepresentation: rogue.privateKeyPEM)
        let cert = try PeerCredentials(caPEM: rogueCA.certificatePEM, certificatePEM: rogue.certificatePEM, privateKeyPEM: rogue.privateKeyPEM)
        let resigned = try ChangeSigner(nodeID: "330000", key: key, certificateDER: cert.certificateDER).sign(original.set)
        let bytes = Data(resigned.wireBytes)
        try await q.write { db in try db.execute(sql: "UPDATE change_log SET wire = ? WHERE seq = ?", arguments: [bytes, seq]) }
        let forged = try Self.verify(home)
        #expect(forged.status == 1 && forged.output.contains("change log \(seq)") && forged.output.contains("not trusted"), "\(forged.output)")
    }
}
