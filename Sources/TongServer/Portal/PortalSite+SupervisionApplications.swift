import Foundation
import TongCore
import TongDomain
import TongStore

/// /supervision's 送达 and 办理 tables, from the `stats` records every node publishes and that
/// flow up the tree: counts and rates only, no enterprise and no person.
extension PortalSite {
    /// 送达 totals of one node's department.
    struct DeliveryLine: Sendable, Equatable {
        var node: String
        var department: String
        /// Policies and service items delivered.
        var records = 0
        /// Enterprises reached, summed over the records (an enterprise told of two records counts twice).
        var enterprises: Int64 = 0
        var webhooks: Int64 = 0
        var delivered: Int64 = 0
        var failed: Int64 = 0
    }

    /// 办理 figures of one department and policy.
    struct ApplicationLine: Sendable {
        var node: String
        var department: String
        var policy: String
        var figures: [String: JSONValue]
        func n(_ k: String) -> Int64 { figures[k]?.intValue ?? 0 }
    }

    /// Every node's 送达 figures, per node and department.
    func deliveryLines() throws -> [DeliveryLine] {
        var lines: [String: DeliveryLine] = [:]
        for r in try node.db.records(kind: .stats) {
            for (_, f) in r.state["deliveries"]?.objectValue ?? [:] {
                let dept = PortalSite.text(f["department"])
                let key = r.state.owner + "\u{1}" + dept
                var l = lines[key] ?? DeliveryLine(node: r.state.owner, department: dept)
                l.records += 1
                l.enterprises += f["enterprises"]?.intValue ?? 0
                l.webhooks += f["webhooks"]?.intValue ?? 0
                l.delivered += f["delivered"]?.intValue ?? 0
                l.failed += f["failed"]?.intValue ?? 0
                lines[key] = l
            }
        }
        return lines.values.sorted { ($0.node, $0.department) < ($1.node, $1.department) }
    }

    /// Every node's 办理 figures, per department and policy.
    func applicationLines() throws -> [ApplicationLine] {
        var out: [ApplicationLine] = []
        for r in try node.db.records(kind: .stats) {
            for (dept, policies) in r.state["applications"]?.objectValue ?? [:] {
                for (policy, f) in policies.objectValue ?? [:] {
                    out.append(ApplicationLine(node: r.state.owner, department: dept, policy: policy, figures: f.objectValue ?? [:]))
                }
            }
        }
        return out.sorted { ($0.department, $0.policy) < ($1.department, $1.policy) }
    }

    /// The two tables.
    func applicationSupervisionTables() throws -> PortalHTML {
        let deliveries: [PortalHTML] = try deliveryLines().map { l in
            let pending = max(0, l.webhooks - l.delivered - l.failed)
            return """
                <tr><td>\(nodeName(l.node))<br><code>\(l.node)</code></td><td>\(departmentName(l.department))<br><code>\(l.department)</code></td>\
                <td>\(l.records)</td><td>\(l.enterprises)</td><td>\(l.webhooks)</td><td>\(l.delivered)</td>\
                <td class="\(l.failed > 0 ? "bad" : "")">\(l.failed)</td><td>\(pending)</td>\
                <td class="rate">\(PortalText.percent(l.delivered, of: l.webhooks))</td></tr>
                """
        }
        var titles: [String: String] = [:]
        let applications: [PortalHTML] = try applicationLines().map { l in
            if titles[l.policy] == nil {
                titles[l.policy] = ((try? node.db.record(l.policy)) ?? nil).map { PortalSite.text($0.state["title"]) } ?? l.policy
            }
            let median = l.figures["median_days_to_decision"]?.intValue
            let overdue = l.n("overdue")
            return """
                <tr><td>\(departmentName(l.department))<br><code>\(l.department)</code></td>\
                <td><a href="/policies/\(PortalForm.encode(l.policy))">\(titles[l.policy]!)</a></td>\
                <td>\(l.n("received"))</td><td>\(l.n("decided"))</td>\
                <td class="rate">\(PortalText.percent(l.n("decided_on_time"), of: l.n("decided")))</td>\
                <td>\(l.n("approved"))</td><td>\(l.n("rejected"))</td><td>\(l.n("paid"))</td><td>\(l.n("paid_wan"))</td>\
                <td>\(l.n("open"))</td><td class="\(overdue > 0 ? "bad" : "")">\(overdue)</td>\
                <td>\(median.map { "\($0) 天" } ?? "—")</td></tr>
                """
        }
        return """
            <h2>送达：各节点各部门政策推送情况</h2>
            <p class="meta">按政策和事项的发文部门统计；推送成功率 = 推送成功 ÷ 推送总数（仅订阅源告知的不计入推送）。</p>
            <div class="table"><table class="deliveries-supervision"><thead><tr><th>节点</th><th>部门</th><th>送达政策和事项</th>\
            <th>触达企业（家次）</th><th>推送总数</th><th>推送成功</th><th>推送失败</th><th>重试中</th><th>推送成功率</th></tr></thead>
            <tbody>\(deliveries.isEmpty ? "<tr><td colspan=\"9\">暂无数据（各节点定期汇总）</td></tr>" as PortalHTML : PortalHTML.join(deliveries))\
            </tbody></table></div>
            <h2>办理：各部门各政策申报办理情况</h2>
            <p class="meta">按时办结率 = 在办理期限内作出审核决定（通过或不予通过）的件数 ÷ 已作出审核决定的件数；兑付金额单位为万元。</p>
            <div class="table"><table class="applications-supervision"><thead><tr><th>部门</th><th>政策</th><th>收到申请</th><th>已审结</th>\
            <th>按时办结率</th><th>审核通过</th><th>不予通过</th><th>已兑付（件）</th><th>兑付金额（万元）</th><th>在办</th><th>逾期</th>\
            <th>审结用时（中位数）</th></tr></thead>
            <tbody>\(applications.isEmpty ? "<tr><td colspan=\"12\">暂无数据（各节点定期汇总）</td></tr>" as PortalHTML : PortalHTML.join(applications))\
            </tbody></table></div>
            """
    }
}
