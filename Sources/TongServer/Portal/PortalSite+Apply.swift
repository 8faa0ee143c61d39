import Foundation
import Hummingbird
import TongCore
import TongDomain
import TongStore

/// 在线申报 and 确认享受 (免申即享): the policy page's offer, and the form generated from the
/// policy's `application` field. The node decides everything (window, eligibility, answers,
/// duplicates); the portal turns its refusals into messages beside the fields.
extension PortalSite {
    func registerApplications(_ router: Router<BasicRequestContext>) {
        router.get("/policies/:id/apply") { req, ctx in
            try await self.guarded(req) { try self.applyPage($0, id: ctx.parameters.get("id") ?? "") }
        }
        router.post("/policies/:id/apply") { req, ctx in
            try await self.guarded(req) { pr in try await self.doApply(pr, id: ctx.parameters.get("id") ?? "", try await self.readForm(req, pr)) }
        }
        router.post("/receipt/:code/resubmit") { req, ctx in
            try await self.guarded(req) { pr in
                try await self.doResubmit(pr, code: ctx.parameters.get("code") ?? "", try await self.readForm(req, pr))
            }
        }
        router.post("/receipt/:code/withdraw") { req, ctx in
            try await self.guarded(req) { pr in try self.doWithdraw(pr, code: ctx.parameters.get("code") ?? "", try await self.readForm(req, pr)) }
        }
        router.post("/inbox/applications/decide") { req, _ in
            try await self.guarded(req) { pr in try self.doDecide(pr, try await self.readForm(req, pr)) }
        }
        router.post("/inbox/applications/batch") { req, _ in
            try await self.guarded(req) { pr in try self.doBatch(pr, try await self.readForm(req, pr)) }
        }
    }

    /// A policy's application form, if it takes applications and this node can read the form.
    static func applicationForm(_ v: [String: JSONValue]) -> ApplicationForm? {
        guard let a = v["application"], a != .null else { return nil }
        return try? ApplicationForm.parse(a)
    }

    /// Where today (Beijing) stands against the policy's window: nil when open, else why not.
    static func windowClosed(_ v: [String: JSONValue], now: Int64 = TongNode.now()) -> String? {
        guard let today = SimpleDate(beijingMillis: now) else { return "暂不能申报" }
        if let from = v["apply_from"]?.stringValue.flatMap(SimpleDate.init), today < from { return "申报尚未开始（\(from) 起）" }
        if let to = v["apply_to"]?.stringValue.flatMap(SimpleDate.init), today > to { return "申报已于 \(to) 截止" }
        return nil
    }

    /// The policy page's 在线申报 / 确认享受 block: a link while the window is open, the reason
    /// otherwise; nothing for a policy that takes no applications.
    func applyOffer(_ id: String, _ v: [String: JSONValue]) -> PortalHTML {
        guard let form = Self.applicationForm(v) else { return .empty }
        let confirm = form.mode == .confirm
        let verb = confirm ? "确认享受" : "在线申报"
        let explain = confirm ? "本政策为免申即享：符合条件的企业无需填表，确认后由受理部门直接审核兑现。" : "本政策可在线申报，填写申报信息并备齐所需材料。"
        let action: PortalHTML
        if v["status"]?.stringValue == "withdrawn" {
            action = "<p class=\"meta\">政策已废止，不再受理申报。</p>"
        } else if let closed = Self.windowClosed(v) {
            action = "<p class=\"meta\">\(closed)。</p>"
        } else {
            action = "<p><a class=\"button apply\" href=\"/policies/\(PortalForm.encode(id))/apply\">\(verb)</a></p>"
        }
        return """
            <section class="apply-offer"><h2>\(confirm ? "免申即享" : "在线申报")</h2><p>\(explain)</p>\(action)</section>
            """
    }

    /// The signed-in enterprise (its session and profile), or nil; a session whose token no
    /// longer works is closed.
    func signedInEnterprise(_ pr: PortalRequest) -> (session: PortalEnterpriseSessions.Entry, row: EnterpriseRow)? {
        let sid = pr.cookies[PortalEnterpriseSessions.cookie]
        guard let s = enterpriseSessions.take(sid) else { return nil }
        guard let row = try? node.enterprise(s.enterpriseID, token: s.token) else {
            enterpriseSessions.close(sid)
            return nil
        }
        return (s, row)
    }

    /// The policy record behind an apply page: 404 unless it is a policy taking applications.
    func applicablePolicy(_ id: String) throws -> (record: StoredRecord, form: ApplicationForm) {
        guard let r = try node.db.record(id), r.state.kind == .policy else { throw NodeError.notFound("本节点没有这项政策（\(id)）") }
        guard let form = Self.applicationForm(r.state.values) else { throw NodeError.notFound("该政策不接受在线申报") }
        return (r, form)
    }

    /// What a refused application looks like on the form.
    struct ApplyRefusal {
        /// Field id (or `amount_wan`) → message, shown beside the field.
        var fields: [String: String] = [:]
        /// Eligibility conditions not met: (condition name, detail).
        var failing: [(String, String)] = []
        /// Anything else, shown at the top.
        var general: [String] = []
        /// A duplicate: the open application (its id, status, and receipt when known).
        var duplicate: (id: String, status: String, receipt: String?)?
    }

    /// The apply page: who applies, the materials, and the form (or the sign-in prompt).
    func applyPage(
        _ pr: PortalRequest, id: String, values: PortalForm? = nil, refusal: ApplyRefusal = ApplyRefusal(), notice: String? = nil,
        status: Int = 200
    ) throws -> Response {
        let (r, form) = try applicablePolicy(id)
        let v = r.state.values
        let title = PortalSite.text(v["title"])
        let confirm = form.mode == .confirm
        let verb = confirm ? "确认享受" : "在线申报"
        let head: PortalHTML = """
            <p class="meta"><a href="/policies/\(PortalForm.encode(id))">← 返回政策</a></p>
            <h1>\(verb)：\(title)</h1>
            <dl class="fields compact"><dt>受理部门</dt><dd>\(departmentName(PortalSite.text(v["department"])))</dd>\
            <dt>办理方式</dt><dd>\(PortalText.mode(form.mode.rawValue))</dd>\(applyWindow(v))</dl>
            """
        let materials: PortalHTML =
            form.materials.isEmpty
            ? "<section class=\"materials\"><h2>所需材料</h2><p>无需提交材料。</p></section>"
            : """
            <section class="materials"><h2>所需材料</h2><ol class="materials">\(form.materials.map { m -> PortalHTML in "<li>\(m)</li>" })</ol>\
            <p class="meta">请备齐以上材料，受理部门审核时可能要求提供。</p></section>
            """
        if v["status"]?.stringValue == "withdrawn" || Self.windowClosed(v) != nil {
            let why = v["status"]?.stringValue == "withdrawn" ? "政策已废止，不再受理申报" : Self.windowClosed(v)!
            return page(
                pr, title: verb, status: status == 200 ? 422 : status, "\(head)<p class=\"banner error\" role=\"alert\">\(why)。</p>\(materials)")
        }
        guard let who = signedInEnterprise(pr) else {
            return page(
                pr, title: verb, status: status == 200 ? 401 : status,
                """
                \(head)
                <section class="banner" role="status"><h2>请先登录企业服务</h2>
                <p>申报须以企业身份办理：请凭企业编号和企业令牌<a href="/enterprise">登录企业服务</a>后，再回到本页\(verb)。\
                尚未登记的企业请先<a href="/enterprise/register">登记企业信息</a>。</p></section>
                \(materials)
                """)
        }
        var blocks: [PortalHTML] = []
        if let notice { blocks.append("<p class=\"banner\" role=\"status\">\(notice)</p>") }
        if let d = refusal.duplicate {
            let link: PortalHTML =
                d.receipt.map { "<a class=\"button\" href=\"/receipt/\(PortalForm.encode($0))\">查看这件申请的办理进度</a>" }
                ?? "<span class=\"meta\">请凭提交时取得的回执编号<a href=\"/receipt\">查询办理进度</a>。</span>"
            blocks.append(
                """
                <section class="banner error" role="alert" id="duplicate"><h2>已有一件未办结的申请</h2>
                <p>本企业对该政策已有一件申请正在办理（\(PortalText.applicationStatus(d.status))，编号 <code>\(d.id)</code>），\
                办结或撤回之前不能重复申报。</p><p>\(link)</p></section>
                """)
        }
        if !refusal.failing.isEmpty {
            blocks.append(
                """
                <section class="banner error" role="alert" id="ineligible"><h2>不符合申报条件</h2><ul class="failing">\
                \(refusal.failing.map { c, d -> PortalHTML in "<li><strong>\(c)</strong>：\(d)</li>" })</ul>\
                <p class="meta">如企业信息有变化，请在企业服务中更新后再申报。</p></section>
                """)
        }
        if !refusal.general.isEmpty {
            blocks.append("<ul class=\"banner error\" role=\"alert\">\(refusal.general.map { g -> PortalHTML in "<li>\(g)</li>" })</ul>")
        }
        if !refusal.fields.isEmpty {
            blocks.append("<p class=\"banner error\" role=\"alert\">提交未成功，请按提示修改后重新提交。</p>")
        }
        let once = applyTokens.issue(owner: who.row.id, purpose: "apply:\(id)")
        let fields = confirm ? PortalHTML.empty : answerFields(form, values: values, errors: refusal.fields)
        let amount: PortalHTML =
            confirm
            ? .empty
            : """
            <div class="field\(refusal.fields["amount_wan"] != nil ? " invalid" : "")"><label for="f-amount_wan">申请金额（万元，可选）</label>\
            <input id="f-amount_wan" name="amount_wan" type="number" min="1" step="1" value="\(values?.raw("amount_wan") ?? "")">\
            <span class="hint">按政策规定测算的金额，整数</span>\
            \(refusal.fields["amount_wan"].map { "<span class=\"field-error\" id=\"err-amount_wan\">申请金额：\($0)</span>" as PortalHTML }
                ?? .empty)</div>
            """
        let confirmText: PortalHTML =
            confirm
            ? "<p>确认后，本企业的登记信息（名称、统一社会信用代码、注册地、行业、规模、联系方式）将加密送交受理部门审核，无需另行填表。</p>"
            : .empty
        return page(
            pr, title: verb, status: status,
            """
            \(head)
            \(blocks)
            <p>申报企业：<strong>\(who.row.name)</strong>（统一社会信用代码 \(who.row.uscc)）</p>
            \(materials)
            <section><h2>\(confirm ? "确认享受" : "填写申报信息")</h2>
            <form class="feedback apply" method="post" action="/policies/\(PortalForm.encode(id))/apply">\(pr.csrfInput)\
            <input type="hidden" name="_once" value="\(once)">
            \(confirmText)\(fields)\(amount)
            <button type="submit">\(confirm ? "确认享受" : "提交申报")</button></form></section>
            <p class="meta">提交后取得回执编号，凭回执编号查询办理进度；申报内容只有受理部门能够查看。</p>
            """)
    }

    /// The inputs for a form's fields; answers are posted as `a.<field id>`.
    func answerFields(_ form: ApplicationForm, values: PortalForm?, errors: [String: String]) -> PortalHTML {
        PortalHTML.join(
            form.fields.map { f in
                let name = "a.\(f.id)", domID = "f-a-\(f.id)"
                let value = values?.raw(name) ?? ""
                let req: PortalHTML = f.required ? "<span class=\"req\">*</span>" : ""
                let required = f.required ? " required" : ""
                let err: PortalHTML = errors[f.id].map { "<span class=\"field-error\" id=\"err-\(f.id)\">\($0)</span>" } ?? .empty
                let invalid = errors[f.id] != nil ? " invalid" : ""
                switch f.type {
                case .choice where (f.choices ?? []).count <= 5:
                    let radios: [PortalHTML] = (f.choices ?? []).map { c in
                        let checked = c == value ? " checked" : ""
                        return "<label class=\"choice\"><input type=\"radio\" name=\"\(name)\" value=\"\(c)\"\(checked)\(required)> \(c)</label>"
                    }
                    return "<fieldset class=\"field\(invalid)\"><legend>\(f.label)\(req)</legend>\(radios)\(err)</fieldset>"
                case .choice:
                    let options: [PortalHTML] = (f.choices ?? []).map { c in
                        "<option value=\"\(c)\"\(c == value ? " selected" : "")>\(c)</option>"
                    }
                    return """
                        <div class="field\(invalid)"><label for="\(domID)">\(f.label)\(req)</label>\
                        <select id="\(domID)" name="\(name)"\(required)><option value="">请选择</option>\(options)</select>\(err)</div>
                        """
                case .text, .number, .date:
                    let attrs: PortalHTML =
                        switch f.type {
                        case .number: "type=\"number\" step=\"any\""
                        case .date: "type=\"date\""
                        default: "type=\"text\" maxlength=\"\(ApplicationForm.maxTextAnswer)\""
                        }
                    return """
                        <div class="field\(invalid)"><label for="\(domID)">\(f.label)\(req)</label>\
                        <input id="\(domID)" name="\(name)" \(attrs) value="\(value)"\(required)>\(err)</div>
                        """
                }
            }, separator: "\n")
    }

    /// The answers posted as `a.<id>`, as the node takes them; blanks are left out.
    static func answers(_ form: ApplicationForm, _ posted: PortalForm) -> [String: JSONValue] {
        var out: [String: JSONValue] = [:]
        for f in form.fields {
            guard let v = posted["a.\(f.id)"] else { continue }
            out[f.id] = .string(v)
        }
        return out
    }

    /// Sorts a node refusal into the form's places.
    func refusal(_ e: NodeError, form: ApplicationForm) -> ApplyRefusal {
        var out = ApplyRefusal()
        let ids = Set(form.fields.map(\.id))
        if e.message.hasPrefix("不符合申报条件") {
            out.failing = e.fields.keys.sorted().map { (PortalText.condition($0), e.fields[$0]!) }
            if out.failing.isEmpty { out.general = [e.message] }
            return out
        }
        for (k, m) in e.fields {
            if ids.contains(k) || k == "amount_wan" { out.fields[k] = m } else { out.general.append(m) }
        }
        if e.fields.isEmpty { out.general = [e.message] }
        out.general.sort()
        return out
    }

    /// Files the application once per form token, then redirects to its receipt.
    func doApply(_ pr: PortalRequest, id: String, _ posted: PortalForm) async throws -> Response {
        let (r, form) = try applicablePolicy(id)
        guard let who = signedInEnterprise(pr) else { return try applyPage(pr, id: id, status: 401) }
        let once = posted.raw("_once") ?? ""
        switch try await claim(once, owner: who.row.id, purpose: "apply:\(id)") {
        case .done(let path): return redirect(pr, to: path)
        case .invalid:
            return try applyPage(pr, id: id, values: posted, notice: "页面已过期或已提交过，请核对后重新提交。", status: 409)
        case .running:
            return try applyPage(pr, id: id, values: posted, notice: "上一次提交尚未完成，请稍后查看；如未成功，请核对后重新提交。", status: 409)
        case .proceed: break
        }
        var body: [String: JSONValue] = ["policy": .string(id), "enterprise": .string(who.row.id)]
        if form.mode == .apply {
            body["answers"] = .object(Self.answers(form, posted))
            if let a = posted["amount_wan"] {
                guard let n = Int64(a), n > 0 else {
                    applyTokens.release(once)
                    return try applyPage(pr, id: id, values: posted, refusal: ApplyRefusal(fields: ["amount_wan": "须为正整数（万元）"]), status: 422)
                }
                body["amount_wan"] = .int(n)
            }
        }
        let submission: Submission
        do { submission = try node.apply(.object(body), token: who.session.token) } catch let e as NodeError {
            applyTokens.release(once)
            switch e.code {
            case .invalid: return try applyPage(pr, id: id, values: posted, refusal: refusal(e, form: form), status: 422)
            case .conflict:
                var dup = ApplyRefusal()
                let open = try node.db.applications(enterprise: who.row.id, policy: r.state.id).first {
                    ApplicationTimeline.replay($0.state.values).status.isOpen
                }
                dup.duplicate = (
                    open?.state.id ?? "—", open.map { ApplicationTimeline.replay($0.state.values).status.rawValue } ?? "",
                    open.flatMap { applyTokens.receipt(of: $0.state.id, enterprise: who.row.id) }
                )
                return try applyPage(pr, id: id, values: posted, refusal: dup, status: 409)
            case .unauthenticated, .forbidden:
                enterpriseSessions.close(pr.cookies[PortalEnterpriseSessions.cookie])
                return try applyPage(pr, id: id, status: 401)
            default: throw e
            }
        } catch {
            applyTokens.release(once)
            throw error
        }
        applyTokens.remember(application: submission.id, enterprise: who.row.id, receipt: submission.receipt)
        let path = "/receipt/\(PortalForm.encode(submission.receipt))?new=1"
        applyTokens.finish(once, path: path)
        return redirect(pr, to: path)
    }

    /// Claims a one-time token; a request that finds it in use waits (up to 10 s) for the first
    /// one to finish, then answers as it did.
    func claim(_ token: String, owner: String, purpose: String) async throws -> PortalApplyTokens.Claim {
        let c = applyTokens.claim(token, owner: owner, purpose: purpose)
        guard c == .running else { return c }
        for _ in 0..<200 {
            try await Task.sleep(for: .milliseconds(50))
            switch applyTokens.state(token) {
            case .done(let path)?: return .done(path: path)
            case .running?: continue
            case .fresh?, nil: return .running
            }
        }
        return .running
    }
}
