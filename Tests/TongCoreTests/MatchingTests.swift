import Testing
import TongCore

@Suite struct MatchingTests {
    static let today = SimpleDate("2024-06-01")!
    /// A small restaurant in Hangzhou's Shangcheng district.
    static let restaurant = EnterpriseProfile(
        uscc: "91330106MA27XF6D24", region: "330106", industry: IndustryCode("H6210"), employees: 30, revenueWan: 800,
        assetsWan: 200, establishedOn: SimpleDate("2021-05-01"), taxpayer: .small_scale)

    static let everything = Eligibility(
        regions: ["330000"], industries: [IndustryCode("H")!], sizeClasses: [.small, .micro], audiences: [.small, .micro],
        employeesMin: 10, employeesMax: 300, revenueWanMin: 100, revenueWanMax: 2000,
        establishedAfter: SimpleDate("2020-01-01"), establishedBefore: SimpleDate("2023-12-31"), taxpayer: .small_scale)

    func evaluate(_ p: EnterpriseProfile = restaurant, _ e: Eligibility = everything, audiences: [Audience] = [],
                  status: String? = "active", from: String? = "2024-01-01", to: String? = nil) -> MatchResult {
        Matching.evaluate(profile: p, eligibility: e, audiences: audiences, status: status,
                          effectiveFrom: from.flatMap(SimpleDate.init), effectiveTo: to.flatMap(SimpleDate.init), today: Self.today)
    }

    @Test func fitsEveryCondition() {
        let r = evaluate()
        #expect(r.verdict == .fits)
        #expect(r.reasons.map(\.condition) == [
            "in_force", "region", "industry", "size_class", "audience", "employees", "revenue_wan", "established", "taxpayer",
        ])
        #expect(r.reasons.allSatisfy { $0.ok })
        #expect(r.failing.isEmpty)
        #expect(r.reasons[1].detail == "注册地 330106 属于 330000 及其下辖地区")
        #expect(r.reasons[3].detail.contains("小型"))
        #expect(r.reasons[6].detail == "年营业收入 800 万元，要求年营业收入 100–2000 万元")
    }

    @Test func unrestrictedNeedsOnlyToBeInForce() {
        let r = evaluate(EnterpriseProfile(), Eligibility())
        #expect(r.verdict == .fits)
        #expect(r.reasons.map(\.condition) == ["in_force"])
    }

    @Test func oneFailureIsNearTwoFail() {
        var e = Self.everything
        e.regions = ["310000"]
        let near = evaluate(Self.restaurant, e)
        #expect(near.verdict == .near)
        #expect(near.failing.map(\.condition) == ["region"])
        #expect(near.failing.first?.detail == "注册地 330106 不在 310000 及其下辖地区 范围内")
        e.taxpayer = .general
        let fails = evaluate(Self.restaurant, e)
        #expect(fails.verdict == .fails)
        #expect(fails.failing.map(\.condition) == ["region", "taxpayer"])
    }

    @Test(arguments: [
        (Eligibility(regions: ["330100"]), true), (Eligibility(regions: ["330106"]), true), (Eligibility(regions: ["100000"]), true),
        (Eligibility(regions: ["330102"]), false), (Eligibility(regions: ["320000", "330100"]), true),
        (Eligibility(industries: [IndustryCode("H62")!]), true), (Eligibility(industries: [IndustryCode("H621")!]), true),
        (Eligibility(industries: [IndustryCode("H61")!, IndustryCode("C")!]), false),
        (Eligibility(sizeClasses: [.medium]), false), (Eligibility(sizeClasses: [.small]), true),
        (Eligibility(employeesMin: 30), true), (Eligibility(employeesMin: 31), false),
        (Eligibility(employeesMax: 30), true), (Eligibility(employeesMax: 29), false),
        (Eligibility(revenueWanMin: 800), true), (Eligibility(revenueWanMin: 801), false),
        (Eligibility(revenueWanMax: 800), true), (Eligibility(revenueWanMax: 799), false),
        (Eligibility(establishedAfter: SimpleDate("2021-05-01")), true), (Eligibility(establishedAfter: SimpleDate("2021-05-02")), false),
        (Eligibility(establishedBefore: SimpleDate("2021-05-01")), true), (Eligibility(establishedBefore: SimpleDate("2021-04-30")), false),
        (Eligibility(taxpayer: .small_scale), true), (Eligibility(taxpayer: .general), false),
        (Eligibility(audiences: [.small]), true), (Eligibility(audiences: [.individual, .medium]), false),
    ] as [(Eligibility, Bool)])
    func singleConditionBoundaries(_ e: Eligibility, _ ok: Bool) {
        let r = evaluate(Self.restaurant, e)
        #expect(r.verdict == (ok ? .fits : .near))
        #expect(r.reasons.count == 2)
        #expect(r.reasons[1].ok == ok)
    }

    @Test func notInForceNeverFitsNorIsNear() {
        for (status, from, to, detail) in [
            ("withdrawn", "2024-01-01", nil, "已撤回，不再适用"), ("active", "2024-06-02", nil, "尚未施行（2024-06-02 起施行）"),
            ("active", "2023-01-01", "2024-05-31", "已于 2024-05-31 到期失效"),
        ] as [(String, String, String?, String)] {
            let r = evaluate(status: status, from: from, to: to)
            #expect(r.verdict == .fails, "\(detail)")
            #expect(r.failing.map(\.condition) == ["in_force"])
            #expect(r.reasons[0].detail == detail)
            // Not near either, even with no other failing condition.
            #expect(evaluate(EnterpriseProfile(), Eligibility(), status: status, from: from, to: to).verdict == .fails)
        }
        #expect(evaluate(from: "2024-06-01", to: "2024-06-01").verdict == .fits)
        #expect(evaluate(to: "2024-06-01").reasons[0].detail == "现行有效（有效期至 2024-06-01）")
        #expect(evaluate(status: nil, from: nil).verdict == .fits)
    }

    @Test func missingDataFails() {
        let bare = EnterpriseProfile()
        let r = evaluate(bare, Self.everything)
        #expect(r.verdict == .fails)
        #expect(r.failing.count == 8)
        for reason in r.failing { #expect(reason.detail.contains("缺少"), "\(reason.condition): \(reason.detail)") }
        var noRevenue = Self.restaurant
        noRevenue.revenueWan = nil
        let near = evaluate(noRevenue, Eligibility(revenueWanMax: 2000))
        #expect(near.verdict == .near)
        #expect(near.failing.first?.detail == "缺少年营业收入；要求年营业收入不超过 2000 万元")
    }

    @Test func audiences() {
        let individual = EnterpriseProfile(uscc: "92440300L12345JY8M", sizeClass: .micro)
        #expect(evaluate(individual, Eligibility(), audiences: [.individual]).verdict == .fits)
        #expect(evaluate(individual, Eligibility(), audiences: [.micro]).verdict == .near)
        #expect(evaluate(Self.restaurant, Eligibility(), audiences: [.micro, .small]).verdict == .fits)
        #expect(evaluate(Self.restaurant, Eligibility(), audiences: []).reasons.count == 1)
        // The record's audiences and eligibility's must both admit the enterprise.
        #expect(evaluate(Self.restaurant, Eligibility(audiences: [.small]), audiences: [.micro]).verdict == .near)
        #expect(evaluate(Self.restaurant, Eligibility(audiences: [.small, .micro]), audiences: [.small]).verdict == .fits)
        let large = EnterpriseProfile(industry: IndustryCode("F51"), employees: 300, revenueWan: 50000)
        let r = evaluate(large, Eligibility(), audiences: [.micro, .small, .medium, .individual])
        #expect(r.verdict == .near)
        #expect(r.failing.first?.detail.contains("大型企业") == true)
        #expect(evaluate(EnterpriseProfile(), Eligibility(), audiences: [.small]).failing.first?.detail.contains("缺少") == true)
    }

    @Test func reasonJSON() {
        let reason = MatchReason(condition: "taxpayer", ok: false, detail: "纳税人类型为一般纳税人，要求小规模纳税人")
        #expect(reason.json == ["condition": "taxpayer", "ok": false, "detail": "纳税人类型为一般纳税人，要求小规模纳税人"])
    }
}

/// `Matching.fits` (the delivery hot path) decides exactly as `evaluate` does.
@Suite struct MatchingFitsAgreesTests {
    @Test func fitsAgreesWithEvaluateOnSeededRandomProfiles() {
        var rng = SplitMix64(seed: 42)
        let regions = ["330106", "330100", "330000", "320102", "100000"]
        let industries = ["H6210", "H61", "F5211", "C1311", "I6510", "A0111", "K7010", "L7211"]
        let today = SimpleDate("2026-06-01")!
        var agreed = 0, fitting = 0
        for _ in 0..<3_000 {
            func pick<T>(_ a: [T]) -> T { a[Int(rng.next() % UInt64(a.count))] }
            func maybe<T>(_ v: T) -> T? { rng.next() % 3 == 0 ? nil : v }
            func rarely<T>(_ v: T) -> T? { rng.next() % 4 == 0 ? v : nil }
            let industry = maybe(IndustryCode(pick(industries))!)
            let employees = maybe(Int(rng.next() % 500)), revenue = maybe(Double(rng.next() % 30_000))
            let p = EnterpriseProfile(
                uscc: pick(["91330106MA27XF6D24", "92440300L12345JY8M"]), region: maybe(pick(regions)), industry: industry,
                employees: employees, revenueWan: revenue, assetsWan: maybe(Double(rng.next() % 20_000)),
                establishedOn: maybe(SimpleDate(year: 2000 + Int(rng.next() % 26), month: 1 + Int(rng.next() % 12), day: 1)!),
                taxpayer: maybe(pick([TaxpayerType.small_scale, .general])))
            let e = Eligibility(
                regions: rarely([pick(["330000", "330100", "320000"])]), industries: rarely([IndustryCode(pick(["H", "F52", "C13", "I"]))!]),
                sizeClasses: rarely([pick([SizeClass.micro, .small, .medium])]), audiences: rarely([pick([Audience.micro, .small, .individual])]),
                employeesMin: rarely(Int(rng.next() % 50)), employeesMax: rarely(50 + Int(rng.next() % 400)),
                revenueWanMin: rarely(Int(rng.next() % 100)), revenueWanMax: rarely(100 + Int(rng.next() % 20_000)),
                establishedAfter: rarely(SimpleDate("2010-01-01")!), establishedBefore: rarely(SimpleDate("2024-12-31")!),
                taxpayer: rarely(pick([TaxpayerType.small_scale, .general])))
            let audiences = rng.next() % 2 == 0 ? [] : [pick([Audience.micro, .small, .individual, .medium])]
            let status = rng.next() % 10 == 0 ? "withdrawn" : "active"
            let to = rng.next() % 5 == 0 ? SimpleDate("2025-12-31") : nil
            let slow = Matching.evaluate(profile: p, eligibility: e, audiences: audiences, status: status, effectiveTo: to, today: today)
            let fast = Matching.fits(profile: p, eligibility: e, audiences: audiences, status: status, effectiveTo: to, today: today)
            if (slow.verdict == .fits) == fast { agreed += 1 }
            if fast { fitting += 1 }
        }
        #expect(agreed == 3_000)
        #expect(fitting > 20)  // the sample must exercise both answers
    }
}
