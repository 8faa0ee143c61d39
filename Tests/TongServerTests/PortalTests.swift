import Foundation
import Testing
import TongCore
import TongStore

@testable import TongDomain
@testable import TongServer
@testable import TongTools

/// Pages over a real node: HTTP on loopback, a real replica, the real form and login flows.
@Suite(.serialized) struct PortalTests {
    static let topology = TestTree.toml(["330000"], federation: "portal")

    /// Publishes the sample records every test reads.
    static func seed(_ f: TestFederation) throws -> (social: String, script: String) {
        let n = f.node("330000")
        let social = try n.create(
            kind: .policy,
            body: policyBody(
                "关于阶段性缓缴社会保险费的通知", dept: "330000-hrss",
                body: "受疫情影响的中小微企业可申请缓缴社保费。\n缓缴期间免收滞纳金。"), by: .admin
        ).id
        let script = try n.create(
            kind: .policy,
            body: policyBody(
                "<script>alert(1)</script>租金减免办法", dept: "330000-dof",
                body: "<img src=x onerror=alert(2)>", themes: ["rent_relief"]), by: .admin
        ).id
        _ = try n.create(
            kind: .serviceItem,
            body: [
                "code": "330000-FW-001", "name": "社会保险费缓缴申请", "department": "330000-hrss", "handling_url": "https://www.zjzwfw.gov.cn/",
                "time_limit_days": 5, "materials": ["营业执照", "缓缴申请表"], "policies": .strings([social]),
            ], by: .admin)
        return (social, script)
    }

    func client(_ f: TestFederation) -> PortalTestClient { PortalTestClient(address: f.fed.http["330000"]!) }

    @Test func publicPagesAreChineseHighlightedAndEscaped() async throws {
        try await withFederation(topology: Self.topology) { f in
            let ids = try Self.seed(f)
            let c = client(f)
            let home = try await c.get("/")
            #expect(home.status == 200 && home.header("Content-Type")?.hasPrefix("text/html") == true)
            for part in ["政策通", "办事通", "互动通", "小微企业和个体工商户服务专栏", "/policies?theme=social_insurance"] { #expect(home.body.contains(part)) }
            #expect(home.header("Content-Security-Policy")?.contains("default-src 'none'") == true)

            let found = try await c.get("/policies?q=%E7%A4%BE%E4%BF%9D")
            #expect(found.status == 200)
            #expect(found.body.contains("<mark>社保</mark>"))
            #expect(found.body.contains("缓缴社保") && found.body.contains("浙江省人力资源和社会保障厅"))

            let all = try await c.get("/policies")
            #expect(!all.body.contains("<script>alert(1)</script>"))
            #expect(all.body.contains("&lt;script&gt;alert(1)&lt;/script&gt;租金减免办法"))
            let page = try await c.get("/policies/\(ids.script)")
            #expect(page.status == 200)
            #expect(page.body.contains("&lt;script&gt;alert(1)&lt;/script&gt;") && !page.body.contains("<script>"))
            #expect(page.body.contains("&lt;img src=x onerror=alert(2)&gt;") && !page.body.contains("<img"))

            // Detail: fields, related service item, feedback link; then withdrawn is said plainly.
            let social = try await c.get("/policies/\(ids.social)")
            for s in [
                "发文字号", "国办发〔2022〕6号", "有效期", "2022-05-01 至 长期有效", "缓缴社保", "社会保险费缓缴申请",
                "/interact?about=\(ids.social)&amp;department=330000-hrss", "现行有效",
            ] { #expect(social.body.contains(s), "\(s)") }
            try f.node("330000").withdraw(kind: .policy, id: ids.social, by: .admin)
            #expect(try await c.get("/policies/\(ids.social)").body.contains("已废止"))
            #expect(try await c.get("/policies/330000-p999").status == 404)

            let services = try await c.get("/services")
            #expect(services.body.contains("去办理") && services.body.contains("rel=\"noopener noreferrer\"") && services.body.contains("5 个工作日"))
            #expect(services.body.contains("缓缴申请表"))
            // Facet links and paging parameters never break the page, whatever they hold.
            #expect(try await c.get("/policies?theme=bogus&region=%3Cx%3E&page=-5&q=%22%20OR%20*%00").status == 200)
        }
    }

    /// Marks survive a combining character or joiner right after a match (a keycap 1️⃣, e + U+0301,
    /// a ZWJ): they are found by scalar, not by Character (found by a user trial).
    @Test func marksCloseBeforeCombiningCharacters() {
        let o = SearchHit.markOpen, c = SearchHit.markClose
        #expect(Portal.marked("\(o)1\(c)\u{FE0F}\u{20E3}申请条件 2\u{FE0F}\u{20E3}") == "<mark>1</mark>\u{FE0F}\u{20E3}申请条件 2\u{FE0F}\u{20E3}")
        #expect(Portal.marked("\(o)Cafe\(c)\u{301} <b>") == "<mark>Cafe</mark>\u{301} &lt;b&gt;")
        #expect(Portal.marked("\(o)社保\(c)\u{200D}费") == "<mark>社保</mark>\u{200D}费")
        // A stray or unclosed marker never leaves a tag open.
        #expect(Portal.marked("a\(c)b\(o)c") == "ab<mark>c</mark>")
    }

    @Test func formsNeedCSRFAndGiveReceipts() async throws {
        try await withFederation(topology: Self.topology) { f in
            let c = client(f)
            let form = try await c.get("/interact?kind=consultation")
            #expect(form.status == 200)
            let csrf = try #require(form.setCookies.first { $0.hasPrefix("tong_csrf=") })
            #expect(csrf.contains("HttpOnly") && csrf.contains("SameSite=Strict") && csrf.contains("Path=/"))
            #expect(form.body.contains("name=\"_csrf\" value=\"\(c.cookies["tong_csrf"]!)\""))
            for k in ["建议", "咨询", "投诉", "评价"] { #expect(form.body.contains(k)) }

            let fields: [(String, String)] = [
                ("kind", "consultation"), ("department", "330000-hrss"), ("title", "缓缴社保怎么申请"),
                ("content", "请问需要哪些材料？"), ("contact.name", "王经理"), ("contact.phone", "13912345678"),
            ]
            #expect(try await c.post("/interact", fields, csrf: false).status == 403)
            #expect(try await c.post("/interact", fields + [("_csrf", String(repeating: "0", count: 64))], csrf: false).status == 403)
            let stranger = PortalTestClient(address: f.fed.http["330000"]!)
            #expect(try await stranger.post("/interact", fields + [("_csrf", c.cookies["tong_csrf"]!)], csrf: false).status == 403)

            let bad = try await c.post("/interact", fields.map { $0.0 == "contact.phone" ? ($0.0, "12") : $0 })
            #expect(bad.status == 422 && bad.body.contains("请填写有效的手机号或固定电话") && bad.body.contains("缓缴社保怎么申请"))

            let ok = try await c.post("/interact", fields)
            #expect(ok.status == 303)
            let code = try #require(ok.header("Location")?.firstMatch(of: /TONG-[0-9A-F]{32}/)).output
            let receipt = try await c.get("/receipt/\(code)")
            #expect(receipt.status == 200 && receipt.body.contains(String(code)))
            #expect(receipt.body.contains("已提交") || receipt.body.contains("已送达"))
            // Looking a receipt up posts once and lands on its page (post/redirect/get).
            let looked = try await c.post("/receipt", [("code", String(code).lowercased())])
            #expect(looked.status == 303 && looked.header("Location") == "/receipt/\(code)")
            #expect(try await c.get(looked.header("Location")!).body.contains("浙江省人力资源和社会保障厅"))
            #expect(try await c.post("/receipt", [("code", "TONG-NOPE")]).status == 404)
            #expect(try await c.get("/receipt/TONG-NOPE").status == 404)

            // Evaluation needs a rating; hostile or huge bodies are refused, never a crash.
            let eval = try await c.post(
                "/interact",
                [
                    ("kind", "evaluation"), ("department", "330000-hrss"), ("title", "评价"), ("content", "很好"),
                    ("contact.name", "李"), ("contact.phone", "13912345678"),
                ])
            #expect(eval.status == 422 && eval.body.contains("请选择满意度"))
            let junk = try await c.send(
                "POST", "/interact", body: Array("%%%ZZ&&==&\u{0}&_csrf=\(c.cookies["tong_csrf"]!)&%E0%A4=%C3%28".utf8) + [0xFF, 0xFE],
                contentType: "application/x-www-form-urlencoded")
            #expect(junk.status == 422)
            let huge = try await c.send(
                "POST", "/interact", body: [UInt8](repeating: 0x61, count: (1 << 20) + 10), contentType: "application/x-www-form-urlencoded")
            #expect(huge.status == 413)
        }
    }

    @Test func inboxIsPerDepartmentAndAdminPagesNeedTheAdmin() async throws {
        try await withFederation(topology: Self.topology) { f in
            let n = f.node("330000")
            _ = try n.submitFeedback([
                "kind": "consultation", "department": "330000-hrss", "title": "人社咨询甲", "content": "甲的内容",
                "contact": ["name": "甲", "phone": "13912345678"],
            ])
            let other = try n.submitFeedback([
                "kind": "complaint", "department": "330000-dof", "title": "财政投诉乙", "content": "乙的内容",
                "contact": ["name": "乙", "phone": "13812345678"],
            ])
            let c = client(f)
            #expect(try await c.get("/inbox").body.contains("工作人员登录"))
            _ = try await c.get("/login")
            let wrong = try await c.post("/login", [("token", "not-a-token-not-a-token"), ("next", "inbox")])
            #expect(wrong.status == 401 && wrong.body.contains("令牌无效") && c.cookies["tong_session"] == nil)
            #expect(try await c.post("/login", [("token", "x")], csrf: false).status == 403)

            let token = try f.fed.departmentToken("330000-hrss")
            let login = try await c.post("/login", [("token", token), ("next", "https://evil.example/")])
            #expect(login.status == 303 && login.header("Location") == "/inbox")
            let session = try #require(login.setCookies.first { $0.hasPrefix("tong_session=") })
            #expect(session.contains("HttpOnly") && session.contains("SameSite=Strict") && session.contains("Path=/") && !session.contains(token))
            #expect(!session.contains("Secure"))
            let inbox = try await c.get("/inbox")
            #expect(inbox.body.contains("人社咨询甲") && inbox.body.contains("13912345678"))
            #expect(!inbox.body.contains("财政投诉乙") && !inbox.body.contains("乙的内容"))
            #expect(!(try await c.get("/inbox?department=330000-dof").body.contains("财政投诉乙")))
            // Replying to another department's item is refused by the node itself.
            #expect(try await c.post("/inbox/reply", [("id", other.id), ("content", "越权答复")]).status == 403)
            #expect(try await c.get("/admin").status == 403)

            // Over https (behind a proxy) the cookie is Secure.
            let secure = try await c.send(
                "POST", "/login", body: Array("token=\(token)&_csrf=\(c.cookies["tong_csrf"]!)".utf8),
                contentType: "application/x-www-form-urlencoded", extraHeaders: ["X-Forwarded-Proto: https"])
            #expect(secure.setCookies.first { $0.hasPrefix("tong_session=") }?.contains("; Secure") == true)

            let admin = PortalTestClient(address: f.fed.http["330000"]!)
            _ = try await admin.get("/admin")
            #expect(try await admin.post("/login", [("token", try f.fed.adminToken("330000")), ("next", "admin")]).header("Location") == "/admin")
            let page = try await admin.get("/admin")
            #expect(page.status == 200 && page.body.contains("节点管理") && page.body.contains("字段冲突"))
            let sup = try await admin.get("/supervision")
            #expect(sup.status == 200 && sup.body.contains("地区 × 主题") && sup.body.contains("复工复产"))
            let adminInbox = try await admin.get("/inbox?department=330000-dof")
            #expect(adminInbox.body.contains("财政投诉乙"))
            #expect(try await admin.post("/logout", []).status == 303)
            #expect(try await admin.get("/admin").body.contains("工作人员登录"))
        }
    }

    @Test func replyFromTheInboxReachesTheReceipt() async throws {
        try await withFederation(topology: Self.topology) { f in
            let c = client(f)
            _ = try await c.get("/interact")
            let ok = try await c.post(
                "/interact",
                [
                    ("kind", "suggestion"), ("department", "330000-hrss"), ("title", "建议延长缓缴期"),
                    ("content", "建议延长三个月"), ("contact.name", "赵"), ("contact.phone", "13912345678"),
                ])
            let code = String(try #require(ok.header("Location")?.firstMatch(of: /TONG-[0-9A-F]{32}/)).output)
            let staff = PortalTestClient(address: f.fed.http["330000"]!)
            _ = try await staff.get("/login")
            _ = try await staff.post("/login", [("token", try f.fed.departmentToken("330000-hrss"))])
            let inbox = try await staff.get("/inbox")
            let id = String(try #require(inbox.body.firstMatch(of: /name="id" value="(330000-f[0-9a-f]+)"/)).output.1)
            let replied = try await staff.post(
                "/inbox/reply", [("id", id), ("content", "已研究，<b>感谢</b>建议"), ("close", "1"), ("department", "330000-hrss")])
            #expect(replied.status == 303)
            let receipt = try await c.get("/receipt/\(code)")
            #expect(receipt.body.contains("已办结") && receipt.body.contains("已研究，&lt;b&gt;感谢&lt;/b&gt;建议"))
        }
    }
}

@Suite struct PortalApplyTokensTests {
    /// One party filling the table (an enterprise loading its apply page in a loop) pushes out
    /// its own tokens, not a department's reply form's, which still stops a second reply.
    @Test func aFloodPushesOutOnlyTheFloodersTokens() {
        let tokens = PortalApplyTokens()
        let reply = tokens.issue(owner: "department:330000-hrss", purpose: "reply:330000-f1", now: 1)
        var flood: [String] = []
        for i in 0..<(PortalApplyTokens.capacity + 50) {
            flood.append(tokens.issue(owner: "330106-e1", purpose: "apply:p\(i)", now: 2 + Double(i) / 1_000_000))
        }
        #expect(tokens.claim(reply, owner: "department:330000-hrss", purpose: "reply:330000-f1", now: 3) == .proceed)
        tokens.finish(reply, path: "/inbox")
        #expect(tokens.claim(reply, owner: "department:330000-hrss", purpose: "reply:330000-f1", now: 4) == .done(path: "/inbox"))
        // The flooder's oldest went, its newest stayed.
        #expect(tokens.claim(flood[0], owner: "330106-e1", purpose: "apply:p0", now: 5) == .invalid)
        #expect(tokens.claim(flood.last!, owner: "330106-e1", purpose: "apply:p\(flood.count - 1)", now: 5) == .proceed)
        // A token the table does not know is taken on when full too.
        #expect(tokens.adopt(String(repeating: "a", count: 64), owner: "admin", purpose: "reply:330000-f2", now: 6))
    }
}
