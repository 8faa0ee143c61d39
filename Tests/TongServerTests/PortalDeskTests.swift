import Foundation
import Testing
import TongCore

@testable import TongDomain
@testable import TongServer
@testable import TongTools

/// Issue 15, the public's truth: validity computed for the Beijing date, Beijing time on pages.
@Suite(.serialized) struct PortalDeskTests {
    static let topology = PortalTests.topology

    /// 2026-11-29T23:30:00Z: 07:30 on 2026-11-30 in Beijing, still the 29th in UTC.
    static let beijing0730: Int64 = 1_795_995_000_000
    /// 2026-11-30T00:30:00Z: 08:30 on 2026-11-30 in Beijing.
    static let beijing0830: Int64 = beijing0730 + 3_600_000

    @Test func weeksStartOnBeijingMondays() {
        // 2026-11-30 is a Monday: 07:30 Beijing on it (still Sunday in UTC) belongs to its own week,
        // 23:59 Beijing on Sunday the 29th to the week before.
        #expect(TongNode.beijingMonday(ms: Self.beijing0730) == "2026-11-30")
        #expect(TongNode.beijingMonday(ms: 1_795_967_999_999) == "2026-11-23")
        #expect(TongNode.beijingMonday(ms: 1_795_968_000_000) == "2026-11-30")
        #expect(TongNode.beijingMonday(ms: 0) == "1969-12-29")
    }

    static func policy(_ n: TongNode, _ title: String, from: String, to: String? = nil) throws -> String {
        var body = policyBody(title, dept: "330000-hrss").objectValue!
        body["effective_from"] = .string(from)
        if let to { body["effective_to"] = .string(to) }
        return try n.create(kind: .policy, body: .object(body), by: .admin).id
    }

    @Test func validityIsComputedForTheBeijingDateAndSearchDefaultsToInForce() async throws {
        try await withFederation(topology: Self.topology) { f in
            let n = f.node("330000")
            n.clockOverride.withLock { $0 = Self.beijing0730 }
            let old = try Self.policy(n, "二〇二二年旧政策", from: "2022-01-01", to: "2022-12-31")
            let fresh = try Self.policy(n, "今日起施行的政策", from: "2026-11-30")
            let coming = try Self.policy(n, "下月施行的政策", from: "2026-12-01")
            // Ends on the 29th: already expired in Beijing at 07:30 on the 30th, though UTC still says the 29th.
            let ended = try Self.policy(n, "昨日到期的政策", from: "2026-01-01", to: "2026-11-29")
            let gone = try Self.policy(n, "已撤回的政策", from: "2026-01-01")
            try n.withdraw(kind: .policy, id: gone, by: .admin)

            let c = PortalTestClient(address: f.fed.http["330000"]!)
            let inForce = try await c.get("/policies")
            #expect(inForce.body.contains("今日起施行的政策"), "\(inForce.body)")
            for t in ["二〇二二年旧政策", "下月施行的政策", "昨日到期的政策", "已撤回的政策"] { #expect(!inForce.body.contains(">\(t)<"), "\(t)") }
            #expect(inForce.body.contains("共 1 项现行有效政策"))
            // The choice to see everything is on the page, with counts per state that add up.
            #expect(inForce.body.contains("href=\"/policies?status=all\""))
            #expect(inForce.body.contains("全部状态（显示全部）</a> <span class=\"count\">5</span>"))
            #expect(inForce.body.contains(">已失效</a> <span class=\"count\">2</span>"))
            let all = try await c.get("/policies?status=all")
            #expect(all.body.contains("共 5 项政策（全部状态）"))
            for t in ["二〇二二年旧政策", "下月施行的政策", "昨日到期的政策", "已撤回的政策"] { #expect(all.body.contains(t), "\(t)") }
            #expect(all.body.contains("badge validity expired\">已失效") && all.body.contains("badge validity not-yet\">尚未生效"))
            let expired = try await c.get("/policies?status=expired")
            #expect(expired.body.contains("共 2 项已失效政策") && expired.body.contains("昨日到期的政策"))
            // Facet and paging links keep the chosen state.
            #expect(all.body.contains("/policies?theme=social_insurance&amp;status=all"))

            for (id, label) in [(old, "已失效"), (fresh, "现行有效"), (coming, "尚未生效"), (ended, "已失效"), (gone, "已废止")] {
                let page = try await c.get("/policies/\(id)")
                #expect(page.body.contains(">\(label)（按北京时间 2026-11-30 计）"), "\(id) \(label)")
            }
            #expect(try await c.get("/policies/\(ended)").body.contains("本政策已于 2026-11-29 到期失效"))
            #expect(try await c.get("/").body.contains("现行有效政策 1 项"))

            // The API: the new states, the contract's `active` still meaning "not withdrawn".
            func ids(_ status: String) async throws -> Set<String> {
                let r = try await f.request("GET", "330000", "/api/v1/policies?status=\(status)&limit=100")
                #expect(r.status == 200, "\(r.text)")
                return Set((r.json?["items"]?.arrayValue ?? []).compactMap { $0["id"]?.stringValue })
            }
            #expect(try await ids("in_force") == [fresh])
            #expect(try await ids("expired") == [old, ended])
            #expect(try await ids("not_yet") == [coming])
            #expect(try await ids("withdrawn") == [gone])
            #expect(try await ids("active") == [old, fresh, coming, ended])
            #expect(try await f.request("GET", "330000", "/api/v1/policies?status=current").status == 422)
            let one = try await f.request("GET", "330000", "/api/v1/policies/\(ended)")
            #expect(one.json?["validity"] == "expired" && one.json?["status"] == "active")
        }
    }

    @Test func peopleReadBeijingTimeAndTheAPIKeepsUTC() async throws {
        try await withFederation(topology: Self.topology) { f in
            let n = f.node("330000")
            n.clockOverride.withLock { $0 = Self.beijing0730 }
            let s = try n.submitFeedback([
                "kind": "consultation", "department": "330000-hrss", "title": "清晨的咨询", "content": "七点半提交",
                "contact": ["name": "早", "phone": "13912345678"],
            ])
            let api = try await f.request("GET", "330000", "/api/v1/feedback/\(s.receipt)")
            #expect(api.json?["submitted_at"] == "2026-11-29T23:30:00.000Z", "\(api.text)")
            // Acknowledged on the Beijing date (Monday the 30th): three working days → Thursday 12-03 (UTC's Sunday would give 12-02).
            try await eventually { (try? n.receiptStatus(s.receipt)["status"]?.stringValue) == "delivered" }
            let staff = PortalTestClient(address: f.fed.http["330000"]!)
            _ = try await staff.get("/login")
            _ = try await staff.post("/login", [("token", try f.fed.departmentToken("330000-hrss"))])
            let inbox = try await staff.get("/inbox")
            #expect(inbox.body.contains("2026-11-30 07:30（北京时间）"), "\(inbox.body)")
            #expect(inbox.body.contains("2026-12-03") && !inbox.body.contains("2026-11-29T23:30"))

            n.clockOverride.withLock { $0 = Self.beijing0830 }
            let r = try await f.request(
                "POST", "330000", "/api/v1/feedback/\(s.id)/reply", token: try f.fed.departmentToken("330000-hrss"),
                body: ["content": "八点半答复"])
            #expect(r.status == 200, "\(r.text)")
            let c = PortalTestClient(address: f.fed.http["330000"]!)
            let receipt = try await c.get("/receipt/\(s.receipt)")
            #expect(receipt.body.contains("2026-11-30 07:30") && receipt.body.contains("2026-11-30 08:30"), "\(receipt.body)")
            #expect(!receipt.body.contains("2026-11-29") && !receipt.body.contains("T00:30"))
            let after = try await f.request("GET", "330000", "/api/v1/feedback/\(s.receipt)")
            let repliedAt = PortalSite.text(after.json?["replied_at"])
            #expect(repliedAt.hasPrefix("2026-11-30T00:30:00"), "\(after.text)")
        }
    }

    static let provinceAndCity = TestTree.toml(["330000", "330100"], federation: "desk")

    static func staff(_ f: TestFederation, _ node: String, _ dept: String) async throws -> PortalTestClient {
        let c = PortalTestClient(address: f.fed.http[node]!)
        _ = try await c.get("/login")
        let login = try await c.post("/login", [("token", try f.fed.departmentToken(dept))])
        #expect(login.status == 303)
        return c
    }

    @Test func everyReplyIsKeptAnswerTimeIsToTheFirstAndClosingIsExplicit() async throws {
        try await withFederation(topology: Self.provinceAndCity) { f in
            let city = f.node("330100"), province = f.node("330000")
            city.clockOverride.withLock { $0 = Self.beijing0730 - 600_000 }
            let s = try city.submitFeedback([
                "kind": "consultation", "department": "330000-hrss", "title": "缓缴到期后怎么办", "content": "请问到期后如何补缴？",
                "contact": ["name": "钱", "phone": "13912345678"],
            ])
            try await eventually { (try? province.db.record(s.id))??.state["status"]?.stringValue == "delivered" }
            let token = try f.fed.departmentToken("330000-hrss")
            province.clockOverride.withLock { $0 = Self.beijing0730 }
            let first = try await f.request("POST", "330000", "/api/v1/feedback/\(s.id)/reply", token: token, body: ["content": "第一次：可分期补缴。"])
            #expect(first.status == 200, "\(first.text)")
            let staff = try await Self.staff(f, "330000", "330000-hrss")
            var inbox = try await staff.get("/inbox")
            // A replied item folds its form away and offers 补充答复 and 办结.
            #expect(inbox.body.contains("<details class=\"more-reply\"><summary>补充答复</summary><form class=\"reply\""), "\(inbox.body)")
            #expect(inbox.body.contains("action=\"/inbox/close\""))
            province.clockOverride.withLock { $0 = Self.beijing0830 }
            // The form posted twice with its one-time token (a double click): one reply, both land on the inbox.
            let once = try PortalApplicationTests.once(inbox.body)
            let fields = [("id", s.id), ("content", "第二次：补缴不收滞纳金。"), ("department", "330000-hrss"), ("_once", once)]
            let again = try await staff.post("/inbox/reply", fields)
            #expect(again.status == 303)
            let twice = try await staff.post("/inbox/reply", fields)
            #expect(twice.status == 303 && twice.header("Location") == again.header("Location"))
            inbox = try await staff.get("/inbox")
            for part in ["答复记录（2 次）", "第 1 次答复 · <time>2026-11-30 07:30</time>", "第一次：可分期补缴。",
                         "第 2 次答复 · <time>2026-11-30 08:30</time>", "第二次：补缴不收滞纳金。", "浙江省人力资源和社会保障厅"] {
                #expect(inbox.body.contains(part), "\(part)")
            }
            let api = try await f.request("GET", "330000", "/api/v1/inbox?department=330000-hrss", token: token)
            let item = try #require(api.json?["items"]?.arrayValue?.first)
            #expect(item["replies"]?.arrayValue?.compactMap { $0["content"]?.stringValue } == ["第一次：可分期补缴。", "第二次：补缴不收滞纳金。"])
            #expect(item["replied_at"] == "2026-11-29T23:30:00.000Z")

            // The citizen's receipt (at the city, where it was submitted) shows both, in order.
            let citizen = PortalTestClient(address: f.fed.http["330100"]!)
            var receipt = ""
            try await eventually {
                receipt = try await citizen.get("/receipt/\(s.receipt)").body
                return receipt.contains("第二次：补缴不收滞纳金。")
            }
            #expect(receipt.contains("第一次：可分期补缴。") && receipt.contains("答复记录（2 次）"))
            let r = try await f.request("GET", "330100", "/api/v1/feedback/\(s.receipt)")
            #expect(r.json?["replies"]?.arrayValue?.count == 2 && r.json?["replied_at"] == "2026-11-29T23:30:00.000Z", "\(r.text)")
            #expect(r.json?["reply"] == "第二次：补缴不收滞纳金。")
            // A token the node does not know (the page was made before a restart, or is older than
            // the token) does not lose what was typed: the reply is added, and a resend is caught.
            let unknown = [("id", s.id), ("content", "第三次：逾期可申请延期。"), ("department", "330000-hrss"), ("_once", String(repeating: "0", count: 64))]
            #expect(try await staff.post("/inbox/reply", unknown).status == 303)
            #expect(try await staff.post("/inbox/reply", unknown).status == 303)
            let three = try await f.request("GET", "330000", "/api/v1/inbox?department=330000-hrss", token: token)
            #expect(three.json?["items"]?.arrayValue?.first?["replies"]?.arrayValue?.count == 3, "\(three.text)")

            // Answer time runs to the first reply: 10 minutes, not 70.
            try province.publishSupervision()
            let line = try province.supervision()["departments"]?.arrayValue?.first { $0["department"] == "330000-hrss" }
            #expect(line?["median_answer_minutes"] == 10, "\(String(describing: line))")

            // Closing is its own step; a closed item takes no more replies and offers no form.
            #expect(try await staff.post("/inbox/close", [("id", s.id), ("department", "330000-hrss")]).status == 303)
            inbox = try await staff.get("/inbox")
            #expect(inbox.body.contains("<li class=\"item status-closed") && !inbox.body.contains("name=\"id\" value=\"\(s.id)\""))
            let late = try await f.request("POST", "330000", "/api/v1/feedback/\(s.id)/reply", token: token, body: ["content": "再答"])
            #expect(late.status == 409)
            try await eventually { try await citizen.get("/receipt/\(s.receipt)").body.contains("class=\"status status-closed\"") }
        }
    }

    @Test func aRetryOrAReloadSubmitsOnceAndRatingNeedsOnlyTheRating() async throws {
        try await withFederation(topology: Self.topology) { f in
            let n = f.node("330000")
            let api = PortalTestClient(address: f.fed.http["330000"]!)
            let body: JSONValue = [
                "kind": "suggestion", "department": "330000-hrss", "title": "重试的建议", "content": "网络不好时客户端会重试",
                "contact": ["name": "孙", "phone": "13912345678"],
            ]
            func post(_ b: JSONValue, key: String) async throws -> PortalTestClient.Reply {
                try await api.send(
                    "POST", "/api/v1/feedback", body: CanonicalJSON.encode(b), contentType: "application/json",
                    extraHeaders: ["Idempotency-Key: \(key)"])
            }
            let first = try await post(body, key: "retry-7f3a")
            #expect(first.status == 201, "\(first.body)")
            let again = try await post(body, key: "retry-7f3a")
            #expect(again.status == 201 && again.body == first.body && again.header("Idempotent-Replayed") == "true", "\(again.body)")
            let receipt = try #require(try JSONParser.parse(Array(first.body.utf8))["receipt"]?.stringValue)
            #expect(try n.db.feedback(department: "330000-hrss").count == 1)
            // The same key for another body is refused; the stored answer never shows the receipt in clear.
            var other = body.objectValue!
            other["title"] = "另一条建议"
            let misuse = try await post(.object(other), key: "retry-7f3a")
            #expect(misuse.status == 422 && misuse.header("Content-Type")?.hasPrefix("application/problem+json") == true)
            let dbFile = NodeHome(path: f.fed.root + "/330000").databaseFile
            for file in [dbFile, dbFile + "-wal"] {
                let bytes = (try? Data(contentsOf: URL(fileURLWithPath: file))) ?? Data()
                #expect(bytes.range(of: Data(receipt.utf8)) == nil, "\(file)")
            }
            #expect(try n.db.idempotentAnswer(keyHash: TongNode.idempotencyLookupHash("retry-7f3a")) != nil)
            // Keys expire (housekeeping prunes them after 7 days): then the same key files anew.
            #expect(try n.db.pruneIdempotency(before: TongNode.now() + 1) == 1)
            let later = try await post(body, key: "retry-7f3a")
            #expect(later.status == 201 && later.header("Idempotent-Replayed") == nil && later.body != first.body)
            #expect(try n.db.feedback(department: "330000-hrss").count == 2)

            // The portal: post/redirect/get, and posting the same form again lands on the same receipt.
            let c = PortalTestClient(address: f.fed.http["330000"]!)
            let form = try await c.get("/interact?kind=consultation")
            let once = String(try #require(form.body.firstMatch(of: /name="once" value="([0-9a-f]{64})"/)).output.1)
            let fields: [(String, String)] = [
                ("kind", "consultation"), ("department", "330000-dof"), ("title", "刷新会重复吗"), ("content", "提交后按了刷新"),
                ("contact.name", "周"), ("contact.phone", "13912345678"), ("once", once),
            ]
            let done = try await c.post("/interact", fields)
            #expect(done.status == 303)
            let location = try #require(done.header("Location"))
            #expect(location.hasPrefix("/receipt/TONG-") && location.hasSuffix("?new=1"))
            let reload = try await c.post("/interact", fields)
            #expect(reload.status == 303 && reload.header("Location") == location)
            #expect(try n.db.feedback(department: "330000-dof").count == 1)
            let shown = try await c.get(location)
            for part in ["提交成功", "提交平台</dt><dd>浙江省（330000）", "刷新会重复吗", "提交后按了刷新"] { #expect(shown.body.contains(part), "\(part)") }
            #expect(!shown.body.contains("13912345678"))

            // 好差评: the rating and an optional comment, nothing else.
            let eval = try await c.get("/interact?kind=evaluation&department=330000-hrss")
            #expect(!eval.body.contains("name=\"title\"") && !eval.body.contains("name=\"contact.name\"") && eval.body.contains("评价意见（选填）"))
            let rated = try await c.post("/interact", [("kind", "evaluation"), ("department", "330000-hrss"), ("rating", "5"), ("content", "")])
            #expect(rated.status == 303, "\(rated.body)")
            let unrated = try await c.post("/interact", [("kind", "evaluation"), ("department", "330000-hrss")])
            #expect(unrated.status == 422 && unrated.body.contains("请选择满意度（1-5）"))

            // Messages are Chinese only.
            let blank = try await c.post("/interact", [("kind", "consultation"), ("department", "330000-hrss"), ("content", "无标题")])
            #expect(blank.status == 422 && blank.body.contains("请填写标题（1-100字）"))
            for page in [blank.body, unrated.body, try await c.get("/policies/330000-p404").body] {
                for english in ["must", "blank", "Not Found", "is required", "no policy"] { #expect(!page.contains(english), "\(english)") }
            }
        }
    }

    @Test func theInboxPagesByKeysetOverdueFirstThenByDueDateAndTalliesSurveys() async throws {
        try await withFederation(topology: Self.topology) { f in
            let n = f.node("330000")
            n.clockOverride.withLock { $0 = Self.beijing0730 }
            var ids: [String] = []
            for i in 0..<26 {
                let kind = i < 2 ? "complaint" : "consultation"
                ids.append(
                    try n.submitFeedback([
                        "kind": .string(kind), "department": "330000-hrss", "title": .string("留言\(i)"), "content": "内容",
                        "contact": ["name": "吴", "phone": "13912345678"],
                    ]).id)
            }
            // The node acknowledges arrivals on its own; wait for that before setting due dates by hand.
            try await eventually { try n.db.feedback(department: "330000-hrss").allSatisfy { $0.state["status"]?.stringValue == "delivered" } }
            // Due dates chosen by hand: 3 overdue (due before 11-30), the rest spread over December, newest not latest due.
            var due: [String: String] = [:]
            for (i, id) in ids.enumerated() {
                due[id] = i < 3 ? "2026-11-2\(i)" : String(format: "2026-12-%02d", 28 - i)
                _ = try n.write([
                    LocalWrite(
                        id: id, kind: .feedback, owner: "330000", scope: .route(from: "330000", to: "330000"),
                        fields: ["status": "delivered", "due_on": .string(due[id]!)])
                ])
            }
            _ = try n.reply(feedback: ids[5], body: ["content": "已答复"], by: .department("330000-hrss"))
            let open = ids.filter { $0 != ids[5] }
            let expected = open.filter { due[$0]! < "2026-11-30" }.sorted { due[$0]! < due[$1]! }
                + open.filter { due[$0]! >= "2026-11-30" }.sorted { due[$0]! < due[$1]! } + [ids[5]]

            let staff = try await Self.staff(f, "330000", "330000-hrss")
            func order(_ html: String) -> [String] { html.matches(of: /<code>(330000-f[0-9a-f]+)<\/code>/).map { String($0.output.1) } }
            let first = try await staff.get("/inbox")
            #expect(order(first.body) == Array(expected.prefix(20)), "\(order(first.body))")
            #expect(first.body.contains("已逾期"))
            let next = try #require(first.body.firstMatch(of: /rel="next" href="([^"]+)"/)).output.1
            #expect(next.contains("after=0.") == false && next.contains("after=1."))  // the cursor is a key, not an offset
            let second = try await staff.get(String(next).replacingOccurrences(of: "&amp;", with: "&"))
            #expect(order(second.body) == Array(expected.dropFirst(20)))
            #expect(!second.body.contains("rel=\"next\""))
            let complaints = try await staff.get("/inbox?kind=complaint")
            #expect(Set(order(complaints.body)) == Set(ids.prefix(2)))
            // The API pages the same way.
            let token = try f.fed.departmentToken("330000-hrss")
            let a = try await f.request("GET", "330000", "/api/v1/inbox?department=330000-hrss&limit=5", token: token)
            let cursor = try #require(a.json?["next"]?.stringValue)
            #expect(a.json?["items"]?.arrayValue?.compactMap { $0["id"]?.stringValue } == Array(expected.prefix(5)))
            let b = try await f.request("GET", "330000", "/api/v1/inbox?department=330000-hrss&limit=5&after=\(cursor)", token: token)
            #expect(b.json?["items"]?.arrayValue?.compactMap { $0["id"]?.stringValue } == Array(expected[5..<10]))
            #expect(try await f.request("GET", "330000", "/api/v1/inbox?department=330000-hrss&after=x", token: token).status == 422)

            // Survey responses: tallies with the question texts, answers one click away.
            let created = try await f.request(
                "POST", "330000", "/api/v1/surveys", token: try f.fed.adminToken("330000"),
                body: [
                    "title": "开复工情况调查问卷", "department": "330000-hrss",
                    "questions": [["type": "single", "text": "目前复工情况", "options": ["已全面复工", "部分复工", "未复工"]]],
                ])
            let sid = try #require(created.json?["id"]?.stringValue)
            for a in ["部分复工", "部分复工", "未复工"] {
                _ = try n.submitFeedback(["kind": "survey", "department": "330000-hrss", "survey": .string(sid), "answers": ["q1": .string(a)]])
            }
            let tallies = try await staff.get("/inbox")
            #expect(tallies.body.contains("开复工情况调查问卷（答卷 3 份）") && tallies.body.contains("1. 目前复工情况"))
            #expect(tallies.body.contains("部分复工：<strong>2</strong>") && tallies.body.contains("未复工：<strong>1</strong>"))
            #expect(order(tallies.body) == Array(expected.prefix(20)))  // no survey answers in the list
            // Tallies are kept between views (each response opened once); a new response still counts.
            _ = try n.submitFeedback(["kind": "survey", "department": "330000-hrss", "survey": .string(sid), "answers": ["q1": "未复工"]])
            let again = try await staff.get("/inbox")
            #expect(again.body.contains("（答卷 4 份）") && again.body.contains("未复工：<strong>2</strong>"))
            let answersLink = try #require(tallies.body.firstMatch(of: /href="([^"]+)">查看逐份答卷/)).output.1
            let answers = try await staff.get(String(answersLink).replacingOccurrences(of: "&amp;", with: "&"))
            #expect(order(answers.body).count == 4 && answers.body.contains("<span class=\"question\">目前复工情况</span>：部分复工"))
            #expect(!answers.body.contains("q1："))
        }
    }

    static let twoProvinces = TestTree.toml(["100000", "330000", "320000", "330100"], federation: "transfer")

    @Test func aTransferCrossesProvincesAndTheReceiptFollowsIt() async throws {
        try await withFederation(topology: Self.twoProvinces) { f in
            let city = f.node("330100"), zhejiang = f.node("330000"), jiangsu = f.node("320000")
            let s = try city.submitFeedback([
                "kind": "complaint", "department": "330000-hrss", "title": "南京分公司的缓缴申请", "content": "我司南京分公司的申请被退回",
                "contact": ["name": "郑", "phone": "13912345678"],
            ])
            try await eventually { (try? zhejiang.db.record(s.id))??.state["status"]?.stringValue == "delivered" }
            let staff = try await Self.staff(f, "330000", "330000-hrss")
            // The picker narrows by region with plain links: the top shows provinces, not every department.
            let top = try await staff.get("/inbox/transfer?id=\(s.id)&department=330000-hrss")
            #expect(top.body.contains(">江苏省</a>") && top.body.contains("value=\"100000-mof\"") && !top.body.contains("value=\"320000-dof\""))
            let js = try await staff.get("/inbox/transfer?id=\(s.id)&department=330000-hrss&region=320000")
            #expect(js.body.contains("value=\"320000-dof\"") && !js.body.contains("value=\"330000-dof\""))
            let done = try await staff.post(
                "/inbox/transfer", [("id", s.id), ("department", "330000-hrss"), ("to", "320000-dof"), ("note", "涉及南京分公司，请江苏省财政厅办理")])
            #expect(done.status == 303 && done.header("Location")?.contains("notice=transferred") == true)
            let ours = try await staff.get("/inbox")
            #expect(ours.body.contains("转办至江苏省财政厅") && ours.body.contains("<li class=\"item status-transferred"))

            // It reaches Jiangsu sealed to the new department, which can read it and sees why it came.
            var copy = ""
            try await eventually {
                copy = (try? jiangsu.db.feedback(department: "320000-dof").first { $0.state["status"]?.stringValue == "delivered" })??.state.id ?? ""
                return !copy.isEmpty
            }
            let jsStaff = try await Self.staff(f, "320000", "320000-dof")
            let theirs = try await jsStaff.get("/inbox")
            #expect(theirs.body.contains("南京分公司的缓缴申请") && theirs.body.contains("由浙江省人力资源和社会保障厅转办。说明：涉及南京分公司"))
            // The national relay holds ciphertext only.
            let relay = try #require(try f.node("100000").db.record(copy))
            #expect(!String(decoding: CanonicalJSON.encode(.object(relay.state.values)), as: UTF8.self).contains("南京分公司"))

            // The citizen's receipt at Hangzhou follows the item, then shows Jiangsu's answer.
            let citizen = PortalTestClient(address: f.fed.http["330100"]!)
            try await eventually {
                let page = try await citizen.get("/receipt/\(s.receipt)").body
                return page.contains("江苏省财政厅（转办）") && page.contains("转办记录") && page.contains("说明：涉及南京分公司")
            }
            let answer = try await f.request(
                "POST", "320000", "/api/v1/feedback/\(copy)/reply", token: try f.fed.departmentToken("320000-dof"),
                body: ["content": "请补充退回通知书，我厅三日内答复。"])
            #expect(answer.status == 200, "\(answer.text)")
            try await eventually {
                let page = try await citizen.get("/receipt/\(s.receipt)").body
                return page.contains("请补充退回通知书") && page.contains("江苏省财政厅") && page.contains("status status-replied")
            }
            let api = try await f.request("GET", "330100", "/api/v1/feedback/\(s.receipt)")
            #expect(api.json?["status"] == "transferred" && api.json?["handling_status"] == "replied", "\(api.text)")

            // Passed on again, Jiangsu to the national ministry: the receipt names the last department,
            // lists both transfers, and shows the ministry's answer and its closing.
            let onward = try await f.request(
                "POST", "320000", "/api/v1/feedback/\(copy)/transfer", token: try f.fed.departmentToken("320000-dof"),
                body: ["department": "100000-mof", "note": "涉及中央政策，请财政部答复"])
            #expect(onward.status == 200, "\(onward.text)")
            var second = ""
            try await eventually {
                let at = try f.node("100000").db.feedback(department: "100000-mof")
                second = at.first { $0.state["transferred_from"]?.stringValue == copy }?.state.id ?? ""
                return !second.isEmpty
            }
            let last = try await f.request(
                "POST", "100000", "/api/v1/feedback/\(second)/reply", token: try f.fed.departmentToken("100000-mof"),
                body: ["content": "财政部最终答复：可以缓缴。", "close": true])
            #expect(last.status == 200, "\(last.text)")
            try await eventually {
                let j = try await f.request("GET", "330100", "/api/v1/feedback/\(s.receipt)").json
                return j?["handling_department"] == "100000-mof" && j?["handling_status"] == "closed"
                    && j?["transfers"]?.arrayValue?.count == 2
            }
            let receipt = try await citizen.get("/receipt/\(s.receipt)").body
            #expect(receipt.contains("财政部最终答复") && receipt.contains("说明：涉及中央政策"), "\(receipt)")

            // Supervision counts the transfer and never counts it overdue against the first department.
            zhejiang.clockOverride.withLock { $0 = TongNode.now() + 60 * 86_400_000 }
            try zhejiang.publishSupervision()
            let line = try zhejiang.supervision()["departments"]?.arrayValue?.first { $0["department"] == "330000-hrss" }
            #expect(line?["by_status"]?["transferred"] == 1 && line?["overdue"] == 0, "\(String(describing: line))")
        }
    }

    static let zhejiangChain = TestTree.toml(["330000", "330100", "330106"], federation: "regions")

    @Test func theRegionFacetIsAHierarchyWhoseCountsAreItsResults() async throws {
        try await withFederation(topology: Self.zhejiangChain) { f in
            let n = f.node("330000")
            for (i, region) in ["330000", "330000", "330100", "330106", "330106", "330102", "320100"].enumerated() {
                var body = policyBody("地区政策\(i)", dept: "330000-hrss").objectValue!
                body["region"] = .string(region)
                _ = try n.create(kind: .policy, body: .object(body), by: .admin)
            }
            let c = PortalTestClient(address: f.fed.http["330000"]!)
            func count(_ html: String) -> Int? { html.firstMatch(of: /共 (\d+) 项/).flatMap { Int($0.output.1) } }
            func facet(_ html: String) -> String { PortalEnterpriseTests.slice(html, from: "<div class=\"facet region\">", to: "</div>") }
            let top = try await c.get("/policies")
            // Provinces only at the top, each counting its whole subtree; no county beside its province.
            #expect(facet(top.body).contains(">浙江省</a> <span class=\"count\">6</span>"), "\(facet(top.body))")
            #expect(facet(top.body).contains("<span class=\"count\">1</span>") && !facet(top.body).contains("西湖区"))
            let zj = try await c.get("/policies?region=330000")
            #expect(count(zj.body) == 6)
            #expect(facet(zj.body).contains(">杭州市</a> <span class=\"count\">4</span>") && !facet(zj.body).contains("西湖区"))
            let hz = try await c.get("/policies?region=330100")
            #expect(count(hz.body) == 4)
            #expect(facet(hz.body).contains(">西湖区</a> <span class=\"count\">2</span>"))
            // Every region link's count is exactly what the link then shows.
            for m in facet(hz.body).matches(of: /href="(\/policies\?region=\d+)"[^>]*>[^<]+<\/a> <span class="count">(\d+)<\/span>/) {
                let shown = try await c.get(String(m.output.1))
                #expect(count(shown.body) == Int(m.output.2), "\(m.output.1)")
            }

            // The feedback form's department picker narrows by region, with links (no script, no giant list).
            let form = try await c.get("/interact?kind=consultation")
            #expect(!form.body.contains("<select") && !form.body.contains("<option"))
            let at = try await c.get("/interact?kind=consultation&department=330000-dof")
            #expect(at.body.contains("value=\"330000-dof\" required checked"))
        }
    }

    /// Cells of `<table class="t-NAME">`, header first, as text.
    static func tableCells(_ html: String, _ name: String) -> [[String]] {
        let table = PortalEnterpriseTests.slice(html, from: "<table class=\"t-\(name)\">", to: "</table>")
        return table.matches(of: /<tr>(.*?)<\/tr>/).map { row in
            row.output.1.matches(of: /<t[hd][^>]*>(.*?)<\/t[hd]>/).map { cell in
                String(cell.output.1).replacingOccurrences(of: "&lt;", with: "<").replacingOccurrences(of: "&gt;", with: ">")
                    .replacingOccurrences(of: "&quot;", with: "\"").replacingOccurrences(of: "&#39;", with: "'")
                    .replacingOccurrences(of: "&amp;", with: "&")
            }
        }
    }

    /// RFC 4180 rows.
    static func csvRows(_ text: String) -> [[String]] {
        var rows: [[String]] = [], row: [String] = [], field = "", quoted = false
        let chars = Array(text.hasPrefix("\u{FEFF}") ? String(text.dropFirst()) : text)
        var i = 0
        while i < chars.count {
            let c = chars[i]
            if quoted {
                if c == "\"", i + 1 < chars.count, chars[i + 1] == "\"" {
                    field.append("\"")
                    i += 1
                } else if c == "\"" {
                    quoted = false
                } else {
                    field.append(c)
                }
            } else if c == "\"" {
                quoted = true
            } else if c == "," {
                row.append(field); field = ""
            } else if c == "\r\n" || c == "\n" {
                row.append(field); field = ""; rows.append(row); row = []
            } else {
                field.append(c)
            }
            i += 1
        }
        if !field.isEmpty || !row.isEmpty { row.append(field); rows.append(row) }
        return rows
    }

    @Test func supervisionShowsAPeriodProvincesRatesChartsAndCSVThatMatchesThePage() async throws {
        try await withFederation(topology: Self.twoProvinces) { f in
            let zj = f.node("330000"), js = f.node("320000")
            var ids: [String] = []
            for i in 0..<2 {
                ids.append(try zj.submitFeedback([
                    "kind": "consultation", "department": "330000-hrss", "title": .string("咨询\(i)"), "content": "内容",
                    "contact": ["name": "冯", "phone": "13912345678"],
                ]).id)
            }
            for r in [5, 2] { _ = try zj.submitFeedback(["kind": "evaluation", "department": "330000-hrss", "rating": .int(Int64(r))]) }
            _ = try js.submitFeedback([
                "kind": "complaint", "department": "320000-dof", "title": "投诉", "content": "内容", "contact": ["name": "陈", "phone": "13912345678"],
            ])
            let created = try await f.request(
                "POST", "330000", "/api/v1/surveys", token: try f.fed.adminToken("330000"),
                body: ["title": "问卷", "department": "330000-hrss", "questions": [["type": "single", "text": "情况", "options": ["好", "差"]]]])
            let sid = try #require(created.json?["id"]?.stringValue)
            for _ in 0..<3 {
                _ = try zj.submitFeedback(["kind": "survey", "department": "330000-hrss", "survey": .string(sid), "answers": ["q1": "好"]])
            }
            _ = try zj.create(kind: .policy, body: policyBody("租金减免", dept: "330000-dof", themes: ["rent_relief"]), by: .admin)
            try await eventually {
                (try? zj.db.feedback(department: "330000-hrss").allSatisfy { $0.state["status"]?.stringValue == "delivered" }) == true
            }
            _ = try zj.reply(feedback: ids[0], body: ["content": "已答复"], by: .department("330000-hrss"))

            let admin = PortalTestClient(address: f.fed.http["100000"]!)
            _ = try await admin.get("/login")
            _ = try await admin.post("/login", [("token", try f.fed.adminToken("100000")), ("next", "supervision")])
            var page = ""
            // The figures travel up in the stats records; wait until both provinces' lines are at the national node.
            try await eventually {
                page = try await admin.get("/supervision").body
                let rows = Self.tableCells(page, "departments")
                let hrss = rows.first { $0.count > 1 && $0[1] == "330000-hrss" }
                return hrss?[3] == "1" && hrss?[9] == "50.0%" && rows.contains { $0.count > 1 && $0[1] == "320000-dof" && $0[2] == "1" }
            }
            let departments = Self.tableCells(page, "departments")
            let hrss = try #require(departments.first { $0.count > 1 && $0[1] == "330000-hrss" })
            // Received 4 (the three survey answers are not counted), answered 1, on time 1 → 100.0%, 满意率 1 of 2.
            #expect(Array(hrss[2...5]) == ["4", "1", "1", "100.0%"] && hrss[9] == "50.0%", "\(hrss)")
            let provinces = Self.tableCells(page, "provinces")
            #expect(provinces.contains { $0.first == "浙江省" && $0[2] == "4" }, "\(provinces)")
            #expect(provinces.contains { $0.first == "江苏省" && $0[2] == "1" }, "\(provinces)")
            // Three charts, drawn on the server.
            #expect(page.components(separatedBy: "<svg xmlns=\"http://www.w3.org/2000/svg\"").count - 1 == 3)
            #expect(page.contains("<title>各部门：按时办结、逾期、办理中</title>") && page.contains("<title>现行政策：地区 × 主题</title>"))
            // Every table's CSV is the table on the page.
            for name in ["provinces", "departments", "weeks", "regions"] {
                let csv = try await admin.get("/supervision.csv?table=\(name)")
                #expect(csv.status == 200 && csv.header("Content-Type")?.hasPrefix("text/csv") == true)
                #expect(Self.csvRows(csv.body) == Self.tableCells(page, name), "\(name)")
            }
            // Another period: nothing received in January 2020.
            let old = try await admin.get("/supervision?from=2020-01-01&to=2020-01-31")
            #expect(Self.tableCells(old.body, "departments").dropFirst().allSatisfy { $0[2] == "0" })
            #expect(try await PortalTestClient(address: f.fed.http["100000"]!).get("/supervision.csv?table=departments").body.contains("工作人员登录"))
        }
    }

    static let chain = TestTree.toml(["100000", "330000", "330100"], federation: "settle")

    @Test func aConflictIsOfferedForSettlingOnlyWhereTheNodeMayWriteTheField() async throws {
        try await withFederation(topology: Self.chain) { f in
            let owner = f.node("330000"), national = f.node("100000"), city = f.node("330100")
            let pid = try owner.create(kind: .policy, body: policyBody("主题有争议的政策", dept: "330000-hrss"), by: .admin).id
            try await eventually { f.has("100000", pid) && f.has("330100", pid) }
            // The owner and an ancestor change the themes at the same moment: a conflict every node sees.
            _ = try owner.patch(kind: .policy, id: pid, body: ["themes": ["rent_relief"]], by: .admin)
            _ = try national.patch(kind: .policy, id: pid, body: ["themes": ["finance_tax"]], by: .admin)
            try await eventually { (try? city.db.conflicted().contains { $0.state.id == pid }) == true }
            func adminPage(_ node: String) async throws -> String {
                let c = PortalTestClient(address: f.fed.http[node]!)
                _ = try await c.get("/login")
                _ = try await c.post("/login", [("token", try f.fed.adminToken(node)), ("next", "admin")])
                return try await c.get("/admin").body
            }
            // The city holds the policy but may not write it: it is told who can, and offered no button.
            let atCity = try await adminPage("330100")
            #expect(atCity.contains("<code>themes</code>") && !atCity.contains("采用此值") && atCity.contains("只有浙江省节点可以解决"), "\(atCity)")
            // The owner may settle it.
            try await eventually { (try? owner.db.conflicted().contains { $0.state.id == pid }) == true }
            #expect(try await adminPage("330000").contains("采用此值"))
        }
    }
}
