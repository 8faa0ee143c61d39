import Foundation
import Hummingbird
import TongCore
import TongDomain
import TongStore

/// `/receipt/{code}` for an application: its status and timeline in Beijing time, and for the
/// signed-in applicant the 补正 (resubmit) form and the withdraw button.
extension PortalSite {
    /// The application behind a receipt, or nil when the receipt is not an application's.
    func applicationByReceipt(_ code: String) throws -> JSONValue? {
        do { return try node.applicationStatus(code) } catch let e as NodeError where e.code == .notFound { return nil }
    }

    /// Whether the signed-in enterprise filed the application `id` here.
    func owns(_ who: (session: PortalEnterpriseSessions.Entry, row: EnterpriseRow)?, application id: String) -> Bool {
        guard let who else { return false }
        return ((try? node.db.applications(enterprise: who.row.id)) ?? []).contains { $0.state.id == id }
    }

    /// One timeline step: status, Beijing time, who, note, amount.
    func timelineStep(_ h: JSONValue) -> PortalHTML {
        let st = PortalSite.text(h["status"])
        let note: PortalHTML = h["note"].map { n in "<p class=\"note\">\(st == "rejected" ? "理由" : "说明")：\(PortalSite.text(n))</p>" } ?? .empty
        var extra: [PortalHTML] = []
        if let a = h["amount_wan"]?.intValue { extra.append("<span class=\"amount\">兑付金额 \(a) 万元</span>") }
        if let d = h["due_on"]?.stringValue, !d.isEmpty { extra.append("<span class=\"due\">办理期限 \(d)</span>") }
        return """
            <li class="step status-\(st)"><span class="badge status">\(PortalText.applicationStatus(st))</span> \
            <time>\(PortalText.beijingTime(iso: PortalSite.text(h["at"])))</time> <span class="meta">（北京时间）</span> \
            <span class="actor">\(PortalText.actor(PortalSite.text(h["actor"])))</span>\
            \(extra.isEmpty ? PortalHTML.empty : " · " as PortalHTML)\(PortalHTML.join(extra, separator: " · "))\(note)</li>
            """
    }

    /// The receipt page of an application.
    func applicationReceipt(
        _ pr: PortalRequest, code: String, _ st: JSONValue, values: PortalForm? = nil, errors: [String: String] = [:],
        notice: String? = nil, status httpStatus: Int = 200
    ) throws -> Response {
        let id = PortalSite.text(st["id"]), policyID = PortalSite.text(st["policy"])
        let status = ApplicationStatus(rawValue: PortalSite.text(st["status"])) ?? .submitted
        let policy = try node.db.record(policyID)
        let policyTitle = policy.map { PortalSite.text($0.state["title"]) } ?? policyID
        let form = policy.flatMap { Self.applicationForm($0.state.values) }
        let history = st["history"]?.arrayValue ?? []
        let who = signedInEnterprise(pr)
        let mine = owns(who, application: id)
        let codePath = "/receipt/\(PortalForm.encode(code))"

        var banners: [PortalHTML] = []
        if pr.query["new"] != nil {
            banners.append(
                """
                <section class="banner" role="status"><h2>提交成功</h2><p>请妥善保存回执编号，凭此查询办理进度：</p>\
                <p class="receipt-code" id="receipt">\(code.uppercased())</p></section>
                """)
        }
        if let done = pr.query["done"] {
            let text = done == "resubmitted" ? "补正材料已重新提交。" : done == "withdrawn" ? "申请已撤回。" : nil
            if let text { banners.append("<p class=\"banner\" role=\"status\">\(text)</p>") }
        }
        if let notice { banners.append("<p class=\"banner error\" role=\"alert\">\(notice)</p>") }

        var actions: [PortalHTML] = []
        if status == .returned {
            let why = history.last { $0["status"]?.stringValue == "returned" }?["note"].map { PortalSite.text($0) } ?? ""
            actions.append(
                """
                <section class="banner error returned"><h2>受理部门退回补正</h2><p>\(why.isEmpty ? "请按受理部门要求补正后重新提交。" : why)</p></section>
                """)
            if mine, let who, let form {
                let once = applyTokens.issue(owner: who.row.id, purpose: "resubmit:\(id)")
                let general: PortalHTML =
                    errors.isEmpty ? .empty : "<p class=\"banner error\" role=\"alert\">补正未成功，请按提示修改后重新提交。</p>"
                actions.append(
                    """
                    <section><h2>补正后重新提交</h2>\(general)
                    <form class="feedback resubmit" method="post" action="\(codePath)/resubmit">\(pr.csrfInput)\
                    <input type="hidden" name="_once" value="\(once)">
                    \(form.mode == .confirm ? "<p>免申即享无需填表，确认后重新提交。</p>" as PortalHTML : answerFields(form, values: values, errors: errors))
                    <div class="field"><label for="f-note">补正说明（可选）</label>\
                    <textarea id="f-note" name="note" rows="3" maxlength="500">\(values?.raw("note") ?? "")</textarea></div>
                    <button type="submit">重新提交</button></form></section>
                    """)
            }
        }
        let canWithdraw = ApplicationWorkflow.allowed(from: status, actor: .applicant).contains(.withdrawn)
        if canWithdraw, mine {
            actions.append(
                """
                <form class="withdraw" method="post" action="\(codePath)/withdraw">\(pr.csrfInput)\
                <label for="f-withdraw-note">撤回原因（可选）</label> <input id="f-withdraw-note" name="note" maxlength="200"> \
                <button type="submit" class="secondary">撤回申请</button></form>
                """)
        }
        if (status == .returned || canWithdraw), !mine {
            actions.append(
                """
                <p class="meta">申请企业<a href="/enterprise">登录企业服务</a>后，可在本页\(status == .returned ? "补正重新提交或" : "")撤回申请。</p>
                """)
        }
        let paid: PortalHTML = st["paid_wan"]?.intValue.map { "<dt>兑付金额</dt><dd>\($0) 万元</dd>" } ?? .empty
        let due = PortalSite.text(st["due_on"])
        return page(
            pr, title: "办理进度", status: httpStatus,
            """
            <h1>办理进度</h1>
            \(banners)
            <dl class="fields">
            <dt>回执编号</dt><dd>\(code.uppercased())</dd>
            <dt>类型</dt><dd>\(form.map { PortalText.mode($0.mode.rawValue) } ?? "申报")</dd>
            <dt>申报政策</dt><dd><a href="/policies/\(PortalForm.encode(policyID))">\(policyTitle)</a></dd>
            <dt>受理部门</dt><dd>\(st["department_name"].map { PortalSite.text($0) } ?? departmentName(PortalSite.text(st["department"])))</dd>
            <dt>提交时间</dt><dd>\(PortalText.beijingTime(iso: PortalSite.text(st["submitted_at"])))（北京时间）</dd>
            <dt>当前状态</dt><dd class="status status-\(status.rawValue)"><strong>\(PortalSite.text(st["status_name"]))</strong></dd>
            \(due.isEmpty || !status.isOpen ? PortalHTML.empty : "<dt>办理期限</dt><dd>\(due)</dd>" as PortalHTML)
            \(paid)
            </dl>
            \(actions)
            <section><h2>办理过程</h2><ol class="timeline">\(history.map(timelineStep))</ol></section>
            """)
    }

    /// Resubmits after 补正 (once per form token), then back to the receipt.
    func doResubmit(_ pr: PortalRequest, code: String, _ posted: PortalForm) async throws -> Response {
        guard let st = try applicationByReceipt(code) else { return receiptLookup(pr, error: "未找到该回执编号。", status: 404) }
        let id = PortalSite.text(st["id"])
        let who = signedInEnterprise(pr)
        guard let who, owns(who, application: id) else {
            return try applicationReceipt(pr, code: code, st, notice: "请以申请企业身份登录企业服务后再补正。", status: who == nil ? 401 : 403)
        }
        let codePath = "/receipt/\(PortalForm.encode(code))"
        let once = posted.raw("_once") ?? ""
        switch try await claim(once, owner: who.row.id, purpose: "resubmit:\(id)") {
        case .done(let path): return redirect(pr, to: path)
        case .invalid, .running:
            return try applicationReceipt(pr, code: code, st, values: posted, notice: "页面已过期或已提交过，请刷新后核对。", status: 409)
        case .proceed: break
        }
        let policy = try node.db.record(PortalSite.text(st["policy"]))
        let form = policy.flatMap { Self.applicationForm($0.state.values) } ?? ApplicationForm(mode: .confirm)
        var body: [String: JSONValue] = ["enterprise": .string(who.row.id), "answers": .object(Self.answers(form, posted))]
        if let n = posted["note"] { body["note"] = .string(n) }
        do { _ = try node.moveAsApplicant(id, to: .submitted, body: .object(body), token: who.session.token) } catch let e as NodeError {
            applyTokens.release(once)
            switch e.code {
            case .invalid:
                return try applicationReceipt(pr, code: code, st, values: posted, errors: e.fields, status: 422)
            case .conflict:
                return try applicationReceipt(pr, code: code, st, notice: "无法重新提交：\(PortalText.problemMessage(status: 409, detail: e.message))",
                    status: 409)
            default: throw e
            }
        } catch {
            applyTokens.release(once)
            throw error
        }
        let path = codePath + "?done=resubmitted"
        applyTokens.finish(once, path: path)
        return redirect(pr, to: path)
    }

    /// Withdraws an open application; a second press finds it withdrawn and says so.
    func doWithdraw(_ pr: PortalRequest, code: String, _ posted: PortalForm) throws -> Response {
        guard let st = try applicationByReceipt(code) else { return receiptLookup(pr, error: "未找到该回执编号。", status: 404) }
        let id = PortalSite.text(st["id"])
        let who = signedInEnterprise(pr)
        guard let who, owns(who, application: id) else {
            return try applicationReceipt(pr, code: code, st, notice: "请以申请企业身份登录企业服务后再撤回。", status: who == nil ? 401 : 403)
        }
        var body: [String: JSONValue] = ["enterprise": .string(who.row.id)]
        if let n = posted["note"] { body["note"] = .string(n) }
        do { _ = try node.moveAsApplicant(id, to: .withdrawn, body: .object(body), token: who.session.token) } catch let e as NodeError
            where e.code == .conflict
        {
            return try applicationReceipt(pr, code: code, st, notice: "无法撤回：\(PortalText.problemMessage(status: 409, detail: e.message))",
                status: 409)
        }
        return redirect(pr, to: "/receipt/\(PortalForm.encode(code))?done=withdrawn")
    }
}
