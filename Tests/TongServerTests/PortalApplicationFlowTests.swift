import Foundation
import Testing
import TongCore

@testable import TongDomain
@testable import TongServer
@testable import TongTools

/// A county enterprise applies for a national policy in the portal and the ministry handles it
/// in its desk: 补正, resubmission from the receipt page, 受理, 审核通过, 兑付; the receipt then
/// shows the whole timeline in Beijing time.
@Suite(.serialized) struct PortalApplicationFlowTests {
    /// National, Zhejiang, Hangzhou, Xihu: the application is relayed twice each way.
    static let chain = TestTree.toml(["100000", "330000", "330100", "330106"], federation: "portal-flow")

    /// `yyyy-MM-dd HH:mm` in Asia/Shanghai, by Foundation's time zone database (not the portal's code).
    static func shanghai(_ iso: String) throws -> String {
        let p = ISO8601DateFormatter()
        p.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        let date = try #require(p.date(from: iso))
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "Asia/Shanghai")
        f.dateFormat = "yyyy-MM-dd HH:mm"
        return f.string(from: date)
    }

    /// The status badges of a receipt's timeline, in order.
    static func steps(_ html: String) -> [String] {
        let timeline = PortalEnterpriseTests.slice(html, from: "<ol class=\"timeline\">", to: "</ol>")
        return timeline.matches(of: /<span class="badge status">([^<]+)<\/span>/).map { String($0.output.1) }
    }

    /// The card of one application in the desk.
    static func card(_ html: String, _ id: String) -> String {
        PortalEnterpriseTests.slice(html, from: "id=\"a-\(id)\"", to: "</li>\n")
    }

    /// The moves a card offers.
    static func moves(_ card: String) -> Set<String> {
        Set(card.matches(of: /<form class="decision decision-([a-z]+)"/).map { String($0.output.1) })
    }

    @Test func theDepartmentReturnsTheApplicantResubmitsAndTheReceiptShowsEveryStepInBeijingTime() async throws {
        try await withFederation(topology: Self.chain) { f in
            let admin = try ApplicationTests.token(f, "100000", "admin.token")
            let mof = try ApplicationTests.token(f, "100000", "tokens/100000-mof.token")
            let p = try await f.request("POST", "100000", "/api/v1/policies", token: admin, body: ApplicationTests.rentSubsidy)
            let pid = try #require(p.json?["id"]?.stringValue)
            let shop = try await PortalApplicationTests.register(f, DeliveryTests.restaurant)
            try await DemoRunner.waitUntil(seconds: 20) { f.has("330106", pid) }

            // The enterprise applies through the policy page at its county's portal.
            let c = PortalEnterpriseTests.client(f, "330106")
            #expect(try await c.get("/policies/\(pid)").body.contains("href=\"/policies/\(pid)/apply\">在线申报</a>"))
            try await PortalApplicationTests.signIn(c, shop)
            let form = try await c.get("/policies/\(pid)/apply")
            let filed = try await c.post(
                "/policies/\(pid)/apply",
                [("a.rent", "12000"), ("a.landlord", "杭州西湖物业管理有限公司"), ("amount_wan", "3"), ("_once", try PortalApplicationTests.once(form.body))])
            #expect(filed.status == 303)
            let receiptPath = String(try #require(filed.header("Location")).prefix { $0 != "?" })
            let code = String(receiptPath.dropFirst("/receipt/".count))
            let aid = try #require(try f.node("330106").db.applications(enterprise: shop.id).first?.state.id)
            #expect(try await c.get(receiptPath).body.contains("<strong>已提交</strong>"))

            // The ministry's desk: the application with its answers under their labels, the
            // materials, the enterprise, and only the moves allowed once it has arrived.
            let d = PortalEnterpriseTests.client(f, "100000")
            _ = try await d.get("/login")
            #expect(try await d.post("/login", [("token", mof), ("next", "inbox")]).status == 303)
            let inbox = try await d.get("/inbox")
            #expect(inbox.body.contains("href=\"/inbox?view=applications&amp;department=100000-mof\">办理申请</a>"))
            var card = ""
            try await eventually {
                card = Self.card(try await d.get("/inbox?view=applications").body, aid)
                return card.contains("<span class=\"badge status\">已送达</span>")
            }
            for s in [
                "<dt>月租金（元）</dt><dd>12000</dd>", "<dt>出租方名称</dt><dd>杭州西湖物业管理有限公司</dd>", "<li>房屋租赁合同</li>",
                "西湖区小馆餐饮有限公司", "91330106MA27XF6D24", "<dt>申请金额</dt><dd>3 万元</dd>", "关于小微餐饮企业房租补贴申报的通知",
            ] { #expect(card.contains(s), "\(s)") }
            #expect(Self.moves(card) == ["accepted", "returned", "rejected"])
            #expect(card.contains("<textarea id=\"n-returned-\(aid)\" name=\"note\" rows=\"2\" maxlength=\"500\" required>"))

            // 退回补正 needs a note: without one the desk says so and nothing moves.
            let noNote = try await d.post("/inbox/applications/decide", [("id", aid), ("department", "100000-mof"), ("status", "returned")])
            #expect(noNote.status == 409 && noNote.body.contains("退回补正须说明需要补正的内容"))
            let returned = try await d.post(
                "/inbox/applications/decide", [("id", aid), ("department", "100000-mof"), ("status", "returned"), ("note", "请补充房屋租赁合同扫描件")])
            #expect(returned.status == 303)
            let afterReturn = try await d.get(try #require(returned.header("Location")))
            #expect(afterReturn.body.contains("已办理：退回补正。"))
            #expect(Self.moves(Self.card(afterReturn.body, aid)).isEmpty)

            // The applicant sees why, and resubmits from the receipt page.
            var receipt = try await c.get(receiptPath)
            try await eventually {
                receipt = try await c.get(receiptPath)
                return receipt.body.contains("<strong>退回补正</strong>")
            }
            #expect(PortalEnterpriseTests.slice(receipt.body, from: "受理部门退回补正", to: "</section>").contains("请补充房屋租赁合同扫描件"))
            #expect(receipt.body.contains("action=\"\(receiptPath)/resubmit\"") && receipt.body.contains("action=\"\(receiptPath)/withdraw\""))
            // Another browser, not signed in as the applicant, gets no forms.
            let stranger = try await PortalEnterpriseTests.client(f, "330106").get(receiptPath)
            #expect(stranger.body.contains("<strong>退回补正</strong>") && !stranger.body.contains("/resubmit\""))
            let resubmitted = try await c.post(
                "\(receiptPath)/resubmit",
                [
                    ("a.rent", "12000"), ("a.landlord", "杭州西湖物业管理有限公司（已补合同）"), ("note", "已补充合同"),
                    ("_once", try PortalApplicationTests.once(receipt.body)),
                ])
            #expect(resubmitted.status == 303 && resubmitted.header("Location") == receiptPath + "?done=resubmitted")
            #expect(try await c.get(receiptPath + "?done=resubmitted").body.contains("补正材料已重新提交"))

            // 受理, 审核通过, 兑付: each time only the moves allowed now.
            try await eventually {
                card = Self.card(try await d.get("/inbox?view=applications").body, aid)
                return card.contains("已送达") && card.contains("已补合同")
            }
            for (status, allowed, extra) in [
                ("accepted", Set(["accepted", "returned", "rejected"]), [(String, String)]()),
                ("approved", ["approved", "returned", "rejected"], []), ("paid", ["paid"], [("amount_wan", "2")]),
            ] {
                card = Self.card(try await d.get("/inbox?view=applications").body, aid)
                #expect(Self.moves(card) == allowed, "before \(status): \(Self.moves(card))")
                let r = try await d.post("/inbox/applications/decide", [("id", aid), ("department", "100000-mof"), ("status", status)] + extra)
                #expect(r.status == 303, "\(status): \(r.body.prefix(300))")
            }
            #expect(Self.card(try await d.get("/inbox?view=applications").body, aid).contains("当前无需办理"))

            // The receipt: the whole timeline, each step in Beijing time with who made it.
            try await eventually { try await c.get(receiptPath).body.contains("<strong>已兑付</strong>") }
            let final = try await c.get(receiptPath)
            #expect(Self.steps(final.body) == ["已提交", "已送达", "退回补正", "已提交", "已送达", "已受理", "审核通过", "已兑付"])
            let history = try #require(try f.node("330106").applicationStatus(code)["history"]?.arrayValue)
            let timeline = PortalEnterpriseTests.slice(final.body, from: "<ol class=\"timeline\">", to: "</ol>")
            for h in history {
                let iso = try #require(h["at"]?.stringValue)
                #expect(timeline.contains("<time>\(try Self.shanghai(iso))</time>"), "\(iso)")
                #expect(!timeline.contains(iso))
            }
            #expect(timeline.contains("<span class=\"actor\">受理部门</span>") && timeline.contains("<span class=\"actor\">申请企业</span>"))
            #expect(timeline.contains("<span class=\"actor\">系统</span>"))
            #expect(timeline.contains("兑付金额 2 万元") && timeline.contains("请补充房屋租赁合同扫描件"))
            #expect(final.body.contains("<dt>兑付金额</dt><dd>2 万元</dd>"))
            #expect(!final.body.contains("/withdraw\"") && !final.body.contains("/resubmit\""))
        }
    }
}
