import Foundation
import Hummingbird
import TongCore
import TongDomain
import TongStore

/// Staff pages: login, a department's inbox, the node admin's federation status and
/// conflicts, and supervision figures. Authority is always the node's own check
/// (`inbox`, `reply`, `patch`); the portal only carries the principal from the session.
extension PortalSite {
    func registerStaff(_ router: Router<BasicRequestContext>) {
        router.get("/login") { req, _ in try await self.guarded(req) { self.login($0, next: $0.query["next"]) } }
        router.post("/login") { req, _ in
            try await self.guarded(req) { pr in try self.doLogin(pr, try await self.readForm(req, pr)) }
        }
        router.post("/logout") { req, _ in
            try await self.guarded(req) { pr in
                _ = try await self.readForm(req, pr)
                self.sessions.close(pr.sessionID)
                return self.redirect(pr, to: "/", cookies: [pr.cookie(PortalRequest.sessionCookie, "", maxAge: 0)])
            }
        }
        router.get("/inbox") { req, _ in try await self.guarded(req) { try self.inbox($0) } }
        router.post("/inbox/reply") { req, _ in
            try await self.guarded(req) { pr in try await self.doReply(pr, try await self.readForm(req, pr)) }
        }
        router.get("/inbox/transfer") { req, _ in try await self.guarded(req) { try self.transferPage($0) } }
        router.post("/inbox/transfer") { req, _ in
            try await self.guarded(req) { pr in try self.doTransfer(pr, try await self.readForm(req, pr)) }
        }
        router.post("/inbox/close") { req, _ in
            try await self.guarded(req) { pr in try self.doClose(pr, try await self.readForm(req, pr)) }
        }
        router.get("/admin") { req, _ in try await self.guarded(req) { try self.admin($0) } }
        router.post("/admin/settle") { req, _ in
            try await self.guarded(req) { pr in try self.settle(pr, try await self.readForm(req, pr)) }
        }
        router.get("/supervision") { req, _ in try await self.guarded(req) { try self.supervisionPage($0) } }
        router.get("/supervision.csv") { req, _ in try await self.guarded(req) { try self.supervisionCSV($0) } }
    }

    /// Where a login may send the browser next: a fixed list, never a caller-supplied URL.
    static func nextPath(_ next: String?) -> String {
        switch next {
        case "admin": "/admin"
        case "supervision": "/supervision"
        default: "/inbox"
        }
    }

    func login(_ pr: PortalRequest, next: String?, error: String? = nil, status: Int = 200) -> Response {
        let target = ["admin", "supervision"].contains(next ?? "") ? next! : "inbox"
        return page(
            pr, title: "工作人员登录", status: status,
            """
            <h1>工作人员登录</h1>
            <p>部门工作人员请输入本部门令牌，节点管理员请输入管理令牌。令牌只在登录时提交一次，不会保存在浏览器中。</p>
            <form class="feedback" method="post" action="/login">\(pr.csrfInput)<input type="hidden" name="next" value="\(target)">
            <div class="field\(error != nil ? " invalid" : "")"><label for="f-token">令牌</label>\
            <input id="f-token" name="token" type="password" autocomplete="off" maxlength="256" required>\
            \(error.map { "<span class=\"field-error\">\($0)</span>" as PortalHTML } ?? .empty)</div>
            <button type="submit">登录</button></form>
            """)
    }

    func doLogin(_ pr: PortalRequest, _ form: PortalForm) throws -> Response {
        let token = (form.raw("token") ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        guard let who = node.auth.principal(authorization: "Bearer " + token), who != .anonymous else {
            return login(pr, next: form["next"], error: "令牌无效，请核对后重试。", status: 401)
        }
        sessions.close(pr.sessionID)
        let sid = sessions.open(who)
        return redirect(
            pr, to: Self.nextPath(form["next"]), cookies: [pr.cookie(PortalRequest.sessionCookie, sid, maxAge: Int(PortalSessions.lifetime))])
    }

    /// The department an inbox shows: a department's own, or for the admin one of this node's.
    func inboxDepartment(_ pr: PortalRequest, requested: String?) -> String? {
        switch pr.principal {
        case .department(let d): return d
        case .admin:
            let mine = node.topology.node(node.id)?.departments.map(\.id) ?? []
            return requested.flatMap { mine.contains($0) ? $0 : nil } ?? mine.first
        case .anonymous: return nil
        }
    }

    /// Notices a redirect back to the inbox may ask for (codes only: no caller text reaches the page).
    static let inboxNotices: [String: String] = [
        "transferred": "已转办，留言已重新加密并送往所选部门。", "transfer-note": "转办未成功：请填写转办说明（1-500字）。",
        "transfer-department": "转办未成功：请选择其他受理部门。", "transfer-state": "转办未成功：该留言已办结、已转办或无法送达。",
    ]

    func inbox(_ pr: PortalRequest, notice: String? = nil, status httpStatus: Int = 200) throws -> Response {
        guard pr.principal != .anonymous else { return login(pr, next: "inbox") }
        let notice = notice ?? pr.query["notice"].flatMap { Self.inboxNotices[$0] }
        if pr.query["view"] == "applications" { return try applicationDesk(pr, notice: notice, status: httpStatus) }
        guard let dept = inboxDepartment(pr, requested: pr.query["department"]) else {
            throw NodeError.notFound("本节点没有部门")
        }
        let filter = pr.query["status"].flatMap { s in PortalText.statuses.contains { $0.code == s } ? s : nil }
        let kind = pr.query["kind"].flatMap { k in PortalText.kinds.contains { $0.code == k } || k == "survey" ? k : nil }
        let survey = kind == "survey" ? pr.query["survey"].flatMap { $0.utf8.count <= 64 ? $0 : nil } : nil
        let after = pr.query["after"].flatMap { TongDatabase.InboxCursor($0) != nil ? $0 : nil }
        // Survey responses are read as tallies (below), one by one only when asked for.
        let shown = try node.inboxPage(
            department: dept, status: filter, kind: kind, survey: survey, includeSurveys: kind == "survey", after: after,
            limit: Self.pageSize, by: pr.principal)
        func link(_ status: String?, _ kind: String?, after: String? = nil) -> String {
            "/inbox" + PortalForm.query([("department", dept), ("status", status), ("kind", kind), ("survey", survey), ("after", after)])
        }
        let on = PortalHTML(trusted: " class=\"on\" aria-current=\"page\"")
        let anyStatus: PortalHTML = "<a href=\"\(link(nil, kind))\"\(filter == nil ? on : .empty)>全部状态</a>"
        let statusLinks: [PortalHTML] =
            [anyStatus]
            + PortalText.statuses.map { s -> PortalHTML in "<a href=\"\(link(s.code, kind))\"\(filter == s.code ? on : .empty)>\(s.name)</a>" }
        let counts = try node.db.feedbackCountsByForm(department: dept)
        let anyKind: PortalHTML = "<a href=\"\(link(filter, nil))\"\(kind == nil ? on : .empty)>全部类型</a>"
        let kindLinks: [PortalHTML] =
            [anyKind]
            + PortalText.kinds.map { k -> PortalHTML in
                "<a href=\"\(link(filter, k.code))\"\(kind == k.code ? on : .empty)>\(k.name) <span class=\"count\">\(counts[k.code] ?? 0)</span></a>"
            }
        var picker: PortalHTML = .empty
        if pr.principal == .admin {
            let opts: [PortalHTML] = (node.topology.node(node.id)?.departments ?? []).map { d in
                "<option value=\"\(d.id)\"\(d.id == dept ? " selected" : "")>\(departmentName(d.id))</option>"
            }
            picker =
                """
                <form class=\"inline\" method=\"get\" action=\"/inbox\"><label for=\"f-dept\">部门</label> \
                <select id=\"f-dept\" name=\"department\">\(opts)</select> <button type=\"submit\">切换</button></form>
                """
        }
        let cards: [PortalHTML] = shown.items.map { inboxCard(pr, $0) }
        let pager: PortalHTML = """
            <nav class="pager">\(after == nil ? PortalHTML.empty : "<a href=\"\(link(filter, kind))\">回到第一页</a>")\
            \(shown.next.map { "<a rel=\"next\" href=\"\(link(filter, kind, after: $0))\">下一页</a>" as PortalHTML } ?? .empty)</nav>
            """
        let surveys = kind == nil || kind == "survey" ? try surveySummaries(dept, pr) : .empty
        let heading: PortalHTML =
            survey.map { sid in
                "<h2>问卷答卷：\(PortalSite.text(((try? node.db.record(sid)) ?? nil)?.state["title"]))</h2>"
            } ?? .empty
        return page(
            pr, title: "部门收件箱", status: httpStatus,
            """
            <h1>部门收件箱：\(departmentName(dept))</h1>
            \(picker)
            \(deskTabs(dept, applications: false))
            \(notice.map { "<p class=\"banner\" role=\"status\">\($0)</p>" as PortalHTML } ?? .empty)
            <nav class="tabs">\(statusLinks)</nav>
            <nav class="tabs kinds">\(kindLinks)</nav>
            \(survey == nil ? surveys : heading)
            <p class="total">本页 \(shown.items.count) 件（逾期件在前，其余按办理期限先后；每页至多 \(Self.pageSize) 件）</p>
            \(cards.isEmpty ? "<p>暂无留言。</p>" as PortalHTML : "<ol class=\"inbox\">\(cards)</ol>" as PortalHTML)
            \(pager)
            """)
    }

    /// The department's surveys with their tallies: each question's text, each option's count,
    /// and a link to the individual answers.
    func surveySummaries(_ dept: String, _ pr: PortalRequest) throws -> PortalHTML {
        let surveys = try node.db.records(kind: .survey).filter { $0.state["department"]?.stringValue == dept }
        guard !surveys.isEmpty else { return .empty }
        let blocks: [PortalHTML] = try surveys.map { s in
            let t = try node.surveyTallies(s.state.id, by: pr.principal)
            let tallies = t["tallies"]?.objectValue ?? [:], texts = t["texts"]?.objectValue ?? [:]
            let questions: [PortalHTML] = (s.state["questions"]?.arrayValue ?? []).enumerated().map { n, q in
                let qid = PortalSite.text(q["id"])
                let rows: [PortalHTML]
                if q["type"]?.stringValue == "text" {
                    rows = ["<li>文字回答 \((texts[qid]?.arrayValue ?? []).count) 条</li>"]
                } else {
                    rows = (q["options"]?.stringArray ?? []).map { o in "<li>\(o)：<strong>\(tallies[qid]?[o]?.intValue ?? 0)</strong></li>" }
                }
                return "<li><p>\(n + 1). \(PortalSite.text(q["text"]))</p><ul class=\"tally\">\(rows)</ul></li>"
            }
            let answers = "/inbox" + PortalForm.query([("department", dept), ("kind", "survey"), ("survey", s.state.id)])
            return """
                <section class="survey-tally"><h3>\(PortalSite.text(s.state["title"]))（答卷 \(PortalSite.text(t["responses"])) 份）</h3>\
                <ol>\(questions)</ol><p><a href="\(answers)">查看逐份答卷</a></p></section>
                """
        }
        return "<section class=\"surveys\"><h2>问卷统计</h2>\(blocks)</section>"
    }

    func inboxCard(_ pr: PortalRequest, _ item: JSONValue) -> PortalHTML {
        let id = PortalSite.text(item["id"]), st = PortalSite.text(item["status"])
        let overdue = item["overdue"] == .bool(true)
        let contact = item["contact"]?.objectValue ?? [:]
        var rows: [PortalHTML] = []
        func row(_ label: String, _ value: String) { if !value.isEmpty { rows.append("<dt>\(label)</dt><dd>\(value)</dd>") } }
        row("提交时间", PortalText.beijingTime(iso: PortalSite.text(item["submitted_at"])) + "（北京时间）")
        row("办理期限", PortalSite.text(item["due_on"]))
        row("提交平台", nodeName(PortalSite.text(item["from_node"])))
        if let r = item["rating"]?.intValue { row("满意度", PortalText.ratings.first { $0.value == r }?.name ?? String(r)) }
        row("联系人", PortalSite.text(contact["name"]))
        row("电话", PortalSite.text(contact["phone"]))
        row("邮箱", PortalSite.text(contact["email"]))
        row("统一社会信用代码", PortalSite.text(contact["uscc"]) + (contact["uscc_warning"] != nil ? "（校验位不符，试点早期代码）" : ""))
        let about = PortalSite.text(item["about"])
        if !about.isEmpty { rows.append("<dt>涉及</dt><dd><a href=\"/policies/\(PortalForm.encode(about))\">\(about)</a></dd>") }
        var answers: [PortalHTML] = []
        if let a = item["answers"]?.objectValue {
            // Questions by their text, in the survey's order (ids only if the survey is unknown here).
            let sid = PortalSite.text(item["survey"])
            let questions = (((try? node.db.record(sid)) ?? nil)?.state["questions"]?.arrayValue ?? [])
            let ordered = questions.compactMap { q -> (String, String)? in
                let id = PortalSite.text(q["id"])
                return a[id] == nil ? nil : (id, PortalSite.text(q["text"]))
            }
            let known = Set(ordered.map(\.0))
            answers = (ordered + a.keys.sorted().filter { !known.contains($0) }.map { ($0, $0) }).map { id, text in
                "<li><span class=\"question\">\(text)</span>：\(PortalSite.text(a[id]))</li>"
            }
        }
        let body: PortalHTML =
            item["unreadable"] == .bool(true)
            ? "<p class=\"error\">内容无法解密。</p>"
            : """
            <h3>\(PortalSite.text(item["title"]).isEmpty ? PortalText.kind(PortalSite.text(item["kind"])) : PortalSite.text(item["title"]))</h3>\
            \(PortalSite.text(item["content"]).split(whereSeparator: \.isNewline).map { "<p>\($0)</p>" as PortalHTML })\
            \(answers.isEmpty ? PortalHTML.empty : "<ul class=\"answers\">\(answers)</ul>")
            """
        let history = replyHistory(item["replies"]?.arrayValue ?? [])
        let dept = PortalSite.text(item["department"])
        let hidden: PortalHTML = """
            \(pr.csrfInput)<input type="hidden" name="id" value="\(id)"><input type="hidden" name="department" value="\(dept)">
            """
        // One-time token: a double click or a resent form adds the reply once (doReply).
        let once = applyTokens.issue(owner: Self.staffOwner(pr.principal), purpose: "reply:\(id)")
        let form: PortalHTML = """
            <form class="reply" method="post" action="/inbox/reply">\(hidden)<input type="hidden" name="_once" value="\(once)">\
            <label for="r-\(id)">答复内容</label><textarea id="r-\(id)" name="content" rows="3" maxlength="2000" required></textarea>\
            <label class="choice"><input type="checkbox" name="close" value="1"> 答复并办结</label> <button type="submit">答复</button></form>
            """
        let transferLink = "/inbox/transfer" + PortalForm.query([("id", id), ("department", dept)])
        let closeForm: PortalHTML = """
            <form class="inline close" method="post" action="/inbox/close">\(hidden)<button type="submit">办结</button></form> \
            <a class="button" href="\(transferLink)">转办</a>
            """
        var transferRows: [PortalHTML] = []
        if let by = item["transferred_by"]?.stringValue {
            transferRows.append("<p class=\"banner\">由\(departmentName(by))转办。说明：\(PortalSite.text(item["transfer_note"]))</p>")
        }
        for t in item["transfers"]?.arrayValue ?? [] {
            transferRows.append(
                """
                <p class="banner">已于 \(PortalText.beijingTime(iso: PortalSite.text(t["at"])))（北京时间）转办至\
                \(departmentName(PortalSite.text(t["to_department"])))，对方办理状态：\(PortalText.status(PortalSite.text(item["handling_status"])))</p>
                """)
        }
        // Replied items keep the form folded away (<details> needs no script): a second answer is a deliberate act.
        let actions: PortalHTML =
            switch st {
            case _ where PortalSite.text(item["kind"]) == "survey": .empty
            case "closed", "undeliverable", "transferred": .empty
            case "replied": "<details class=\"more-reply\"><summary>补充答复</summary>\(form)</details>\(closeForm)"
            default: "\(form)\(closeForm)"
            }
        return """
            <li class="item status-\(st)\(overdue ? " overdue" : "")"><div class="meta">\
            <span class="badge">\(PortalText.kind(PortalSite.text(item["kind"])))</span> \
            <span class="badge status">\(PortalText.status(st))</span>\
            \(overdue ? " <span class=\"badge overdue\">已逾期</span>" as PortalHTML : .empty) <code>\(id)</code></div>
            \(transferRows)\(body)<dl class="fields compact">\(rows)</dl>\(history)\(actions)</li>
            """
    }

    /// Every reply of an item, oldest first, with its Beijing time and the answering department.
    func replyHistory(_ replies: [JSONValue]) -> PortalHTML {
        guard !replies.isEmpty else { return .empty }
        let items: [PortalHTML] = replies.enumerated().map { i, r in
            let name = PortalSite.text(r["department_name"]).isEmpty
                ? departmentName(PortalSite.text(r["department"])) : PortalSite.text(r["department_name"])
            let text: PortalHTML =
                r["unreadable"] == .bool(true)
                ? "<p class=\"error\">答复内容无法解密。</p>"
                : PortalHTML.join(PortalSite.text(r["content"]).split(whereSeparator: \.isNewline).map { "<p>\($0)</p>" as PortalHTML })
            return """
                <li><div class="meta">第 \(i + 1) 次答复 · <time>\(PortalText.beijingTime(iso: PortalSite.text(r["at"])))</time>（北京时间）\
                 · \(name)</div>\(text)</li>
                """
        }
        return "<section class=\"replies\"><h4>答复记录（\(replies.count) 次）</h4><ol class=\"replies\">\(items)</ol></section>"
    }

    /// Whose one-time form tokens these are: a department's staff, or the node's admin.
    static func staffOwner(_ p: Principal) -> String {
        switch p {
        case .department(let d): "department:" + d
        case .admin: "admin"
        case .anonymous: ""
        }
    }

    /// Adds a reply once per form token (`_once`, as the apply form): a second POST of the same
    /// form (a double click, the browser resending it) lands where the first went and adds
    /// nothing. A token this node does not know (it restarted since the page was made, or the
    /// page is older than the token's two hours) is taken on (`adopt`), so what the staffer
    /// typed is not lost and a resend is still caught; a form without one is answered as before.
    func doReply(_ pr: PortalRequest, _ form: PortalForm) async throws -> Response {
        guard pr.principal != .anonymous else { return login(pr, next: "inbox", error: "登录已过期，请重新登录。", status: 401) }
        var body: [String: JSONValue] = ["content": .string(form["content"] ?? "")]
        if form["close"] != nil { body["close"] = true }
        let id = form["id"] ?? ""
        let dept = form["department"].flatMap { Validation.departmentID($0) != nil ? $0 : nil }
        let target = "/inbox" + PortalForm.query([("department", dept)])
        var once: String?
        if let token = form.raw("_once") {
            let owner = Self.staffOwner(pr.principal), purpose = "reply:\(id)"
            switch try await claim(token, owner: owner, purpose: purpose) {
            case .done(let path): return redirect(pr, to: path)
            case .running: return try inbox(pr, notice: "上一次提交尚未完成，请稍后查看答复记录。", status: 409)
            case .proceed: once = token
            case .invalid: once = applyTokens.adopt(token, owner: owner, purpose: purpose) ? token : nil
            }
        }
        do { _ = try node.reply(feedback: id, body: .object(body), by: pr.principal) } catch let e as NodeError
            where e.code == .invalid || e.code == .conflict
        {
            if let once { applyTokens.release(once) }
            let why = e.fields["content"] != nil ? "请填写答复内容（1-2000字）" : e.code == .conflict ? "该留言已办结或暂时无法答复" : "答复内容有误"
            return try inbox(pr, notice: "答复未成功：\(why)。", status: HTTPProblem(e).status)
        } catch {
            if let once { applyTokens.release(once) }
            throw error
        }
        if let once { applyTokens.finish(once, path: target) }
        return redirect(pr, to: target)
    }

    /// 转办: the item, then a department picker that narrows by region (province → city →
    /// county, links only: no script, and never the whole federation in one list), and a note.
    func transferPage(_ pr: PortalRequest, error: String? = nil, status httpStatus: Int = 200) throws -> Response {
        guard pr.principal != .anonymous else { return login(pr, next: "inbox") }
        let fid = pr.query["id"] ?? ""
        guard let dept = inboxDepartment(pr, requested: pr.query["department"]) else { throw NodeError.notFound("本节点没有部门") }
        guard let r = try node.db.record(fid), r.state.kind == .feedback, r.state["department"]?.stringValue == dept else {
            throw NodeError.notFound("本部门没有这条留言（\(fid)）")
        }
        let region = pr.query["region"].flatMap { node.topology.node($0) != nil ? $0 : nil }
        let picker = departmentPicker(
            base: "/inbox/transfer", keep: [("id", fid), ("department", dept)], region: region, field: "to", exclude: dept)
        return page(
            pr, title: "转办", status: httpStatus,
            """
            <h1>转办留言</h1>
            <p>留言 <code>\(fid)</code>（\(PortalText.kind(PortalSite.text(r.state["form"])))）将重新加密后送至所选部门办理；\
            提交人的回执随之更新。</p>
            \(error.map { "<p class=\"banner error\" role=\"alert\">\($0)</p>" as PortalHTML } ?? .empty)
            <form class="feedback" method="post" action="/inbox/transfer">\(pr.csrfInput)\
            <input type="hidden" name="id" value="\(fid)"><input type="hidden" name="department" value="\(dept)">
            \(picker)
            <div class="field"><label for="f-note">转办说明<span class="req">*</span></label>\
            <textarea id="f-note" name="note" rows="3" maxlength="500" required></textarea></div>
            <button type="submit">确认转办</button></form>
            <p><a href="/inbox\(PortalForm.query([("department", dept)]))">返回收件箱</a></p>
            """)
    }

    /// Picks a department in a federation of thousands of nodes without script: the chosen
    /// region's own departments as choices, its child regions as links that narrow the choice,
    /// and the path back up. `keep` are the page's other query parameters.
    func departmentPicker(
        base: String, keep: [(String, String?)], region: String?, field: String, exclude: String? = nil, selected: String? = nil
    ) -> PortalHTML {
        let topo = node.topology
        let chosenNode = selected.flatMap { Validation.departmentID($0)?.node }.flatMap { topo.node($0) != nil ? $0 : nil }
        let here = region ?? chosenNode ?? topo.nodes.first { $0.parent == nil }?.id ?? node.id
        func link(_ code: String?) -> String { base + PortalForm.query(keep + [("region", code)]) }
        var path: [PortalHTML] = []
        var cursor: String? = here
        while let c = cursor, let n = topo.node(c) {
            path.insert("<a href=\"\(link(c))\">\(n.name)</a>", at: 0)
            cursor = n.parent
        }
        let children: [PortalHTML] = topo.nodes.filter { $0.parent == here }.sorted { $0.id < $1.id }.map { n in
            "<li><a href=\"\(link(n.id))\">\(n.name)</a></li>"
        }
        // Only this region's departments are read (the directory is indexed by owner).
        let depts = ((try? node.db.records(kind: .department, owner: here)) ?? []).filter {
            Validation.departmentID($0.state.id)?.node == here && $0.state["status"]?.stringValue != "withdrawn" && $0.state.id != exclude
        }
        let choices: [PortalHTML] = depts.sorted { $0.state.id < $1.state.id }.map { d in
            """
            <label class="choice"><input type="radio" name="\(field)" value="\(d.state.id)" required\
            \(d.state.id == selected ? " checked" : "")> \(PortalSite.text(d.state["name"]))\
             <code>\(d.state.id)</code></label>
            """
        }
        return """
            <fieldset class="picker"><legend>受理部门</legend>
            <p class="meta">当前地区：\(PortalHTML.join(path, separator: " › "))</p>
            \(choices.isEmpty ? "<p>本级没有可选部门，请选择下级地区。</p>" as PortalHTML : PortalHTML.join(choices))
            \(children.isEmpty ? PortalHTML.empty : "<p>下级地区：</p><ul class=\"regions\">\(children)</ul>")
            </fieldset>
            """
    }

    func doTransfer(_ pr: PortalRequest, _ form: PortalForm) throws -> Response {
        guard pr.principal != .anonymous else { return login(pr, next: "inbox", error: "登录已过期，请重新登录。", status: 401) }
        let dept = form["department"].flatMap { Validation.departmentID($0) != nil ? $0 : nil }
        do {
            _ = try node.transferFeedback(
                form["id"] ?? "", body: ["department": .string(form["to"] ?? ""), "note": .string(form.raw("note") ?? "")], by: pr.principal)
        } catch let e as NodeError where e.code == .invalid || e.code == .conflict {
            let why = e.fields["note"] != nil ? "transfer-note" : e.fields["department"] != nil ? "transfer-department" : "transfer-state"
            return redirect(pr, to: "/inbox" + PortalForm.query([("department", dept), ("notice", why)]))
        }
        return redirect(pr, to: "/inbox" + PortalForm.query([("department", dept), ("notice", "transferred")]))
    }

    func doClose(_ pr: PortalRequest, _ form: PortalForm) throws -> Response {
        guard pr.principal != .anonymous else { return login(pr, next: "inbox", error: "登录已过期，请重新登录。", status: 401) }
        do { _ = try node.closeFeedback(form["id"] ?? "", by: pr.principal) } catch let e as NodeError where e.code == .conflict {
            return try inbox(pr, notice: "该留言已办结或无法送达，不能再办结。", status: 409)
        }
        let dept = form["department"].flatMap { Validation.departmentID($0) != nil ? $0 : nil }
        return redirect(pr, to: "/inbox" + PortalForm.query([("department", dept)]))
    }

    /// Refuses anyone but this node's admin: the login form for the anonymous, 403 otherwise.
    func requireAdmin(_ pr: PortalRequest, next: String) throws -> Response? {
        switch pr.principal {
        case .admin: return nil
        case .anonymous: return login(pr, next: next)
        case .department: throw NodeError.forbidden("此页面仅限本节点管理员访问")
        }
    }

    func admin(_ pr: PortalRequest, notice: String? = nil, status httpStatus: Int = 200) throws -> Response {
        if let refusal = try requireAdmin(pr, next: "admin") { return refusal }
        let st = try node.syncStatus()
        let peers: [PortalHTML] = (st["peers"]?.arrayValue ?? []).map { p in
            let connected = p["connected"] == .bool(true)
            return """
                <tr><td>\(PortalSite.text(p["name"] ?? p["id"]))<br><code>\(PortalSite.text(p["id"]))</code></td>\
                <td>\(p["role"]?.stringValue == "parent" ? "上级" : "下级")</td>\
                <td class="\(connected ? "ok" : "bad")">\(connected ? "已连接" : "未连接")</td>\
                <td>\(PortalText.beijingTime(iso: PortalSite.text(p["last_sync"])))</td>\
                <td>\(PortalSite.text(p["pending"]))</td><td title="\(PortalSite.text(p["last_error"]))">\
                \(PortalSite.text(p["last_error"]).isEmpty ? "" : "连接或同步出错（详见日志）")</td></tr>
                """
        }
        let rejections: [PortalHTML] = (st["recent_rejections"]?.arrayValue ?? []).map { r in
            """
            <tr><td>\(PortalText.beijingTime(iso: PortalSite.text(r["at"])))</td><td>\(PortalSite.text(r["peer"]))</td>\
            <td>\(PortalSite.text(r["origin"]))</td>\
            <td title="\(PortalSite.text(r["reason"]))">\(PortalText.rejection(PortalSite.text(r["reason"])))</td></tr>
            """
        }
        let conflicts: [PortalHTML] = try node.db.conflicted().map { conflictBlock(pr, $0) }
        let rejectionTable: PortalHTML =
            rejections.isEmpty
            ? "<p>无。</p>" as PortalHTML
            : """
            <div class=\"table\"><table><thead><tr><th>时间</th><th>来自</th><th>源节点</th><th>原因</th></tr></thead>\
            <tbody>\(rejections)</tbody></table></div>
            """ as PortalHTML
        return page(
            pr, title: "节点管理", status: httpStatus,
            """
            <h1>节点管理：\(nodeName(node.id))（\(node.id)）</h1>
            \(notice.map { "<p class=\"banner\" role=\"status\">\($0)</p>" as PortalHTML } ?? .empty)
            <dl class="fields compact"><dt>已应用变更</dt><dd>\(PortalSite.text(st["applied"]))</dd>\
            <dt>已拒绝变更</dt><dd>\(PortalSite.text(st["rejected"]))</dd>\
            <dt>冲突记录</dt><dd>\(PortalSite.text(st["conflicts"]))</dd><dt>版本计数</dt><dd>\(PortalSite.text(st["counter"]))</dd></dl>
            <h2>对等节点</h2><p class="meta">时间均为北京时间。</p>
            <div class="table"><table><thead><tr><th>节点</th><th>关系</th><th>连接</th><th>最近同步</th><th>待发送</th><th>最近错误</th></tr></thead>
            <tbody>\(peers.isEmpty ? "<tr><td colspan=\"6\">无对等节点</td></tr>" as PortalHTML : PortalHTML.join(peers))</tbody></table></div>
            \(trustSection(st))
            <h2>最近拒绝的变更集</h2>\(rejectionTable)
            <h2>字段冲突</h2>\(conflicts.isEmpty ? "<p>没有未解决的冲突。</p>" as PortalHTML : PortalHTML.join(conflicts))
            """)
    }

    /// The revoked certificates in force and this node's key history (from the sync status).
    func trustSection(_ st: JSONValue) -> PortalHTML {
        let revoked: [PortalHTML] = (st["revocations"]?.arrayValue ?? []).map { r in
            """
            <tr><td>\(PortalSite.text(r["node"]))</td><td><code>\(PortalSite.text(r["serial"]))</code></td>\
            <td><code>\(String(PortalSite.text(r["fingerprint"]).prefix(16)))…</code></td>\
            <td>\(PortalText.beijingTime(iso: PortalSite.text(r["revoked_at"])))</td>\
            <td>\(PortalSite.text(r["reason"]))</td></tr>
            """
        }
        let keys: [PortalHTML] = (st["keys"]?.arrayValue ?? []).map { k in
            let last = k["last_counter"].flatMap(\.intValue).map(String.init) ?? "—"
            return """
                <tr><td><code>\(String(PortalSite.text(k["fingerprint"]).prefix(16)))…</code></td>\
                <td>\(PortalText.beijingTime(iso: PortalSite.text(k["not_after"])))</td>\
                <td>\(last)</td><td>\(k["current"] == .bool(true) ? "使用中" : "已停用")</td></tr>
                """
        }
        let revokedTable: PortalHTML =
            revoked.isEmpty
            ? "<p>无吊销证书。</p>"
            : """
            <div class="table"><table><thead><tr><th>节点</th><th>序列号</th><th>指纹</th><th>吊销时间</th><th>原因</th></tr></thead>\
            <tbody>\(PortalHTML.join(revoked))</tbody></table></div>
            """
        return """
            <h2>证书吊销列表</h2>\(revokedTable)
            <h2>本节点密钥历史</h2><div class="table"><table><thead><tr><th>证书指纹</th><th>有效期至</th><th>最后计数</th><th>状态</th></tr></thead>\
            <tbody>\(PortalHTML.join(keys))</tbody></table></div>
            """
    }

    /// One conflicted record: each conflicted field with every live value, each with a button
    /// that settles the field on it.
    func conflictBlock(_ pr: PortalRequest, _ r: StoredRecord) -> PortalHTML {
        let kindSettles = [.policy, .serviceItem].contains(r.state.kind)
        let owner = r.state.owner
        let fields: [PortalHTML] = r.state.fields.keys.sorted().compactMap { name in
            guard let f = r.state.fields[name], !f.losers.isEmpty else { return nil }
            // Only what this node may write (rule 5) gets a button: the owner any field, an ancestor themes and tags.
            let settleable =
                kindSettles
                && (owner == node.id || (node.topology.isAncestor(node.id, of: owner) && r.state.kind.classificationFields.contains(name)))
            let values: [PortalHTML] = f.entries.enumerated().map { i, e in
                let button: PortalHTML =
                    settleable
                    ? """
                    <form class="inline" method="post" action="/admin/settle">\(pr.csrfInput)<input type="hidden" name="id" value="\(r.state.id)">\
                    <input type="hidden" name="field" value="\(name)"><input type="hidden" name="pick" value="\(i)">\
                    <input type="hidden" name="dot" value="\(e.dot.node):\(String(e.dot.counter))"><button type="submit">采用此值</button></form>
                    """ : .empty
                return "<li>\(i == 0 ? "当前值" : "冲突值")（\(nodeName(e.dot.node))，\(e.dot.node)）：<q>\(PortalSite.text(e.value))</q> \(button)</li>"
            }
            let note: PortalHTML = settleable || !kindSettles ? .empty : "<p class=\"meta\">只有\(nodeName(owner))节点可以解决此字段的冲突。</p>"
            return "<div class=\"conflict-field\"><h4>字段 <code>\(name)</code></h4><ul>\(values)</ul>\(note)</div>"
        }
        let path = r.state.kind == .policy ? "/policies/\(PortalForm.encode(r.state.id))" : "/services"
        return """
            <section class="conflict"><h3><a href="\(path)">\(PortalSite.text(r.state["title"] ?? r.state["name"] ?? .string(r.state.id)))</a> <code>\
            \(r.state.id)</code></h3>\(fields)</section>
            """
    }

    /// Settles a conflict by writing the chosen value again: the new write's context covers
    /// every live entry, so the field has one value everywhere once it has travelled. The
    /// value is taken from the record, never from the form, and only if the entry picked is
    /// still live (so a stale page cannot resurrect something already settled).
    func settle(_ pr: PortalRequest, _ form: PortalForm) throws -> Response {
        if let refusal = try requireAdmin(pr, next: "admin") { return refusal }
        let id = form["id"] ?? "", field = form["field"] ?? ""
        guard let r = try node.db.record(id), let f = r.state.fields[field], !f.losers.isEmpty else {
            return try admin(pr, notice: "该冲突已不存在（可能已被解决）。", status: 409)
        }
        guard let i = form["pick"].flatMap(Int.init), f.entries.indices.contains(i),
            "\(f.entries[i].dot.node):\(f.entries[i].dot.counter)" == form["dot"]
        else {
            return try admin(pr, notice: "冲突已变化，请重新选择。", status: 409)
        }
        do {
            _ = try node.patch(kind: r.state.kind, id: id, body: .object([field: f.entries[i].value]), by: .admin)
        } catch let e as NodeError where e.code.isCallerError {
            let why = PortalText.problemMessage(status: HTTPProblem(e).status, detail: e.message)
            return try admin(pr, notice: "无法解决该冲突：\(why)", status: HTTPProblem(e).status)
        }
        return redirect(pr, to: "/admin")
    }

    /// Minutes as 天/小时/分钟.
    static func duration(_ minutes: Int64) -> String {
        if minutes >= 1_440 { return String(format: "%.1f 天", Double(minutes) / 1_440) }
        if minutes >= 60 { return String(format: "%.1f 小时", Double(minutes) / 60) }
        return "\(minutes) 分钟"
    }
}
