import Foundation
import Testing
import TongCore

@testable import TongDomain
@testable import TongServer
@testable import TongTools

/// 政策计算器 and 企业服务 over real nodes: the GET calculator, registration with the one-time
/// token, sign-in, the enterprise's page with a policy delivered from the national node, and
/// the policy page's 适用条件.
@Suite(.serialized) struct PortalEnterpriseTests {
    /// Zhejiang, Hangzhou and Xihu: the calculator's region picker has something under the node.
    static let zhejiang = TestTree.toml(["330000", "330100", "330106"], federation: "portal-ent")

    /// The restaurant of DeliveryTests as the calculator's query: micro (餐饮, 8 people, 80 万元).
    static let restaurantQuery =
        "region=330106&industry=H&industry_code=H6210&employees=8&revenue_wan=80&assets_wan=50&established_on=2019-05-01&taxpayer=small_scale"

    /// A policy of 330106 with an eligibility (and optionally an application window).
    static func policy(_ title: String, _ eligibility: JSONValue?, extra: [String: JSONValue] = [:]) -> JSONValue {
        var o = policyBody(title, dept: "330106-commerce", themes: ["rent_relief"]).objectValue!
        if let eligibility { o["eligibility"] = eligibility }
        for (k, v) in extra { o[k] = v }
        return .object(o)
    }

    static func client(_ f: TestFederation, _ node: String) -> PortalTestClient { PortalTestClient(address: f.fed.http[node]!) }

    /// The part of `html` from `start` to the first `end` after it ("" when absent).
    static func slice(_ html: String, from start: String, to end: String) -> String {
        guard let a = html.range(of: start), let b = html.range(of: end, range: a.upperBound..<html.endIndex) else { return "" }
        return String(html[a.lowerBound..<b.upperBound])
    }

    @Test func calculatorListsWhatFitsAndWhatMissesByOneWithReasons() async throws {
        try await withFederation(topology: Self.zhejiang) { f in
            let n = f.node("330106")
            let fits = try n.create(
                kind: .policy,
                body: Self.policy("餐饮业小微企业房租补贴", ["regions": ["330000"], "industries": ["H"], "size_classes": ["micro", "small"]]),
                by: .admin
            ).id
            let nearOne = try n.create(
                kind: .policy, body: Self.policy("制造业技改补助", ["regions": ["330106"], "industries": ["C"]]), by: .admin
            ).id
            let missesTwo = try n.create(
                kind: .policy, body: Self.policy("一般纳税人制造业退税", ["industries": ["C"], "taxpayer": "general"]), by: .admin
            ).id
            let c = Self.client(f, "330106")
            let r = try await c.get("/match?" + Self.restaurantQuery)
            #expect(r.status == 200)
            #expect(r.body.contains("企业规模：微型") && r.body.contains("工信部联企业〔2011〕300号"))
            let fitsPart = Self.slice(r.body, from: "符合条件的政策和事项（", to: "</section>")
            #expect(fitsPart.hasPrefix("符合条件的政策和事项（1 项）"), "\(fitsPart.prefix(80))")
            #expect(fitsPart.contains("href=\"/policies/\(fits)\"") && fitsPart.contains("餐饮业小微企业房租补贴"))
            #expect(fitsPart.contains("<li class=\"ok\">✓ 行业 H6210（住宿和餐饮业） 属于适用行业") && !fitsPart.contains("✗"))
            let nearPart = Self.slice(r.body, from: "差一项条件（", to: "</section>")
            #expect(nearPart.hasPrefix("差一项条件（1 项）"), "\(nearPart.prefix(80))")
            #expect(nearPart.contains("href=\"/policies/\(nearOne)\"") && nearPart.contains("制造业技改补助"))
            // The failing reason is the highlighted one; the region, which it meets, is ticked.
            #expect(nearPart.contains("<li class=\"miss\"><strong>✗ 行业 H6210（住宿和餐饮业） 不在适用行业"))
            #expect(nearPart.contains("<li class=\"ok\">✓ 注册地 330106 属于") && nearPart.contains("还差：行业"))
            #expect(!r.body.contains(missesTwo) && !r.body.contains("一般纳税人制造业退税"))
            // The calculator stores nothing.
            #expect(n.db.enterpriseCount == 0)
        }
    }

    @Test func calculatorPickersWorkWithQueryParametersOnly() async throws {
        try await withFederation(topology: Self.zhejiang) { f in
            let policy = try f.node("330000").create(
                kind: .policy,
                body: policyBody("浙江省餐饮企业稳岗补贴", dept: "330000-hrss").objectValue!.merging(
                    ["eligibility": ["industries": ["H62"]]], uniquingKeysWith: { $1 }
                ).asJSON, by: .admin
            ).id
            let c = Self.client(f, "330000")
            let blank = try await c.get("/match")
            #expect(blank.status == 200 && !blank.body.contains("测算结果"))
            #expect(blank.body.contains("<form class=\"feedback calc\" method=\"get\" action=\"/match\">"))
            // The nav leads here and to 企业服务.
            #expect(blank.body.contains("<a href=\"/match\">政策计算器</a>") && blank.body.contains("<a href=\"/enterprise\">企业服务</a>"))
            let regions = Self.slice(blank.body, from: "<select id=\"f-region\" name=\"region\">", to: "</select>")
            for opt in [
                "<option value=\"330000\">浙江省（330000）</option>", "<option value=\"330100\">杭州市（330100）</option>",
                "<option value=\"330106\">西湖区（330106）</option>",
            ] {
                #expect(regions.contains(opt), "\(opt)")
            }
            let sections = Self.slice(blank.body, from: "<select id=\"f-industry\" name=\"industry\">", to: "</select>")
            #expect(sections.components(separatedBy: "<option value=\"").count - 1 == 21)  // 请选择 and A-T
            #expect(sections.contains("<option value=\"H\">H 住宿和餐饮业</option>") && sections.contains("T 国际组织"))
            #expect(blank.body.contains("name=\"region_code\"") && blank.body.contains("name=\"industry_code\""))

            // The typed code wins over the select: section C picked, H62 typed → the H62 policy fits.
            let typed = try await c.get("/match?region=330000&region_code=330106&industry=C&industry_code=h62&employees=5&revenue_wan=50")
            #expect(typed.status == 200)
            #expect(Self.slice(typed.body, from: "符合条件的政策和事项", to: "</section>").contains("/policies/\(policy)"))
            #expect(typed.body.contains("<option value=\"C\" selected>") && typed.body.contains("value=\"h62\""))
            // The section alone (H) is coarser than H62: the policy misses by its one condition.
            let section = try await c.get("/match?region=330106&industry=H&employees=5&revenue_wan=50")
            let near = Self.slice(section.body, from: "差一项条件", to: "</section>")
            #expect(near.contains("/policies/\(policy)") && near.contains("还差：行业"))
            // Without the figures the size cannot be told, and the page says so.
            #expect(try await c.get("/match?region=330106&industry=C").body.contains("企业规模：未能测算"))
        }
    }

    @Test func calculatorShowsEachErrorBesideItsField() async throws {
        try await withFederation(topology: TestTree.toml(["330106"], federation: "portal-ent")) { f in
            let c = Self.client(f, "330106")
            let bad = try await c.get("/match?region=330106&industry_code=Z99&employees=abc")
            #expect(bad.status == 422)
            #expect(!bad.body.contains("测算结果"))
            let industry = Self.slice(bad.body, from: "<legend>所属行业", to: "</fieldset>")
            #expect(industry.contains("<span class=\"field-error\" id=\"err-industry\">所属行业：须为国民经济行业分类代码"))
            #expect(industry.contains("value=\"Z99\""))
            let employees = Self.slice(bad.body, from: "<label for=\"f-employees\">", to: "</div>")
            #expect(employees.contains("id=\"err-employees\"") && employees.contains("整数"))
            #expect(!bad.body.contains("id=\"err-region\""))
            let noRegion = try await c.get("/match?industry=H")
            #expect(noRegion.status == 422)
            #expect(Self.slice(noRegion.body, from: "<legend>注册地", to: "</fieldset>").contains("请填写注册地"))
        }
    }

    @Test func registrationShowsTheTokenOnceThenSignsOut() async throws {
        try await withFederation(topology: TestTree.toml(["330106"], federation: "portal-ent")) { f in
            let n = f.node("330106")
            let c = Self.client(f, "330106")
            let form = try await c.get("/enterprise/register")
            #expect(form.status == 200)
            let csrf = try #require(c.cookies["tong_csrf"])
            #expect(form.body.contains("name=\"_csrf\" value=\"\(csrf)\""))
            #expect(form.body.contains("<select id=\"f-region\" name=\"region\">") && form.body.contains("name=\"uscc\""))
            let fields: [(String, String)] = [
                ("uscc", "91330106ma27xf6d24"), ("name", "西湖区小馆餐饮有限公司"), ("region", "330106"), ("industry", "H"),
                ("industry_code", "H6210"), ("employees", "8"), ("revenue_wan", "80"), ("assets_wan", "50"),
                ("established_on", "2019-05-01"), ("taxpayer", "small_scale"), ("contact.name", "王小明"), ("contact.phone", "13912345678"),
            ]
            #expect(try await c.post("/enterprise/register", fields, csrf: false).status == 403)
            let badUSCC = try await c.post("/enterprise/register", fields.map { $0.0 == "uscc" ? ($0.0, "11010519491231002X") : $0 })
            #expect(badUSCC.status == 422)
            #expect(Self.slice(badUSCC.body, from: "<label for=\"f-uscc\">", to: "</div>").contains("id=\"err-uscc\""))
            #expect(badUSCC.body.contains("value=\"西湖区小馆餐饮有限公司\""))
            #expect(n.db.enterpriseCount == 0)

            let ok = try await c.post("/enterprise/register", fields)
            #expect(ok.status == 303 && ok.header("Location") == "/enterprise")
            let cookie = try #require(ok.setCookies.first { $0.hasPrefix("tong_enterprise=") })
            #expect(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"))
            #expect(n.db.enterpriseCount == 1)

            let shown = try await c.get("/enterprise")
            #expect(shown.status == 200)
            let token = try #require(shown.body.firstMatch(of: /id="token">([0-9a-f]{16,})</)).output.1
            #expect(shown.body.contains("令牌只显示这一次"))
            let id = try #require(shown.body.firstMatch(of: /(330106-ent-[0-9a-f]+)/)).output.1
            // The token is the enterprise's real token, and it is not what the cookie holds.
            #expect(try n.enterprise(String(id), token: String(token)).name == "西湖区小馆餐饮有限公司")
            #expect(!cookie.contains(String(token)))
            #expect(shown.body.contains("91330106MA27XF6D24") && shown.body.contains("微型"))

            let again = try await c.get("/enterprise")
            #expect(again.status == 200 && again.body.contains("西湖区小馆餐饮有限公司"))
            #expect(!again.body.contains(String(token)) && !again.body.contains("令牌只显示这一次"))

            // Registering the same USCC again is refused beside the field.
            let dup = try await c.post("/enterprise/register", fields)
            #expect(dup.status == 409 && dup.body.contains("已在本平台登记"))

            let out = try await c.post("/enterprise/logout", [])
            #expect(out.status == 303)
            let signIn = try await c.get("/enterprise")
            #expect(signIn.body.contains("action=\"/enterprise/login\"") && !signIn.body.contains("91330106MA27XF6D24"))
        }
    }

    @Test func anEnterpriseSignsInAndSeesItsProfileMatchesAndADeliveredPolicy() async throws {
        try await withFederation { f in
            let r = try await f.request("POST", "330106", "/api/v1/enterprises", body: DeliveryTests.restaurant)
            #expect(r.status == 201, "\(r.text)")
            let rid = try #require(r.json?["id"]?.stringValue), token = try #require(r.json?["token"]?.stringValue)
            let admin = try String(contentsOfFile: f.fed.root + "/100000/admin.token", encoding: .utf8)
                .trimmingCharacters(in: .whitespacesAndNewlines)
            let p = try await f.request("POST", "100000", "/api/v1/policies", token: admin, body: DeliveryTests.rentRelief)
            #expect(p.status == 201, "\(p.text)")
            let pid = try #require(p.json?["id"]?.stringValue)
            try await DemoRunner.waitUntil(seconds: 20) { try f.node("330106").db.deliveries(enterprise: rid).count == 1 }
            let delivery = try #require(try f.node("330106").db.deliveries(enterprise: rid).first)

            let c = Self.client(f, "330106")
            let form = try await c.get("/enterprise")
            #expect(form.status == 200 && form.body.contains("action=\"/enterprise/login\""))
            #expect(try await c.post("/enterprise/login", [("id", rid), ("token", token)], csrf: false).status == 403)
            let login = try await c.post("/enterprise/login", [("id", rid), ("token", token)])
            #expect(login.status == 303 && login.header("Location") == "/enterprise")
            #expect(login.setCookies.contains { $0.hasPrefix("tong_enterprise=") && !$0.contains(token) })

            let page = try await c.get("/enterprise")
            #expect(page.status == 200)
            let profile = Self.slice(page.body, from: "<h2>企业信息</h2>", to: "</dl>")
            for s in [
                "西湖区小馆餐饮有限公司", "91330106MA27XF6D24", "西湖区（330106）", "H6210（住宿和餐饮业）", "微型", "工信部联企业〔2011〕300号",
                "王小明", "13912345678", "小规模纳税人",
            ] { #expect(profile.contains(s), "\(s)") }
            let matches = Self.slice(page.body, from: "<h2>为您匹配的政策和事项</h2>", to: "差一项条件")
            #expect(matches.contains("/policies/\(pid)") && matches.contains("关于餐饮业小微企业房租补贴的通知"))
            let deliveries = Self.slice(page.body, from: "<h2>推送记录</h2>", to: "</table>")
            #expect(deliveries.contains("<a href=\"/policies/\(pid)\">关于餐饮业小微企业房租补贴的通知</a>"))
            #expect(deliveries.contains("仅订阅源"))  // no webhook: the feed is how it is told
            #expect(deliveries.contains(PortalText.beijingTime(ms: delivery.createdAt)))
            #expect(page.body.contains("/feeds/enterprises/\(rid).atom?token=") && page.body.contains("请注意保密"))
            #expect(!page.body.contains(token))
            #expect(page.body.contains("action=\"/enterprise/logout\""))
        }
    }

    @Test func aWrongTokenIsRefusedInChinese() async throws {
        try await withFederation(topology: TestTree.toml(["330106"], federation: "portal-ent")) { f in
            let r = try await f.request("POST", "330106", "/api/v1/enterprises", body: DeliveryTests.restaurant)
            let rid = try #require(r.json?["id"]?.stringValue)
            let c = Self.client(f, "330106")
            _ = try await c.get("/enterprise")
            for (id, token) in [(rid, String(repeating: "ab", count: 24)), ("330106-ent-000000000000", "x"), (rid, "")] {
                let bad = try await c.post("/enterprise/login", [("id", id), ("token", token)])
                #expect(bad.status == 401)
                #expect(bad.body.contains("企业编号或企业令牌不正确，请核对后重试。"))
                #expect(!bad.setCookies.contains { $0.hasPrefix("tong_enterprise=") })
            }
            #expect(try await c.get("/enterprise").body.contains("action=\"/enterprise/login\""))
            // A made-up session cookie is no session.
            c.cookies["tong_enterprise"] = String(repeating: "a", count: 64)
            #expect(!(try await c.get("/enterprise").body.contains("91330106MA27XF6D24")))
        }
    }

    @Test func thePolicyPageListsItsConditionsAndApplicationWindow() async throws {
        try await withFederation(topology: TestTree.toml(["330106"], federation: "portal-ent")) { f in
            let n = f.node("330106")
            let with = try n.create(
                kind: .policy,
                body: Self.policy(
                    "餐饮业房租补贴",
                    [
                        "regions": ["330000"], "industries": ["H"], "size_classes": ["micro", "small"], "employees_max": 300,
                        "taxpayer": "small_scale",
                    ],
                    extra: ["apply_from": "2026-01-01", "apply_to": "2026-12-31"]),
                by: .admin
            ).id
            let without = try n.create(kind: .policy, body: Self.policy("普惠政策", nil), by: .admin).id
            let c = Self.client(f, "330106")
            let page = try await c.get("/policies/\(with)")
            #expect(page.status == 200)
            let conditions = Self.slice(page.body, from: "<h2>适用条件</h2>", to: "</section>")
            for line in [
                "<li>注册地：330000 及其下辖地区</li>", "<li>行业：H 住宿和餐饮业</li>", "<li>企业规模：微型、小型</li>", "<li>从业人员不超过 300 人</li>",
                "<li>纳税人类型：小规模纳税人</li>",
            ] { #expect(conditions.contains(line), "\(line)") }
            #expect(conditions.contains("<a class=\"button\" href=\"/match\">用政策计算器测一测</a>"))
            #expect(page.body.contains("<dt>申报时间</dt><dd>2026-01-01 至 2026-12-31</dd>"))
            let plain = try await c.get("/policies/\(without)")
            #expect(Self.slice(plain.body, from: "<h2>适用条件</h2>", to: "</section>").contains("面向所有符合本政策适用对象的企业"))
            #expect(!plain.body.contains("申报时间"))
        }
    }

    @Test func beijingTimeIsUTCPlusEight() {
        #expect(PortalText.beijingTime(ms: 0) == "1970-01-01 08:00")
        // 2025-12-31T16:30Z is already New Year's Day in Beijing.
        #expect(PortalText.beijingTime(ms: 1_767_198_600_000) == "2026-01-01 00:30")
        #expect(PortalText.beijingTime(ms: 1_767_225_599_000) == "2026-01-01 07:59")
    }
}

extension Dictionary where Key == String, Value == JSONValue {
    /// The dictionary as a JSON object.
    fileprivate var asJSON: JSONValue { .object(self) }
}
