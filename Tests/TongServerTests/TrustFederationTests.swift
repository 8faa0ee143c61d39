import Foundation
import Logging
import NIOPosix
import Testing
import TongCore
import TongPeer

@testable import TongDomain
@testable import TongServer
@testable import TongTools

/// Certificates that expire and are renewed, and certificates that are revoked, on real nodes
/// over real mutual TLS. History is written at chosen past instants with certificates minted
/// then, so no test waits for anything to expire.
@Suite(.serialized) struct TrustFederationTests {
    static let day: TimeInterval = 86_400
    static func ms(_ d: Date) -> Int64 { Int64(d.timeIntervalSince1970 * 1000) }

    static var quiet: Logger {
        var l = Logger(label: "test")
        l.logLevel = .critical
        return l
    }

    /// Waits for `condition`, failing the test with `what` if it never holds.
    /// 60 s: the whole suite starts at once on two cores, and a first sync then took over 20 s once.
    static func eventually(_ what: String, seconds: Double = 60, _ condition: () throws -> Bool) async throws {
        do { try await DemoRunner.waitUntil(seconds: seconds, condition) } catch {
            Issue.record("never happened: \(what)")
            throw error
        }
    }

    /// Pushes `sets` to `target` over real mutual TLS with `relay`'s credentials (a relay that
    /// checks nothing), as a fresh epoch; returns the push's answer.
    static func relay(_ sets: [[UInt8]], through relay: String, to target: TongNode, root: String) async throws -> JSONValue {
        let client = try PeerClient(credentials: PeerCredentials.load(home: root + "/" + relay), group: MultiThreadedEventLoopGroup.singleton)
        let (_, port) = try NodeConfiguration.hostPort(target.config.peer)
        let body = PushBody(epoch: "relay-\(UUID().uuidString.prefix(8))", after: 0, upto: Int64(sets.count), sets: sets).encoded()
        let r = try await client.request(
            method: "POST", host: "127.0.0.1", port: port, path: "/sync/v1/push", expectedNodeID: target.id, body: body)
        #expect(r.status == 200, "\(String(decoding: r.body, as: UTF8.self))")
        return try JSONParser.parse(r.body)
    }

    static func has(_ node: TongNode, _ record: String) -> Bool { ((try? node.db.record(record)) ?? nil) != nil }

    /// A policy owned by `node` as the API would store it (so only what is under test can refuse it).
    static func policy(_ title: String, node: String, dept: String) throws -> LocalWrite {
        var f = try RecordSchema.policy.validate(policyBody(title, dept: dept), partial: false, node: node)
        f["status"] = "active"
        return LocalWrite(id: nil, kind: .policy, owner: node, scope: .owned(node), fields: f, mustExist: false)
    }

    /// The federation's first years, as they happened: a CA made 400 days ago; 100000 and 330000
    /// got certificates valid 100 days, published their directory entries and a policy each with
    /// them, renewed 90 days in (before the old ones expired); everything they signed then is
    /// signed by certificates that expired 300 days ago. Then a county that never saw any of it
    /// joins and must converge to all of it; a set signed with an expired certificate after its
    /// expiry, and one back-dated under a retired key above its last counter, are refused.
    @Test func aNodeJoiningYearsLaterGetsHistorySignedWithExpiredCertificates() async throws {
        await FederationLock.shared.acquire()
        do { try await expiredAndRenewed() } catch {
            await FederationLock.shared.release()
            throw error
        }
        await FederationLock.shared.release()
    }

    func expiredAndRenewed() async throws {
        let now = Date()
        let t0 = now - 400 * Self.day
        let topology = TestTree.toml(["100000", "330000", "330100"])
        let root = NSTemporaryDirectory() + "tong-trust-\(UUID().uuidString.prefix(8))"
        var oldSigners: [String: ChangeSigner] = [:]
        var oldFingerprints: [String: String] = [:]
        var oldPolicies: [String: String] = [:]
        let fed = try LocalFederation(
            topologyText: topology, root: root, freePorts: true, syncIntervalMs: 300, logger: Self.quiet,
            prepare: { root in
                // A CA made at t0 replaces the one the layout made today.
                let ca = try FederationCA.create(federation: "test", now: t0)
                try ca.certificatePEM.write(toFile: root + "/ca/ca.pem", atomically: true, encoding: .utf8)
                try KeyFile.writePrivate(ca.privateKeyPEM, to: root + "/ca/ca.key")
                for id in ["100000", "330000", "330100"] {
                    let home = NodeHome(path: root + "/" + id)
                    try ca.certificatePEM.write(toFile: home.caFile, atomically: true, encoding: .utf8)
                    // The county joins today with a certificate issued today.
                    let issuedAt = id == "330100" ? now : t0
                    let cred = try FederationCA.issueNode(nodeID: id, nodeName: id, ca: ca, now: issuedAt, days: id == "330100" ? 825 : 100)
                    try cred.certificatePEM.write(toFile: home.certFile, atomically: true, encoding: .utf8)
                    try KeyFile.writePrivate(cred.privateKeyPEM, to: home.keyFile)
                    guard id != "330100" else { continue }
                    // Ten days in: the directory entry and a policy, signed with the first certificate.
                    let node = try TongNode.open(home: home, logger: Self.quiet)
                    try node.publishDirectory(now: Self.ms(t0 + 10 * Self.day))
                    let dept = id == "100000" ? "100000-mof" : "330000-hrss"
                    let p = try node.create(
                        kind: .policy, body: policyBody("\(id) 的早期政策", dept: dept), by: .admin, now: Self.ms(t0 + 10 * Self.day + 60))
                    oldPolicies[id] = p.id
                    oldSigners[id] = node.signer
                    oldFingerprints[id] = node.certificate.fingerprint
                    try node.db.close()
                    // Ninety days in, before it expired: a new key made in the home, signed by the CA.
                    try CertificateCommands.renew(home: home, caDir: root + "/ca", days: 825, now: t0 + 90 * Self.day)
                }
            })
        let task = Task { try await fed.run(only: ["100000", "330000"]) }
        var county: Task<Void, any Error>?
        defer {
            task.cancel()
            county?.cancel()
        }
        let national = fed.nodes["100000"]!, province = fed.nodes["330000"]!, newcomer = fed.nodes["330100"]!
        do {
            // The two old nodes exchange their history, and each published its key history: the
            // first certificate closed at the last counter it signed.
            try await Self.eventually("history exchanged") {
                Self.has(province, oldPolicies["100000"]!) && Self.has(national, oldPolicies["330000"]!)
            }
            try await Self.eventually("key histories known") {
                province.trust.current.lastCounter(node: "100000", fingerprint: oldFingerprints["100000"]!) != nil
                    && national.trust.current.lastCounter(node: "330000", fingerprint: oldFingerprints["330000"]!) != nil
            }
            let keys = try #require(KeyHistoryEntry.list(try national.db.record("100000")?.state["keys"]))
            #expect(keys.count == 2 && keys[0].fingerprint == oldFingerprints["100000"] && keys[0].lastCounter != nil)
            #expect(keys[1].fingerprint == national.certificate.fingerprint && keys[1].lastCounter == nil)

            // A policy published today, with the renewed certificate.
            let fresh = try national.create(kind: .policy, body: policyBody("今日的全国政策", dept: "100000-mof"), by: .admin)

            // The county joins with an empty disk and syncs from the start.
            county = Task { try await fed.servers["330100"]!.run(signals: []) }
            try await Self.eventually("the newcomer converged to everything") {
                Self.has(newcomer, oldPolicies["100000"]!) && Self.has(newcomer, oldPolicies["330000"]!) && Self.has(newcomer, fresh.id)
                    && newcomer.department("100000-mof") != nil && newcomer.department("330000-hrss") != nil
            }
            let rejections = try newcomer.db.rejections()
            #expect(rejections.isEmpty, "\(rejections.map(\.reason))")
            // Feedback to a department whose directory entry was signed with an expired certificate is routed.
            let s = try newcomer.submitFeedback([
                "kind": "consultation", "department": "100000-mof", "title": "咨询", "content": "如何申请？",
                "contact": ["name": "王", "phone": "13912345678"],
            ])
            #expect(!s.id.isEmpty)

            // Signed with the expired first certificate today: refused at the first receiver.
            let oldSigner = oldSigners["100000"]!
            let late = try Self.policy("过期证书签署的政策", node: "100000", dept: "100000-mof")
            let lateID = try national.db.write([late], signer: oldSigner, topology: national.topology, now: Self.ms(Date()))[0].id
            national.notifier.notify()
            try await Self.eventually("the late set refused") {
                try province.db.rejections().contains { $0.reason.contains("expired") && $0.origin == "100000" }
            }
            #expect(!Self.has(province, lateID))
            // Back-dated into the first certificate's validity, but above the last counter it signed.
            let forged = try Self.policy("伪造日期的政策", node: "100000", dept: "100000-mof")
            let forgedID = try national.db.write([forged], signer: oldSigner, topology: national.topology, now: Self.ms(t0 + 20 * Self.day))[0].id
            national.notifier.notify()
            try await Self.eventually("the back-dated set refused") {
                try province.db.rejections().contains { $0.reason.contains("retired") && $0.origin == "100000" }
            }
            #expect(!Self.has(province, forgedID) && !Self.has(newcomer, forgedID))
            let status = try province.syncStatus()
            #expect(status["keys"]?.arrayValue?.count == 2)
        } catch {
            await fed.shutdown()
            throw error
        }
        await fed.shutdown()
        _ = try? await task.value
        _ = try? await county?.value
    }

    /// 330100 is revoked: its certificate is refused at the TLS handshake, and a set it signs
    /// after the revocation time is refused at a third node even when a relay passes it on,
    /// while what it signed before still applies.
    @Test func aRevokedNodeIsRefusedAtTLSAndForWhatItSignsAfterwards() async throws {
        try await withFederation(topology: TestTree.toml(["100000", "330000", "330100"])) { f in
            let city = f.node("330100"), national = f.node("100000"), province = f.node("330000")
            let before = try await f.request(
                "POST", "330100", "/api/v1/policies", token: f.fed.adminToken("330100"), body: policyBody("杭州稳岗政策", dept: "330100-hrss"))
            #expect(before.status == 201)
            let beforeID = try #require(before.json?["id"]?.stringValue)
            try await Self.eventually("the city's policy reached the top") { f.has("100000", beforeID) }

            // The CA revokes every certificate it issued to 330100, from now on.
            let revokedAt = Date()
            let list = try CertificateCommands.revoke(caDir: f.fed.root + "/ca", node: "330100", at: revokedAt, reason: "密钥泄露")
            #expect(list.list.entries.count == 1 && list.list.entries[0].fingerprint == city.certificate.fingerprint)
            // Installed at the national node through its admin API; a list the CA did not sign is refused.
            let rogue = try FederationCA.revocations(
                previous: nil, adding: list.list.entries, ca: FederationCA.create(federation: "test", now: Date()), now: Date())
            let refused = try await f.request("POST", "100000", "/api/v1/revocations", token: f.fed.adminToken("100000"), body: rogue.wireJSON)
            #expect(refused.status == 422 || refused.status == 400, "\(refused.text)")
            let installed = try await f.request("POST", "100000", "/api/v1/revocations", token: f.fed.adminToken("100000"), body: list.wireJSON)
            #expect(installed.status == 200, "\(installed.text)")
            try await Self.eventually("the list spread to the province") { province.trust.current.revokedAt(city.certificate.fingerprint) != nil }
            let shown = try await f.request("GET", "330000", "/api/v1/sync/status", token: f.fed.adminToken("330000"))
            #expect(shown.json?["revocations"]?.arrayValue?.first?["node"] == "330100")
            let admin = try await f.request("GET", "330000", "/api/v1/revocations")
            #expect(admin.json?["revocations"]?.arrayValue?.count == 1)

            // The revoked certificate no longer gets through a handshake with its parent.
            let cityCreds = try PeerCredentials.load(home: f.fed.root + "/330100")
            let client = try PeerClient(credentials: cityCreds, group: MultiThreadedEventLoopGroup.singleton)
            let (_, provincePort) = try NodeConfiguration.hostPort(province.config.peer)
            do {
                let r = try await client.request(
                    method: "GET", host: "127.0.0.1", port: provincePort, path: "/sync/v1/hello", expectedNodeID: "330000", body: nil,
                    timeout: .seconds(5))
                Issue.record("a revoked node was answered \(r.status)")
            } catch let e as PeerError {
                #expect([.tlsFailed, .connectionClosed].contains(e.code), "\(e)")
            }
            // Nor does the province's own link to the city stay up.
            try await Self.eventually("the province's link to the city is down") {
                try province.syncStatus()["peers"]?.arrayValue?.first { $0["id"] == "330100" }?["connected"] == .bool(false)
            }

            // Two sets of the city: one signed a minute before the revocation, one after it.
            let head = try city.db.head()
            let early = try Self.policy("吊销前签署", node: "330100", dept: "330100-hrss")
            let late = try Self.policy("吊销后签署", node: "330100", dept: "330100-hrss")
            let earlyID = try city.db.write([early], signer: city.signer, topology: city.topology, now: Self.ms(revokedAt) - 60_000)[0].id
            let lateID = try city.db.write([late], signer: city.signer, topology: city.topology, now: Self.ms(Date()) + 1)[0].id
            let sets = try city.db.outgoing(to: "330000", after: head, topology: city.topology).sets
            #expect(sets.count == 2)
            // A relay that does not check (here: 330000's own credentials, over real TLS) passes
            // both on to the national node, which judges each by its signing time.
            let answer = try await Self.relay(sets, through: "330000", to: national, root: f.fed.root)
            #expect(answer["applied"] == .int(1) && answer["rejected"] == .int(1), "\(answer)")
            #expect(f.has("100000", earlyID) && !f.has("100000", lateID) && f.has("100000", beforeID))
            #expect(try national.db.rejections().contains { $0.origin == "330100" && $0.reason.contains("revoked") })
        }
    }

    /// 330100's key leaked; the CA revokes it with a counter bound, the highest counter of 330100
    /// the national node holds. A set the thief dates before the revocation but numbers above the
    /// bound is refused; an older list without the bound cannot be installed, and a node record
    /// that carries one anyway (a hostile node writes its own record) takes nothing back, even
    /// after the trust state is rebuilt as at a restart.
    @Test func aCounterBoundSurvivesAnOlderListAndARebuild() async throws {
        try await withFederation(topology: TestTree.toml(["100000", "330000", "330100"])) { f in
            let city = f.node("330100"), national = f.node("100000")
            let made = try await f.request(
                "POST", "330100", "/api/v1/policies", token: f.fed.adminToken("330100"), body: policyBody("杭州稳岗政策", dept: "330100-hrss"))
            let madeID = try #require(made.json?["id"]?.stringValue)
            try await Self.eventually("the city's policy reached the top") { f.has("100000", madeID) }
            let bound = try national.db.seen(from: "330100")
            #expect(bound > 0)
            let status = try await f.request("GET", "330000", "/api/v1/sync/status", token: f.fed.adminToken("330000"))
            #expect(status.json?["peers"]?.arrayValue?.first { $0["id"] == "330100" }?["seen_counter"]?.intValue ?? 0 > 0)

            let revokedAt = Date()
            let ca = f.fed.root + "/ca"
            let older = try CertificateCommands.revoke(caDir: ca, node: "330100", at: revokedAt, reason: "密钥泄露")
            let bounded = try CertificateCommands.revoke(caDir: ca, node: "330100", at: revokedAt, reason: "密钥泄露", lastCounter: bound)
            #expect(bounded.list.entries.first?.lastCounter == bound && older.list.entries.first?.lastCounter == nil)
            let token = try f.fed.adminToken("100000")
            #expect(try await f.request("POST", "100000", "/api/v1/revocations", token: token, body: bounded.wireJSON).status == 200)
            let fp = city.certificate.fingerprint
            #expect(national.trust.current.revocationBound(fp) == bound)
            // The older list, genuine as it is, would loosen the revocation in force: refused.
            let loosen = try await f.request("POST", "100000", "/api/v1/revocations", token: token, body: older.wireJSON)
            #expect(loosen.status == 422 && loosen.text.contains("loosen"), "\(loosen.text)")

            // A node writing the older list into its own record directly (no API check) changes
            // nothing: every list seen is kept, and the state is their union.
            _ = try national.db.write(
                [LocalWrite(id: "100000", kind: .node, owner: "100000", scope: .directory, fields: ["revocations": older.wireJSON], mustExist: true)],
                signer: national.signer, topology: national.topology, now: Self.ms(Date()))
            try national.refreshTrust()
            #expect(national.trust.current.revocationBound(fp) == bound)
            #expect(try national.db.keptRevocationLists().count == 2)

            // The thief dates a set a minute before the revocation, numbered above the bound.
            let head = try city.db.head()
            let forged = try Self.policy("盗用密钥", node: "330100", dept: "330100-hrss")
            let forgedID = try city.db.write([forged], signer: city.signer, topology: city.topology, now: Self.ms(revokedAt) - 60_000)[0].id
            let sets = try city.db.outgoing(to: "330000", after: head, topology: city.topology).sets
            #expect(sets.count == 1)
            #expect(try await Self.relay(sets, through: "330000", to: national, root: f.fed.root)["rejected"] == .int(1))
            #expect(!f.has("100000", forgedID) && f.has("100000", madeID))
            #expect(try national.db.rejections().contains { $0.origin == "330100" && $0.reason.contains("lies above \(bound)") })
        }
    }
}
