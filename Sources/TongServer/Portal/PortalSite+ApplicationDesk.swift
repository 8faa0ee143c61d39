import Foundation
import Hummingbird
import TongCore
import TongDomain
import TongStore

/// 办理申请 in the department's desk (`/inbox?view=applications`): applications overdue first,
/// then by due date, 20 to a page, each with only the moves the workflow allows now; and the
/// batch approval of 免申即享 confirmations.
extension PortalSite {
    /// The desk's two tabs: 留言 (互动通) and 办理申请.
    func deskTabs(_ dept: String, applications: Bool) -> PortalHTML {
        let on = PortalHTML(trusted: " class=\"on\" aria-current=\"page\"")
        return """
            <nav class="tabs desk"><a href="/inbox\(PortalForm.query([("department", dept)]))"\(applications ? .empty : on)>留言（互动通）</a>\
            <a href="/inbox\(PortalForm.query([("view", "applications"), ("department", dept)]))"\(applications ? on : .empty)>办理申请</a></nav>
            """
    }

    /// Where the desk's forms send the browser back to: the same department, filter and page.
    static func deskPath(_ dept: String, status: String?, page: Int, extra: [(String, String?)] = []) -> String {
        "/inbox"
            + PortalForm.query([("view", "applications"), ("department", dept), ("status", status), ("page", page > 1 ? String(page) : nil)] + extra)
    }

    func applicationDesk(_ pr: PortalRequest, notice: String? = nil, status httpStatus: Int = 200) throws -> Response {
        guard pr.principal != .anonymous else { return login(pr, next: "inbox") }
        guard let dept = inboxDepartment(pr, requested: pr.query["department"]) else { throw NodeError.notFound("本节点没有部门") }
        let filter = pr.query["status"].flatMap { ApplicationStatus(rawValue: $0)?.rawValue }
        let all = try node.applications(department: dept, status: filter, by: pr.principal)
        let pages = max(1, (all.count + Self.pageSize - 1) / Self.pageSize)
        let pageNo = min(max(Int(pr.query["page"] ?? "1") ?? 1, 1), pages)
        let items = Array(all.dropFirst((pageNo - 1) * Self.pageSize).prefix(Self.pageSize))
        var forms: [String: ApplicationForm?] = [:]
        func form(_ policy: String) -> ApplicationForm? {
            if let f = forms[policy] { return f }
            let f = ((try? node.db.record(policy)) ?? nil).flatMap { Self.applicationForm($0.state.values) }
            forms[policy] = f
            return f
        }
        let on = PortalHTML(trusted: " class=\"on\"")
        let statusLinks: [PortalHTML] =
            ["<a href=\"\(Self.deskPath(dept, status: nil, page: 1))\"\(filter == nil ? on : .empty)>全部</a>"]
            + ApplicationStatus.allCases.map { s in
                "<a href=\"\(Self.deskPath(dept, status: s.rawValue, page: 1))\"\(filter == s.rawValue ? on : .empty)>\(s.chineseName)</a>"
            }
        var notices: [PortalHTML] = []
        if let done = pr.query["done"].flatMap(PortalText.decided) { notices.append("<p class=\"banner\" role=\"status\">\(done)</p>") }
        if let n = pr.query["batch"].flatMap(Int.init) {
            let refused = pr.query["refused"].flatMap(Int.init) ?? 0
            notices.append(
                "<p class=\"banner\" role=\"status\">已批量审核通过 \(n) 件\(refused > 0 ? "，\(refused) 件未能通过（状态已变化）" : "")。</p>")
        }
        if let notice { notices.append("<p class=\"banner error\" role=\"alert\">\(notice)</p>") }
        let cards: [PortalHTML] = items.map { applicationCard(pr, $0, form: form(PortalSite.text($0["policy"])), filter: filter, page: pageNo) }
        // 免申即享 confirmations awaiting a decision, from every page.
        let batchable = all.filter { a in
            a["content"]?["mode"]?.stringValue == ApplicationMode.confirm.rawValue
                && ["delivered", "accepted"].contains(PortalSite.text(a["status"]))
        }
        let prev: PortalHTML =
            pageNo > 1 ? "<a rel=\"prev\" href=\"\(Self.deskPath(dept, status: filter, page: pageNo - 1))\">上一页</a>" : .empty
        let next: PortalHTML =
            pageNo < pages ? "<a rel=\"next\" href=\"\(Self.deskPath(dept, status: filter, page: pageNo + 1))\">下一页</a>" : .empty
        let pager: PortalHTML = pages <= 1 ? .empty : "<nav class=\"pager\">\(prev)<span>第 \(pageNo) / \(pages) 页</span>\(next)</nav>"
        let list: PortalHTML =
            cards.isEmpty ? "<p>暂无申请。</p>" : "<ol class=\"inbox applications\">\(PortalHTML.join(cards, separator: "\n"))\n</ol>"
        return page(
            pr, title: "办理申请", status: httpStatus,
            """
            <h1>部门收件箱：\(departmentName(dept))</h1>
            \(deskPicker(pr, dept, view: "applications"))
            \(deskTabs(dept, applications: true))
            \(notices)
            \(batchForm(pr, dept, batchable, filter: filter, page: pageNo))
            <nav class="tabs">\(statusLinks)</nav>
            <p class="total">共 \(all.count) 件申请（逾期件在前，其余按办理期限）</p>
            \(list)
            \(pager)
            """)
    }

    /// The admin's department picker (departments of this node); nothing for department staff.
    func deskPicker(_ pr: PortalRequest, _ dept: String, view: String?) -> PortalHTML {
        guard pr.principal == .admin else { return .empty }
        let opts: [PortalHTML] = (node.topology.node(node.id)?.departments ?? []).map { d in
            "<option value=\"\(d.id)\"\(d.id == dept ? " selected" : "")>\(departmentName(d.id))</option>"
        }
        return """
            <form class="inline" method="get" action="/inbox">\(hidden("view", view))<label for="f-dept">部门</label> \
            <select id="f-dept" name="department">\(opts)</select> <button type="submit">切换</button></form>
            """
    }

    /// 免申即享 batch approval: a checkbox per confirmation, one button.
    func batchForm(_ pr: PortalRequest, _ dept: String, _ items: [JSONValue], filter: String?, page: Int) -> PortalHTML {
        guard !items.isEmpty else { return .empty }
        let rows: [PortalHTML] = items.prefix(500).map { a in
            let id = PortalSite.text(a["id"]), ent = a["content"]?["enterprise"]
            return """
                <li><label class="choice"><input type="checkbox" name="ids" value="\(id)" checked> \
                \(PortalSite.text(a["content"]?["policy_title"])) · \(PortalSite.text(ent?["name"])) \
                <span class="meta">\(PortalSite.text(ent?["uscc"])) · \(PortalText.applicationStatus(PortalSite.text(a["status"]))) · \
                办理期限 \(PortalSite.text(a["due_on"]).isEmpty ? "—" : PortalSite.text(a["due_on"]))</span></label></li>
                """
        }
        return """
            <section class="batch"><h2>免申即享批量审核（\(items.count) 件待审）</h2>
            <form method="post" action="/inbox/applications/batch">\(pr.csrfInput)<input type="hidden" name="department" value="\(dept)">\
            \(hidden("status", filter))<input type="hidden" name="page" value="\(page)">
            <ul class="batch-list">\(rows)</ul>
            <label for="f-batch-note">审核意见（可选）</label> <input id="f-batch-note" name="note" maxlength="500"> \
            <button type="submit">批量审核通过</button></form></section>
            """
    }

    /// One application as the department sees it, with the moves allowed now.
    func applicationCard(_ pr: PortalRequest, _ a: JSONValue, form: ApplicationForm?, filter: String?, page: Int) -> PortalHTML {
        let id = PortalSite.text(a["id"]), st = PortalSite.text(a["status"]), dept = PortalSite.text(a["department"])
        let overdue = a["overdue"] == .bool(true)
        let content = a["content"]
        let ent = content?["enterprise"]
        let mode = PortalSite.text(content?["mode"])
        var rows: [PortalHTML] = []
        func row(_ label: String, _ value: String) { if !value.isEmpty { rows.append("<dt>\(label)</dt><dd>\(value)</dd>") } }
        row("申报企业", PortalSite.text(ent?["name"]))
        row("统一社会信用代码", PortalSite.text(ent?["uscc"]))
        if let e = ent {
            row("企业规模", PortalText.sizeClass(e["size_class"]?.stringValue))
            row("所属行业", PortalText.industry(PortalSite.text(e["industry"])))
            row("注册地", nodeName(PortalSite.text(e["region"])))
            row("联系人", PortalSite.text(e["contact"]?["name"]))
            row("联系电话", PortalSite.text(e["contact"]?["phone"]))
        }
        row("提交时间", PortalText.beijingTime(iso: PortalSite.text(a["submitted_at"])) + "（北京时间）")
        row("办理期限", PortalSite.text(a["due_on"]))
        row("提交平台", nodeName(PortalSite.text(a["from_node"])))
        if let amount = content?["amount_wan"]?.intValue { row("申请金额", "\(amount) 万元") }
        if let paid = a["paid_wan"]?.intValue { row("已兑付", "\(paid) 万元") }
        let given = content?["answers"]?.objectValue ?? [:]
        var answers: [PortalHTML] = (form?.fields ?? []).compactMap { f in
            guard let v = given[f.id] else { return nil }
            return "<dt>\(f.label)</dt><dd>\(PortalSite.text(v))</dd>"
        }
        // Answers to fields the form no longer has (it changed after the application) are shown by id.
        for k in given.keys.sorted() where !(form?.fields.contains { $0.id == k } ?? false) {
            answers.append("<dt>\(k)</dt><dd>\(PortalSite.text(given[k]))</dd>")
        }
        let materials = form?.materials ?? []
        let materialItems: [PortalHTML] = materials.map { "<li>\($0)</li>" }
        let body: PortalHTML =
            content == nil
            ? "<p class=\"error\">申请内容无法解密。</p>"
            : """
            <dl class="fields compact">\(rows)</dl>\
            \(answers.isEmpty ? PortalHTML.empty : "<h4>申报信息</h4><dl class=\"fields compact answers\">\(answers)</dl>" as PortalHTML)\
            \(materials.isEmpty ? PortalHTML.empty : "<h4>所需材料</h4><ol class=\"materials\">\(materialItems)</ol>" as PortalHTML)
            """
        let last = (a["history"]?.arrayValue ?? []).last
        let lastNote: PortalHTML = last?["note"].map { "<p class=\"meta\">最近说明：\(PortalSite.text($0))</p>" } ?? .empty
        let allowed = Set(a["allowed"]?.stringArray ?? [])
        func noteBox(_ s: String, _ id: String) -> PortalHTML {
            "<textarea id=\"n-\(s)-\(id)\" name=\"note\" rows=\"2\" maxlength=\"500\" required></textarea>"
        }
        let back: PortalHTML = """
            <input type="hidden" name="id" value="\(id)"><input type="hidden" name="department" value="\(dept)">\
            \(hidden("filter", filter))<input type="hidden" name="page" value="\(page)">
            """
        let moves: [PortalHTML] = PortalText.decisions.filter { allowed.contains($0.status.rawValue) }.map { d in
            let s = d.status.rawValue
            let extra: PortalHTML
            switch d.status {
            case .returned:
                extra = "<label for=\"n-\(s)-\(id)\">需补正的内容</label>\(noteBox(s, id))"
            case .rejected:
                extra = "<label for=\"n-\(s)-\(id)\">不予通过的理由</label>\(noteBox(s, id))"
            case .paid:
                extra =
                    "<label for=\"m-\(id)\">兑付金额（万元）</label><input id=\"m-\(id)\" name=\"amount_wan\" type=\"number\" min=\"1\" step=\"1\" required>"
            default:
                extra = .empty
            }
            return """
                <form class="decision decision-\(s)" method="post" action="/inbox/applications/decide">\(pr.csrfInput)\(back)\
                <input type="hidden" name="status" value="\(s)">\(extra)<button type="submit">\(d.verb)</button></form>
                """
        }
        return """
            <li class="item application status-\(st)\(overdue ? " overdue" : "")" id="a-\(id)"><div class="meta">\
            <span class="badge">\(PortalText.mode(mode))</span> <span class="badge status">\(PortalText.applicationStatus(st))</span>\
            \(overdue ? " <span class=\"badge overdue\">已逾期</span>" as PortalHTML : .empty) <code>\(id)</code></div>
            <h3><a href="/policies/\(PortalForm.encode(PortalSite.text(a["policy"])))">\
            \(PortalSite.text(content?["policy_title"] ?? a["policy"]))</a></h3>
            \(body)\(lastNote)
            \(moves.isEmpty ? "<p class=\"meta\">当前无需办理。</p>" as PortalHTML : "<div class=\"decisions\">\(moves)</div>" as PortalHTML)</li>
            """
    }

    /// One department move, then back to the same page of the desk.
    func doDecide(_ pr: PortalRequest, _ form: PortalForm) throws -> Response {
        guard pr.principal != .anonymous else { return login(pr, next: "inbox", error: "登录已过期，请重新登录。", status: 401) }
        let dept = form["department"].flatMap { Validation.departmentID($0) != nil ? $0 : nil } ?? ""
        let filter = form["filter"].flatMap { ApplicationStatus(rawValue: $0)?.rawValue }
        let page = max(Int(form["page"] ?? "1") ?? 1, 1)
        let status = form["status"] ?? ""
        var body: [String: JSONValue] = ["status": .string(status)]
        if let n = form["note"] { body["note"] = .string(n) }
        if let a = form["amount_wan"] {
            guard let n = Int64(a), n > 0 else {
                return try deskAgain(pr, dept, filter, page, notice: "兑付金额须为正整数（万元）。", status: 422)
            }
            body["amount_wan"] = .int(n)
        }
        do { _ = try node.decide(form["id"] ?? "", body: .object(body), by: pr.principal) } catch let e as NodeError
            where [.invalid, .conflict, .notFound].contains(e.code)
        {
            let why = PortalText.problemMessage(status: HTTPProblem(e).status, detail: e.message)
            return try deskAgain(pr, dept, filter, page, notice: "办理未成功：\(why)", status: HTTPProblem(e).status)
        }
        return redirect(pr, to: Self.deskPath(dept, status: filter, page: page, extra: [("done", status)]))
    }

    /// 免申即享: approves the ticked confirmations in one go.
    func doBatch(_ pr: PortalRequest, _ form: PortalForm) throws -> Response {
        guard pr.principal != .anonymous else { return login(pr, next: "inbox", error: "登录已过期，请重新登录。", status: 401) }
        let dept = form["department"].flatMap { Validation.departmentID($0) != nil ? $0 : nil } ?? ""
        let filter = form["status"].flatMap { ApplicationStatus(rawValue: $0)?.rawValue }
        let page = max(Int(form["page"] ?? "1") ?? 1, 1)
        let ids = Array(Set(form.all("ids"))).sorted()
        guard !ids.isEmpty else { return try deskAgain(pr, dept, filter, page, notice: "请勾选要审核通过的申请。", status: 422) }
        let result = try node.approveBatch(ids, note: form["note"], by: pr.principal)
        let outcomes = result["results"]?.objectValue ?? [:]
        let approved = outcomes.values.filter { $0 == "approved" }.count
        return redirect(
            pr, to: Self.deskPath(dept, status: filter, page: page, extra: [("batch", String(approved)), ("refused", String(ids.count - approved))]))
    }

    /// The desk again (for a refused move), on the department and page the form came from.
    private func deskAgain(_ pr: PortalRequest, _ dept: String, _ filter: String?, _ page: Int, notice: String, status: Int) throws -> Response {
        var q: [(String, String?)] = [("view", "applications"), ("department", dept), ("status", filter)]
        if page > 1 { q.append(("page", String(page))) }
        let query = String(PortalForm.query(q).dropFirst())
        var again = pr
        again.query = PortalForm(query: query)
        return try applicationDesk(again, notice: notice, status: status)
    }
}
