import Foundation
import Testing
import TongCore

@testable import TongDomain
@testable import TongServer
@testable import TongTools

/// 办理 in the portal over real nodes: the apply form generated from the policy, its one-time
/// token, errors beside the fields, ineligibility and duplicates, the receipt's timeline in
/// Beijing time, 补正 and resubmission, and the department's desk with only the moves allowed.
@Suite(.serialized) struct PortalApplicationTests {
    /// A 330106 policy taking applications from catering enterprises, with one field of each kind.
    static let localPolicy: JSONValue = [
        "title": "西湖区餐饮企业房租补贴申报", "department": "330106-commerce", "issued_on": "2026-01-05", "themes": ["rent_relief"],
        "body": "符合条件的餐饮企业可在线申报房租补贴。", "apply_from": "2026-01-01", "apply_to": "2099-12-31",
        "eligibility": ["regions": ["330106"], "industries": ["H"]],
        "application": [
            "mode": "apply", "materials": ["房屋租赁合同", "租金支付凭证"],
            "fields": [
                ["id": "rent", "label": "月租金（元）", "type": "number"],
                ["id": "landlord", "label": "出租方名称", "type": "text"],
                ["id": "lease_from", "label": "租期起始日", "type": "date"],
                ["id": "site", "label": "经营场所类型", "type": "choice", "choices": ["临街商铺", "商场", "其他"]],
                ["id": "remark", "label": "备注", "type": "text", "required": false],
            ],
        ],
    ]

    static let goodAnswers: [(String, String)] = [
        ("a.rent", "12000"), ("a.landlord", "杭州西湖物业管理有限公司"), ("a.lease_from", "2025-03-01"), ("a.site", "临街商铺"),
    ]

    static func register(_ f: TestFederation, _ body: JSONValue) async throws -> (id: String, token: String) {
        let r = try await f.request("POST", "330106", "/api/v1/enterprises", body: body)
        #expect(r.status == 201, "\(r.text)")
        return (try #require(r.json?["id"]?.stringValue), try #require(r.json?["token"]?.stringValue))
    }

    /// Signs a browser in as the enterprise (CSRF cookie from the sign-in page first).
    static func signIn(_ c: PortalTestClient, _ e: (id: String, token: String)) async throws {
        _ = try await c.get("/enterprise")
        let r = try await c.post("/enterprise/login", [("id", e.id), ("token", e.token)])
        #expect(r.status == 303)
    }

    /// The one-time token in a page's form.
    static func once(_ html: String) throws -> String {
        String(try #require(html.firstMatch(of: /name="_once" value="([0-9a-f]{64})"/)).output.1)
    }

    static func slice(_ html: String, from: String, to: String) -> String { PortalEnterpriseTests.slice(html, from: from, to: to) }

    @Test func theApplyFormIsGeneratedFiledOnceAndShowsErrorsBesideTheFields() async throws {
        try await withFederation(topology: TestTree.toml(["330106"], federation: "portal-app")) { f in
            let n = f.node("330106")
            let pid = try n.create(kind: .policy, body: Self.localPolicy, by: .admin).id
            let shop = try await Self.register(f, DeliveryTests.restaurant)
            let c = PortalEnterpriseTests.client(f, "330106")

            // The policy page offers 在线申报 while the window is open.
            let policy = try await c.get("/policies/\(pid)")
            #expect(policy.body.contains("<a class=\"button apply\" href=\"/policies/\(pid)/apply\">在线申报</a>"))
            // Not signed in: the page explains and points to 企业服务, with the materials listed.
            let anon = try await c.get("/policies/\(pid)/apply")
            #expect(anon.status == 401)
            #expect(anon.body.contains("请先登录企业服务") && anon.body.contains("href=\"/enterprise\""))
            #expect(anon.body.contains("<li>房屋租赁合同</li>") && !anon.body.contains("name=\"_once\""))

            try await Self.signIn(c, shop)
            let form = try await c.get("/policies/\(pid)/apply")
            #expect(form.status == 200)
            let materials = Self.slice(form.body, from: "<h2>所需材料</h2>", to: "</section>")
            #expect(materials.contains("<li>房屋租赁合同</li>") && materials.contains("<li>租金支付凭证</li>"))
            #expect(form.body.contains("<input id=\"f-a-rent\" name=\"a.rent\" type=\"number\" step=\"any\""))
            #expect(form.body.contains("<input id=\"f-a-lease_from\" name=\"a.lease_from\" type=\"date\""))
            #expect(form.body.contains("<input type=\"radio\" name=\"a.site\" value=\"商场\""))
            #expect(form.body.contains("西湖区小馆餐饮有限公司") && form.body.contains("91330106MA27XF6D24"))
            let token = try Self.once(form.body)

            // Without the CSRF field: refused before anything is filed.
            #expect(try await c.post("/policies/\(pid)/apply", Self.goodAnswers + [("_once", token)], csrf: false).status == 403)
            // A bad number and a missing name: each message beside its field, the rest refilled.
            let bad = try await c.post(
                "/policies/\(pid)/apply", [("a.rent", "一万二"), ("a.lease_from", "2025-03-01"), ("a.site", "商场"), ("_once", token)])
            #expect(bad.status == 422)
            let rent = Self.slice(bad.body, from: "<label for=\"f-a-rent\">", to: "</div>")
            #expect(rent.contains("<span class=\"field-error\" id=\"err-rent\">“月租金（元）”应填写数字</span>"), "\(rent)")
            let landlord = Self.slice(bad.body, from: "<label for=\"f-a-landlord\">", to: "</div>")
            #expect(landlord.contains("id=\"err-landlord\"") && landlord.contains("请填写“出租方名称”"))
            #expect(!bad.body.contains("id=\"err-lease_from\"") && !bad.body.contains("id=\"err-remark\""))
            #expect(bad.body.contains("value=\"商场\" checked"))
            #expect(try n.db.applications(enterprise: shop.id).isEmpty)

            // The same form posted twice at once (a double click) files one application; both
            // requests land on the same receipt. The refused attempt gave the token back.
            async let first = c.post("/policies/\(pid)/apply", Self.goodAnswers + [("_once", token)])
            async let second = c.post("/policies/\(pid)/apply", Self.goodAnswers + [("_once", token)])
            let (r1, r2) = try await (first, second)
            #expect(r1.status == 303 && r2.status == 303, "\(r1.status) \(r2.status)")
            let location = try #require(r1.header("Location"))
            #expect(location.hasPrefix("/receipt/") && location.hasSuffix("?new=1"))
            #expect(r2.header("Location") == location)
            // A resend of the same form later gets the same answer, not a second filing.
            let resent = try await c.post("/policies/\(pid)/apply", Self.goodAnswers + [("_once", token)])
            #expect(resent.status == 303 && resent.header("Location") == location)
            #expect(try n.db.applications(enterprise: shop.id).count == 1)

            let receipt = try await c.get(location)
            #expect(receipt.status == 200)
            // The department is at this node too, so it may already have arrived (已送达).
            #expect(receipt.body.contains("<span class=\"badge status\">已提交</span>") && receipt.body.contains("提交成功"))
            #expect(receipt.body.contains("<strong>已提交</strong>") || receipt.body.contains("<strong>已送达</strong>"))
            let code = String(location.dropFirst("/receipt/".count).prefix { $0 != "?" })
            #expect(receipt.body.contains(code.uppercased()) && receipt.body.contains("西湖区餐饮企业房租补贴申报"))

            // A new form for the same policy: the node refuses a second open application, and
            // the page links to the open one's receipt.
            let again = try await c.get("/policies/\(pid)/apply")
            let dup = try await c.post("/policies/\(pid)/apply", Self.goodAnswers + [("_once", try Self.once(again.body))])
            #expect(dup.status == 409)
            let dupPart = Self.slice(dup.body, from: "id=\"duplicate\"", to: "</section>")
            #expect(dupPart.contains("已有一件未办结的申请") && dupPart.contains("href=\"/receipt/\(code)\""), "\(dupPart)")
            #expect(try n.db.applications(enterprise: shop.id).count == 1)
        }
    }

    @Test func anIneligibleEnterpriseSeesTheFailingConditionsAndAClosedWindowShowsNoForm() async throws {
        try await withFederation(topology: TestTree.toml(["330106"], federation: "portal-app")) { f in
            let n = f.node("330106")
            let pid = try n.create(kind: .policy, body: Self.localPolicy, by: .admin).id
            var closed = Self.localPolicy.objectValue!
            closed["title"] = "已截止的房租补贴"
            closed["apply_from"] = "2020-01-01"
            closed["apply_to"] = "2020-12-31"
            let closedID = try n.create(kind: .policy, body: .object(closed), by: .admin).id
            let plant = try await Self.register(f, DeliveryTests.factory)
            let c = PortalEnterpriseTests.client(f, "330106")
            try await Self.signIn(c, plant)
            let form = try await c.get("/policies/\(pid)/apply")
            let no = try await c.post("/policies/\(pid)/apply", Self.goodAnswers + [("_once", try Self.once(form.body))])
            #expect(no.status == 422)
            let failing = Self.slice(no.body, from: "id=\"ineligible\"", to: "</section>")
            #expect(failing.contains("不符合申报条件") && failing.contains("<li><strong>行业</strong>："), "\(failing)")
            #expect(!failing.contains("<strong>注册地</strong>"))  // the region fits
            #expect(try n.db.applications(enterprise: plant.id).isEmpty)

            let page = try await c.get("/policies/\(closedID)")
            #expect(page.body.contains("申报已于 2020-12-31 截止") && !page.body.contains("/policies/\(closedID)/apply\""))
            let late = try await c.get("/policies/\(closedID)/apply")
            #expect(late.status == 422 && late.body.contains("申报已于 2020-12-31 截止") && !late.body.contains("name=\"_once\""))
        }
    }

    @Test func confirmOnlyPoliciesAreConfirmedAndApprovedInABatchAtTheDesk() async throws {
        try await withFederation(topology: TestTree.toml(["330106"], federation: "portal-app")) { f in
            let n = f.node("330106")
            var free = Self.localPolicy.objectValue!
            free["title"] = "餐饮企业房租补贴（免申即享）"
            free["application"] = ["mode": "confirm", "materials": []]
            let pid = try n.create(kind: .policy, body: .object(free), by: .admin).id
            let shop = try await Self.register(f, DeliveryTests.restaurant)
            let c = PortalEnterpriseTests.client(f, "330106")
            #expect(try await c.get("/policies/\(pid)").body.contains("href=\"/policies/\(pid)/apply\">确认享受</a>"))
            try await Self.signIn(c, shop)
            let form = try await c.get("/policies/\(pid)/apply")
            #expect(form.body.contains("无需提交材料") && !form.body.contains("name=\"a."))
            let ok = try await c.post("/policies/\(pid)/apply", [("_once", try Self.once(form.body))])
            #expect(ok.status == 303)
            let aid = try #require(try n.db.applications(enterprise: shop.id).first?.state.id)

            let dept = try ApplicationTests.token(f, "330106", "tokens/330106-commerce.token")
            let d = PortalEnterpriseTests.client(f, "330106")
            _ = try await d.get("/login")
            #expect(try await d.post("/login", [("token", dept), ("next", "inbox")]).status == 303)
            var desk = try await d.get("/inbox?view=applications")
            try await eventually {
                desk = try await d.get("/inbox?view=applications")
                return desk.body.contains("免申即享批量审核（1 件待审）")
            }
            #expect(desk.body.contains("<input type=\"checkbox\" name=\"ids\" value=\"\(aid)\" checked>"))
            let batch = try await d.post("/inbox/applications/batch", [("department", "330106-commerce"), ("ids", aid)])
            #expect(batch.status == 303)
            let after = try await d.get(try #require(batch.header("Location")))
            #expect(after.body.contains("已批量审核通过 1 件") && !after.body.contains("免申即享批量审核"))
            #expect(try n.applications(department: "330106-commerce", status: nil, by: .admin).first?["status"] == "approved")
        }
    }
}
