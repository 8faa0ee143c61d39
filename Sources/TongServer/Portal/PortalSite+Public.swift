import Foundation
import Hummingbird
import TongCore
import TongDomain
import TongStore

/// 政策通 and 办事通: the home page, policy search and detail, service items.
extension PortalSite {
    func registerPublic(_ router: Router<BasicRequestContext>) {
        router.get("/") { req, _ in try await self.guarded(req) { try self.home($0) } }
        router.get("/policies") { req, _ in try await self.guarded(req) { try self.policies($0) } }
        router.get("/policies/:id") { req, ctx in
            try await self.guarded(req) { try self.policy($0, id: ctx.parameters.get("id") ?? "") }
        }
        router.get("/services") { req, _ in try await self.guarded(req) { try self.services($0) } }
    }

    func home(_ pr: PortalRequest) throws -> Response {
        var s = SearchRequest()
        s.limit = 8
        s.status = PolicyValidity.State.inForce.rawValue
        s.today = node.today()
        let newest = try node.db.search(s, kind: .policy)
        var si = SearchRequest()
        si.limit = 0
        let serviceCount = try node.db.search(si, kind: .serviceItem).total
        let surveys = try openSurveys().count
        let themes: [PortalHTML] = Theme.allCases.map { t in
            """
            <li><a href=\"/policies?theme=\(t.rawValue)\">\(t.chineseName)</a> \
            <span class=\"count\">\(newest.themeFacets[t.rawValue] ?? 0)</span></li>
            """
        }
        return page(
            pr, title: "首页",
            """
            <h1>小微企业和个体工商户服务专栏</h1>
            <section class="parts">
            <a class="part" href="/policies"><strong>政策通</strong><span>惠企政策一站查询：现行有效政策 \(newest.total) 项</span></a>
            <a class="part" href="/services"><strong>办事通</strong><span>复工复产相关事项在线办理：\(serviceCount) 个事项</span></a>
            <a class="part" href="/interact"><strong>互动通</strong><span>建议、咨询、投诉、评价\(surveys > 0 ? "与问卷调查" : "")</span></a>
            </section>
            <form class="search" method="get" action="/policies"><label for="q">搜索政策</label>
            <input id="q" name="q" type="search" placeholder="如：社保、租金、稳岗" maxlength="200"><button type="submit">搜索</button></form>
            <section><h2>按主题浏览</h2><ul class="facets">\(themes)</ul></section>
            <section><h2>最新现行有效政策</h2>\(newest.hits.isEmpty ? "<p>暂无政策。</p>" : policyList(newest.hits))</section>
            """)
    }

    /// Results as a list; titles and snippets keep their search highlights.
    func policyList(_ hits: [SearchHit]) -> PortalHTML {
        let today = node.today()
        let items: [PortalHTML] = hits.map { h in
            let v = h.record.state.values
            let title = h.titleMarked ?? PortalSite.text(v["title"])
            let validity = node.validity(v, today: today)
            let snippet: PortalHTML = h.snippetMarked.map { "<p class=\"snippet\">\(marked: $0)</p>" } ?? .empty
            return """
                <li class="result"><a class="title" href="/policies/\(PortalForm.encode(h.record.state.id))">\(marked: title)</a>\
                \(validityBadge(validity))
                <div class="meta">\(PortalSite.text(v["doc_number"])) · \(departmentName(PortalSite.text(v["department"]))) · \
                \(nodeName(PortalSite.text(v["region"]))) · \(PortalSite.text(v["issued_on"]))</div>\
                \(snippet)<div class="tags">\(themeTags(v["themes"]))</div></li>
                """
        }
        return "<ol class=\"results\">\(items)</ol>"
    }

    /// A policy's validity as a badge (现行有效 is the norm and goes unmarked in lists).
    func validityBadge(_ state: PolicyValidity.State, always: Bool = false) -> PortalHTML {
        guard always || state != .inForce else { return .empty }
        let cls = state.rawValue.replacingOccurrences(of: "_", with: "-")
        return " <span class=\"badge validity \(cls)\">\(state.chineseName)</span>"
    }

    func themeTags(_ v: JSONValue?) -> PortalHTML {
        PortalHTML.join(
            (v?.stringArray ?? []).map { "<a class=\"tag\" href=\"/policies?theme=\(PortalForm.encode($0))\">\(PortalText.theme($0))</a>" },
            separator: " ")
    }

    /// The search filters from a query, ignoring values that are not codes (a hand-edited URL
    /// gets an unfiltered answer, not an error page).
    /// Policies default to those in force today (`status` absent); `status=all` shows every
    /// state. Service items have no validity and no default.
    func searchRequest(_ q: PortalForm, policies: Bool = true) -> (SearchRequest, page: Int) {
        var s = SearchRequest()
        s.today = node.today()
        s.q = String((q.raw("q") ?? "").prefix(5_000))
        s.theme = q["theme"].flatMap { Theme(rawValue: $0) != nil ? $0 : nil }
        s.audience = q["audience"].flatMap { Audience(rawValue: $0) != nil ? $0 : nil }
        s.region = q["region"].flatMap { Validation.divisionCode($0) ? $0 : nil }
        s.department = q["department"].flatMap { Validation.departmentID($0) != nil ? $0 : nil }
        switch q["status"] {
        case let st? where SearchRequest.statuses.contains(st): s.status = st
        case "all"?: s.status = nil
        default: s.status = policies ? PolicyValidity.State.inForce.rawValue : nil
        }
        let page = min(max(Int(q["page"] ?? "1") ?? 1, 1), 100_000 / Self.pageSize)
        s.limit = Self.pageSize
        s.offset = (page - 1) * Self.pageSize
        return (s, page)
    }

    /// A link to the same search with one parameter changed (and paging reset).
    func searchLink(_ base: String, _ s: SearchRequest, set key: String, to value: String?, page: Int? = nil) -> String {
        var items: [(String, String?)] = [
            ("q", s.q), ("theme", s.theme), ("region", s.region), ("department", s.department),
            ("audience", s.audience), ("status", base == "/policies" ? Self.statusParam(s.status) : s.status),
        ]
        if let i = items.firstIndex(where: { $0.0 == key }) { items[i].1 = value }
        if let page, page > 1 { items.append(("page", String(page))) }
        return base + PortalForm.query(items)
    }

    /// The `status` parameter that gives a policy search this status filter: in force is the
    /// default (no parameter), every state is `all`.
    static func statusParam(_ status: String?) -> String? {
        switch status {
        case nil: "all"
        case PolicyValidity.State.inForce.rawValue?: nil
        case let st?: st
        }
    }

    /// The validity choice of the policy search: each state with its count under the other
    /// filters, and 全部状态; the one in use is marked.
    func validityFacet(_ s: SearchRequest) throws -> PortalHTML {
        var links: [PortalHTML] = []
        var all = s
        all.status = nil
        all.limit = 0
        all.offset = 0
        // One pass counts every state under the other filters.
        let counts = try node.db.search(all, kind: .policy)
        let allTotal = counts.total
        for state in PolicyValidity.State.allCases {
            let n = counts.validityFacets[state.rawValue] ?? 0
            links.append(
                """
                <li><a href=\"\(searchLink("/policies", s, set: "status", to: Self.statusParam(state.rawValue)))\"\
                \(s.status == state.rawValue ? PortalHTML(trusted: " class=\"on\"") : .empty)>\(state.chineseName)</a> \
                <span class=\"count\">\(n)</span></li>
                """)
        }
        links.append(
            """
            <li><a href=\"\(searchLink("/policies", s, set: "status", to: "all"))\"\
            \(s.status == nil ? PortalHTML(trusted: " class=\"on\"") : .empty)>全部状态（显示全部）</a> \
            <span class=\"count\">\(allTotal)</span></li>
            """)
        return "<div class=\"facet validity\"><h3>效力状态</h3><ul class=\"facets\">\(links)</ul></div>"
    }

    /// What the total of a policy search counts, in words.
    static func policyTotal(_ n: String, status: String?) -> String {
        switch status.flatMap(PolicyValidity.State.init(rawValue:)) {
        case let st?: "共 \(n) 项\(st.chineseName)政策"
        case nil where status == "active": "共 \(n) 项未废止政策"
        case nil: "共 \(n) 项政策（全部状态）"
        }
    }

    /// One facet block: every value with its count, the selected one marked, plus 全部.
    func facet(
        _ base: String, _ s: SearchRequest, key: String, label: String, current: String?, counts: [String: Int],
        order: [String]? = nil, name: (String) -> String
    ) -> PortalHTML {
        let keys = order?.filter { counts[$0] != nil } ?? counts.keys.sorted { (counts[$0]!, $1) > (counts[$1]!, $0) }
        guard !keys.isEmpty || current != nil else { return .empty }
        var links: [PortalHTML] = [
            "<li><a href=\"\(searchLink(base, s, set: key, to: nil))\"\(current == nil ? PortalHTML(trusted: " class=\"on\"") : .empty)>全部</a></li>"
        ]
        for k in keys {
            links.append(
                """
                <li><a href=\"\(searchLink(base, s, set: key, to: k))\"\
                \(current == k ? PortalHTML(trusted: " class=\"on\"") : .empty)>\(name(k))</a> \
                <span class=\"count\">\(counts[k] ?? 0)</span></li>
                """
            )
        }
        return "<div class=\"facet\"><h3>\(label)</h3><ul class=\"facets\">\(links)</ul></div>"
    }

    /// The region facet as a hierarchy: provinces, then (under the chosen province) its cities,
    /// then (under the chosen city) its counties. Each count is the region's whole subtree, by
    /// the same rule the region filter applies (`region(_:contains:)`), so clicking a region shows
    /// exactly the number next to it. `exact` holds the counts per region code as stored.
    func regionFacet(_ base: String, _ s: SearchRequest, exact: [String: Int]) -> PortalHTML {
        guard !exact.isEmpty || s.region != nil else { return .empty }
        func subtree(_ code: String) -> Int { exact.filter { Self.region(code, contains: $0.key) }.map(\.value).reduce(0, +) }
        func parent(_ code: String) -> String? {
            guard code.count == 6, code != "100000" else { return nil }
            if code.hasSuffix("0000") { return nil }
            if code.hasSuffix("00") { return String(code.prefix(2)) + "0000" }
            return String(code.prefix(4)) + "00"
        }
        // Every level an entry reaches: a county's city and province are listed even without policies of their own.
        var codes = Set<String>()
        for c in exact.keys {
            var x: String? = c
            while let y = x { codes.insert(y); x = parent(y) }
        }
        let selected = s.region
        var chain: [String] = []
        var x = selected
        while let y = x { chain.insert(y, at: 0); x = parent(y) }
        func level(_ under: String?) -> PortalHTML {
            let here = codes.filter { parent($0) == under && (under != nil || $0 != "100000") }.sorted()
            guard !here.isEmpty else { return .empty }
            let items: [PortalHTML] = here.map { c in
                let on = selected == c ? PortalHTML(trusted: " class=\"on\"") : PortalHTML.empty
                let inner = chain.contains(c) ? level(c) : .empty
                return """
                    <li><a href=\"\(searchLink(base, s, set: "region", to: c))\"\(on)>\(nodeName(c))</a> \
                    <span class=\"count\">\(subtree(c))</span>\(inner)</li>
                    """
            }
            return "<ul class=\"facets tree\">\(items)</ul>"
        }
        let national: PortalHTML =
            exact["100000"].map { n in
                let on = selected == "100000" ? PortalHTML(trusted: " class=\"on\"") : PortalHTML.empty
                let href = searchLink(base, s, set: "region", to: "100000")
                return "<li><a href=\"\(href)\"\(on)>\(nodeName("100000"))</a> <span class=\"count\">\(n)</span></li>"
            } ?? .empty
        let allOn = selected == nil ? PortalHTML(trusted: " class=\"on\"") : PortalHTML.empty
        let all: PortalHTML = "<li><a href=\"\(searchLink(base, s, set: "region", to: nil))\"\(allOn)>全部</a></li>"
        return """
            <div class="facet region"><h3>地区</h3><p class="meta">数字含下辖地区</p><ul class="facets">\(all)\(national)</ul>\(level(nil))</div>
            """
    }

    /// Counts per region code under every filter but the region (the facet offers other regions
    /// too, and the counts of the chosen region's subtree stay what its results are).
    func regionCounts(_ s: SearchRequest, kind: RecordKind) throws -> [String: Int] {
        return try node.db.search(with(s) { $0.region = nil; $0.limit = 0; $0.offset = 0 }, kind: kind).regionFacets
    }

    /// `value` changed by `change`.
    func with<T>(_ value: T, _ change: (inout T) -> Void) -> T {
        var v = value
        change(&v)
        return v
    }

    /// The total as the portal shows it: exact, or "10,000+" when the search stopped counting.
    static func totalText(_ total: Int, exact: Bool) -> String {
        if exact { return String(total) }
        var digits = Array(String(total)), out = ""
        while digits.count > 3 {
            out = "," + String(digits.suffix(3)) + out
            digits.removeLast(3)
        }
        return String(digits) + out + "+"
    }

    /// Previous/next links and the page position.
    func pager(_ base: String, _ s: SearchRequest, page: Int, total: Int) -> PortalHTML {
        let pages = max(1, (total + Self.pageSize - 1) / Self.pageSize)
        guard pages > 1 else { return .empty }
        let prev: PortalHTML = page > 1 ? "<a rel=\"prev\" href=\"\(searchLink(base, s, set: "", to: nil, page: page - 1))\">上一页</a>" : .empty
        let next: PortalHTML = page < pages ? "<a rel=\"next\" href=\"\(searchLink(base, s, set: "", to: nil, page: page + 1))\">下一页</a>" : .empty
        return "<nav class=\"pager\">\(prev)<span>第 \(page) / \(pages) 页</span>\(next)</nav>"
    }

    func policies(_ pr: PortalRequest) throws -> Response {
        let (s, pageNo) = searchRequest(pr.query)
        let r = try node.db.search(s, kind: .policy)
        let validity = try validityFacet(s)
        let themeFacet = facet(
            "/policies", s, key: "theme", label: "主题", current: s.theme, counts: r.themeFacets,
            order: Theme.allCases.map(\.rawValue), name: PortalText.theme)
        let facets: PortalHTML = """
            \(validity)
            \(themeFacet)
            \(try regionFacet("/policies", s, exact: s.region == nil ? r.regionFacets : regionCounts(s, kind: .policy)))
            \(facet("/policies", s, key: "department", label: "发文部门", current: s.department, counts: r.departmentFacets, name: departmentName))
            """
        let heading = s.q.isEmpty ? "政策通" : "“\(s.q.prefix(50))”的搜索结果"
        let count = Self.totalText(r.total, exact: r.totalExact)
        return page(
            pr, title: heading,
            """
            <h1>\(heading)</h1>
            <form class="search" method="get" action="/policies"><label for="q">关键词</label>
            <input id="q" name="q" type="search" value="\(s.q)" maxlength="200">\
            \(hidden("theme", s.theme))\(hidden("region", s.region))\(hidden("department", s.department))\(hidden("audience", s.audience))\
            \(hidden("status", Self.statusParam(s.status)))\
            <button type="submit">搜索</button></form>
            <div class="layout"><aside>\(facets)</aside>
            <section><p class="total">\(Self.policyTotal(count, status: s.status))</p>\
            \(r.hits.isEmpty ? "<p>没有找到相关政策，请换个关键词或去掉筛选条件。</p>" : policyList(r.hits))\
            \(pager("/policies", s, page: pageNo, total: r.total))</section></div>
            """)
    }

    func hidden(_ name: String, _ value: String?) -> PortalHTML {
        guard let value else { return .empty }
        return "<input type=\"hidden\" name=\"\(name)\" value=\"\(value)\">"
    }

    func policy(_ pr: PortalRequest, id: String) throws -> Response {
        guard let r = try node.db.record(id), r.state.kind == .policy else { throw NodeError.notFound("本节点没有这项政策（\(id)）") }
        let v = r.state.values
        let title = PortalSite.text(v["title"])
        let dept = PortalSite.text(v["department"])
        let state = node.validity(v)
        let withdrawn = state == .withdrawn
        let from = PortalSite.text(v["effective_from"]), to = PortalSite.text(v["effective_to"])
        let validity = from.isEmpty ? "—" : "\(from) 至 \(to.isEmpty ? "长期有效" : to)"
        let paragraphs: [PortalHTML] = PortalSite.text(v["body"]).split(whereSeparator: \.isNewline).map { "<p>\($0)</p>" }
        let source: PortalHTML =
            Self.safeURL(v["source_url"]?.stringValue).map {
                "<a href=\"\($0)\" rel=\"noopener noreferrer\">\($0)</a>"
            } ?? "—"
        let related = try node.db.records(kind: .serviceItem).filter { $0.state["policies"]?.stringArray?.contains(id) == true }
        let relatedHTML: PortalHTML =
            related.isEmpty
            ? "<p>暂无关联办事事项。</p>"
            : """
            <ul>\(related.map { s -> PortalHTML in
                let link = "/services?q=\(PortalForm.encode(PortalSite.text(s.state["code"])))"
                return "<li><a href=\"\(link)\">\(PortalSite.text(s.state["name"]))</a>\(serviceGo(s.state.values))</li>"
            })</ul>
            """
        let audiences = (v["audiences"]?.stringArray ?? []).map(PortalText.audience).joined(separator: "、")
        let tags = (v["tags"]?.stringArray ?? []).joined(separator: "、")
        let feedback = "/interact" + PortalForm.query([("about", id), ("department", dept)])
        let conditions = eligibilitySection(v)
        return page(
            pr, title: title,
            """
            <article class="policy\(withdrawn ? " withdrawn" : "")">
            \(validityBanner(state, from: from, to: to))
            <h1>\(title)</h1>
            <dl class="fields">
            <dt>发文字号</dt><dd>\(PortalSite.text(v["doc_number"]).isEmpty ? "—" : PortalSite.text(v["doc_number"]))</dd>
            <dt>发文部门</dt><dd><a href="/policies?department=\(PortalForm.encode(dept))">\(departmentName(dept))</a></dd>
            <dt>地区</dt><dd>\(nodeName(PortalSite.text(v["region"])))</dd>
            <dt>成文日期</dt><dd>\(PortalSite.text(v["issued_on"]))</dd>
            <dt>有效期</dt><dd>\(validity)</dd>
            \(applyWindow(v))
            <dt>状态</dt><dd class="validity \(state.rawValue.replacingOccurrences(of: "_", with: "-"))">\(state.chineseName)\
            （按北京时间 \(node.today()) 计）</dd>
            <dt>主题</dt><dd>\(themeTags(v["themes"]))</dd>
            <dt>标签</dt><dd>\(tags.isEmpty ? "—" : tags)</dd>
            <dt>适用对象</dt><dd>\(audiences.isEmpty ? "—" : audiences)</dd>
            <dt>来源</dt><dd>\(source)</dd>
            <dt>更新时间</dt><dd>\(PortalText.beijingTime(ms: r.updatedAt))（北京时间）</dd>
            </dl>
            <section class="body">\(paragraphs)</section>
            \(applyOffer(id, v))
            \(conditions)
            <section><h2>关联办事事项</h2>\(relatedHTML)</section>
            <p><a class="button" href="\(feedback)">对本政策留言（建议、咨询、投诉）</a></p>
            </article>
            """)
    }

    /// Says plainly on a policy's page when it is not in force today.
    func validityBanner(_ state: PolicyValidity.State, from: String, to: String) -> PortalHTML {
        switch state {
        case .inForce: .empty
        case .withdrawn: "<p class=\"banner withdrawn\">本政策已废止（已撤回），仅供查阅，不再执行。</p>"
        case .expired: "<p class=\"banner expired\">本政策已于 \(to) 到期失效，仅供查阅。</p>"
        case .notYet: "<p class=\"banner not-yet\">本政策自 \(from) 起生效，目前尚未生效。</p>"
        }
    }

    /// The 去办理 link of a service item; only http(s) targets ever become links.
    func serviceGo(_ v: [String: JSONValue]) -> PortalHTML {
        guard let url = Self.safeURL(v["handling_url"]?.stringValue) else { return .empty }
        return " <a class=\"button go\" href=\"\(url)\" rel=\"noopener noreferrer\">去办理</a>"
    }

    func services(_ pr: PortalRequest) throws -> Response {
        let (s, pageNo) = searchRequest(pr.query, policies: false)
        let r = try node.db.search(s, kind: .serviceItem)
        let items: [PortalHTML] = r.hits.map { h in
            let v = h.record.state.values
            let days = v["time_limit_days"]?.intValue ?? 0
            let materials = v["materials"]?.stringArray ?? []
            let policies: [PortalHTML] = (v["policies"]?.stringArray ?? []).compactMap { pid in
                guard let p = (try? node.db.record(pid)) ?? nil, p.state.kind == .policy else { return nil }
                return "<li><a href=\"/policies/\(PortalForm.encode(pid))\">\(PortalSite.text(p.state["title"]))</a></li>"
            }
            let dept = PortalSite.text(v["department"])
            return """
                <li class="result service"><div class="title">\(marked: h.titleMarked ?? PortalSite.text(v["name"]))\(serviceGo(v))</div>
                <div class="meta">事项编码 \(PortalSite.text(v["code"])) · \(departmentName(dept)) · \(nodeName(PortalSite.text(v["region"])))</div>
                <dl class="fields compact"><dt>办理时限</dt><dd>\(days == 0 ? "即办" : "\(days) 个工作日")</dd>
                <dt>收费标准</dt><dd>\(PortalSite.text(v["fee"]).isEmpty ? "免费" : PortalSite.text(v["fee"]))</dd>
                <dt>申请材料</dt><dd>\(materials.isEmpty ? "无" : "")\
                \(materials.isEmpty ? PortalHTML.empty : "<ol class=\"materials\">\(materials.map { m -> PortalHTML in "<li>\(m)</li>" })</ol>")</dd>
                \(policies.isEmpty ? PortalHTML.empty : "<dt>相关政策</dt><dd><ul>\(policies)</ul></dd>")</dl>
                <div class="tags">\
                \(PortalHTML.join((v["themes"]?.stringArray ?? []).map { "<span class=\"tag\">\(PortalText.theme($0))</span>" }, separator: " "))\
                <a class="small" href="/interact\(PortalForm.query([("about", h.record.state.id), ("department", dept), ("kind", "evaluation")]))">\
                评价</a></div></li>
                """
        }
        let themeFacet = facet(
            "/services", s, key: "theme", label: "主题", current: s.theme, counts: r.themeFacets,
            order: Theme.allCases.map(\.rawValue), name: PortalText.theme)
        let facets: PortalHTML = """
            \(themeFacet)
            \(facet("/services", s, key: "department", label: "部门", current: s.department, counts: r.departmentFacets, name: departmentName))
            \(try regionFacet("/services", s, exact: s.region == nil ? r.regionFacets : regionCounts(s, kind: .serviceItem)))
            """
        return page(
            pr, title: "办事通",
            """
            <h1>办事通</h1>
            <form class="search" method="get" action="/services"><label for="q">事项名称</label>
            <input id="q" name="q" type="search" value="\(s.q)" maxlength="200">\
            \(hidden("theme", s.theme))\(hidden("department", s.department))<button type="submit">搜索</button></form>
            <div class="layout"><aside>\(facets)</aside>
            <section><p class="total">共 \(Self.totalText(r.total, exact: r.totalExact)) 个事项</p>\
            \(items.isEmpty ? "<p>暂无办事事项。</p>" as PortalHTML : "<ol class=\"results\">\(items)</ol>" as PortalHTML)\
            \(pager("/services", s, page: pageNo, total: r.total))</section></div>
            """)
    }
}
