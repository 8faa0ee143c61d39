import Foundation
import Testing
import TongCore

@testable import TongDomain
@testable import TongServer
@testable import TongTools

@Suite(.serialized) struct APITests {
    static let oneNode = TestTree.toml(["330000"], federation: "api")

    @Test func policiesEndToEnd() async throws {
        try await withFederation(topology: Self.oneNode) { f in
            let admin = try f.fed.adminToken("330000")
            let dept = try f.fed.departmentToken("330000-hrss")

            let health = try await f.request("GET", "330000", "/healthz")
            #expect(health.status == 200 && health.json == ["node": "330000", "status": "ok"])
            let deps = try await f.request("GET", "330000", "/api/v1/departments")
            #expect(deps.json?["items"]?.arrayValue?.contains { $0["id"] == "330000-hrss" } == true)

            // Create: 201 with the stored policy, document number normalised.
            let created = try await f.request(
                "POST", "330000", "/api/v1/policies", token: admin, body: policyBody("关于阶段性缓缴社会保险费的通知", dept: "330000-hrss"))
            #expect(created.status == 201)
            let id = try #require(created.json?["id"]?.stringValue)
            #expect(created.json?["doc_number"] == "国办发〔2022〕6号")
            #expect(created.json?["owner"] == "330000" && created.json?["status"] == "active" && created.json?["region"] == "330000")

            // Read and search: 社保 finds a policy whose body says 缓缴社保费.
            #expect(try await f.request("GET", "330000", "/api/v1/policies/\(id)").json?["title"] == "关于阶段性缓缴社会保险费的通知")
            let found = try await f.request("GET", "330000", "/api/v1/policies?q=%E7%A4%BE%E4%BF%9D")
            #expect(found.json?["total"] == 1)
            #expect(found.json?["facets"]?["theme"]?["social_insurance"] == 1)
            #expect(found.json?["facets"]?["region"]?["330000"] == 1)
            let hostile = try await f.request("GET", "330000", "/api/v1/policies?q=%22%20OR%20*%20NEAR(%00" + String(repeating: "x", count: 5_000))
            #expect(hostile.status == 200)

            // Patch, then withdraw: withdrawn stays findable as withdrawn.
            let patched = try await f.request("PATCH", "330000", "/api/v1/policies/\(id)", token: admin, body: ["title": "关于缓缴社保费的通知（修订）"])
            #expect(patched.status == 200 && patched.json?["title"] == "关于缓缴社保费的通知（修订）")
            // A patch moving one end of the validity before the stored other end is refused, as a create would be.
            let from = try #require(patched.json?["effective_from"]?.stringValue)
            let backwards = try await f.request("PATCH", "330000", "/api/v1/policies/\(id)", token: admin, body: ["effective_to": "1990-01-01"])
            #expect(backwards.status == 422 && backwards.json?["errors"]?["effective_to"] != nil, "\(backwards.text)")
            #expect(try await f.request("GET", "330000", "/api/v1/policies/\(id)").json?["effective_from"]?.stringValue == from)
            #expect(try await f.request("DELETE", "330000", "/api/v1/policies/\(id)", token: admin).status == 204)
            #expect(try await f.request("GET", "330000", "/api/v1/policies/\(id)").json?["status"] == "withdrawn")
            #expect(try await f.request("GET", "330000", "/api/v1/policies?status=withdrawn").json?["total"] == 1)

            // Errors are problem+json with the right status, and change nothing.
            let before = try f.node("330000").db.head()
            let unauth = try await f.request("POST", "330000", "/api/v1/policies", body: policyBody("x", dept: "330000-hrss"))
            #expect(unauth.status == 401 && unauth.contentType.hasPrefix("application/problem+json"))
            #expect(
                try await f.request(
                    "POST", "330000", "/api/v1/policies", token: "wrong-token-wrong-token", body: policyBody("x", dept: "330000-hrss")
                ).status == 401)
            #expect(try await f.request("POST", "330000", "/api/v1/policies", token: dept, body: policyBody("x", dept: "330000-hrss")).status == 403)
            #expect(try await f.request("GET", "330000", "/api/v1/policies/330000-p999").status == 404)
            let invalid = try await f.request(
                "POST", "330000", "/api/v1/policies", token: admin,
                body: ["title": "", "department": "nope", "issued_on": "2023-02-29", "themes": ["bogus"]])
            #expect(invalid.status == 422)
            #expect(invalid.json?["errors"]?["issued_on"] != nil && invalid.json?["errors"]?["themes"] != nil)
            #expect(try await f.request("POST", "330000", "/api/v1/policies", token: admin, raw: Array("{not json".utf8)).status == 400)
            let big = try await f.request(
                "POST", "330000", "/api/v1/policies", token: admin, raw: Array(repeating: UInt8(ascii: " "), count: (1 << 20) + 10))
            #expect(big.status == 413)
            #expect(try await f.request("GET", "330000", "/api/v1/policies?limit=abc").status == 422)
            #expect(try f.node("330000").db.head() == before)

            let metrics = try await f.request("GET", "330000", "/metrics")
            #expect(metrics.text.contains("tong_http_requests_total") && metrics.text.contains("tong_records"))
        }
    }

    @Test func serviceItemsEndToEnd() async throws {
        try await withFederation(topology: Self.oneNode) { f in
            let admin = try f.fed.adminToken("330000")
            let s = try await f.request(
                "POST", "330000", "/api/v1/service-items", token: admin,
                body: [
                    "code": "330000-FW-1", "name": "复工复产备案", "department": "330000-hrss", "handling_url": "https://www.zjzwfw.gov.cn/",
                    "time_limit_days": 3, "materials": ["营业执照"],
                ])
            #expect(s.status == 201)
            let id = try #require(s.json?["id"]?.stringValue)
            #expect(try await f.request("GET", "330000", "/api/v1/service-items?q=%E5%A4%8D%E5%B7%A5").json?["total"] == 1)
            #expect(
                try await f.request(
                    "POST", "330000", "/api/v1/service-items", token: admin,
                    body: ["code": "x", "name": "y", "department": "330000-hrss", "handling_url": "javascript:alert(1)"]
                ).status == 422)
            #expect(try await f.request("PATCH", "330000", "/api/v1/service-items/\(id)", token: admin, body: ["fee": "免费"]).status == 200)
            #expect(try await f.request("DELETE", "330000", "/api/v1/service-items/\(id)", token: admin).status == 204)
        }
    }
}
