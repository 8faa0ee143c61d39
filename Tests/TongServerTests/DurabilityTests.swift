import Foundation
import Testing
import TongCore

@testable import TongDomain
@testable import TongServer
@testable import TongTools

/// Real `tong serve` processes, killed with SIGKILL at awkward moments.
@Suite(.serialized) struct DurabilityTests {
    static let topology = TestTree.toml(["100000", "330000", "330100"], federation: "durable")

    /// The `tong` executable, built if this test run did not build it.
    static let binary: String = {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
        let path = root + "/.build/debug/tong"
        if !FileManager.default.isExecutableFile(atPath: path) {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            p.arguments = ["swift", "build", "--product", "tong"]
            p.currentDirectoryURL = URL(fileURLWithPath: root)
            try? p.run()
            p.waitUntilExit()
        }
        return path
    }()

    final class Cluster: @unchecked Sendable {
        let root = NSTemporaryDirectory() + "tong-durable-\(UUID().uuidString.prefix(8))"
        var http: [String: String] = [:]
        var procs: [String: Process] = [:]

        init() throws {
            var peers: [String: String] = [:]
            for id in ["100000", "330000", "330100"] {
                http[id] = "127.0.0.1:\(try LocalFederation.freePort())"
                peers[id] = "127.0.0.1:\(try LocalFederation.freePort())"
            }
            let t = try Topology.parse(toml: DurabilityTests.topology)
            let http = self.http
            _ = try FederationLayout.create(topologyText: DurabilityTests.topology, out: root, force: true) { c in
                c.http = http[c.nodeID]!
                c.peer = peers[c.nodeID]!
                c.syncIntervalMs = 300
                c.webhookRetryBaseMs = 200
                for (id, a) in peers where t.isNeighbor(id, c.nodeID) { c.peerAddresses[id] = a }
            }
        }

        func start(_ id: String) async throws {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: DurabilityTests.binary)
            p.arguments = ["serve", "--home", root + "/" + id, "--log-level", "critical", "--exit-with-parent"]
            p.standardInput = Pipe()  // --exit-with-parent: the node exits when this pipe closes
            p.standardError = FileHandle.nullDevice
            try p.run()
            procs[id] = p
            try await DemoRunner.waitUntil(seconds: 30) { try self.get(id, "/healthz").status == 200 }
        }

        func kill9(_ id: String) {
            guard let p = procs[id] else { return }
            kill(p.processIdentifier, SIGKILL)
            p.waitUntilExit()
            procs[id] = nil
        }

        func stop(_ id: String) {
            guard let p = procs[id] else { return }
            p.terminate()
            p.waitUntilExit()
            procs[id] = nil
        }

        func token(_ id: String) throws -> String {
            try String(contentsOfFile: root + "/\(id)/admin.token", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        }

        /// A blocking HTTP call (curl keeps this independent of the code under test).
        func call(_ method: String, _ id: String, _ path: String, token: String? = nil, body: JSONValue? = nil) throws -> (
            status: Int, json: JSONValue?
        ) {
            var args = ["-X", method, "http://\(http[id]!)\(path)"]
            if let token { args += ["-H", "Authorization: Bearer \(token)"] }
            if let body {
                args += ["-H", "Content-Type: application/json", "--data-binary", String(decoding: CanonicalJSON.encode(body), as: UTF8.self)]
            }
            let r = FaultTests.curl(args)
            return (r.status, try? JSONParser.parse(r.body))
        }

        func get(_ id: String, _ path: String) throws -> (status: Int, json: JSONValue?) { try call("GET", id, path) }

        func total(_ id: String, _ query: String = "") throws -> Int64 {
            try get(id, "/api/v1/policies?limit=0" + query).json?["total"]?.intValue ?? -1
        }

        deinit { for p in procs.values { kill(p.processIdentifier, SIGKILL) } }
    }

    @Test func acknowledgedWritesSurviveKillNineAndABacklogConvergesOnce() async throws {
        let c = try Cluster()
        try await c.start("100000")
        try await c.start("330000")
        let admin = try c.token("330000")
        // Every write answered 201 is on disk: kill -9 right after the last answer loses none.
        var ids: [String] = []
        for i in 0..<15 {
            let r = try c.call("POST", "330000", "/api/v1/policies", token: admin, body: policyBody("第\(i)号稳岗政策", dept: "330000-hrss"))
            #expect(r.status == 201)
            if let id = r.json?["id"]?.stringValue { ids.append(id) }
        }
        c.kill9("330000")
        // A backlog written while the parent is down, then the parent killed mid-apply.
        c.kill9("100000")
        let lines = (0..<3_000).map { i in
            String(decoding: CanonicalJSON.encode(policyBody("积压政策\(i)", dept: "330000-hrss", body: "第\(i)条：缓缴社保费，减免租金。")), as: UTF8.self)
        }
        let file = c.root + "/backlog.jsonl"
        try lines.joined(separator: "\n").write(toFile: file, atomically: true, encoding: .utf8)
        let imp = Process()
        imp.executableURL = URL(fileURLWithPath: Self.binary)
        imp.arguments = ["policy", "import", "--home", c.root + "/330000", file]
        imp.standardOutput = FileHandle.nullDevice
        try imp.run()
        imp.waitUntilExit()
        #expect(imp.terminationStatus == 0)
        try await c.start("330000")
        for id in ids { #expect(try c.get("330000", "/api/v1/policies/\(id)").status == 200) }
        #expect(try c.total("330000") == 3_015)
        try await c.start("100000")
        // Kill the parent while it is receiving the backlog.
        try await DemoRunner.waitUntil(seconds: 30) { try c.total("100000") > 0 }
        c.kill9("100000")
        try await c.start("100000")
        try await DemoRunner.waitUntil(seconds: 60) { try c.total("100000") == 3_015 }
        // Nothing doubled: the same count after another anti-entropy round, and every id unique.
        try await Task.sleep(for: .milliseconds(800))
        #expect(try c.total("100000") == 3_015)
        #expect(try c.total("100000", "&department=330000-hrss") == 3_015)
        c.stop("100000"); c.stop("330000")
    }

    @Test func restoredNodeNeverReusesACounter() async throws {
        let c = try Cluster()
        try await c.start("100000")
        try await c.start("330000")
        try await c.start("330100")  // every neighbour must answer before a restored node writes again
        let admin = try c.token("330000")
        for i in 0..<3 {
            #expect(try c.call("POST", "330000", "/api/v1/policies", token: admin, body: policyBody("备份前\(i)", dept: "330000-hrss")).status == 201)
        }
        let backup = c.root + "/backup.sqlite"
        let b = Process()
        b.executableURL = URL(fileURLWithPath: Self.binary)
        b.arguments = ["backup", "--home", c.root + "/330000", "--out", backup]
        try b.run(); b.waitUntilExit()
        #expect(b.terminationStatus == 0)
        var after: [String] = []
        for i in 0..<2 {
            let r = try c.call("POST", "330000", "/api/v1/policies", token: admin, body: policyBody("备份后\(i)", dept: "330000-hrss"))
            after.append(r.json?["id"]?.stringValue ?? "")
        }
        try await DemoRunner.waitUntil(seconds: 19) { try c.total("100000") == 5 }
        c.stop("330000")
        let r = Process()
        r.executableURL = URL(fileURLWithPath: Self.binary)
        r.arguments = ["restore", "--home", c.root + "/330000", "--from", backup]
        r.standardOutput = FileHandle.nullDevice
        try r.run(); r.waitUntilExit()
        #expect(r.terminationStatus == 0)
        try await c.start("330000")
        // Writes resume only after catching up; the new record never takes an id (counter) handed out before.
        var created: String?
        try await DemoRunner.waitUntil(seconds: 20) {
            let w = try c.call("POST", "330000", "/api/v1/policies", token: admin, body: policyBody("恢复后", dept: "330000-hrss"))
            created = w.json?["id"]?.stringValue
            return w.status == 201
        }
        let newID = try #require(created)
        #expect(!after.contains(newID))
        do { try await DemoRunner.waitUntil(seconds: 22) { try c.total("100000") == 6 && c.total("330000") == 6 } } catch {
            Issue.record(
                """
                totals: \(try c.total("100000")) at the parent, \(try c.total("330000")) at the restored node; \
                status \(String(describing: try c.call("GET", "330000", "/api/v1/sync/status", token: admin).json))
                """
            )
            throw error
        }
        // The parent still holds the two post-backup policies unchanged, and the restored node got them back.
        for id in after {
            #expect(try c.get("100000", "/api/v1/policies/\(id)").json?["title"]?.stringValue?.hasPrefix("备份后") == true)
            #expect(try c.get("330000", "/api/v1/policies/\(id)").status == 200)
        }
        for id in ["100000", "330000", "330100"] { c.stop(id) }
    }

    @Test func badHomeIsOneClearLineAndSigtermStopsWithinFiveSeconds() async throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: Self.binary)
        p.arguments = ["serve", "--home", "/nonexistent-tong-home"]
        let err = Pipe()
        p.standardError = err
        try p.run()
        let text = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        #expect(p.terminationStatus != 0)
        #expect(text.split(separator: "\n").count == 1 && text.hasPrefix("tong: ") && text.contains("node.toml"))

        // With a linked child: its kept-alive mutual-TLS connection is open at the parent, and the
        // parent's TLS shutdown must not wait for a close_notify the idle child never reads (NIOSSL
        // waited 5 s; found by a user trial).
        let c = try Cluster()
        try await c.start("100000")
        try await c.start("330000")
        try await DemoRunner.waitUntil(seconds: 30) {
            try c.get("330000", "/api/v1/departments").json?["items"]?.arrayValue?.contains { $0["id"] == "100000-mof" } == true
        }
        try await Task.sleep(for: .milliseconds(300))  // the link is idle
        for id in ["100000", "330000"] {
            let proc = try #require(c.procs[id])
            let start = ContinuousClock.now
            proc.terminate()  // SIGTERM
            proc.waitUntilExit()
            #expect(ContinuousClock.now - start < .seconds(5), "\(id) took \(ContinuousClock.now - start) to stop")
            #expect(proc.terminationStatus == 0)
            c.procs[id] = nil
        }
    }

    @Test func killingARelayMidRouteLosesNoFeedback() async throws {
        let c = try Cluster()
        for id in ["100000", "330000", "330100"] { try await c.start(id) }
        // Directory converged: Hangzhou knows the ministry.
        try await DemoRunner.waitUntil(seconds: 30) {
            try c.get("330100", "/api/v1/departments").json?["items"]?.arrayValue?.contains { $0["id"] == "100000-mof" } == true
        }
        c.kill9("330000")  // the relay is down when the feedback is submitted
        let sub = try c.call(
            "POST", "330100", "/api/v1/feedback",
            body: [
                "kind": "complaint", "department": "100000-mof", "title": "补贴未到账", "content": "申请的稳岗补贴三个月未到账。",
                "contact": ["name": "赵", "phone": "13800001111"],
            ])
        #expect(sub.status == 201)
        let receipt = try #require(sub.json?["receipt"]?.stringValue)
        try await c.start("330000")
        // Kill the relay again while the feedback is in flight, then bring it back.
        try await Task.sleep(for: .milliseconds(150))
        c.kill9("330000")
        try await c.start("330000")
        try await DemoRunner.waitUntil(seconds: 30) { try c.get("330100", "/api/v1/feedback/\(receipt)").json?["status"] == "delivered" }
        let mof = try String(contentsOfFile: c.root + "/100000/tokens/100000-mof.token", encoding: .utf8).trimmingCharacters(
            in: .whitespacesAndNewlines)
        let inbox = try c.call("GET", "100000", "/api/v1/inbox?department=100000-mof", token: mof)
        #expect(inbox.json?["items"]?.arrayValue?.count == 1)
        let id = try #require(inbox.json?["items"]?.arrayValue?.first?["id"]?.stringValue)
        #expect(
            try c.call("POST", "100000", "/api/v1/feedback/\(id)/reply", token: mof, body: ["content": "已核实，本周内发放。", "close": true]).status == 200)
        try await DemoRunner.waitUntil(seconds: 30) { try c.get("330100", "/api/v1/feedback/\(receipt)").json?["status"] == "closed" }
        #expect(try c.get("330100", "/api/v1/feedback/\(receipt)").json?["reply"] == "已核实，本周内发放。")
        for id in ["100000", "330000", "330100"] { c.stop(id) }
    }

    /// 送达: a delivery written with its policy survives kill -9, and a restarted node resumes
    /// its retries; the receiver accepts it exactly once.
    @Test func killNineWithDeliveriesPendingLosesNone() async throws {
        let c = try Cluster()
        let receiver = try await WebhookReceiver()
        receiver.up.withLock { $0 = false }
        try await c.start("330100")
        var shop = DeliveryTests.restaurant.objectValue!
        shop["webhook"] = ["url": .string(receiver.url)]
        let r = try c.call("POST", "330100", "/api/v1/enterprises", body: .object(shop))
        #expect(r.status == 201)
        let eid = try #require(r.json?["id"]?.stringValue), token = try #require(r.json?["token"]?.stringValue)
        receiver.secrets.withLock { $0.append(r.json!["webhook_secret"]!.stringValue!) }
        var local = DeliveryTests.rentRelief.objectValue!
        local["department"] = "330100-hrss"
        let p = try c.call("POST", "330100", "/api/v1/policies", token: try c.token("330100"), body: .object(local))
        #expect(p.status == 201)
        c.kill9("330100")  // right after the 201: the delivery must be on disk with the policy
        try await c.start("330100")
        try await DemoRunner.waitUntil(seconds: 20) { receiver.received.withLock { $0.count } >= 2 }
        c.kill9("330100")  // again, between attempts
        // An attempt the killed process sent just before it died may still wait in the receiver;
        // were it answered with the receiver up, that would be a second (correct, at-least-once)
        // acceptance. Let it be refused while the receiver is still down.
        try await Task.sleep(for: .seconds(1))
        receiver.up.withLock { $0 = true }
        try await c.start("330100")
        try await DemoRunner.waitUntil(seconds: 30) {
            try c.call("GET", "330100", "/api/v1/enterprises/\(eid)/deliveries", token: token).json?["items"]?.arrayValue?.first?["state"]
                == "delivered"
        }
        let items = try c.call("GET", "330100", "/api/v1/enterprises/\(eid)/deliveries", token: token).json?["items"]?.arrayValue ?? []
        #expect(items.count == 1)
        #expect(receiver.accepted.count == 1 && receiver.accepted.values.allSatisfy { $0 == 1 })
        c.stop("330100")
    }

    /// 办理: an application submitted while the relay is down, and the relay killed again while
    /// it travels, reaches the department and its decision comes back.
    @Test func killingARelayMidRouteLosesNoApplication() async throws {
        let c = try Cluster()
        for id in ["100000", "330000", "330100"] { try await c.start(id) }
        let p = try c.call("POST", "100000", "/api/v1/policies", token: try c.token("100000"), body: ApplicationTests.rentSubsidy)
        let pid = try #require(p.json?["id"]?.stringValue)
        let r = try c.call("POST", "330100", "/api/v1/enterprises", body: DeliveryTests.restaurant)
        let eid = try #require(r.json?["id"]?.stringValue), token = try #require(r.json?["token"]?.stringValue)
        try await DemoRunner.waitUntil(seconds: 30) {
            try c.get("330100", "/api/v1/policies/\(pid)").status == 200
                && c.get("330100", "/api/v1/departments").json?["items"]?.arrayValue?.contains { $0["id"] == "100000-mof" } == true
        }
        c.kill9("330000")
        let a = try c.call(
            "POST", "330100", "/api/v1/applications", token: token,
            body: [
                "policy": .string(pid), "enterprise": .string(eid), "answers": ["rent": "9000", "landlord": "杭州某物业"],
            ])
        #expect(a.status == 201)
        let receipt = try #require(a.json?["receipt"]?.stringValue), aid = try #require(a.json?["id"]?.stringValue)
        try await c.start("330000")
        try await Task.sleep(for: .milliseconds(150))
        c.kill9("330000")
        try await c.start("330000")
        try await DemoRunner.waitUntil(seconds: 30) { try c.get("330100", "/api/v1/applications/\(receipt)").json?["status"] == "delivered" }
        let mof = try String(contentsOfFile: c.root + "/100000/tokens/100000-mof.token", encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(try c.call("POST", "100000", "/api/v1/applications/\(aid)/decision", token: mof, body: ["status": "accepted"]).status == 200)
        try await DemoRunner.waitUntil(seconds: 30) { try c.get("330100", "/api/v1/applications/\(receipt)").json?["status"] == "accepted" }
        for id in ["100000", "330000", "330100"] { c.stop(id) }
    }

    /// A node that loses `data/` (certificates, keys and tokens kept) must not hand out its old
    /// counters again: it starts held, learns its highest counter from its parent, gets its own
    /// sets back, and only then writes, with fresh ids (the kv679 problem by another door).
    @Test func aNodeThatLostItsDiskNeverReusesAnId() async throws {
        let c = try Cluster()
        try await c.start("100000")
        try await c.start("330000")
        try await c.start("330100")  // every neighbour must say what it saw before the hold lifts
        let admin = try c.token("330000")
        var old: [String] = []
        for i in 0..<3 {
            let r = try c.call("POST", "330000", "/api/v1/policies", token: admin, body: policyBody("失盘前第\(i)号政策", dept: "330000-hrss"))
            old.append(try #require(r.json?["id"]?.stringValue))
        }
        #expect(try c.call("PATCH", "330000", "/api/v1/policies/\(old[0])", token: admin, body: ["title": "失盘前修订"]).status == 200)
        try await step(#line) { try c.get("100000", "/api/v1/policies/\(old[0])").json?["title"] == "失盘前修订" }
        c.stop("330000")
        try FileManager.default.removeItem(atPath: c.root + "/330000/data")
        try await c.start("330000")
        // Held until it caught up: a write is refused with a clear 503 or, once caught up, gets a new id.
        var fresh: [String] = []
        try await step(#line) {
            let r = try c.call("POST", "330000", "/api/v1/policies", token: admin, body: policyBody("失盘后新政策", dept: "330000-hrss"))
            if r.status == 503 { return false }
            #expect(r.status == 201)
            if let id = r.json?["id"]?.stringValue { fresh.append(id) }
            return true
        }
        for i in 0..<2 {
            let r = try c.call("POST", "330000", "/api/v1/policies", token: admin, body: policyBody("失盘后第\(i)号政策", dept: "330000-hrss"))
            fresh.append(try #require(r.json?["id"]?.stringValue))
        }
        #expect(Set(fresh).isDisjoint(with: old), "reused: \(Set(fresh).intersection(old))")
        // Its old policies come back, and the new ones reach the parent beside them.
        try await step(#line) { try c.get("330000", "/api/v1/policies/\(old[0])").json?["title"] == "失盘前修订" }
        try await step(#line) { try fresh.allSatisfy { try c.get("100000", "/api/v1/policies/\($0)").status == 200 } }
        #expect(try c.get("100000", "/api/v1/policies/\(old[1])").json?["title"] == "失盘前第1号政策")
        #expect(try c.total("100000") == 6)
        // Nothing was rejected on the way: no divergence was papered over.
        let status = try c.call("GET", "100000", "/api/v1/sync/status", token: try c.token("100000"))
        #expect(status.json?["rejected"] == 0)
        for id in ["100000", "330000", "330100"] { c.stop(id) }
    }

    /// `DemoRunner.waitUntil` that names the line that timed out.
    func step(_ line: Int, _ condition: () throws -> Bool) async throws {
        do { try await DemoRunner.waitUntil(seconds: 30, condition) } catch {
            print("STEP timed out at line \(line)")
            throw error
        }
    }
}
