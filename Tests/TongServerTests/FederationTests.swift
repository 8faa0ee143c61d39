import Foundation
import NIOPosix
import Testing
import TongCore
import TongPeer

@testable import TongDomain
@testable import TongServer
@testable import TongTools

@Suite(.serialized) struct FederationTests {
    @Test func recordsFlowUpAndDownAndNeverSideways() async throws {
        try await withFederation() { f in
            let county = try f.node("330106").create(
                kind: .policy, body: policyBody("西湖区水电气补贴", dept: "330106-commerce", themes: ["utilities"]), by: .admin)
            let national = try f.node("100000").create(kind: .policy, body: policyBody("全国缓缴社保费", dept: "100000-mof"), by: .admin)
            let all = f.fed.topology.nodes.map(\.id)
            try await DemoRunner.waitUntil(seconds: 15) {
                all.allSatisfy { f.has($0, national.id) } && ["330100", "330000", "100000"].allSatisfy { f.has($0, county.id) }
            }
            // Give sideways leaks a chance to happen before checking they did not.
            try await Task.sleep(for: .milliseconds(700))
            #expect(!f.has("320000", county.id) && !f.has("320100", county.id))
            // Directory reaches everyone: a Nanjing node knows the Xihu department and its sealing key.
            #expect(f.node("320100").department("330106-commerce")?.state["seal_key"]?.stringValue?.isEmpty == false)
            // The status route shows the links.
            let status = try f.node("330100").syncStatus()
            #expect(status["peers"]?.arrayValue?.count == 2)
        }
    }

    @Test func concurrentEditsBothWaysConverge() async throws {
        try await withFederation() { f in
            let p = try f.node("330100").create(kind: .policy, body: policyBody("杭州复工复产措施", dept: "330100-hrss", themes: ["resume_work"]), by: .admin)
            let holders = ["330106", "330100", "330000", "100000"]
            try await DemoRunner.waitUntil(seconds: 15) { holders.allSatisfy { f.has($0, p.id) } }
            // Different fields, concurrently: both survive everywhere.
            _ = try f.node("330100").patch(kind: .policy, id: p.id, body: ["title": "杭州复工复产若干措施"], by: .admin)
            _ = try f.node("100000").patch(kind: .policy, id: p.id, body: ["tags": ["标准标签"]], by: .admin)
            try await DemoRunner.waitUntil(seconds: 15) {
                try holders.allSatisfy { n in
                    let s = try f.node(n).db.record(p.id)!.state
                    return s["title"] == "杭州复工复产若干措施" && s["tags"] == ["标准标签"]
                }
            }
            // The same field, concurrently: one winner everywhere, the loser kept as a conflict.
            _ = try f.node("330100").patch(kind: .policy, id: p.id, body: ["themes": ["rent_relief"]], by: .admin)
            _ = try f.node("100000").patch(kind: .policy, id: p.id, body: ["themes": ["utilities"]], by: .admin)
            try await DemoRunner.waitUntil(seconds: 15) {
                let states = try holders.map { try f.node($0).db.record(p.id)!.state }
                return states.allSatisfy { $0.conflicts.count == 1 && $0.values == states[0].values && $0.version == states[0].version }
            }
            // An ancestor may not change the title: refused at the API, nothing written.
            #expect(throws: NodeError.self) { _ = try f.node("330000").patch(kind: .policy, id: p.id, body: ["title": "越权"], by: .admin) }
            // A later edit settles the conflict everywhere.
            _ = try f.node("330100").patch(kind: .policy, id: p.id, body: ["themes": ["utilities"]], by: .admin)
            try await DemoRunner.waitUntil(seconds: 15) {
                try holders.allSatisfy { try f.node($0).db.record(p.id)!.state.conflicts.isEmpty }
            }
        }
    }

    /// Pushes raw sets to `target` as `from` (with `from`'s certificate), at the target's cursor.
    func push(_ f: TestFederation, sets: [JSONValue], as from: String, to target: String) async throws -> JSONValue {
        let client = try PeerClient(credentials: PeerCredentials.load(home: f.fed.root + "/" + from), group: MultiThreadedEventLoopGroup.singleton)
        let port = f.fed.servers[target]!.peerPort!
        for _ in 0..<20 {
            let hello = try await client.request(
                method: "GET", host: "127.0.0.1", port: port, path: "/sync/v1/hello", expectedNodeID: target, body: nil)
            let h = try JSONParser.parse(hello.body)
            let epoch = try f.node(from).db.state().logEpoch
            let after = h["cursor"]?["epoch"]?.stringValue == epoch ? (h["cursor"]?["seq"]?.intValue ?? 0) : 0
            let body: JSONValue = ["epoch": .string(epoch), "after": .int(after), "upto": .int(after), "sets": .array(sets)]
            let r = try await client.request(
                method: "POST", host: "127.0.0.1", port: port, path: "/sync/v1/push", expectedNodeID: target, body: CanonicalJSON.encode(body))
            let v = try JSONParser.parse(r.body)
            if v["accepted"] == .bool(true) { return v }
        }
        Issue.record("push never hit the cursor")
        return nil
    }

    @Test func tamperedForgedAndUnauthorisedSetsAreRejectedWhole() async throws {
        try await withFederation() { f in
            let zj = f.node("330000")
            let p = try zj.create(kind: .policy, body: policyBody("浙江稳岗返还", dept: "330000-hrss"), by: .admin)
            try await DemoRunner.waitUntil(seconds: 15) { f.has("100000", p.id) }
            // Capture the set from the log and flip one byte of its payload.
            let wire = try #require(try zj.db.outgoing(to: "100000", after: 0, topology: f.fed.topology).sets.last)
            var captured = try JSONParser.parse(wire).objectValue!
            let payload = captured["payload"]!.stringValue!
            captured["payload"] = .string(payload.replacingOccurrences(of: "浙江稳岗返还", with: "浙江稳岗返现"))
            let before = try f.node("100000").db.syncCounts().rejected
            let r1 = try await push(f, sets: [.object(captured)], as: "330000", to: "100000")
            #expect(r1["rejected"] == 1 && r1["applied"] == 0)
            // A forged origin: 330000 signs a set claiming to come from 330100.
            let forged = ChangeSet(
                origin: "330100", scope: .owned("330100"), createdAt: 1,
                changes: [
                    Change(
                        record: "330100-p999", kind: .policy, owner: "330100", counter: 999, at: 1, context: VersionVector(),
                        fields: ["title": "伪造", "department": "330100-hrss"])
                ])
            let r2 = try await push(f, sets: [try zj.signer.sign(forged).wireJSON], as: "330000", to: "100000")
            #expect(r2["rejected"] == 1)
            // Properly signed by 330000 but breaking authority: a province retitling the national hub's policy.
            let national = try f.node("100000").create(kind: .policy, body: policyBody("全国政策", dept: "100000-mof"), by: .admin)
            try await DemoRunner.waitUntil(seconds: 15) { f.has("330000", national.id) }
            let grab = ChangeSet(
                origin: "330000", scope: .owned("100000"), createdAt: 1,
                changes: [
                    Change(
                        record: national.id, kind: .policy, owner: "100000", counter: 10_000, at: 1, context: VersionVector(),
                        fields: ["title": "越权修改"])
                ])
            let r3 = try await push(f, sets: [try zj.signer.sign(grab).wireJSON, ["garbage": true]], as: "330000", to: "100000")
            #expect(r3["rejected"] == 1 && r3["malformed"] == 1)
            #expect(try f.node("100000").db.syncCounts().rejected == before + 4)
            #expect(!f.has("100000", "330100-p999"))
            #expect(try f.node("100000").db.record(national.id)?.state["title"] == "全国政策")
            #expect(try f.node("100000").db.record(p.id)?.state["title"] == "浙江稳岗返还")
            // The node keeps syncing good sets.
            let later = try zj.create(kind: .policy, body: policyBody("浙江后续政策", dept: "330000-hrss"), by: .admin)
            try await DemoRunner.waitUntil(seconds: 15) { f.has("100000", later.id) }
            let status = try f.node("100000").syncStatus()
            #expect(status["rejected"]?.intValue == Int64(before + 4))
        }
    }

    @Test func foreignCertificatesAndNonNeighboursAreRefused() async throws {
        try await withFederation() { f in
            let port = f.fed.servers["330000"]!.peerPort!
            // A node of another federation (another CA) cannot even complete the handshake.
            let other = NSTemporaryDirectory() + "tong-other-\(UUID().uuidString.prefix(6))"
            _ = try FederationLayout.create(topologyText: TestFederation.demoTopology, out: other, force: true)
            let foreign = try PeerClient(credentials: PeerCredentials.load(home: other + "/100000"), group: MultiThreadedEventLoopGroup.singleton)
            await #expect(throws: (any Error).self) {
                _ = try await foreign.request(
                    method: "GET", host: "127.0.0.1", port: port, path: "/sync/v1/hello", expectedNodeID: "330000", body: nil)
            }
            // A certified node that is not a neighbour (Nanjing → Zhejiang) is refused.
            let nanjing = try PeerClient(
                credentials: PeerCredentials.load(home: f.fed.root + "/320100"), group: MultiThreadedEventLoopGroup.singleton)
            let r = try await nanjing.request(
                method: "GET", host: "127.0.0.1", port: port, path: "/sync/v1/hello", expectedNodeID: "330000", body: nil)
            #expect(r.status == 403)
            // The rightful child is served.
            let hz = try PeerClient(credentials: PeerCredentials.load(home: f.fed.root + "/330100"), group: MultiThreadedEventLoopGroup.singleton)
            #expect(
                try await hz.request(method: "GET", host: "127.0.0.1", port: port, path: "/sync/v1/hello", expectedNodeID: "330000", body: nil).status
                    == 200)
            // And a client expecting another node than the one answering fails.
            await #expect(throws: (any Error).self) {
                _ = try await hz.request(method: "GET", host: "127.0.0.1", port: port, path: "/sync/v1/hello", expectedNodeID: "100000", body: nil)
            }
        }
    }
}
