import Foundation
import Testing
import TongCore

@testable import TongDomain
@testable import TongServer
@testable import TongTools

/// 办理 on real nodes: an enterprise at a county applies for a national policy; the application
/// is sealed to the department and relayed as ciphertext; the department's moves come back.
@Suite(.serialized) struct ApplicationTests {
    static let rentSubsidy: JSONValue = [
        "title": "关于小微餐饮企业房租补贴申报的通知", "department": "100000-mof", "issued_on": "2026-01-05", "themes": ["rent_relief"],
        "body": "符合条件的小微餐饮企业可在线申报房租补贴。", "apply_from": "2026-01-01", "apply_to": "2099-12-31",
        "eligibility": ["regions": ["330000"], "industries": ["H"], "size_classes": ["micro", "small"]],
        "application": [
            "mode": "apply", "materials": ["房屋租赁合同", "租金支付凭证"],
            "fields": [
                ["id": "rent", "label": "月租金（元）", "type": "number"],
                ["id": "landlord", "label": "出租方名称", "type": "text"],
            ],
        ],
    ]

    static func token(_ f: TestFederation, _ node: String, _ file: String) throws -> String {
        try String(contentsOfFile: f.fed.root + "/\(node)/\(file)", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    static func register(_ f: TestFederation, _ body: JSONValue) async throws -> (id: String, token: String) {
        let r = try await f.request("POST", "330106", "/api/v1/enterprises", body: body)
        #expect(r.status == 201, "\(r.text)")
        return (try #require(r.json?["id"]?.stringValue), try #require(r.json?["token"]?.stringValue))
    }

    @Test func aCountyEnterpriseAppliesToANationalPolicyAndFollowsItToPayment() async throws {
        try await withFederation { f in
            let admin = try Self.token(f, "100000", "admin.token"), mof = try Self.token(f, "100000", "tokens/100000-mof.token")
            let p = try await f.request("POST", "100000", "/api/v1/policies", token: admin, body: Self.rentSubsidy)
            #expect(p.status == 201, "\(p.text)")
            let pid = try #require(p.json?["id"]?.stringValue)
            var closed = Self.rentSubsidy.objectValue!
            closed["title"] = "已截止的房租补贴"
            closed["apply_to"] = "2020-12-31"
            closed["apply_from"] = "2020-01-01"
            let c = try await f.request("POST", "100000", "/api/v1/policies", token: admin, body: .object(closed))
            let closedID = try #require(c.json?["id"]?.stringValue)
            let shop = try await Self.register(f, DeliveryTests.restaurant)
            let plant = try await Self.register(f, DeliveryTests.factory)
            try await DemoRunner.waitUntil(seconds: 20) { f.has("330106", pid) && f.has("330106", closedID) }

            let answers: JSONValue = ["rent": "12000", "landlord": "杭州西湖物业管理有限公司"]
            let a = try await f.request(
                "POST", "330106", "/api/v1/applications", token: shop.token,
                body: ["policy": .string(pid), "enterprise": .string(shop.id), "answers": answers])
            #expect(a.status == 201, "\(a.text)")
            let aid = try #require(a.json?["id"]?.stringValue), receipt = try #require(a.json?["receipt"]?.stringValue)
            // A second open application, an ineligible enterprise, a closed window: refused, nothing stored.
            let dup = try await f.request(
                "POST", "330106", "/api/v1/applications", token: shop.token,
                body: ["policy": .string(pid), "enterprise": .string(shop.id), "answers": answers])
            #expect(dup.status == 409)
            let no = try await f.request(
                "POST", "330106", "/api/v1/applications", token: plant.token,
                body: ["policy": .string(pid), "enterprise": .string(plant.id), "answers": answers])
            #expect(no.status == 422 && no.json?["errors"]?["industry"] != nil, "\(no.text)")
            let late = try await f.request(
                "POST", "330106", "/api/v1/applications", token: shop.token,
                body: ["policy": .string(closedID), "enterprise": .string(shop.id), "answers": answers])
            #expect(late.status == 422 && late.text.contains("截止"))
            // Someone else's token cannot apply in the shop's name.
            let forged = try await f.request(
                "POST", "330106", "/api/v1/applications", token: plant.token,
                body: ["policy": .string(pid), "enterprise": .string(shop.id), "answers": answers])
            #expect(forged.status == 403)

            // The department sees it delivered, with the answers and the enterprise's details.
            func mine() async throws -> JSONValue? {
                let l = try await f.request("GET", "100000", "/api/v1/applications?department=100000-mof", token: mof)
                return l.json?["items"]?.arrayValue?.first { $0["id"]?.stringValue == aid }
            }
            func receiptStatus() async throws -> String? {
                try await f.request("GET", "330106", "/api/v1/applications/\(receipt)").json?["status"]?.stringValue
            }
            var item: JSONValue?
            try await DemoRunner.waitUntil(seconds: 20) { f.has("100000", aid) }
            for _ in 0..<100 {
                item = try await mine()
                if item?["status"] == "delivered" { break }
                try await Task.sleep(for: .milliseconds(100))
            }
            #expect(item?["status"] == "delivered")
            #expect(item?["content"]?["answers"]?["landlord"] == "杭州西湖物业管理有限公司")
            #expect(item?["content"]?["enterprise"]?["uscc"] == "91330106MA27XF6D24")
            #expect(item?["due_on"]?.stringValue?.isEmpty == false)

            // 受理, then 补正 with what is missing.
            #expect(
                try await f.request("POST", "100000", "/api/v1/applications/\(aid)/decision", token: mof, body: ["status": "accepted"]).status == 200)
            let noNote = try await f.request("POST", "100000", "/api/v1/applications/\(aid)/decision", token: mof, body: ["status": "returned"])
            #expect(noNote.status == 409)
            #expect(
                try await f.request(
                    "POST", "100000", "/api/v1/applications/\(aid)/decision", token: mof,
                    body: ["status": "returned", "note": "请补充房屋租赁合同扫描件"]
                ).status == 200)
            // A move the workflow does not allow now: 409, nothing changes.
            #expect(
                try await f.request(
                    "POST", "100000", "/api/v1/applications/\(aid)/decision", token: mof,
                    body: ["status": "paid", "amount_wan": 2]
                ).status == 409)
            try await eventually { (try? await receiptStatus()) == "returned" }
            let returned = try await f.request("GET", "330106", "/api/v1/applications/\(receipt)")
            #expect(returned.text.contains("请补充房屋租赁合同扫描件"))

            // The enterprise resubmits; the clock restarts at the department. The application names
            // its applicant, so `enterprise` may be left out; a token no enterprise holds is refused (401).
            let corrected: JSONValue = ["answers": ["rent": "12000", "landlord": "杭州西湖物业管理有限公司（已补合同）"]]
            let stranger = try await f.request("POST", "330106", "/api/v1/applications/\(aid)/resubmit", token: "not-the-shop", body: corrected)
            #expect(stranger.status == 401, "\(stranger.text)")
            // Without a token its holder could use, a made-up application id is 401 too, not 404:
            // the answer never tells whether an application exists.
            let none = "/api/v1/applications/330106-a0000000000000000"
            #expect(try await f.request("POST", "330106", none + "/resubmit", body: corrected).status == 401)
            #expect(try await f.request("POST", "330106", none + "/withdraw", token: "made-up", body: [:]).status == 401)
            #expect(try await f.request("POST", "100000", none + "/decision", body: ["status": "accepted"]).status == 401)
            #expect(try await f.request("POST", "100000", none + "/decision", token: mof, body: ["status": "accepted"]).status == 404)
            let re = try await f.request("POST", "330106", "/api/v1/applications/\(aid)/resubmit", token: shop.token, body: corrected)
            #expect(re.status == 200, "\(re.text)")
            for _ in 0..<150 {
                item = try await mine()
                if item?["status"] == "delivered", item?["content"]?["answers"]?["landlord"]?.stringValue?.contains("已补合同") == true { break }
                try await Task.sleep(for: .milliseconds(100))
            }
            #expect(item?["status"] == "delivered")
            for (status, extra) in [("accepted", JSONValue.null), ("approved", .null), ("paid", .int(2))] {
                var body: [String: JSONValue] = ["status": .string(status)]
                if extra != .null { body["amount_wan"] = extra }
                let d = try await f.request("POST", "100000", "/api/v1/applications/\(aid)/decision", token: mof, body: .object(body))
                #expect(d.status == 200, "\(status): \(d.text)")
            }
            try await eventually { (try? await receiptStatus()) == "paid" }
            let final = try await f.request("GET", "330106", "/api/v1/applications/\(receipt)")
            let steps = final.json?["history"]?.arrayValue?.compactMap { $0["status"]?.stringValue } ?? []
            #expect(steps == ["submitted", "delivered", "accepted", "returned", "submitted", "delivered", "accepted", "approved", "paid"])
            #expect(final.json?["paid_wan"] == 2)
            // The feedback route answers an application's receipt with its workflow status, not "delivered".
            let asFeedback = try await f.request("GET", "330106", "/api/v1/feedback/\(receipt)")
            #expect(asFeedback.json?["status"] == "paid" && asFeedback.json?["history"] == final.json?["history"], "\(asFeedback.text)")

            // The relays hold only ciphertext: no USCC, phone or answer in their files.
            try await f.stop()
            for relay in ["330100", "330000"] {
                for needle in ["91330106MA27XF6D24", "13912345678", "杭州西湖物业管理有限公司", "请补充房屋租赁合同"] {
                    #expect(!DeliveryTests.filesContain(f.fed.root + "/" + relay, needle), "\(needle) at \(relay)")
                }
            }
        }
    }

    @Test func confirmOnlyPoliciesAreOfferedConfirmedAndApprovedInOneBatch() async throws {
        try await withFederation { f in
            let admin = try Self.token(f, "100000", "admin.token"), mof = try Self.token(f, "100000", "tokens/100000-mof.token")
            let shop = try await Self.register(f, DeliveryTests.restaurant)
            var free = Self.rentSubsidy.objectValue!
            free["title"] = "小微餐饮企业房租补贴（免申即享）"
            free["application"] = ["mode": "confirm", "materials": []]
            let p = try await f.request("POST", "100000", "/api/v1/policies", token: admin, body: .object(free))
            let pid = try #require(p.json?["id"]?.stringValue)
            // The offer arrives through the enterprise's deliveries.
            try await DemoRunner.waitUntil(seconds: 20) {
                (try? f.node("330106").db.deliveries(enterprise: shop.id).contains { $0.record == pid && $0.offer }) == true
            }
            let a = try await f.request(
                "POST", "330106", "/api/v1/applications", token: shop.token,
                body: ["policy": .string(pid), "enterprise": .string(shop.id)])
            #expect(a.status == 201, "\(a.text)")
            let aid = try #require(a.json?["id"]?.stringValue), receipt = try #require(a.json?["receipt"]?.stringValue)
            try await DemoRunner.waitUntil(seconds: 20) { f.has("100000", aid) }
            try await DemoRunner.waitUntil(seconds: 10) {
                (try? f.node("100000").applications(department: "100000-mof", status: "delivered", by: .department("100000-mof")).count) == 1
            }
            let b = try await f.request("POST", "100000", "/api/v1/applications/batch-approval", token: mof, body: ["ids": [.string(aid)]])
            #expect(b.json?["results"]?[aid] == "approved", "\(b.text)")
            // A payment of 10^12 万元, of nothing or as text is bad input: 422, and the application stays approved.
            for bad: JSONValue in [.int(1_000_000_000_000), .int(0), "3"] {
                let d = try await f.request(
                    "POST", "100000", "/api/v1/applications/\(aid)/decision", token: mof, body: ["status": "paid", "amount_wan": bad])
                #expect(d.status == 422 && d.json?["errors"]?["amount_wan"] != nil, "\(bad): \(d.status) \(d.text)")
            }
            #expect(try f.node("100000").applications(department: "100000-mof", status: "approved", by: .department("100000-mof")).count == 1)
            #expect(
                try await f.request(
                    "POST", "100000", "/api/v1/applications/\(aid)/decision", token: mof,
                    body: ["status": "paid", "amount_wan": 1]
                ).status == 200)
            try await eventually {
                (try? await f.request("GET", "330106", "/api/v1/applications/\(receipt)").json?["status"]?.stringValue) == "paid"
            }
        }
    }
}

/// Polls an async condition every 50 ms until it holds; fails after `seconds`.
func eventually(seconds: Double = 60, _ condition: () async throws -> Bool) async throws {
    let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
    while ContinuousClock.now < deadline {
        if try await condition() { return }
        try await Task.sleep(for: .milliseconds(50))
    }
    Issue.record("condition not met within \(seconds) s")
    throw CancellationError()
}
