extension Matching {
    /// Whether `evaluate(...)` would say `.fits`, without building a reason per condition:
    /// delivery matches every new record against every registered enterprise (100,000 at a
    /// county), so this is the hot path; `evaluate` explains, `fits` decides. The same rules,
    /// condition for condition (a test compares the two over seeded random profiles).
    public static func fits(
        profile: EnterpriseProfile, eligibility e: Eligibility, audiences: [Audience] = [], status: String? = nil,
        effectiveFrom: SimpleDate? = nil, effectiveTo: SimpleDate? = nil, today: SimpleDate
    ) -> Bool {
        if status == "withdrawn" { return false }
        if let from = effectiveFrom, today < from { return false }
        if let to = effectiveTo, to < today { return false }
        if let regions = e.regions {
            guard let r = profile.region, regions.contains(where: { Division.covers($0, r) }) else { return false }
        }
        if let industries = e.industries {
            guard let i = profile.industry, industries.contains(where: { $0.covers(i) }) else { return false }
        }
        if let sizes = e.sizeClasses {
            guard let s = profile.sizeClass, sizes.contains(s) else { return false }
        }
        if let allowed = allowedAudiences(record: audiences, eligibility: e.audiences) {
            guard let a = profile.audience, allowed.contains(a) else { return false }
        }
        func inRange(_ v: Double?, _ lo: Int?, _ hi: Int?) -> Bool {
            guard lo != nil || hi != nil else { return true }
            guard let v else { return false }
            return (lo.map { v >= Double($0) } ?? true) && (hi.map { v <= Double($0) } ?? true)
        }
        guard inRange(profile.employees.map(Double.init), e.employeesMin, e.employeesMax),
              inRange(profile.revenueWan, e.revenueWanMin, e.revenueWanMax) else { return false }
        if e.establishedAfter != nil || e.establishedBefore != nil {
            guard let on = profile.establishedOn, e.establishedAfter.map({ on >= $0 }) ?? true,
                  e.establishedBefore.map({ on <= $0 }) ?? true else { return false }
        }
        if let t = e.taxpayer { guard profile.taxpayer == t else { return false } }
        return true
    }
}
