import Foundation
import Testing
import TongCore

@testable import TongDomain
@testable import TongServer
@testable import TongTools

/// /supervision's 送达 and 办理 tables at the national node, from the stats records that the
/// county (deliveries) and the ministry (applications) publish and that flow up the tree.
@Suite(.serialized) struct PortalSupervisionTests {
    @Test func supervisionShowsDeliveryAndApplicationFiguresFromAcrossTheTree() async throws {
        let receiver = try await WebhookReceiver()
        try await withFederation(topology: PortalApplicationFlowTests.chain) { f in
            let admin = try ApplicationTests.token(f, "100000", "admin.token")
            let mof = try ApplicationTests.token(f, "100000", "tokens/100000-mof.token")
            var restaurant = DeliveryTests.restaurant.objectValue!
            restaurant["webhook"] = ["url": .string(receiver.url)]
            let r = try await f.request("POST", "330106", "/api/v1/enterprises", body: .object(restaurant))
            #expect(r.status == 201, "\(r.text)")
            let shop = (id: try #require(r.json?["id"]?.stringValue), token: try #require(r.json?["token"]?.stringValue))
            receiver.secrets.withLock { $0.append(r.json!["webhook_secret"]!.stringValue!) }
            let p = try await f.request("POST", "100000", "/api/v1/policies", token: admin, body: ApplicationTests.rentSubsidy)
            let pid = try #require(p.json?["id"]?.stringValue)
            try await DemoRunner.waitUntil(seconds: 20) { f.has("330106", pid) }

            // Apply, then approve and pay 5 万元.
            let a = try await f.request(
                "POST", "330106", "/api/v1/applications", token: shop.token,
                body: ["policy": .string(pid), "enterprise": .string(shop.id), "answers": ["rent": "9000", "landlord": "某物业公司"]])
            #expect(a.status == 201, "\(a.text)")
            let aid = try #require(a.json?["id"]?.stringValue)
            try await eventually {
                (try? f.node("100000").applications(department: "100000-mof", status: "delivered", by: .admin).count) == 1
            }
            for (status, amount) in [("accepted", JSONValue.null), ("approved", .null), ("paid", .int(5))] {
                var body: [String: JSONValue] = ["status": .string(status)]
                if amount != .null { body["amount_wan"] = amount }
                let d = try await f.request("POST", "100000", "/api/v1/applications/\(aid)/decision", token: mof, body: .object(body))
                #expect(d.status == 200, "\(d.text)")
            }

            let c = PortalEnterpriseTests.client(f, "100000")
            // Staff only: the anonymous get the login form.
            #expect(try await c.get("/supervision").body.contains("action=\"/login\""))
            _ = try await c.post("/login", [("token", admin), ("next", "supervision")])
            var page = ""
            // The county's 送达 figures reach the national node once its stats record has travelled up.
            try await eventually {
                page = try await c.get("/supervision").body
                let d = PortalEnterpriseTests.slice(page, from: "<table class=\"deliveries-supervision\">", to: "</table>")
                let ap = PortalEnterpriseTests.slice(page, from: "<table class=\"applications-supervision\">", to: "</table>")
                return d.contains("<code>330106</code>") && d.contains(">100.0%<") && ap.contains("<td>5</td>")
            }
            let deliveries = PortalEnterpriseTests.slice(page, from: "<table class=\"deliveries-supervision\">", to: "</table>")
            let row = PortalEnterpriseTests.slice(deliveries, from: "<code>330106</code>", to: "</tr>")
            // 西湖区's row for 财政部: one policy, one enterprise, one webhook delivered, none failed.
            #expect(
                row.contains("财政部<br><code>100000-mof</code></td><td>1</td><td>1</td><td>1</td><td>1</td><td class=\"\">0</td><td>0</td>"), "\(row)")
            let applications = PortalEnterpriseTests.slice(page, from: "<table class=\"applications-supervision\">", to: "</table>")
            let line = PortalEnterpriseTests.slice(applications, from: "<code>100000-mof</code>", to: "</tr>")
            #expect(line.contains("关于小微餐饮企业房租补贴申报的通知"), "\(line)")
            // received 1, decided 1, on time 100%, approved 1, rejected 0, paid 1 and 5 万元, open 0, overdue 0, 0 days.
            #expect(
                line.contains(
                    "<td>1</td><td>1</td><td class=\"rate\">100.0%</td><td>1</td><td>0</td><td>1</td><td>5</td><td>0</td>"
                        + "<td class=\"\">0</td><td>0 天</td>"
                ),
                "\(line)")
            // No personal data in the figures.
            for s in ["91330106MA27XF6D24", "西湖区小馆餐饮有限公司", "13912345678", "某物业公司"] { #expect(!page.contains(s), "\(s)") }
        }
    }
}
