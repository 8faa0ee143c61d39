import Foundation
import Hummingbird
import TongCore
import TongDomain
import TongStore

/// 企业服务: an enterprise registers, signs in with its id and token, and sees its profile,
/// its matches and what was pushed to it. The node checks the token on every page.
extension PortalSite {
    func registerEnterprise(_ router: Router<BasicRequestContext>) {
        router.get("/enterprise") { req, _ in
            try await self.guarded(req) { try self.enterpriseHome($0, address: Self.address(req, $0)) }
        }
        router.post("/enterprise/login") { req, _ in
            try await self.guarded(req) { pr in try self.enterpriseLogin(pr, try await self.readForm(req, pr)) }
        }
        router.post("/enterprise/logout") { req, _ in
            try await self.guarded(req) { pr in
                _ = try await self.readForm(req, pr)
                self.enterpriseSessions.close(pr.cookies[PortalEnterpriseSessions.cookie])
                return self.redirect(pr, to: "/enterprise", cookies: [pr.cookie(PortalEnterpriseSessions.cookie, "", maxAge: 0)])
            }
        }
        router.get("/enterprise/register") { req, _ in try await self.guarded(req) { self.registerForm($0) } }
        router.post("/enterprise/register") { req, _ in
            try await self.guarded(req) { pr in try self.doRegister(pr, try await self.readForm(req, pr)) }
        }
    }

    /// `http(s)://host:port` the browser used, for the feed's address.
    static func address(_ req: Request, _ pr: PortalRequest) -> String {
        (pr.secure ? "https://" : "http://") + (req.head.authority ?? "localhost")
    }

    /// The signed-in enterprise's page, or the sign-in form.
    func enterpriseHome(_ pr: PortalRequest, address: String) throws -> Response {
        let sid = pr.cookies[PortalEnterpriseSessions.cookie]
        guard let session = enterpriseSessions.take(sid) else { return enterpriseSignIn(pr) }
        let row: EnterpriseRow
        do { row = try node.enterprise(session.enterpriseID, token: session.token) } catch let e as NodeError
            where [.notFound, .forbidden, .unauthenticated].contains(e.code)
        {
            enterpriseSessions.close(sid)
            return enterpriseSignIn(
                pr, error: "登录已失效（企业令牌已变更或企业已注销），请重新登录。", status: 401,
                cookies: [pr.cookie(PortalEnterpriseSessions.cookie, "", maxAge: 0)])
        }
        let matches = try node.matches(for: row.profile)
        let deliveries = try node.deliveries(of: row.id, token: session.token)
        let feedPath = "/feeds/enterprises/\(PortalForm.encode(row.id)).atom?token="
        var reveal: PortalHTML = .empty
        if let r = session.reveal {
            let secret: PortalHTML =
                r.webhookSecret.map {
                    "<p>推送签名密钥（用于校验推送请求的 webhook-signature）：<code class=\"secret\" id=\"webhook-secret\">\($0)</code></p>"
                } ?? .empty
            reveal = """
                <section class="banner secret" role="alert"><h2>登记成功，请立即保存企业令牌</h2>
                <p>企业编号：<code>\(row.id)</code></p>
                <p>企业令牌：<code class="secret" id="token">\(r.token)</code></p>\(secret)
                <p>订阅源地址：<code class="secret">\(address + feedPath + PortalForm.encode(r.token))</code></p>
                <p><strong>令牌只显示这一次。</strong>本平台不保存令牌原文，遗失后无法找回；凭企业编号和令牌登录本页、调用接口、订阅推送。\
                请妥善保管，切勿告诉他人。</p></section>
                """
        }
        let contact = row.contact
        let region = nodeName(row.region)
        let profile: PortalHTML = """
            <dl class="fields">
            <dt>企业名称</dt><dd>\(row.name)</dd>
            <dt>统一社会信用代码</dt><dd>\(row.uscc)</dd>
            <dt>企业编号</dt><dd><code>\(row.id)</code></dd>
            <dt>注册地</dt><dd>\(region == row.region ? row.region : "\(region)（\(row.region)）")</dd>
            <dt>所属行业</dt><dd>\(PortalText.industry(row.industry))</dd>
            <dt>企业规模</dt><dd>\(PortalText.sizeClass(row.sizeClass)) <span class="meta">（按\(PortalText.sizeStandard)测算）</span></dd>
            <dt>从业人员</dt><dd>\(row.employees) 人</dd>
            <dt>年营业收入</dt><dd>\(row.revenueWan) 万元</dd>
            <dt>资产总额</dt><dd>\(row.assetsWan) 万元</dd>
            <dt>成立日期</dt><dd>\(row.establishedOn)</dd>
            <dt>纳税人类型</dt><dd>\(PortalText.taxpayer(row.taxpayer))</dd>
            <dt>联系人</dt><dd>\(PortalSite.text(contact["name"]))</dd>
            <dt>联系电话</dt><dd>\(PortalSite.text(contact["phone"]))</dd>
            <dt>电子邮箱</dt><dd>\(PortalSite.text(contact["email"]).isEmpty ? "—" : PortalSite.text(contact["email"]))</dd>
            <dt>推送地址</dt><dd>\(row.webhookURL ?? "未设置（仅通过订阅源推送）")</dd>
            <dt>登记时间</dt><dd>\(PortalText.beijingTime(ms: row.createdAt))（北京时间）</dd>
            </dl>
            """
        return page(
            pr, title: "企业服务",
            """
            <h1>企业服务：\(row.name)</h1>
            \(reveal)
            <form class="inline signout" method="post" action="/enterprise/logout">\(pr.csrfInput)<button type="submit">退出企业登录</button></form>
            <section><h2>企业信息</h2>\(profile)</section>
            <section><h2>为您匹配的政策和事项</h2>\(matchSections(matches))</section>
            <section><h2>推送记录</h2>\(deliveryTable(deliveries))</section>
            <section><h2>订阅源</h2>
            <p>用阅读器订阅以下地址（Atom），新出台的适用政策会出现在订阅源中：</p>
            <p><code>\(address + feedPath)</code><em>企业令牌</em></p>
            <p class="meta">在地址末尾的 token= 之后填上您的企业令牌。含令牌的订阅地址等同于密码，请注意保密，不要分享或公开。</p>
            </section>
            """)
    }

    /// Deliveries as a table, newest first, times in Beijing time.
    func deliveryTable(_ rows: [DeliveryRow]) -> PortalHTML {
        guard !rows.isEmpty else { return "<p>暂无推送。出台适用于本企业的新政策时，会在这里和订阅源中出现。</p>" }
        let body: [PortalHTML] = rows.map { d in
            let link =
                d.kind == RecordKind.serviceItem.rawValue ? "/services?q=\(PortalForm.encode(d.title))" : "/policies/\(PortalForm.encode(d.record))"
            let offer: PortalHTML = d.offer ? " <span class=\"badge\">免申即享</span>" : .empty
            return """
                <tr><td><a href="\(link)">\(d.title)</a>\(offer)</td><td>\(d.kind == RecordKind.serviceItem.rawValue ? "办事事项" : "政策")</td>\
                <td class="state state-\(d.state)">\(PortalText.deliveryState(d.state))</td>\
                <td>\(PortalText.beijingTime(ms: d.createdAt))</td></tr>
                """
        }
        return """
            <div class="table"><table class="deliveries"><thead><tr><th>标题</th><th>类型</th><th>状态</th><th>时间（北京时间）</th></tr></thead>
            <tbody>\(body)</tbody></table></div>
            """
    }

    /// The sign-in form, with a link to registration.
    func enterpriseSignIn(
        _ pr: PortalRequest, id: String = "", error: String? = nil, status: Int = 200, cookies: [String] = []
    ) -> Response {
        page(
            pr, title: "企业服务", status: status, cookies: cookies,
            """
            <h1>企业服务</h1>
            <p>已登记的企业凭企业编号和企业令牌登录，查看为本企业匹配的政策、推送记录和订阅源。\
            令牌只在登录时提交一次，不会保存在浏览器中。</p>
            <form class="feedback" method="post" action="/enterprise/login">\(pr.csrfInput)
            <div class="field\(error != nil ? " invalid" : "")"><label for="f-id">企业编号</label>\
            <input id="f-id" name="id" value="\(id)" maxlength="100" placeholder="如 330106-ent-…" required autocomplete="username"></div>
            <div class="field\(error != nil ? " invalid" : "")"><label for="f-token">企业令牌</label>\
            <input id="f-token" name="token" type="password" autocomplete="current-password" maxlength="256" required>\
            \(error.map { "<span class=\"field-error\" role=\"alert\">\($0)</span>" as PortalHTML } ?? .empty)</div>
            <button type="submit">登录</button></form>
            <p>还没有登记？<a href="/enterprise/register">登记企业信息</a>，出台适用于本企业的政策时自动推送。\
            只想看看能享受哪些政策？<a href="/match">用政策计算器测一测</a>（无需登记）。</p>
            """)
    }

    func enterpriseLogin(_ pr: PortalRequest, _ form: PortalForm) throws -> Response {
        let id = form["id"] ?? ""
        let token = (form.raw("token") ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        do { _ = try node.enterprise(id, token: token) } catch let e as NodeError where [.notFound, .forbidden, .unauthenticated].contains(e.code) {
            // One message for an unknown id and a wrong token: the form does not tell which ids exist.
            return enterpriseSignIn(pr, id: id, error: "企业编号或企业令牌不正确，请核对后重试。", status: 401)
        }
        enterpriseSessions.close(pr.cookies[PortalEnterpriseSessions.cookie])
        let sid = enterpriseSessions.open(enterpriseID: id, token: token)
        return redirect(
            pr, to: "/enterprise",
            cookies: [pr.cookie(PortalEnterpriseSessions.cookie, sid, maxAge: Int(PortalEnterpriseSessions.lifetime))])
    }

    /// The registration form; `values` and `errors` refill it after a refusal.
    func registerForm(_ pr: PortalRequest, values: PortalForm? = nil, errors: [String: String] = [:], status: Int = 200) -> Response {
        let banner: PortalHTML =
            errors.isEmpty ? .empty : "<p class=\"banner error\" role=\"alert\">登记未成功，请按提示修改后重新提交。</p>"
        let uscc = inputField(
            "uscc", "统一社会信用代码", values: values, errors: errors, required: true, extra: " autocapitalize=\"characters\"",
            hint: "18 位，见营业执照", max: 18)
        let webhook = inputField(
            "webhook.url", "推送地址（可选）", values: values, errors: errors, type: "url",
            hint: "贵单位系统接收推送的 https 地址；不填则只通过订阅源推送", max: 2000)
        let webhookError = fieldError(errors, "webhook")
        return page(
            pr, title: "企业登记", status: status,
            """
            <h1>企业登记</h1>
            <p>登记后，本平台按企业信息匹配政策；出台适用于本企业的新政策时，通过订阅源（及您提供的推送地址）告知。\
            企业信息只保存在本节点（\(nodeName(node.id))），不向其他节点传送。</p>
            \(banner)
            <form class="feedback" method="post" action="/enterprise/register">\(pr.csrfInput)
            \(uscc)
            \(inputField("name", "企业名称", values: values, errors: errors, required: true))
            \(profileFields(values: values, errors: errors, required: true))
            <fieldset><legend>联系方式</legend>\(fieldError(errors, "contact"))
            \(inputField("contact.name", "联系人", values: values, errors: errors, required: true, max: 50))
            \(inputField("contact.phone", "联系电话", values: values, errors: errors, type: "tel", required: true, max: 20))
            \(inputField("contact.email", "电子邮箱（可选）", values: values, errors: errors, type: "email"))
            </fieldset>
            \(webhook)\(webhookError)
            <button type="submit">登记</button></form>
            <p>已登记？<a href="/enterprise">登录企业服务</a></p>
            """)
    }

    /// Registers through the node's own validation; on success signs the enterprise in and
    /// redirects, the token kept in the session only until the next page shows it.
    func doRegister(_ pr: PortalRequest, _ form: PortalForm) throws -> Response {
        var body = profileJSON(form)
        if let u = form["uscc"] { body["uscc"] = .string(u.uppercased()) }
        if let n = form["name"] { body["name"] = .string(n) }
        var contact: [String: JSONValue] = ["name": .string(form["contact.name"] ?? ""), "phone": .string(form["contact.phone"] ?? "")]
        if let e = form["contact.email"] { contact["email"] = .string(e) }
        body["contact"] = .object(contact)
        if let url = form["webhook.url"] { body["webhook"] = ["url": .string(url)] }
        let registered: JSONValue
        do { registered = try node.registerEnterprise(.object(body)) } catch let e as NodeError where e.code == .invalid {
            return registerForm(pr, values: form, errors: e.fields.isEmpty ? ["uscc": e.message] : e.fields, status: 422)
        } catch let e as NodeError where e.code == .conflict {
            return registerForm(pr, values: form, errors: ["uscc": "该统一社会信用代码已在本平台登记，请直接登录"], status: 409)
        }
        guard let id = registered["id"]?.stringValue, let token = registered["token"]?.stringValue else {
            throw NodeError(.internal, "registration returned no id or token")
        }
        let reveal = PortalEnterpriseSessions.Reveal(token: token, webhookSecret: registered["webhook_secret"]?.stringValue)
        enterpriseSessions.close(pr.cookies[PortalEnterpriseSessions.cookie])
        let sid = enterpriseSessions.open(enterpriseID: id, token: token, reveal: reveal)
        return redirect(
            pr, to: "/enterprise",
            cookies: [pr.cookie(PortalEnterpriseSessions.cookie, sid, maxAge: Int(PortalEnterpriseSessions.lifetime))])
    }
}
