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
                return try self.receipt(pr, code: form["code"] ?? "")
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
        // Departments grouped by their node, so a citizen picks 西湖区商务局 under 西湖区.
        var byNode: [String: [(id: String, name: String)]] = [:]
        for d in try node.departments() where d.state["status"]?.stringValue != "withdrawn" {
            let owner = Validation.departmentID(d.state.id)?.node ?? ""
            byNode[owner, default: []].append((d.state.id, PortalSite.text(d.state["name"])))
        }
        let groups: [PortalHTML] = byNode.keys.sorted().map { n in
            let opts: [PortalHTML] = byNode[n]!.sorted { $0.id < $1.id }.map { d in
                "<option value=\"\(d.id)\"\(d.id == chosenDept ? " selected" : "")>\(d.name)</option>"
            }
            return "<optgroup label=\"\(nodeName(n))\">\(opts)</optgroup>"
        }
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
        let general: PortalHTML = errors.isEmpty ? .empty : "<p class=\"banner error\" role=\"alert\">提交未成功，请按提示修改后重新提交。</p>"
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
        return page(
            pr, title: "互动通", status: status,
            """
            <h1>互动通</h1>
            <nav class="tabs">\(tabs)</nav>
            \(general)\(aboutHTML)
            <form class="feedback" method="post" action="/interact">
            \(pr.csrfInput)<input type="hidden" name="kind" value="\(kind)">\(hidden("about", about.isEmpty ? nil : about))
            <div class="field\(errors["department"] != nil ? " invalid" : "")"><label for="f-department">受理部门<span class="req">*</span></label>\
            <select id="f-department" name="department" required><option value="">请选择</option>\(groups)</select>\(err("department"))</div>
            \(rating)
            \(field("title", "标题"))
            <div class="field\(errors["content"] != nil ? " invalid" : "")"><label for="f-content">内容<span class="req">*</span></label>\
            <textarea id="f-content" name="content" rows="6" maxlength="2000" required>\(val("content"))</textarea>\(err("content"))</div>
            <fieldset><legend>联系方式（仅受理部门可见）</legend>\(err("contact"))
            \(field("contact.name", "联系人", max: 50))
            \(field("contact.phone", "联系电话", type: "tel", max: 20))
            \(field("contact.email", "电子邮箱", required: false, type: "email", max: 100))
            \(field("contact.uscc", "统一社会信用代码", required: false, max: 18))
            </fieldset>
            <button type="submit">提交\(PortalText.kind(kind))</button>
            </form>
            \(surveyList)
            <p><a href="/receipt">已提交？凭回执编号查询办理进度</a></p>
            """)
    }

    /// Turns the form into the JSON the node validates, so the portal and the API share one
    /// set of rules; a 422 comes back as messages next to the fields.
    func submit(_ pr: PortalRequest, _ form: PortalForm) throws -> Response {
        var body: [String: JSONValue] = [
            "kind": .string(form["kind"] ?? ""), "department": .string(form["department"] ?? ""),
            "title": .string(form["title"] ?? ""), "content": .string(form["content"] ?? ""),
        ]
        if let a = form["about"] { body["about"] = .string(a) }
        var contact: [String: JSONValue] = ["name": .string(form["contact.name"] ?? ""), "phone": .string(form["contact.phone"] ?? "")]
        if let e = form["contact.email"] { contact["email"] = .string(e) }
        if let u = form["contact.uscc"] { contact["uscc"] = .string(u.uppercased()) }
        body["contact"] = .object(contact)
        if form["kind"] == "evaluation" { body["rating"] = form["rating"].flatMap { Int64($0) }.map(JSONValue.int) ?? .null }
        let submission: Submission
        do { submission = try node.submitFeedback(.object(body)) } catch let e as NodeError where e.code == .invalid {
            return try interact(pr, values: form, errors: e.fields.isEmpty ? ["content": e.message] : e.fields, status: 422)
        }
        return submitted(pr, submission)
    }

    /// The receipt page after a successful submission. The code is shown once here and is the
    /// only key to the submission's status.
    func submitted(_ pr: PortalRequest, _ s: Submission) -> Response {
        let warnings: [PortalHTML] = s.warnings.map { "<li>\($0)</li>" }
        return page(
            pr, title: "提交成功", status: 201,
            """
            <h1>提交成功</h1>
            <p>您的留言已提交，将送达受理部门办理。请妥善保存回执编号，凭此查询办理进度和答复：</p>
            <p class="receipt-code" id="receipt">\(s.receipt)</p>
            \(warnings.isEmpty ? PortalHTML.empty : "<ul class=\"warnings\">\(warnings)</ul>")
            <p><a class="button" href="/receipt/\(PortalForm.encode(s.receipt))">查看办理进度</a></p>
            """)
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
            \(pr.csrfInput)\(questions)<button type=\"submit\">提交问卷</button></form>
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
        do { return submitted(pr, try node.submitFeedback(body)) } catch let e as NodeError where e.code == .invalid {
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

    func receipt(_ pr: PortalRequest, code: String) throws -> Response {
        if let application = try applicationByReceipt(code) { return try applicationReceipt(pr, code: code, application) }
        let st: JSONValue
        do { st = try node.receiptStatus(code) } catch let e as NodeError where e.code == .notFound {
            return receiptLookup(pr, error: "未找到该回执编号，请核对后重试（回执只能在提交留言的平台查询）。", status: 404)
        }
        let status = PortalSite.text(st["status"])
        let steps: [PortalHTML] = PortalText.statuses.filter { $0.code != "undeliverable" }.map { s in
            "<li\(s.code == status ? PortalHTML(trusted: " class=\"on\"") : .empty)>\(s.name)</li>"
        }
        let progress: PortalHTML =
            status == "undeliverable"
            ? "<p class=\"banner error\">受理部门已撤销，留言无法送达，请重新选择部门提交。</p>" as PortalHTML : "<ol class=\"steps\">\(steps)</ol>" as PortalHTML
        let reply: PortalHTML =
            st["reply"].map { r in
                """
                <section class="reply"><h2>答复</h2><p class="meta">\(PortalText.beijingTime(iso: PortalSite.text(st["replied_at"])))（北京时间）</p>\
                \(PortalSite.text(r).split(whereSeparator: \.isNewline).map { "<p>\($0)</p>" as PortalHTML })</section>
                """
            } ?? "<p>受理部门尚未答复。</p>"
        return page(
            pr, title: "办理进度",
            """
            <h1>办理进度</h1>
            <dl class="fields">
            <dt>回执编号</dt><dd>\(code.uppercased())</dd>
            <dt>类型</dt><dd>\(PortalText.kind(PortalSite.text(st["kind"])))</dd>
            <dt>受理部门</dt><dd>\(st["department_name"].map { PortalSite.text($0) } ?? departmentName(PortalSite.text(st["department"])))</dd>
            <dt>提交时间</dt><dd>\(PortalText.beijingTime(iso: PortalSite.text(st["submitted_at"])))（北京时间）</dd>
            <dt>状态</dt><dd class="status status-\(status)">\(PortalText.status(status))</dd>
            </dl>
            \(progress)
            \(reply)
            """)
    }
}
