import Foundation
import Logging
import TongCore
import TongDomain

/// `tong demo`: a federation on loopback, sample policies, service items and feedback, and a
/// report of what travelled where.
public enum DemoRunner {
    /// Sample policies: (owner department, title, doc number, themes, body).
    static let policies: [(String, String, String, [String], String)] = [
        (
            "100000-mohrss", "关于阶段性缓缴社会保险费的通知", "人社部发〔2022〕31号", ["social_insurance"],
            "对受疫情影响生产经营困难的中小微企业、以单位方式参保的个体工商户，可申请缓缴三项社会保险单位缴费部分，缓缴期间免收滞纳金。企业缓缴社保费不影响职工个人权益。"
        ),
        (
            "100000-mof", "关于进一步实施小微企业所得税优惠政策的公告", "财政部 税务总局公告〔2022〕13号", ["finance_tax"],
            "对小型微利企业年应纳税所得额超过100万元但不超过300万元的部分，减按25%计入应纳税所得额，按20%的税率缴纳企业所得税。"
        ),
        (
            "330000-hrss", "浙江省关于做好稳岗返还工作的通知", "浙人社发〔2022〕20号", ["stabilize_jobs"],
            "对不裁员或少裁员的参保企业，按规定返还失业保险费，中小微企业返还比例最高提至90%，支持企业稳定岗位。"
        ),
        (
            "330100-hrss", "杭州市支持中小微企业复工复产若干措施", "杭政办函〔2022〕15号", ["resume_work", "rent_relief"],
            "对承租国有房屋的小微企业和个体工商户减免房屋租金，并对复工复产企业给予用工补助。"
        ),
        (
            "330106-commerce", "西湖区小微企业水电气费用补贴办法", "西政办〔2022〕8号", ["utilities"],
            "对辖区内小微企业和个体工商户的水电气费用给予阶段性补贴，用气用电“欠费不停供”。"
        ),
        (
            "320000-dof", "江苏省关于减免小微企业房屋租金的通知", "苏财资〔2022〕41号", ["rent_relief"],
            "服务业小微企业和个体工商户承租国有房屋的，免除三个月租金。"
        ),
    ]

    /// Runs the demo; returns when converged if `once`, else serves until cancelled.
    public static func run(topologyText: String, once: Bool, freePorts: Bool, print say: @Sendable @escaping (String) -> Void) async throws {
        var logger = Logger(label: "tong.demo")
        logger.logLevel = .critical
        let root = NSTemporaryDirectory() + "tong-demo-\(UUID().uuidString.prefix(8))"
        // The folder holds the demo CA's private key and every token: it goes when the demo
        // ends, whether by --once, Ctrl-C, SIGTERM or an error.
        defer { try? FileManager.default.removeItem(atPath: root) }
        let fed = try LocalFederation(topologyText: topologyText, root: root, freePorts: freePorts, syncIntervalMs: 1_000, logger: logger)
        say("federation \(fed.topology.federation): \(fed.topology.nodes.count) nodes laid out in \(root)")
        signal(SIGINT, SIG_IGN)
        signal(SIGTERM, SIG_IGN)
        let stops = [SIGINT, SIGTERM].map { sig -> any DispatchSourceSignal in
            let s = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            s.setEventHandler { Task { await fed.shutdown() } }
            s.resume()
            return s
        }
        defer {
            for s in stops { s.cancel() }
            signal(SIGINT, SIG_DFL)
            signal(SIGTERM, SIG_DFL)
        }
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await fed.run() }
            try await waitUntil(seconds: 20) { fed.servers.values.allSatisfy { $0.httpPort != nil && $0.peerPort != nil } }
            for n in fed.topology.nodes { say("  node \(n.id) \(n.name): portal http://\(fed.http[n.id]!)/") }
            say("tokens (the demo deletes them on exit):")
            say("  /admin and /supervision: the node's admin token, e.g. \(root)/\(fed.topology.nodes[0].id)/admin.token")
            if let d = fed.topology.nodes.first(where: { !$0.departments.isEmpty }).map({ ($0.id, $0.departments[0].id) }) {
                say("  /inbox: a department's token, e.g. \(root)/\(d.0)/tokens/\(d.1).token")
            }
            // Publish one policy at each owner.
            var published: [(id: String, owner: String, title: String)] = []
            for (dept, title, doc, themes, body) in policies {
                let owner = String(dept.prefix(6))
                guard let node = fed.nodes[owner] else { continue }
                let r = try node.create(
                    kind: .policy,
                    body: [
                        "title": .string(title), "doc_number": .string(doc), "department": .string(dept), "issued_on": "2022-05-01",
                        "themes": .strings(themes), "tags": ["小微企业", "纾困"], "body": .string(body),
                        "source_url": "https://www.gov.cn/zhengce/",
                    ], by: .admin)
                published.append((r.id, owner, title))
                say("published \(r.id) at \(owner): \(title)")
            }
            if let hz = fed.nodes["330100"] {
                let s = try hz.create(
                    kind: .serviceItem,
                    body: [
                        "code": "330100-FW-001", "name": "复工复产备案", "department": "330100-amr",
                        "handling_url": "https://www.zjzwfw.gov.cn/", "time_limit_days": 3, "materials": ["营业执照", "复工方案"],
                    ], by: .admin)
                say("published service item \(s.id) at 330100: 复工复产备案")
            }
            // Wait until every policy sits exactly where the flow rules say.
            try await waitUntil(seconds: 30) {
                published.allSatisfy { p in
                    fed.topology.nodes.allSatisfy { n in
                        let has = ((try? fed.nodes[n.id]!.db.record(p.id)) ?? nil) != nil
                        return has == fed.topology.holds(node: n.id, recordOwnedBy: p.owner)
                    }
                }
            }
            say("\nwhat travelled where (✓ holds, · does not):")
            say("policy".padding(toLength: 18, withPad: " ", startingAt: 0) + fed.topology.nodes.map { $0.id }.joined(separator: " "))
            for p in published {
                let row = fed.topology.nodes.map { n in ((try? fed.nodes[n.id]!.db.record(p.id)) ?? nil) != nil ? "  ✓   " : "  ·   " }.joined(
                    separator: " ")
                say(p.id.padding(toLength: 18, withPad: " ", startingAt: 0) + row)
            }
            // Feedback from Nanjing to a Xihu department, sealed, routed, answered.
            if let nj = fed.nodes["320100"], let xh = fed.nodes["330106"] {
                try await waitUntil(seconds: 20) { nj.department("330106-commerce") != nil }
                let sub = try nj.submitFeedback([
                    "kind": "consultation", "department": "330106-commerce", "title": "水电气补贴如何申请",
                    "content": "我司在南京注册、在西湖区经营门店，请问水电气补贴需要哪些材料？",
                    "contact": ["name": "王经理", "phone": "13912345678", "uscc": "91110000600037341L"],
                ])
                say("\nfeedback \(sub.id) submitted at 320100 to 330106-commerce; receipt \(sub.receipt)")
                try await waitUntil(seconds: 20) { ((try? xh.db.record(sub.id)) ?? nil)?.state["status"]?.stringValue == "delivered" }
                let path = fed.topology.path(from: "320100", to: "330106")
                say("  routed along \(path.joined(separator: " → ")) (relays hold only ciphertext)")
                let inbox = try xh.inbox(department: "330106-commerce", status: nil, by: .admin)
                say("  330106-commerce inbox: \(inbox.count) item(s), first: \(inbox.first?["title"]?.stringValue ?? "?")")
                _ = try xh.reply(feedback: sub.id, body: ["content": "请携带营业执照和近三个月水电气缴费凭证，到西湖区政务服务中心办理。"], by: .department("330106-commerce"))
                try await waitUntil(seconds: 20) { (try? nj.receiptStatus(sub.receipt))?["status"]?.stringValue == "replied" }
                let st = try nj.receiptStatus(sub.receipt)
                say("  receipt at 320100: status \(st["status"]?.stringValue ?? "?"), reply: \(st["reply"]?.stringValue ?? "")")
            }
            try await enterpriseJourney(fed, say: say)
            say("\nconverged.")
            if once { await fed.shutdown(); try await group.next(); return }
            say("serving until Ctrl-C …")
            try await group.next()
        }
        say("stopped; removed \(root)")
    }

    /// Polls `condition` every 50 ms until it holds or `seconds` pass.
    public static func waitUntil(seconds: Double, _ condition: () throws -> Bool) async throws {
        let deadline = ContinuousClock.now + .milliseconds(Int64(seconds * 1000))
        while ContinuousClock.now < deadline {
            if (try? condition()) == true { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw NodeError.config("timed out after \(seconds) s waiting for the federation to converge")
    }

    /// 送达 and 办理: a restaurant in 西湖区 registers at its county node, a national policy that
    /// fits it is delivered to it, it applies online, and the ministry decides and pays.
    static func enterpriseJourney(_ fed: LocalFederation, say: @Sendable (String) -> Void) async throws {
        guard let xh = fed.nodes["330106"], let nation = fed.nodes["100000"] else { return }
        let reg = try xh.registerEnterprise([
            "uscc": "91330106MA27XF6D24", "name": "西湖区小馆餐饮有限公司", "region": "330106", "industry": "H6210", "employees": 8,
            "revenue_wan": 80, "assets_wan": 50, "established_on": "2019-05-01", "taxpayer": "small_scale",
            "contact": ["name": "王小明", "phone": "13912345678"],
        ])
        let eid = reg["id"]?.stringValue ?? "", token = reg["token"]?.stringValue ?? ""
        say("\n送达: enterprise \(eid) registered at 330106 (size class \(reg["size_class"]?.stringValue ?? "?"); its profile stays there)")
        let policy = try nation.create(kind: .policy, body: [
            "title": "关于小微餐饮企业房租补贴申报的通知", "doc_number": "财办〔2026〕12号", "department": "100000-mof", "issued_on": "2026-01-05",
            "themes": ["rent_relief"], "body": "对住宿和餐饮业小微企业给予房租补贴，在线申报，兑付到账。",
            "apply_from": "2026-01-01", "apply_to": "2099-12-31",
            "eligibility": ["regions": ["330000"], "industries": ["H"], "size_classes": ["micro", "small"]],
            "application": [
                "mode": "apply", "materials": ["房屋租赁合同"],
                "fields": [["id": "rent", "label": "月租金（元）", "type": "number"], ["id": "landlord", "label": "出租方名称", "type": "text"]],
            ],
        ], by: .admin)
        say("  100000 published \(policy.id) with eligibility (浙江 · 住宿和餐饮 · 小微) and an online application")
        try await waitUntil(seconds: 30) { (try? xh.db.deliveries(enterprise: eid).contains { $0.record == policy.id }) == true }
        say("  delivered to \(eid) at 330106 (feed /feeds/enterprises/\(eid).atom, webhook if it gave one)")
        try await waitUntil(seconds: 20) { xh.department("100000-mof") != nil }
        let sub = try xh.apply(["policy": .string(policy.id), "enterprise": .string(eid),
                                "answers": ["rent": "12000", "landlord": "杭州西湖物业管理有限公司"]], token: token)
        say("办理: application \(sub.id) filed at 330106, sealed to 100000-mof; receipt \(sub.receipt)")
        try await waitUntil(seconds: 30) {
            (try? nation.applications(department: "100000-mof", status: "delivered", by: .department("100000-mof")).count) == 1
        }
        let mof = Principal.department("100000-mof")
        for (status, amount) in [("accepted", JSONValue.null), ("approved", .null), ("paid", .int(2))] {
            var body: [String: JSONValue] = ["status": .string(status)]
            if amount != .null { body["amount_wan"] = amount }
            _ = try nation.decide(sub.id, body: .object(body), by: mof)
        }
        try await waitUntil(seconds: 30) { (try? xh.applicationStatus(sub.receipt))?["status"]?.stringValue == "paid" }
        let st = try xh.applicationStatus(sub.receipt)
        let steps = st["history"]?.arrayValue?.compactMap { $0["status"]?.stringValue } ?? []
        say("  receipt at 330106: \(steps.joined(separator: " → ")), paid \(st["paid_wan"]?.intValue ?? 0) 万元")
    }
}
