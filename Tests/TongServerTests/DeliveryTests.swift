import Foundation
import Testing
import TongCore

@testable import TongDomain
@testable import TongServer
@testable import TongTools

/// 送达 on real nodes: a national policy with eligibility reaches a county node and is
/// delivered to the enterprises there that it fits, by signed webhook and Atom feed.
@Suite(.serialized) struct DeliveryTests {
    static let restaurant: JSONValue = [
        "uscc": "91330106MA27XF6D24", "name": "西湖区小馆餐饮有限公司", "region": "330106", "industry": "H6210", "employees": 8,
        "revenue_wan": 80, "assets_wan": 50, "established_on": "2019-05-01", "taxpayer": "small_scale",
        "contact": ["name": "王小明", "phone": "13912345678"],
    ]
    static let factory: JSONValue = [
        "uscc": "91330106MA27XF6KXX", "name": "西湖区精密制造有限公司", "region": "330106", "industry": "C3411", "employees": 500,
        "revenue_wan": 30000, "assets_wan": 20000, "established_on": "2008-03-01", "taxpayer": "general",
        "contact": ["name": "李工", "phone": "13700001111"],
    ]
    static let rentRelief: JSONValue = [
        "title": "关于餐饮业小微企业房租补贴的通知", "department": "100000-mof", "issued_on": "2026-01-05", "themes": ["rent_relief"],
        "body": "对住宿和餐饮业小微企业给予房租补贴。",
        "eligibility": ["regions": ["330000"], "industries": ["H"], "size_classes": ["micro", "small"]],
    ]

    /// A restaurant at 330106 (the USCC's first 17 characters given; its check character is
    /// computed) whose webhook goes to `receiver`; the receiver learns its secret.
    /// - Returns: its id and token.
    static func restaurant(_ f: TestFederation, webhook receiver: WebhookReceiver, uscc17: String = "91330106MA27XF6D2") async throws
        -> (id: String, token: String)
    {
        var body = restaurant.objectValue!
        body["uscc"] = .string(uscc17 + String(try #require(USCC.checkCharacter(for: uscc17))))
        body["webhook"] = ["url": .string(receiver.url)]
        let r = try await f.request("POST", "330106", "/api/v1/enterprises", body: .object(body))
        #expect(r.status == 201, "\(r.text)")
        receiver.secrets.withLock { $0.append(r.json!["webhook_secret"]!.stringValue!) }
        return (try #require(r.json?["id"]?.stringValue), try #require(r.json?["token"]?.stringValue))
    }

    /// Publishes the rent relief as 330106's own policy, titled `title`, with its admin token.
    /// - Returns: the policy's id.
    static func publishLocal(_ f: TestFederation, _ title: String) async throws -> String {
        let admin = try String(contentsOfFile: f.fed.root + "/330106/admin.token", encoding: .utf8).trimmingCharacters(
            in: .whitespacesAndNewlines)
        var local = rentRelief.objectValue!
        local["department"] = "330106-commerce"
        local["title"] = .string(title)
        let p = try await f.request("POST", "330106", "/api/v1/policies", token: admin, body: .object(local))
        #expect(p.status == 201, "\(p.text)")
        return try #require(p.json?["id"]?.stringValue)
    }

    @Test func aNationalPolicyReachesTheRestaurantItFitsAndNotTheFactory() async throws {
        let receiver = try await WebhookReceiver()
        try await withFederation { f in
            var restaurant = Self.restaurant.objectValue!
            restaurant["webhook"] = ["url": .string(receiver.url)]
            let r = try await f.request("POST", "330106", "/api/v1/enterprises", body: .object(restaurant))
            #expect(r.status == 201, "\(r.text)")
            let rid = try #require(r.json?["id"]?.stringValue), rtoken = try #require(r.json?["token"]?.stringValue)
            #expect(r.json?["size_class"] == "micro")
            receiver.secrets.withLock { $0.append(r.json!["webhook_secret"]!.stringValue!) }
            let fr = try await f.request("POST", "330106", "/api/v1/enterprises", body: Self.factory)
            #expect(fr.status == 201, "\(fr.text)")
            #expect(fr.json?["size_class"] == "medium")  // C: 300+ employees and 2,000+ 万元
            let fid = try #require(fr.json?["id"]?.stringValue), ftoken = try #require(fr.json?["token"]?.stringValue)
            // The same USCC twice at one node: 409.
            #expect(try await f.request("POST", "330106", "/api/v1/enterprises", body: Self.factory).status == 409)

            let admin = try String(contentsOfFile: f.fed.root + "/100000/admin.token", encoding: .utf8).trimmingCharacters(
                in: .whitespacesAndNewlines)
            let p = try await f.request("POST", "100000", "/api/v1/policies", token: admin, body: Self.rentRelief)
            #expect(p.status == 201, "\(p.text)")
            let pid = try #require(p.json?["id"]?.stringValue)

            try await DemoRunner.waitUntil(seconds: 20) { receiver.accepted.count == 1 }
            let got = try #require(receiver.received.withLock { $0.first })
            #expect(got.signatureValid)
            let payload = try JSONParser.parse(got.body)
            #expect(payload["data"]?["record"]?.stringValue == pid)
            #expect(payload["data"]?["enterprise"]?.stringValue == rid)

            // Its deliveries say delivered; the feed lists the policy; the factory got nothing.
            try await DemoRunner.waitUntil(seconds: 10) {
                (try? f.node("330106").db.deliveries(enterprise: rid).first?.state) == "delivered"
            }
            let feed = try await f.request("GET", "330106", "/feeds/enterprises/\(rid).atom?token=\(rtoken)")
            #expect(feed.status == 200 && feed.contentType.hasPrefix("application/atom+xml"))
            #expect(feed.text.contains("关于餐饮业小微企业房租补贴的通知") && feed.text.contains(pid))
            #expect(feed.text.contains("<link href=\"http://"))
            // Behind a TLS proxy, the feed's links are https.
            let proxied = try await PortalTestClient(address: f.fed.http["330106"]!).send(
                "GET", "/feeds/enterprises/\(rid).atom?token=\(rtoken)", body: nil, contentType: nil, extraHeaders: ["X-Forwarded-Proto: https"])
            #expect(proxied.body.contains("<link href=\"https://") && !proxied.body.contains("<link href=\"http://"), "\(proxied.body)")
            let none = try await f.request("GET", "330106", "/api/v1/enterprises/\(fid)/deliveries", token: ftoken)
            #expect(none.json?["items"]?.arrayValue?.isEmpty == true)
            // Another enterprise's token reads nothing of the restaurant.
            #expect(try await f.request("GET", "330106", "/api/v1/enterprises/\(rid)", token: ftoken).status == 403)
            #expect(try await f.request("GET", "330106", "/feeds/enterprises/\(rid).atom?token=\(ftoken)").status == 403)
            // A token no enterprise holds is wrong (401). A valid one opens no other id, existing or not:
            // 403 for both, so its holder cannot probe which enterprise ids exist.
            #expect(try await f.request("GET", "330106", "/api/v1/enterprises/\(rid)", token: "made-up").status == 401)
            #expect(try await f.request("GET", "330106", "/api/v1/enterprises/330106-ent-000000000000", token: ftoken).status == 403)

            // The matches say why: the restaurant fits; the factory is near (fails the industry and size).
            let m = try await f.request("GET", "330106", "/api/v1/enterprises/\(rid)/matches", token: rtoken)
            #expect(m.json?["items"]?.arrayValue?.contains { $0["id"]?.stringValue == pid } == true)
            let fm = try await f.request("GET", "330106", "/api/v1/enterprises/\(fid)/matches", token: ftoken)
            #expect(fm.json?["items"]?.arrayValue?.contains { $0["id"]?.stringValue == pid } == false)

            // The profile never left 330106: no other node's files hold its USCC or phone.
            try await f.stop()
            for n in f.fed.topology.nodes.map(\.id) where n != "330106" {
                for needle in ["91330106MA27XF6D24", "13912345678", "西湖区小馆餐饮"] {
                    #expect(!Self.filesContain(f.fed.root + "/" + n, needle), "\(needle) found at \(n)")
                }
            }
            #expect(Self.filesContain(f.fed.root + "/330106", "91330106MA27XF6D24"))
        }
    }

    @Test func aReceiverThatIsDownGetsTheDeliveryOnceWhenItIsBack() async throws {
        let receiver = try await WebhookReceiver()
        receiver.up.withLock { $0 = false }
        try await withFederation { f in
            let rid = try await Self.restaurant(f, webhook: receiver).id
            _ = try await Self.publishLocal(f, "西湖区餐饮企业房租减免办法")
            // Refused while down: attempts pile up, the delivery stays pending with its error.
            try await DemoRunner.waitUntil(seconds: 20) { receiver.received.withLock { $0.count } >= 3 }
            let pending = try #require(try f.node("330106").db.deliveries(enterprise: rid).first)
            #expect(pending.state == "pending" && pending.attempts >= 2 && pending.lastError?.contains("503") == true)
            receiver.up.withLock { $0 = true }
            try await DemoRunner.waitUntil(seconds: 20) { (try? f.node("330106").db.deliveries(enterprise: rid).first?.state) == "delivered" }
            try await Task.sleep(for: .milliseconds(800))
            // Every attempt carried the same webhook-id, and it was accepted exactly once.
            let ids = Set(receiver.received.withLock { $0.map(\.id) })
            #expect(ids.count == 1)
            #expect(receiver.accepted.values.reduce(0, +) == 1)
        }
    }

    @Test func aWebhookNotYetSentIsNotSentOnceItsPolicyIsWithdrawn() async throws {
        let receiver = try await WebhookReceiver()
        receiver.up.withLock { $0 = false }
        try await withFederation { f in
            let (rid, rtoken) = try await Self.restaurant(f, webhook: receiver)
            let admin = try String(contentsOfFile: f.fed.root + "/330106/admin.token", encoding: .utf8).trimmingCharacters(
                in: .whitespacesAndNewlines)
            let pid = try await Self.publishLocal(f, "西湖区餐饮企业房租减免办法（已废止）")
            try await DemoRunner.waitUntil(seconds: 20) { receiver.received.withLock { $0.count } >= 2 }
            #expect(try f.node("330106").db.deliveries(enterprise: rid).first?.state == "pending")
            // Withdrawn while the receiver is down: the delivery is withdrawn, not sent when it is back.
            #expect(try await f.request("DELETE", "330106", "/api/v1/policies/\(pid)", token: admin).status == 204)
            let withdrawn = try #require(try f.node("330106").db.deliveries(enterprise: rid).first)
            #expect(withdrawn.state == "withdrawn" && withdrawn.lastError == "withdrawn before delivery", "\(withdrawn)")
            try await Task.sleep(for: .milliseconds(300))  // an attempt in flight at the withdrawal is refused too
            receiver.up.withLock { $0 = true }
            let tried = receiver.received.withLock { $0.count }
            try await Task.sleep(for: .milliseconds(1_500))
            #expect(receiver.received.withLock { $0.count } <= tried + 1)  // at most the attempt already in flight
            #expect(receiver.accepted.values.reduce(0, +) == 0)
            #expect(try f.node("330106").db.deliveries(enterprise: rid).first?.state == "withdrawn")
            let listed = try await f.request("GET", "330106", "/api/v1/enterprises/\(rid)/deliveries", token: rtoken)
            #expect(listed.text.contains("withdrawn"), "\(listed.text)")
            // Times in UTC ISO 8601, as everywhere in the API.
            let created = try #require(listed.json?["items"]?.arrayValue?.first?["created_at"]?.stringValue)
            #expect(created.firstMatch(of: /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/) != nil, "\(created)")
            // The feed says the policy was withdrawn.
            let feed = try await f.request("GET", "330106", "/feeds/enterprises/\(rid).atom?token=\(rtoken)")
            #expect(feed.text.contains("该政策已废止（\(pid)）"), "\(feed.text)")
            // Dated when it was withdrawn, so feed readers show the change.
            let withdrawnAt = try #require(try f.node("330106").db.record(pid)).updatedAt
            #expect(feed.text.contains("<updated>\(TongNode.iso8601(ms: withdrawnAt))</updated>"), "\(feed.text)")
        }
    }

    @Test func aSlowReceiverDelaysNoOtherEnterprisesWebhook() async throws {
        let slow = try await WebhookReceiver(), fast = try await WebhookReceiver()
        slow.delay.withLock { $0 = .seconds(10) }
        try await withFederation { f in
            // A restaurant whose receiver takes 10 s to answer gets a policy; its attempt is in flight.
            _ = try await Self.restaurant(f, webhook: slow)
            _ = try await Self.publishLocal(f, "西湖区餐饮企业房租补贴（第一批）")
            try await Task.sleep(for: .milliseconds(800))
            // Another restaurant registers and a second policy comes: its webhook does not wait for the slow one.
            let quick = try await Self.restaurant(f, webhook: fast, uscc17: "91330108MA27XF6D2").id
            _ = try await Self.publishLocal(f, "西湖区餐饮企业房租补贴（第二批）")
            try await DemoRunner.waitUntil(seconds: 5) { fast.accepted.values.reduce(0, +) == 1 }
            #expect(slow.accepted.isEmpty)
            // The node records the outcome once the answer is in: a moment after the receiver accepted.
            try await DemoRunner.waitUntil(seconds: 5) { try f.node("330106").db.deliveries(enterprise: quick).first?.state == "delivered" }
        }
    }

    @Test func registrationIsValidatedAndWebhooksMustBePublic() async throws {
        try await withFederation { f in
            var bad = Self.restaurant.objectValue!
            bad["uscc"] = "11010519491231002X"  // an ID-card number
            let r = try await f.request("POST", "330106", "/api/v1/enterprises", body: .object(bad))
            #expect(r.status == 422)
            #expect(r.json?["errors"]?["uscc"]?.stringValue?.contains("身份证") == true)
            var privateHook = Self.restaurant.objectValue!
            privateHook["webhook"] = ["url": "http://10.1.2.3/hook"]
            let w = try await f.request("POST", "330106", "/api/v1/enterprises", body: .object(privateHook))
            #expect(w.status == 422 && w.json?["errors"]?["webhook"] != nil)
            var ftp = Self.restaurant.objectValue!
            ftp["webhook"] = ["url": "ftp://example.com/x"]
            #expect(try await f.request("POST", "330106", "/api/v1/enterprises", body: .object(ftp)).status == 422)
            // A county node registers only its own enterprises.
            var elsewhere = Self.restaurant.objectValue!
            elsewhere["region"] = "320102"
            #expect(try await f.request("POST", "330106", "/api/v1/enterprises", body: .object(elsewhere)).status == 422)
            // Nothing was stored by any of these.
            #expect(f.node("330106").db.enterpriseCount == 0)
            // The calculator needs no registration and stores nothing.
            let calc = try await f.request(
                "POST", "330106", "/api/v1/match",
                body: [
                    "region": "330106", "industry": "H62", "employees": 8, "revenue_wan": 80, "assets_wan": 50,
                ])
            #expect(calc.status == 200 && calc.json?["size_class"] == "micro")
            #expect(f.node("330106").db.enterpriseCount == 0)
        }
    }

    /// Whether any file under `dir` contains `needle` (UTF-8).
    static func filesContain(_ dir: String, _ needle: String) -> Bool {
        let n = Data(needle.utf8)
        let e = FileManager.default.enumerator(atPath: dir)
        while let p = e?.nextObject() as? String {
            if let d = FileManager.default.contents(atPath: dir + "/" + p), d.range(of: n) != nil { return true }
        }
        return false
    }

    /// Numeric host spellings that resolvers read as addresses but HTTP clients refuse (or reach
    /// differently), NAT64 addresses that embed a private IPv4 one, and impossible ports are all
    /// refused when the webhook is registered, even where loopback is allowed.
    @Test func oddWebhookHostsAndPortsAreRefused() {
        let odd = [
            "http://2130706433/h", "http://0x7f.1/h", "http://127.1/h", "http://017.0.0.1/h", "http://[64:ff9b::a00:1]/h",
            "http://example.com:0/h", "http://example.com:99999/h",
        ]
        for url in odd { #expect(WebhookTarget.refusal(url, allow: ["127.0.0.1"], resolve: false) != nil, "\(url)") }
        #expect(WebhookTarget.refusal("http://127.0.0.1:8080/h", allow: ["127.0.0.1"], resolve: false) == nil)
        #expect(WebhookTarget.refusal("https://8.8.8.8/hook", allow: [], resolve: false) == nil)
        #expect(WebhookTarget.refusal("https://hooks.example.com:8443/x", allow: [], resolve: false) == nil)
    }

}
