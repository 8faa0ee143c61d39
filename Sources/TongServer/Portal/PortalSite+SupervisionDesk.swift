import Foundation
import Hummingbird
import NIOCore
import TongCore
import TongDomain
import TongStore

/// 督查 at a glance: a chosen period, feedback figures per department and rolled up by province
/// (按时办结率, 满意率), charts drawn on the server as SVG, and every table as CSV. The tables are
/// built once as rows of text: the page and the CSV export print the same rows.
extension PortalSite {
    /// A table of the supervision page: what the page shows and what `/supervision.csv` exports.
    struct SupervisionTable: Sendable {
        /// The `table=` name in the CSV link.
        var name: String
        /// The heading above it.
        var title: String
        var header: [String]
        var rows: [[String]]
    }

    /// The period figures are counted over: weeks of submission whose Monday (Beijing) lies in
    /// `from`...`to` (dates `YYYY-MM-DD`). Default: the twelve weeks up to today.
    struct SupervisionPeriod: Sendable {
        var from: String
        var to: String

        init(_ q: PortalForm, today: String) {
            let to = q["to"].flatMap { SimpleDate($0) != nil ? $0 : nil } ?? today
            let fallback = SimpleDate(to).map { d -> String in
                let ms = Int64(Self.days(d) - 77) * 86_400_000
                return TongNode.beijingMonday(ms: ms)
            } ?? to
            var from = q["from"].flatMap { SimpleDate($0) != nil ? $0 : nil } ?? fallback
            if from > to { from = to }
            self.from = from
            self.to = to
        }

        /// Whether the week starting `monday` counts: it overlaps `from`...`to`.
        func contains(week monday: String) -> Bool {
            guard let m = SimpleDate(monday) else { return false }
            let end = Self.dateText(days: Self.days(m) + 6)
            return end >= from && monday <= to
        }

        /// Days since 1970-01-01 of a date.
        static func days(_ d: SimpleDate) -> Int {
            let y = d.month <= 2 ? d.year - 1 : d.year
            let era = (y >= 0 ? y : y - 399) / 400
            let yoe = y - era * 400
            let mp = (d.month + 9) % 12
            let doy = (153 * mp + 2) / 5 + d.day - 1
            let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
            return era * 146_097 + doe - 719_468
        }

        static func dateText(days: Int) -> String {
            SimpleDate(beijingMillis: Int64(days) * 86_400_000)?.description ?? ""
        }
    }

    /// One department's figures in the period.
    struct DepartmentFigures: Sendable {
        var node: String
        var department: String
        var name: String
        var received: Int64 = 0
        var answered: Int64 = 0
        var onTime: Int64 = 0
        var transferred: Int64 = 0
        var overdue: Int64 = 0
        var open: Int64 = 0
        var ratings: Int64 = 0
        var good: Int64 = 0
        var medianMinutes: Int64?

        /// The province a node belongs to (GB/T 2260: its first two digits), 100000 for the nation.
        var province: String { node == "100000" ? "100000" : String(node.prefix(2)) + "0000" }
    }

    func departmentFigures(_ period: SupervisionPeriod) throws -> [DepartmentFigures] {
        let sup = try node.supervision()
        return (sup["departments"]?.arrayValue ?? []).map { d in
            var f = DepartmentFigures(
                node: PortalSite.text(d["node"]), department: PortalSite.text(d["department"]),
                name: PortalSite.text(d["name"]).isEmpty ? PortalSite.text(d["department"]) : PortalSite.text(d["name"]))
            for (monday, w) in d["weeks"]?.objectValue ?? [:] where period.contains(week: monday) {
                f.received += w["received"]?.intValue ?? 0
                f.answered += w["answered"]?.intValue ?? 0
                f.onTime += w["on_time"]?.intValue ?? 0
            }
            let by = d["by_status"]?.objectValue ?? [:]
            f.transferred = by["transferred"]?.intValue ?? 0
            f.overdue = d["overdue"]?.intValue ?? 0
            f.open = max(0, (by["submitted"]?.intValue ?? 0) + (by["delivered"]?.intValue ?? 0) - f.overdue)
            f.ratings = d["evaluations"]?.intValue ?? 0
            f.good = d["good_ratings"]?.intValue ?? 0
            f.medianMinutes = d["median_answer_minutes"]?.intValue
            return f
        }
    }

    /// Every table of the page, in page order.
    func supervisionTables(_ period: SupervisionPeriod) throws -> [SupervisionTable] {
        let figures = try departmentFigures(period)
        let departments = SupervisionTable(
            name: "departments", title: "互动通：各部门办理情况",
            header: ["部门", "部门编号", "收到", "已答复", "按时办结", "按时办结率", "转办", "逾期（当前）", "办理中（当前）", "满意率", "答复用时（中位数）"],
            rows: figures.map { f in
                [
                    f.name, f.department, String(f.received), String(f.answered), String(f.onTime), PortalText.percent(f.onTime, of: f.answered),
                    String(f.transferred), String(f.overdue), String(f.open), PortalText.percent(f.good, of: f.ratings),
                    f.medianMinutes.map(Self.duration) ?? "—",
                ]
            })
        var byProvince: [String: DepartmentFigures] = [:]
        for f in figures {
            var p = byProvince[f.province] ?? DepartmentFigures(node: f.province, department: "", name: nodeName(f.province))
            p.received += f.received; p.answered += f.answered; p.onTime += f.onTime; p.transferred += f.transferred
            p.overdue += f.overdue; p.open += f.open; p.ratings += f.ratings; p.good += f.good
            byProvince[f.province] = p
        }
        let provinces = SupervisionTable(
            name: "provinces", title: "按省汇总",
            header: ["省份", "代码", "收到", "已答复", "按时办结率", "转办", "逾期（当前）", "满意率"],
            rows: byProvince.keys.sorted().map { k in
                let p = byProvince[k]!
                return [
                    p.name, k, String(p.received), String(p.answered), PortalText.percent(p.onTime, of: p.answered), String(p.transferred),
                    String(p.overdue), PortalText.percent(p.good, of: p.ratings),
                ]
            })
        let themes = Theme.allCases
        let regions = SupervisionTable(
            name: "regions", title: "现行政策：地区 × 主题",
            header: ["地区", "代码"] + themes.map(\.chineseName) + ["合计"],
            rows: try regionThemeMatrix().map { line in
                [nodeName(line.region), line.region] + themes.map { String(line.themes[$0.rawValue] ?? 0) } + [String(line.total)]
            })
        var weekly: [String: (Int64, Int64)] = [:]
        for d in try node.supervision()["departments"]?.arrayValue ?? [] {
            for (monday, w) in d["weeks"]?.objectValue ?? [:] where period.contains(week: monday) {
                let old = weekly[monday] ?? (0, 0)
                weekly[monday] = (old.0 + (w["received"]?.intValue ?? 0), old.1 + (w["answered"]?.intValue ?? 0))
            }
        }
        // Every week of the period, the quiet ones too (at most two years of them).
        var mondays: [String] = []
        if let start = SimpleDate(period.from).map({ TongNode.beijingMonday(ms: Int64(SupervisionPeriod.days($0)) * 86_400_000) }),
            let first = SimpleDate(start).map(SupervisionPeriod.days)
        {
            var d = first
            while mondays.count < 104, SupervisionPeriod.dateText(days: d) <= period.to {
                mondays.append(SupervisionPeriod.dateText(days: d))
                d += 7
            }
        }
        let weeks = SupervisionTable(
            name: "weeks", title: "每周收到与答复", header: ["周（周一）", "收到", "已答复"],
            rows: mondays.map { [$0, String(weekly[$0]?.0 ?? 0), String(weekly[$0]?.1 ?? 0)] })
        return [provinces, departments, weeks, regions]
    }

    /// A table as HTML, with its CSV link.
    func tableHTML(_ t: SupervisionTable, _ period: SupervisionPeriod) -> PortalHTML {
        let head: [PortalHTML] = t.header.map { "<th>\($0)</th>" }
        let rows: [PortalHTML] = t.rows.map { r in
            let cells: [PortalHTML] = r.map { "<td>\($0)</td>" }
            return "<tr>\(cells)</tr>"
        }
        let csv = "/supervision.csv" + PortalForm.query([("table", t.name), ("from", period.from), ("to", period.to)])
        let empty: PortalHTML = "<tr><td colspan=\"\(t.header.count)\">暂无数据</td></tr>"
        return """
            <h2>\(t.title)</h2><p class="meta"><a href="\(csv)">导出 CSV</a></p>
            <div class="table"><table class="t-\(t.name)"><thead><tr>\(head)</tr></thead>\
            <tbody>\(rows.isEmpty ? empty : PortalHTML.join(rows))</tbody></table></div>
            """
    }

    /// RFC 4180 CSV (CRLF, fields quoted when they hold a comma, quote or line break), UTF-8
    /// with a byte order mark so spreadsheet programs read the Chinese.
    static func csv(_ t: SupervisionTable) -> String {
        func field(_ s: String) -> String {
            guard s.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return s }
            return "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\""
        }
        return "\u{FEFF}" + ([t.header] + t.rows).map { $0.map(field).joined(separator: ",") }.joined(separator: "\r\n") + "\r\n"
    }

    func supervisionCSV(_ pr: PortalRequest) throws -> Response {
        if let refusal = try requireAdmin(pr, next: "supervision") { return refusal }
        let period = SupervisionPeriod(pr.query, today: node.today())
        guard let t = try supervisionTables(period).first(where: { $0.name == pr.query["table"] }) else {
            throw NodeError.notFound("没有这张表")
        }
        var headers = Self.securityHeaders
        headers[.contentType] = "text/csv; charset=utf-8"
        headers[.contentDisposition] = "attachment; filename=\"supervision-\(t.name)-\(period.from)-\(period.to).csv\""
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: Self.csv(t))))
    }

    // MARK: - Charts (SVG drawn here: no script)

    /// Per department: answered on time, overdue now, open now, as stacked horizontal bars.
    func departmentChart(_ figures: [DepartmentFigures]) -> PortalHTML {
        guard !figures.isEmpty else { return .empty }
        let rowH = 22, left = 220, width = 420
        let maxTotal = max(1, figures.map { $0.onTime + $0.overdue + $0.open }.max() ?? 1)
        let bars: [PortalHTML] = figures.enumerated().map { i, f in
            let y = 24 + i * rowH
            var x = left
            var parts: [PortalHTML] = []
            for (n, color, label) in [(f.onTime, "#2e7d32", "按时办结"), (f.overdue, "#c62828", "逾期"), (f.open, "#f9a825", "办理中")] where n > 0 {
                let w = max(1, Int(n) * width / Int(maxTotal))
                parts.append("<rect x=\"\(x)\" y=\"\(y)\" width=\"\(w)\" height=\"16\" fill=\"\(color)\"><title>\(label) \(n)</title></rect>")
                x += w
            }
            return """
                <text x="\(left - 6)" y="\(y + 12)" text-anchor="end" font-size="12">\(String(f.name.prefix(16)))</text>\(parts)\
                <text x="\(x + 4)" y="\(y + 12)" font-size="11">\(f.onTime)/\(f.overdue)/\(f.open)</text>
                """
        }
        let height = 34 + figures.count * rowH
        return """
            <figure class="chart"><svg xmlns="http://www.w3.org/2000/svg" role="img" viewBox="0 0 720 \(height)" width="720" height="\(height)">\
            <title>各部门：按时办结、逾期、办理中</title>\
            <rect x="\(left)" y="4" width="12" height="12" fill="#2e7d32"/><text x="\(left + 16)" y="14" font-size="11">按时办结</text>\
            <rect x="\(left + 90)" y="4" width="12" height="12" fill="#c62828"/><text x="\(left + 106)" y="14" font-size="11">逾期</text>\
            <rect x="\(left + 160)" y="4" width="12" height="12" fill="#f9a825"/><text x="\(left + 176)" y="14" font-size="11">办理中</text>\
            \(bars)</svg><figcaption>各部门办理情况（按时办结为所选期间，逾期与办理中为当前）</figcaption></figure>
            """
    }

    /// Region × theme: one cell per pair, darker for more policies in force.
    func heatMap(_ t: SupervisionTable) -> PortalHTML {
        guard !t.rows.isEmpty else { return .empty }
        let themes = Theme.allCases
        let cell = 56, left = 140, top = 28
        let values = t.rows.flatMap { r in (0..<themes.count).map { Int(r[2 + $0]) ?? 0 } }
        let maxValue = max(1, values.max() ?? 1)
        var parts: [PortalHTML] = themes.enumerated().map { j, th in
            "<text x=\"\(left + j * cell + cell / 2)\" y=\"18\" text-anchor=\"middle\" font-size=\"11\">\(th.chineseName)</text>"
        }
        for (i, r) in t.rows.enumerated() {
            let y = top + i * 24
            parts.append("<text x=\"\(left - 6)\" y=\"\(y + 15)\" text-anchor=\"end\" font-size=\"12\">\(r[0])</text>")
            for j in 0..<themes.count {
                let n = Int(r[2 + j]) ?? 0
                let shade = 245 - 185 * n / maxValue
                parts.append(
                    """
                    <rect x="\(left + j * cell)" y="\(y)" width="\(cell - 2)" height="22" fill="rgb(\(shade),\(min(255, shade + 5)),255)">\
                    <title>\(r[0]) · \(themes[j].chineseName)：\(n)</title></rect>\
                    <text x="\(left + j * cell + cell / 2)" y="\(y + 15)" text-anchor="middle" font-size="11" \
                    fill="\(shade < 150 ? "#fff" : "#222")">\(n)</text>
                    """)
            }
        }
        let height = top + t.rows.count * 24 + 8
        return """
            <figure class="chart"><svg xmlns="http://www.w3.org/2000/svg" role="img" viewBox="0 0 \(left + themes.count * cell) \(height)" \
            width="\(left + themes.count * cell)" height="\(height)"><title>现行政策：地区 × 主题</title>\(parts)</svg>\
            <figcaption>现行政策热力图：地区 × 主题</figcaption></figure>
            """
    }

    /// Received and answered per week, as two lines.
    func weeklyChart(_ t: SupervisionTable) -> PortalHTML {
        guard !t.rows.isEmpty else { return .empty }
        let left = 40, width = 640, height = 180, step = t.rows.count > 1 ? width / (t.rows.count - 1) : 0
        let maxValue = max(1, t.rows.flatMap { [Int($0[1]) ?? 0, Int($0[2]) ?? 0] }.max() ?? 1)
        func points(_ column: Int) -> String {
            t.rows.enumerated().map { i, r in "\(left + i * step),\(20 + height - (Int(r[column]) ?? 0) * height / maxValue)" }.joined(separator: " ")
        }
        // About twelve week labels whatever the period (104 would not fit), every point marked.
        let labels: [PortalHTML] = t.rows.enumerated().map { i, r in
            let y1 = 20 + height - (Int(r[1]) ?? 0) * height / maxValue, y2 = 20 + height - (Int(r[2]) ?? 0) * height / maxValue
            let label: PortalHTML =
                i % max(1, t.rows.count / 12) == 0
                ? "<text x=\"\(left + i * step)\" y=\"\(height + 36)\" text-anchor=\"middle\" font-size=\"10\">\(String(r[0].suffix(5)))</text>"
                : .empty
            return """
                <circle cx="\(left + i * step)" cy="\(y1)" r="3" fill="#1565c0"><title>\(r[0]) 收到 \(r[1])</title></circle>\
                <circle cx="\(left + i * step)" cy="\(y2)" r="3" fill="#2e7d32"><title>\(r[0]) 已答复 \(r[2])</title></circle>\(label)
                """
        }
        return """
            <figure class="chart">\
            <svg xmlns="http://www.w3.org/2000/svg" role="img" viewBox="0 0 720 \(height + 44)" width="720" height="\(height + 44)">\
            <title>每周收到与答复</title>\
            <line x1="\(left)" y1="\(20 + height)" x2="\(left + width)" y2="\(20 + height)" stroke="#999"/>\
            <text x="4" y="24" font-size="10">\(maxValue)</text><text x="4" y="\(20 + height)" font-size="10">0</text>\
            <polyline fill="none" stroke="#1565c0" stroke-width="2" points="\(points(1))"><title>收到</title></polyline>\
            <polyline fill="none" stroke="#2e7d32" stroke-width="2" stroke-dasharray="6 3" points="\(points(2))"><title>已答复</title></polyline>\
            \(labels)</svg><figcaption>每周收到（实线）与已答复（虚线）</figcaption></figure>
            """
    }

    func supervisionPage(_ pr: PortalRequest) throws -> Response {
        if let refusal = try requireAdmin(pr, next: "supervision") { return refusal }
        let period = SupervisionPeriod(pr.query, today: node.today())
        let tables = try supervisionTables(period)
        let figures = try departmentFigures(period)
        let byName = Dictionary(uniqueKeysWithValues: tables.map { ($0.name, $0) })
        return page(
            pr, title: "督查",
            """
            <h1>督查</h1>
            <form class="inline period" method="get" action="/supervision"><label for="f-from">期间</label> \
            <input id="f-from" name="from" type="date" value="\(period.from)"> 至 <input id="f-to" name="to" type="date" value="\(period.to)"> \
            <button type="submit">查看</button></form>
            <p class="meta">收到、已答复、按时办结按提交周（北京时间，周一起）计入所选期间 \(period.from) 至 \(period.to)；逾期与办理中为当前数；\
            满意率为评价中“满意”“非常满意”所占比例；收到不含问卷答卷。</p>
            \(departmentChart(figures))
            \(weeklyChart(byName["weeks"]!))
            \(tableHTML(byName["provinces"]!, period))
            \(tableHTML(byName["departments"]!, period))
            \(tableHTML(byName["weeks"]!, period))
            \(heatMap(byName["regions"]!))
            <p class="meta">按发文地区统计（各地区本级，不含下辖）。</p>
            \(tableHTML(byName["regions"]!, period))
            \(try applicationSupervisionTables())
            """)
    }
}
