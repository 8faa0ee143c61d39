import Foundation
import Testing
import TongCore

@testable import TongDomain
@testable import TongServer
@testable import TongTools

@Suite(.serialized) struct FeedbackTests {
    static let secret = "我司门店因疫情停业三个月，能否申请租金减免？独特标记XYZZY"
    static let phone = "13987654321"

    @Test func feedbackCrossesProvincesSealedAndIsAnswered() async throws {
        try await withFederation { f in
            // Submitted over HTTP at Nanjing to a Xihu (Zhejiang) county office.
            let sub = try await f.request(
                "POST", "320100", "/api/v1/feedback",
                body: [
                    "kind": "consultation", "department": "330106-commerce", "title": "租金减免咨询", "content": .string(Self.secret),
                    "contact": ["name": "李女士", "phone": .string(Self.phone), "uscc": "91110000600037341L"],
                ])
            #expect(sub.status == 201)
            let receipt = try #require(sub.json?["receipt"]?.stringValue)
            let id = try #require(sub.json?["id"]?.stringValue)
            #expect(receipt.count >= 32)
            try await DemoRunner.waitUntil(seconds: 15) {
                (try await_status(f, "320100", receipt)) == "delivered"
            }
            // The department reads it in its inbox, decrypted; a wrong token is refused.
            let token = try f.fed.departmentToken("330106-commerce")
            let inbox = try await f.request("GET", "330106", "/api/v1/inbox?department=330106-commerce", token: token)
            #expect(inbox.status == 200)
            let item = try #require(inbox.json?["items"]?.arrayValue?.first)
            #expect(item["content"]?.stringValue == Self.secret && item["contact"]?["phone"]?.stringValue == Self.phone)
            #expect(item["due_on"]?.stringValue?.isEmpty == false)
            #expect(try await f.request("GET", "330106", "/api/v1/inbox?department=330106-commerce").status == 401)
            let otherDept = try f.fed.departmentToken("330100-hrss")
            #expect(try await f.request("GET", "330100", "/api/v1/inbox?department=330106-commerce", token: otherDept).status == 403)
            // A token of another node is unknown here (401); a department token cannot answer for another department (403).
            #expect(try await f.request("POST", "330106", "/api/v1/feedback/\(id)/reply", token: otherDept, body: ["content": "x"]).status == 401)
            // The answer travels back to the receipt.
            let reply = try await f.request("POST", "330106", "/api/v1/feedback/\(id)/reply", token: token, body: ["content": "可以申请，请携带租赁合同。"])
            #expect(reply.status == 200)
            try await DemoRunner.waitUntil(seconds: 15) { (try await_status(f, "320100", receipt)) == "replied" }
            let status = try await f.request("GET", "320100", "/api/v1/feedback/\(receipt)")
            #expect(status.json?["reply"] == "可以申请，请携带租赁合同。")
            #expect(try await f.request("GET", "320100", "/api/v1/feedback/TONG-NOT-A-RECEIPT").status == 404)
            // Relays hold only ciphertext: no byte of their data folders holds the content or phone.
            try? f.node("330000").db.checkpoint()
            for relay in ["320000", "100000", "330000", "330100"] {
                #expect(f.has(relay, id))
                for file in try FileManager.default.contentsOfDirectory(atPath: f.fed.root + "/\(relay)/data") {
                    let bytes = try Data(contentsOf: URL(fileURLWithPath: f.fed.root + "/\(relay)/data/" + file))
                    #expect(bytes.range(of: Data(Self.secret.utf8)) == nil, "\(relay)/\(file) holds the content")
                    #expect(bytes.range(of: Data(Self.phone.utf8)) == nil, "\(relay)/\(file) holds the phone")
                    #expect(bytes.range(of: Data("XYZZY".utf8)) == nil)
                }
            }
            // Supervision figures flow up without personal data.
            try await DemoRunner.waitUntil(seconds: 15) {
                let s = try f.node("100000").supervision()
                return s["departments"]?.arrayValue?.contains { $0["department"] == "330106-commerce" && $0["by_status"]?["replied"] == 1 } == true
            }
            let sup = try await f.request("GET", "100000", "/api/v1/supervision", token: try f.fed.adminToken("100000"))
            #expect(sup.status == 200 && !sup.text.contains(Self.phone))
        }
    }

    @Test func badSubmissionsAreRefusedAndChangeNothing() async throws {
        try await withFederation { f in
            let head = try f.node("330100").db.head()
            let cases: [JSONValue] = [
                ["kind": "gossip", "department": "330100-hrss", "title": "t", "content": "c", "contact": ["name": "n", "phone": "13912345678"]],
                [
                    "kind": "consultation", "department": "999999-none", "title": "t", "content": "c",
                    "contact": ["name": "n", "phone": "13912345678"],
                ],
                ["kind": "consultation", "department": "330100-hrss", "title": "t", "content": "c", "contact": ["name": "n", "phone": "12345"]],
                [
                    "kind": "consultation", "department": "330100-hrss", "title": "t", "content": "c",
                    "contact": ["name": "n", "phone": "13912345678", "uscc": "9111000060003734IO"],
                ],
                [
                    "kind": "evaluation", "department": "330100-hrss", "title": "t", "content": "c", "rating": 6,
                    "contact": ["name": "n", "phone": "13912345678"],
                ],
                [
                    "kind": "consultation", "department": "330100-hrss", "title": "t", "content": .string(String(repeating: "长", count: 2_001)),
                    "contact": ["name": "n", "phone": "13912345678"],
                ],
                [
                    "kind": "consultation", "department": "330100-hrss", "title": "t\u{0}", "content": "c",
                    "contact": ["name": "n", "phone": "13912345678"],
                ],
            ]
            for c in cases {
                let r = try await f.request("POST", "330100", "/api/v1/feedback", body: c)
                #expect(r.status == 422, "\(c)")
            }
            #expect(try f.node("330100").db.head() == head)
            // An early pilot USCC that fails the check is accepted only with an explicit warning.
            let pilot = try await f.request(
                "POST", "330100", "/api/v1/feedback",
                body: [
                    "kind": "evaluation", "department": "330100-hrss", "title": "好评", "content": "办事很快", "rating": 5,
                    "contact": ["name": "张三", "phone": "0571-87654321", "uscc": "91110000600037341X"],
                ])
            #expect(pilot.status == 201 && pilot.json?["warnings"]?.arrayValue?.isEmpty == false)
        }
    }

    @Test func feedbackToAVanishedDepartmentComesBackUndeliverable() async throws {
        try await withFederation { f in
            // The department is retired at its node; Nanjing has not heard yet (the change is
            // pushed after a coalescing delay) and accepts a submission to it.
            #expect(try await f.request("DELETE", "330100", "/api/v1/departments/330100-hrss", token: try f.fed.adminToken("330000")).status == 401)
            #expect(
                try await f.request("DELETE", "330100", "/api/v1/departments/330100-hrss", token: try f.fed.departmentToken("330100-hrss")).status
                    == 403)
            try f.node("330100").retireDepartment("330100-hrss", by: .admin)
            let sub = try f.node("320100").submitFeedback([
                "kind": "suggestion", "department": "330100-hrss", "title": "建议", "content": "延长补贴期限",
                "contact": ["name": "王", "phone": "13912345678"],
            ])
            try await DemoRunner.waitUntil(seconds: 15) { try f.node("320100").receiptStatus(sub.receipt)["status"]?.stringValue == "undeliverable" }
            // Once the withdrawal reached Nanjing, new submissions to it are refused at once.
            try await DemoRunner.waitUntil(seconds: 15) { f.node("320100").department("330100-hrss") == nil }
            #expect(throws: NodeError.self) {
                _ = try f.node("320100").submitFeedback([
                    "kind": "suggestion", "department": "330100-hrss", "title": "t", "content": "c",
                    "contact": ["name": "王", "phone": "13912345678"],
                ])
            }
        }
    }

    @Test func surveysFlowLikePoliciesAndResponsesAreTalliedAtTheOwner() async throws {
        try await withFederation { f in
            let admin = try f.fed.adminToken("330000")
            let created = try await f.request(
                "POST", "330000", "/api/v1/surveys", token: admin,
                body: [
                    "title": "开复工情况调查问卷", "department": "330000-hrss",
                    "questions": [
                        ["type": "single", "text": "目前复工情况", "options": ["已全面复工", "部分复工", "未复工"]],
                        ["type": "multiple", "text": "主要困难", "options": ["资金", "用工", "原材料"]],
                        ["type": "text", "text": "意见建议"],
                    ],
                ])
            #expect(created.status == 201)
            let sid = try #require(created.json?["id"]?.stringValue)
            try await DemoRunner.waitUntil(seconds: 15) { f.has("330106", sid) && f.has("100000", sid) }
            #expect(!f.has("320000", sid))
            for (a, b) in [("已全面复工", ["资金"]), ("部分复工", ["资金", "用工"])] {
                let r = try await f.request(
                    "POST", "330106", "/api/v1/feedback",
                    body: [
                        "kind": "survey", "department": "330000-hrss", "survey": .string(sid),
                        "answers": ["q1": .string(a), "q2": .strings(b), "q3": "希望延长补贴"],
                    ])
                #expect(r.status == 201)
            }
            #expect(
                try await f.request(
                    "POST", "330106", "/api/v1/feedback",
                    body: ["kind": "survey", "department": "330000-hrss", "survey": .string(sid), "answers": ["q1": "不存在的选项"]]
                ).status == 422)
            let token = try f.fed.departmentToken("330000-hrss")
            try await DemoRunner.waitUntil(seconds: 15) {
                (try f.node("330000").surveyTallies(sid, by: .department("330000-hrss")))["responses"] == 2
            }
            let t = try await f.request("GET", "330000", "/api/v1/surveys/\(sid)/tallies", token: token)
            #expect(t.json?["tallies"]?["q2"]?["资金"] == 2 && t.json?["tallies"]?["q1"]?["部分复工"] == 1)
            #expect(try await f.request("GET", "330000", "/api/v1/surveys/\(sid)/tallies").status == 401)
        }
    }

    @Test func evaluationRatingsAreTalliedOnceEachAndOnlyNewOnesAreOpened() async throws {
        try await withFederation { f in
            let node = try f.node("330106")
            func evaluate(_ rating: Int64) throws {
                _ = try node.submitFeedback([
                    "kind": "evaluation", "department": "330106-commerce", "title": "办事体验",
                    "content": "窗口办理很快", "rating": .int(rating),
                    "contact": ["name": "王先生", "phone": "13800138000"],
                ])
            }
            func figures() throws -> JSONValue? {
                try node.publishSupervision()
                return try node.db.record("330106-stats")?.state["departments"]?["330106-commerce"]
            }
            try evaluate(4)
            try evaluate(5)
            #expect(try figures()?["average_rating_x100"] == 450)
            #expect(try figures()?["evaluations"] == 2)  // a second run adds nothing
            try evaluate(1)
            let after = try figures()
            #expect(after?["average_rating_x100"] == 333 && after?["evaluations"] == 3)
            #expect(node.ratingTallies.withLock { $0["330106-commerce"]?.count } == 3)
            // A consultation is not an evaluation.
            _ = try node.submitFeedback([
                "kind": "consultation", "department": "330106-commerce", "title": "咨询", "content": "租金减免？",
                "contact": ["name": "王先生", "phone": "13800138000"],
            ])
            #expect(try figures()?["evaluations"] == 3)
        }
    }
}

/// Reads a receipt's status synchronously (for polling closures).
func await_status(_ f: TestFederation, _ node: String, _ receipt: String) throws -> String? {
    try f.node(node).receiptStatus(receipt)["status"]?.stringValue
}
