import Foundation
import Hummingbird
import TongCore
import TongDomain
import TongStore

/// 互动通: the four feedback forms, surveys, and receipt look-up.
extension PortalSite {
    func registerInteract(_ router: Router<BasicRequestContext>) {
        router.get("/interact") { req, _ in try await self.guarded(req) { try self.interact($0) } }
        router.post("/interact") { req, _ in
            try await self.guarded(req) { pr in try self.submit(pr, try await self.readForm(req, pr)) }
        }
        router.get("/interact/survey/:id") { req, ctx in
            try await self.guarded(req) { try self.survey($0, id: ctx.parameters.get("id") ?? "") }
        }
        router.post("/interact/survey/:id") { req, ctx in
            try await self.guarded(req) { pr in
                try self.submitSurvey(pr, id: ctx.parameters.get("id") ?? "", try await self.readForm(req, pr))
            }
        }
        router.get("/receipt") { req, _ in try await self.guarded(req) { self.receiptLookup($0) } }
        router.post("/receipt") { req, _ in
            try await self.guarded(req) { pr in
                let form = try await self.readForm(req, pr)
                return try self.lookUp(pr, code: form["code"] ?? "")
            }
        }
        router.get("/receipt/:code") { req, ctx in
            try await self.guarded(req) { try self.receipt($0, code: ctx.parameters.get("code") ?? "") }
        }
    }

    /// Surveys still open for answers.
    func openSurveys() throws -> [StoredRecord] {
        try node.db.records(kind: .survey).filter { $0.state["status"]?.stringValue != "withdrawn" }
    }

    /// The feedback form; `values` refills it and `errors` sits next to each field after a
    /// rejected submission.
    func interact(_ pr: PortalRequest, values: PortalForm? = nil, errors: [String: String] = [:], status: Int = 200) throws -> Response {
        let input = values ?? pr.query
        let kind = input["kind"].flatMap { k in PortalText.kinds.contains { $0.code == k } ? k : nil } ?? "suggestion"
        let about = input["about"] ?? ""
        let chosenDept = input["department"] ?? ""
        func val(_ k: String) -> String { values?.raw(k) ?? "" }
        func err(_ k: String) -> PortalHTML {
            guard let m = errors[k] else { return .empty }
            return "<span class=\"field-error\" id=\"err-\(k)\">\(PortalText.fieldMessage(k, m))</span>"
        }
        let tabs: [PortalHTML] = PortalText.kinds.map { k in
            let href = "/interact" + PortalForm.query([("kind", k.code), ("about", about), ("department", chosenDept)])
            return "<a href=\"\(href)\"\(k.code == kind ? PortalHTML(trusted: " class=\"on\" aria-current=\"page\"") : .empty)>\(k.name)</a>"
        }
        var aboutHTML: PortalHTML = .empty
        if !about.isEmpty, let r = try node.db.record(about), [.policy, .serviceItem].contains(r.state.kind) {
            let path =
                r.state.kind == .policy
                ? "/policies/\(PortalForm.encode(about))" : "/services?q=\(PortalForm.encode(PortalSite.text(r.state["code"])))"
            aboutHTML = "<p class=\"about\">关于：<a href=\"\(path)\">\(PortalSite.text(r.state["title"] ?? r.state["name"]))</a></p>"
        }
        // Departments by region, narrowed with links (province → city → county): at 3,000 nodes
        // one list of every department would be tens of thousands of options.
        let region = input["region"].flatMap { node.topology.node($0) != nil ? $0 : nil }
        let picker = departmentPicker(
            base: "/interact", keep: [("kind", kind), ("about", about.isEmpty ? nil : about)], region: region, field: "department",
            selected: chosenDept.isEmpty ? nil : chosenDept)
        let rating: PortalHTML =
            kind != "evaluation"
            ? .empty
            : """
            <fieldset class="field\(errors["rating"] != nil ? " invalid" : "")"><legend>满意度 <span class="req">*</span></legend>\
            \(PortalText.ratings.map { r -> PortalHTML in
                let checked = val("rating") == String(r.value) ? " checked" : ""
                return "<label class=\"choice\"><input type=\"radio\" name=\"rating\" value=\"\(r.value)\"\(checked)> \(r.name)</label>"
            })\(err("rating"))</fieldset>
            """
        // A form sent twice (its one-time token used) says so; other refusals point at their fields.
        let general: PortalHTML =
            errors.isEmpty
            ? .empty : "<p class=\"banner error\" role=\"alert\">\(errors["once"] ?? "提交未成功，请按提示修改后重新提交。")</p>"
        // One token per form shown: posting it twice (a reload, a double click) files once.
        let once = values?["once"].flatMap { $0.utf8.count == 64 ? $0 : nil } ?? PortalSessions.randomToken()
        let isEvaluation = kind == "evaluation"
        let surveys = try openSurveys()
        let surveyList: PortalHTML =
            surveys.isEmpty
            ? .empty
            : """
            <section><h2>问卷调查</h2><ul>\(surveys.map { s -> PortalHTML in
                let link = "/interact/survey/\(PortalForm.encode(s.state.id))"
                let department = departmentName(PortalSite.text(s.state["department"]))
                return "<li><a href=\"\(link)\">\(PortalSite.text(s.state["title"]))</a> <span class=\"meta\">\(department)</span></li>"
            })</ul></section>
            """
        func field(_ name: String, _ label: String, required: Bool = true, type: String = "text", max: Int = 100) -> PortalHTML {
            let id = "f-" + name.replacingOccurrences(of: ".", with: "-")
            return """
                <div class="field\(errors[name] != nil ? " invalid" : "")"><label for="\(id)">\
                \(label)\(required ? PortalHTML(trusted: "<span class=\"req\">*</span>") : "")</label>\
                <input id="\(id)" name="\(name)" type="\(type)" value="\(val(name))" maxlength="\(max)"\(required ? " required" : "")>\
                \(err(name))</div>
                """
        }
        let contactFields: PortalHTML = """
            <fieldset><legend>联系方式（仅受理部门可见）</legend>\(err("contact"))
            \(field("contact.name", "联系人", max: 50))
            \(field("contact.phone", "联系电话", type: "tel", max: 20))
            \(field("contact.email", "电子邮箱", required: false, type: "email", max: 100))
            \(field("contact.uscc", "统一社会信用代码", required: false, max: 18))
            </fieldset>
            """
        return page(
            pr, title: "互动通", status: status,
            """
            <h1>互动通</h1>
            <nav class="tabs">\(tabs)</nav>
            \(general)\(aboutHTML)
            <form class="feedback" method="post" action="/interact">
            \(pr.csrfInput)<input type="hidden" name="kind" value="\(kind)">\(hidden("about", about.isEmpty ? nil : about))
            <div class="field\(errors["department"] != nil ? " invalid" : "")">\(picker)\(err("department"))</div>
            <input type="hidden" name="once" value="\(once)">
            \(rating)
            \(isEvaluation ? PortalHTML.empty : field("title", "标题"))
            <div class="field\(errors["content"] != nil ? " invalid" : "")"><label for="f-content">\
            \(isEvaluation ? "评价意见（选填）" : "内容")\(isEvaluation ? PortalHTML.empty : PortalHTML(trusted: "<span class=\"req\">*</span>"))</label>\
            <textarea id="f-content" name="content" rows="6" maxlength="2000"\(isEvaluation ? "" : " required")>\(val("content"))</textarea>\
            \(err("content"))</div>
            \(isEvaluation ? PortalHTML.empty : contactFields)
            <button type="submit">提交\(PortalText.kind(kind))</button>
            </form>
            \(surveyList)
            <p><a href="/receipt">已提交？凭回执编号查询办理进度</a></p>
            """)
    }

    /// Turns the form into the JSON the node validates, so the portal and the API share one
    /// set of rules; a 422 comes back as messages next to the fields.
    func submit(_ pr: PortalRequest, _ form: PortalForm) throws -> Response {
        let isEvaluation = form["kind"] == "evaluation"
        var body: [String: JSONValue] = [
            "kind": .string(form["kind"] ?? ""), "department": .string(form["department"] ?? ""),
            "content": .string(form.raw("content") ?? ""),
        ]
        if !isEvaluation { body["title"] = .string(form["title"] ?? "") }
        if let a = form["about"] { body["about"] = .string(a) }
        if !isEvaluation || form["contact.name"] != nil || form["contact.phone"] != nil {
            var contact: [String: JSONValue] = ["name": .string(form["contact.name"] ?? ""), "phone": .string(form["contact.phone"] ?? "")]
            if let e = form["contact.email"] { contact["email"] = .string(e) }
            if let u = form["contact.uscc"] { contact["uscc"] = .string(u.uppercased()) }
            body["contact"] = .object(contact)
        }
        if isEvaluation { body["rating"] = form["rating"].flatMap { Int64($0) }.map(JSONValue.int) ?? .null }
        let submission: Submission
        do { submission = try node.submitFeedback(.object(body), idempotencyKey: Self.onceKey(form)) } catch let e as NodeError
            where e.code == .invalid
        {
            if e.fields["Idempotency-Key"] != nil {
                return try interact(pr, values: nil, errors: ["once": "该表单已提交过；如需再次留言，请重新填写。"], status: 409)
            }
            return try interact(pr, values: form, errors: e.fields.isEmpty ? ["content": e.message] : e.fields, status: 422)
        }
        return submitted(pr, submission)
    }

    /// The idempotency key of a portal form: its one-time token (a form without one is never deduplicated).
    static func onceKey(_ form: PortalForm) -> String? {
        form["once"].flatMap { $0.utf8.count == 64 && $0.utf8.allSatisfy { (0x21...0x7E).contains($0) } ? "portal:" + $0 : nil }
    }

    /// After a successful submission: a 303 to the receipt page (post/redirect/get), so a reload
    /// shows the receipt again instead of filing again.
    func submitted(_ pr: PortalRequest, _ s: Submission) -> Response {
        redirect(pr, to: "/receipt/\(PortalForm.encode(s.receipt))?new=1")
    }

    func survey(_ pr: PortalRequest, id: String, values: PortalForm? = nil, errors: [String: String] = [:], status: Int = 200) throws -> Response {
        guard let s = try node.db.record(id), s.state.kind == .survey else { throw NodeError.notFound("本节点没有这份问卷（\(id)）") }
        let closed = s.state["status"]?.stringValue == "withdrawn"
        let questions: [PortalHTML] = (s.state["questions"]?.arrayValue ?? []).enumerated().map { n, q in
            let qid = PortalSite.text(q["id"]), type = PortalSite.text(q["type"])
            let chosen = Set(values?.all(qid) ?? [])
            let input: PortalHTML
            switch type {
            case "single", "multiple":
                input = PortalHTML.join(
                    (q["options"]?.stringArray ?? []).map { o in
                        """
                        <label class=\"choice\"><input type=\"\(type == "single" ? "radio" : "checkbox")\" name=\"\(qid)\" \
                        value=\"\(o)\"\(chosen.contains(o) ? " checked" : "")> \(o)</label>
                        """
                    })
            default:
                input = "<textarea name=\"\(qid)\" rows=\"3\" maxlength=\"1000\">\(values?.raw(qid) ?? "")</textarea>"
            }
            return
                """
                <fieldset class=\"field\"><legend>\(n + 1). \(PortalSite.text(q["text"]))\(type == "multiple" ? "（可多选）" : "")</legend>\
                \(input)</fieldset>
                """
        }
        let form: PortalHTML =
            """
            <form class=\"feedback\" method=\"post\" action=\"/interact/survey/\(PortalForm.encode(id))\">\
            \(pr.csrfInput)<input type=\"hidden\" name=\"once\" value=\"\(values?["once"] ?? PortalSessions.randomToken())\">\
            \(questions)<button type=\"submit\">提交问卷</button></form>
            """
        let errs: [PortalHTML] = errors.keys.sorted().map { "<li>\(PortalText.fieldMessage($0, errors[$0]!))</li>" }
        return page(
            pr, title: PortalSite.text(s.state["title"]), status: status,
            """
            <h1>\(PortalSite.text(s.state["title"]))</h1>
            <p class="meta">\(departmentName(PortalSite.text(s.state["department"])))</p>
            \(errs.isEmpty ? PortalHTML.empty : "<ul class=\"banner error\" role=\"alert\">\(errs)</ul>")
            \(closed ? "<p class=\"banner withdrawn\">本问卷已结束。</p>" : form)
            """)
    }

    func submitSurvey(_ pr: PortalRequest, id: String, _ form: PortalForm) throws -> Response {
        guard let s = try node.db.record(id), s.state.kind == .survey else { throw NodeError.notFound("本节点没有这份问卷（\(id)）") }
        var answers: [String: JSONValue] = [:]
        for q in s.state["questions"]?.arrayValue ?? [] {
            let qid = PortalSite.text(q["id"])
            let given = form.all(qid)
            guard !given.isEmpty else { continue }
            answers[qid] = q["type"]?.stringValue == "multiple" ? .strings(given) : .string(given[0])
        }
        let body: JSONValue = ["kind": "survey", "survey": .string(id), "department": s.state["department"] ?? "", "answers": .object(answers)]
        do { return submitted(pr, try node.submitFeedback(body, idempotencyKey: Self.onceKey(form))) } catch let e as NodeError
            where e.code == .invalid
        {
            return try survey(pr, id: id, values: form, errors: e.fields.isEmpty ? ["answers": e.message] : e.fields, status: 422)
        }
    }

    func receiptLookup(_ pr: PortalRequest, error: String? = nil, status: Int = 200) -> Response {
        page(
            pr, title: "回执查询", status: status,
            """
            <h1>回执查询</h1>
            <form class="feedback" method="post" action="/receipt">\(pr.csrfInput)
            <div class="field\(error != nil ? " invalid" : "")"><label for="f-code">回执编号</label>\
            <input id="f-code" name="code" maxlength="100" placeholder="TONG-…" required>\
            \(error.map { "<span class=\"field-error\">\($0)</span>" as PortalHTML } ?? .empty)</div>
            <button type="submit">查询</button></form>
            """)
    }

    /// The look-up form's post: a 303 to the receipt's page when the code is known here
    /// (post/redirect/get: a reload does not post again), the form again with a message if not.
    func lookUp(_ pr: PortalRequest, code raw: String) throws -> Response {
        let code = raw.trimmingCharacters(in: .whitespacesAndNewlines).uppercased()
        let wellFormed = !code.isEmpty && code.utf8.count <= 100 && code.utf8.allSatisfy { (0x21...0x7E).contains($0) }
        let isApplication = wellFormed ? try applicationByReceipt(code) != nil : false
        guard isApplication || (wellFormed && (try? node.receiptStatus(code)) != nil) else {
            return receiptLookup(pr, error: "未找到该回执编号，请核对后重试（回执只能在提交留言的平台查询）。", status: 404)
        }
        return redirect(pr, to: "/receipt/\(PortalForm.encode(code))")
    }

    func receipt(_ pr: PortalRequest, code: String) throws -> Response {
        if let application = try applicationByReceipt(code) { return try applicationReceipt(pr, code: code, application) }
        let st: JSONValue
        do { st = try node.receiptStatus(code) } catch let e as NodeError where e.code == .notFound {
            return receiptLookup(pr, error: "未找到该回执编号，请核对后重试（回执只能在提交留言的平台查询）。", status: 404)
        }
        // A transferred item (转办) is followed at its new department: its status is the one shown.
        let transferred = PortalSite.text(st["status"]) == "transferred"
        let status = transferred ? PortalSite.text(st["handling_status"]) : PortalSite.text(st["status"])
        let transfers: [PortalHTML] = (st["transfers"]?.arrayValue ?? []).map { t in
            let from = PortalSite.text(t["from_department_name"]).isEmpty
                ? departmentName(PortalSite.text(t["from_department"])) : PortalSite.text(t["from_department_name"])
            let to = PortalSite.text(t["to_department_name"]).isEmpty
                ? departmentName(PortalSite.text(t["to_department"])) : PortalSite.text(t["to_department_name"])
            return """
                <li><time>\(PortalText.beijingTime(iso: PortalSite.text(t["at"])))</time>（北京时间）\(from)转办至<strong>\(to)</strong>\
                \(PortalSite.text(t["note"]).isEmpty ? "" : "。说明：\(PortalSite.text(t["note"]))")</li>
                """
        }
        let transferSection: PortalHTML =
            transfers.isEmpty ? .empty : "<section class=\"transfers\"><h2>转办记录</h2><ol>\(transfers)</ol></section>"
        let handler = PortalSite.text(st["handling_department"])
        let steps: [PortalHTML] = PortalText.statuses.filter { !["undeliverable", "transferred"].contains($0.code) }.map { s in
            "<li\(s.code == status ? PortalHTML(trusted: " class=\"on\"") : .empty)>\(s.name)</li>"
        }
        let progress: PortalHTML =
            status == "undeliverable"
            ? "<p class=\"banner error\">受理部门已撤销，留言无法送达，请重新选择部门提交。</p>" as PortalHTML : "<ol class=\"steps\">\(steps)</ol>" as PortalHTML
        let replies = st["replies"]?.arrayValue ?? []
        let reply: PortalHTML =
            replies.isEmpty ? "<p>受理部门尚未答复。</p>" : "<section class=\"reply\"><h2>答复</h2>\(replyHistory(replies))</section>"
        let fresh: PortalHTML =
            pr.query["new"] == "1"
            ? """
            <p class="banner" role="status"><strong>提交成功。</strong>请妥善保存回执编号，凭此在本平台（\(nodeName(node.id))）查询办理进度和答复：\
            <span class="receipt-code" id="receipt">\(code.uppercased())</span></p>
            """ : .empty
        var submittedRows: [PortalHTML] = []
        if let m = st["submitted"]?.objectValue {
            if let t = m["title"]?.stringValue, !t.isEmpty { submittedRows.append("<dt>标题</dt><dd>\(t)</dd>") }
            if let r = m["rating"]?.intValue {
                submittedRows.append("<dt>满意度</dt><dd>\(PortalText.ratings.first { $0.value == r }?.name ?? "")</dd>")
            }
            if let c = m["content"]?.stringValue, !c.isEmpty {
                let paragraphs: [PortalHTML] = c.split(whereSeparator: \.isNewline).map { "<p>\($0)</p>" }
                submittedRows.append("<dt>内容</dt><dd>\(paragraphs)</dd>")
            }
        }
        return page(
            pr, title: "办理进度",
            """
            \(fresh)
            <h1>办理进度</h1>
            <dl class="fields">
            <dt>回执编号</dt><dd>\(code.uppercased())</dd>
            <dt>提交平台</dt><dd>\(nodeName(node.id))（\(node.id)）</dd>
            <dt>类型</dt><dd>\(PortalText.kind(PortalSite.text(st["kind"])))</dd>
            <dt>受理部门</dt><dd>\(transferred && !handler.isEmpty ? "\(departmentName(handler))（转办）" :
            st["department_name"].map { PortalSite.text($0) } ?? departmentName(PortalSite.text(st["department"])))</dd>
            <dt>提交时间</dt><dd>\(PortalText.beijingTime(iso: PortalSite.text(st["submitted_at"])))（北京时间）</dd>
            <dt>状态</dt><dd class="status status-\(status)">\(PortalText.status(status))</dd>
            \(PortalHTML.join(submittedRows))
            </dl>
            \(progress)
            \(transferSection)
            \(reply)
            """)
    }
}
