import Foundation
import TongCore
import TongDomain
import TongStore

/// 我的申报 on the enterprise's page: what it filed at this node and where each stands. The
/// status is replayed from the record's moves, as every node does; the receipt is linked when
/// this portal handed it out (receipts are stored only as hashes).
extension PortalSite {
    func myApplications(_ row: EnterpriseRow) throws -> PortalHTML {
        let filed = try node.db.applications(enterprise: row.id)
        guard !filed.isEmpty else { return "<p>暂无申报。在政策页面点击“在线申报”或“确认享受”即可办理。</p>" }
        let rows: [PortalHTML] = filed.prefix(100).map { r in
            let v = r.state.values
            let policy = PortalSite.text(v["about"])
            let title = ((try? node.db.record(policy)) ?? nil).map { PortalSite.text($0.state["title"]) } ?? policy
            let status = ApplicationTimeline.replay(v).status
            let link: PortalHTML =
                applyTokens.receipt(of: r.state.id, enterprise: row.id).map { "<a href=\"/receipt/\(PortalForm.encode($0))\">办理进度</a>" }
                ?? "<span class=\"meta\">凭回执编号查询</span>"
            return """
                <tr><td><a href="/policies/\(PortalForm.encode(policy))">\(title)</a><br><code>\(r.state.id)</code></td>\
                <td class="status-\(status.rawValue)">\(status.chineseName)</td>\
                <td>\(PortalText.beijingTime(iso: PortalSite.text(v["submitted_at"])))</td><td>\(link)</td></tr>
                """
        }
        return """
            <div class="table"><table class="my-applications"><thead><tr><th>政策</th><th>状态</th><th>提交时间（北京时间）</th><th></th></tr></thead>
            <tbody>\(rows)</tbody></table></div>
            """
    }
}
