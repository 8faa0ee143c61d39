import Testing
import TongCore

@Suite struct EligibilityTests {
    static let full: JSONValue = [
        "regions": ["330000", "310115"], "industries": ["H", "C13", "F5211"], "size_classes": ["small", "micro"],
        "audiences": ["individual"], "employees_min": 10, "employees_max": 300, "revenue_wan_min": 0,
        "revenue_wan_max": 2000, "established_after": "2020-01-01", "established_before": "2023-12-31",
        "taxpayer": "small_scale",
    ]

    func issue(_ v: JSONValue) -> ValidationIssue? {
        do {
            _ = try Eligibility.parse(v)
            return nil
        } catch {
            return error
        }
    }

    @Test func parsesEveryCondition() throws {
        let e = try Eligibility.parse(Self.full)
        #expect(e.regions == ["330000", "310115"])
        #expect(e.industries?.map(\.description) == ["H", "C13", "F5211"])
        #expect(e.sizeClasses == [.small, .micro])
        #expect(e.audiences == [.individual])
        #expect(e.employeesMin == 10 && e.employeesMax == 300)
        #expect(e.revenueWanMin == 0 && e.revenueWanMax == 2000)
        #expect(e.establishedAfter?.description == "2020-01-01" && e.establishedBefore?.description == "2023-12-31")
        #expect(e.taxpayer == .small_scale)
        #expect(!e.isUnrestricted)
    }

    @Test func roundTrips() throws {
        let e = try Eligibility.parse(Self.full)
        #expect(e.json == Self.full)
        #expect(try Eligibility.parse(e.json) == e)
        let empty = try Eligibility.parse([:])
        #expect(empty.isUnrestricted && empty.json == [:])
        #expect(try Eligibility.parse(["taxpayer": nil, "regions": nil]).isUnrestricted)
        let partial = Eligibility(revenueWanMax: 500)
        #expect(partial.json == ["revenue_wan_max": 500])
        #expect(try Eligibility.parse(partial.json) == partial)
    }

    @Test(arguments: [
        (JSONValue.array([]), "eligibility"),
        (["region": ["330000"]], "eligibility.region"),
        (["regions": "330000"], "eligibility.regions"),
        (["regions": []], "eligibility.regions"),
        (["regions": ["330000", "990000"]], "eligibility.regions[1]"),
        (["regions": ["330000", "330000"]], "eligibility.regions[1]"),
        (["regions": [330000]], "eligibility.regions[0]"),
        (["industries": ["C13", "H13"]], "eligibility.industries[1]"),
        (["industries": ["c"]], "eligibility.industries[0]"),
        (["size_classes": ["tiny"]], "eligibility.size_classes[0]"),
        (["audiences": ["large"]], "eligibility.audiences[0]"),
        (["employees_min": -1], "eligibility.employees_min"),
        (["employees_max": "300"], "eligibility.employees_max"),
        (["revenue_wan_max": true], "eligibility.revenue_wan_max"),
        (["employees_min": 301, "employees_max": 300], "eligibility.employees_min"),
        (["revenue_wan_min": 2001, "revenue_wan_max": 2000], "eligibility.revenue_wan_min"),
        (["established_after": "2020-1-1"], "eligibility.established_after"),
        (["established_before": 20200101], "eligibility.established_before"),
        (["established_after": "2024-01-02", "established_before": "2024-01-01"], "eligibility.established_after"),
        (["taxpayer": "big"], "eligibility.taxpayer"),
        (["taxpayer": ["general"]], "eligibility.taxpayer"),
    ] as [(JSONValue, String)])
    func refuses(_ v: JSONValue, _ field: String) {
        #expect(issue(v)?.field == field)
    }

    @Test func boundsMayMeet() throws {
        let e = try Eligibility.parse(["employees_min": 5, "employees_max": 5, "established_after": "2024-01-01",
                                       "established_before": "2024-01-01"])
        #expect(e.employeesMin == 5 && e.employeesMax == 5)
        #expect(issue(["regions": .strings(Array(repeating: "330000", count: 201))])?.message.contains("200") == true)
        #expect(throws: ValidationIssue(field: "policy.eligibility.field", message: "is not a known eligibility condition")) {
            try Eligibility.parse(["field": "x"], field: "policy.eligibility")
        }
    }

    @Test func describesInChinese() throws {
        let lines = try Eligibility.parse(Self.full).describe()
        #expect(lines == [
            "注册地：330000、310115 及其下辖地区",
            "行业：H 住宿和餐饮业、C13（制造业）、F5211（批发和零售业）",
            "企业规模：小型、微型",
            "适用对象：个体工商户",
            "从业人员 10–300 人",
            "年营业收入 0–2000 万元",
            "成立于 2020-01-01 至 2023-12-31 之间（含首尾两日）",
            "纳税人类型：小规模纳税人",
        ])
        #expect(Eligibility(revenueWanMax: 2000).describe() == ["年营业收入不超过 2000 万元"])
        #expect(Eligibility(employeesMin: 10).describe() == ["从业人员不少于 10 人"])
        #expect(Eligibility(revenueWanMin: 100).describe() == ["年营业收入不低于 100 万元"])
        #expect(Eligibility(establishedAfter: SimpleDate("2020-01-01")).describe() == ["成立于 2020-01-01 之后（含当日）"])
        #expect(Eligibility(establishedBefore: SimpleDate("2020-01-01")).describe() == ["成立于 2020-01-01 之前（含当日）"])
        #expect(Eligibility(regions: ["100000"]).describe() == ["注册地：全国"])
        #expect(Eligibility(taxpayer: .general).describe() == ["纳税人类型：一般纳税人"])
        #expect(Eligibility().describe().isEmpty)
    }
}
