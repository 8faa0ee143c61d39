import Foundation
import Hummingbird
import TongCore
import TongDomain

/// 政策计算器: a GET form whose query is the profile; the node matches it and nothing is
/// stored. The result lists what fits, with the reason per condition, and what misses by one.
extension PortalSite {
    func registerMatch(_ router: Router<BasicRequestContext>) {
        router.get("/match") { req, _ in try await self.guarded(req) { try self.matchPage($0) } }
    }

    /// The calculator's query parameters; any of them present means the form was submitted.
    static let matchKeys: Set<String> = [
        "region", "region_code", "industry", "industry_code", "employees", "revenue_wan", "assets_wan", "established_on", "taxpayer",
    ]

    func matchPage(_ pr: PortalRequest) throws -> Response {
        let q = pr.query
        let submitted = q.pairs.contains { Self.matchKeys.contains($0.name) }
        var errors: [String: String] = [:]
        var result: JSONValue?
        if submitted {
            do { result = try node.calculate(.object(profileJSON(q))) } catch let e as NodeError where e.code == .invalid {
                errors = e.fields.isEmpty ? ["region": e.message] : e.fields
            }
        }
        let banner: PortalHTML =
            errors.isEmpty ? .empty : "<p class=\"banner error\" role=\"alert\">测算未完成，请按提示修改后重新测算。</p>"
        let resultHTML: PortalHTML =
            result.map { r in
                """
                <section class="calc-result" id="result"><h2>测算结果</h2>
                \(sizeLine(r["size_class"]?.stringValue))
                \(matchSections(r))
                </section>
                """
            } ?? .empty
        return page(
            pr, title: "政策计算器", status: errors.isEmpty ? 200 : 422,
            """
            <h1>政策计算器</h1>
            <p>填写企业的基本情况，测算企业规模，查看可以享受的政策和可以办理的事项，以及还差哪一项条件。\
            本页不登记、不保存您填写的任何信息。</p>
            \(banner)
            <form class="feedback calc" method="get" action="/match">
            \(profileFields(values: submitted ? q : nil, errors: errors, required: false))
            <button type="submit">开始测算</button></form>
            \(resultHTML)
            <p class="meta">已登记的企业可在<a href="/enterprise">企业服务</a>查看匹配结果和推送记录。</p>
            """)
    }

    /// `企业规模：小型` with the standard it was computed by.
    func sizeLine(_ code: String?) -> PortalHTML {
        guard let code else {
            return "<p class=\"size\">企业规模：未能测算 <span class=\"meta\">（请填写所属行业，以及从业人员、年营业收入或资产总额）</span></p>"
        }
        return "<p class=\"size\">企业规模：\(PortalText.sizeClass(code)) <span class=\"meta\">（按\(PortalText.sizeStandard)测算）</span></p>"
    }

    /// The two lists of a match answer: what fits, and what misses by one condition.
    func matchSections(_ r: JSONValue) -> PortalHTML {
        let items = r["items"]?.arrayValue ?? [], near = r["near"]?.arrayValue ?? []
        let total = r["total"]?.intValue ?? Int64(items.count), nearTotal = r["near_total"]?.intValue ?? Int64(near.count)
        let fits: PortalHTML =
            items.isEmpty
            ? "<p>暂无完全符合条件的政策和事项。</p>" : "<ol class=\"matches\">\(items.map { matchItem($0, near: false) })</ol>"
        let misses: PortalHTML =
            near.isEmpty ? "<p>没有只差一项条件的政策和事项。</p>" : "<ol class=\"matches near\">\(near.map { matchItem($0, near: true) })</ol>"
        return """
            <section class="fits"><h3>符合条件的政策和事项（\(total) 项）</h3>\(fits)</section>
            <section class="near"><h3>差一项条件（\(nearTotal) 项）</h3>\(misses)</section>
            """
    }

    /// One matched policy or service item with its reasons; in the near list the failing
    /// reason is marked and named first.
    func matchItem(_ item: JSONValue, near: Bool) -> PortalHTML {
        let id = PortalSite.text(item["id"]), title = PortalSite.text(item["title"])
        let isPolicy = item["kind"]?.stringValue != RecordKind.serviceItem.rawValue
        let link: String
        if isPolicy {
            link = "/policies/\(PortalForm.encode(id))"
        } else {
            let code = ((try? node.db.record(id)) ?? nil).map { PortalSite.text($0.state["code"]) } ?? ""
            link = "/services?q=\(PortalForm.encode(code.isEmpty ? title : code))"
        }
        let reasons = item["reasons"]?.arrayValue ?? []
        let lines: [PortalHTML] = reasons.map { reason in
            let ok = reason["ok"] == .bool(true)
            // The detail names its subject (注册地 330106 属于 …), so it stands alone.
            let text = PortalSite.text(reason["detail"])
            return ok ? "<li class=\"ok\">✓ \(text)</li>" : "<li class=\"miss\"><strong>✗ \(text)</strong></li>"
        }
        let missing = reasons.filter { $0["ok"] != .bool(true) }.map { PortalText.condition(PortalSite.text($0["condition"])) }
        let summary: PortalHTML =
            near && !missing.isEmpty ? "<p class=\"missing\">还差：\(missing.joined(separator: "、"))</p>" : .empty
        var meta: [String] = []
        if let doc = item["doc_number"]?.stringValue, !doc.isEmpty { meta.append(doc) }
        if let dept = item["department"]?.stringValue, !dept.isEmpty { meta.append(departmentName(dept)) }
        return """
            <li class="match"><a class="title" href="\(link)">\(title)</a> <span class="badge">\(isPolicy ? "政策" : "办事事项")</span>
            \(meta.isEmpty ? PortalHTML.empty : "<div class=\"meta\">\(meta.joined(separator: " · "))</div>")\(summary)
            <ul class="reasons">\(lines)</ul></li>
            """
    }
}
