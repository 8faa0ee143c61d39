/// Matching an enterprise profile against a policy's or service item's conditions (送达 and the 政策计算器). Pure: `today`
/// is given by the caller.
public enum Matching {
    /// Checks every condition and adds them up. A record that is withdrawn, not yet effective (`today < effectiveFrom`) or
    /// past `effectiveTo` (valid through that day) is `.fails` whatever its other conditions say: it is never `.near`,
    /// because nothing the enterprise could change would make it fit. Otherwise no failing condition is `.fits` and exactly
    /// one is `.near`. `audiences` is the record's own `audiences` field (empty means any); when `eligibility.audiences` is
    /// also set, the enterprise must be in both. A condition whose profile data is missing fails, saying the data is missing.
    public static func evaluate(
        profile: EnterpriseProfile, eligibility: Eligibility, audiences: [Audience] = [], status: String? = nil,
        effectiveFrom: SimpleDate? = nil, effectiveTo: SimpleDate? = nil, today: SimpleDate
    ) -> MatchResult {
        let inForce = inForceReason(status: status, effectiveFrom: effectiveFrom, effectiveTo: effectiveTo, today: today)
        var reasons = [inForce]
        let e = eligibility
        if let regions = e.regions { reasons.append(regionReason(profile.region, regions)) }
        if let industries = e.industries { reasons.append(industryReason(profile.industry, industries)) }
        if let sizes = e.sizeClasses { reasons.append(sizeReason(profile.sizeClass, sizes)) }
        if let allowed = allowedAudiences(record: audiences, eligibility: e.audiences) {
            reasons.append(audienceReason(profile, allowed))
        }
        if e.employeesMin != nil || e.employeesMax != nil {
            reasons.append(rangeReason("employees", profile.employees.map(Double.init), e.employeesMin, e.employeesMax,
                                       name: "从业人员", unit: "人", missing: "缺少从业人员数"))
        }
        if e.revenueWanMin != nil || e.revenueWanMax != nil {
            reasons.append(rangeReason("revenue_wan", profile.revenueWan, e.revenueWanMin, e.revenueWanMax,
                                       name: "年营业收入", unit: "万元", missing: "缺少年营业收入"))
        }
        if e.establishedAfter != nil || e.establishedBefore != nil {
            reasons.append(establishedReason(profile.establishedOn, e.establishedAfter, e.establishedBefore))
        }
        if let t = e.taxpayer { reasons.append(taxpayerReason(profile.taxpayer, t)) }
        let failures = reasons.filter { !$0.ok }.count
        let verdict: MatchResult.Verdict = !inForce.ok ? .fails : failures == 0 ? .fits : failures == 1 ? .near : .fails
        return MatchResult(reasons: reasons, verdict: verdict)
    }

    /// The audiences the enterprise must be in: the record's list (if non-empty) intersected with eligibility's (if set);
    /// nil when neither restricts.
    static func allowedAudiences(record: [Audience], eligibility: [Audience]?) -> [Audience]? {
        switch (record.isEmpty ? nil : record, eligibility) {
        case (nil, nil): nil
        case let (r?, nil): r
        case let (nil, e?): e
        case let (r?, e?): e.filter(r.contains)
        }
    }

    static func inForceReason(status: String?, effectiveFrom: SimpleDate?, effectiveTo: SimpleDate?, today: SimpleDate)
        -> MatchReason
    {
        let c = "in_force"
        if status == "withdrawn" { return MatchReason(condition: c, ok: false, detail: "已撤回，不再适用") }
        if let from = effectiveFrom, today < from {
            return MatchReason(condition: c, ok: false, detail: "尚未施行（\(from) 起施行）")
        }
        if let to = effectiveTo, to < today { return MatchReason(condition: c, ok: false, detail: "已于 \(to) 到期失效") }
        return MatchReason(condition: c, ok: true, detail: effectiveTo.map { "现行有效（有效期至 \($0)）" } ?? "现行有效")
    }

    static func regionReason(_ region: String?, _ regions: [String]) -> MatchReason {
        let c = "region", wanted = Eligibility.regionText(regions)
        guard let region else { return MatchReason(condition: c, ok: false, detail: "缺少注册地信息；要求注册地：\(wanted)") }
        if regions.contains(where: { Division.covers($0, region) }) {
            return MatchReason(condition: c, ok: true, detail: "注册地 \(region) 属于 \(wanted)")
        }
        return MatchReason(condition: c, ok: false, detail: "注册地 \(region) 不在 \(wanted) 范围内")
    }

    static func industryReason(_ industry: IndustryCode?, _ industries: [IndustryCode]) -> MatchReason {
        let c = "industry", wanted = industries.map(\.label).joined(separator: "、")
        guard let industry else { return MatchReason(condition: c, ok: false, detail: "缺少行业信息；要求行业：\(wanted)") }
        if industries.contains(where: { $0.covers(industry) }) {
            return MatchReason(condition: c, ok: true, detail: "行业 \(industry.label) 属于适用行业（\(wanted)）")
        }
        return MatchReason(condition: c, ok: false, detail: "行业 \(industry.label) 不在适用行业（\(wanted)）内")
    }

    static func sizeReason(_ size: SizeClass?, _ sizes: [SizeClass]) -> MatchReason {
        let c = "size_class", wanted = sizes.map(\.chineseName).joined(separator: "、")
        guard let size else {
            return MatchReason(condition: c, ok: false, detail: "缺少划型所需的行业、从业人员、营业收入或资产总额；要求企业规模：\(wanted)")
        }
        let ok = sizes.contains(size)
        return MatchReason(condition: c, ok: ok, detail: "企业规模为\(size.chineseName)，\(ok ? "符合" : "不符合")要求（\(wanted)）")
    }

    static func audienceReason(_ profile: EnterpriseProfile, _ allowed: [Audience]) -> MatchReason {
        let c = "audience"
        let wanted = allowed.isEmpty ? "无" : allowed.map(\.chineseName).joined(separator: "、")
        guard let a = profile.audience else {
            if profile.sizeClass == .large {
                return MatchReason(condition: c, ok: false, detail: "大型企业不属于适用对象（\(wanted)）")
            }
            return MatchReason(condition: c, ok: false, detail: "缺少企业规模信息，无法判断是否属于适用对象（\(wanted)）")
        }
        let ok = allowed.contains(a)
        return MatchReason(condition: c, ok: ok, detail: "本企业为\(a.chineseName)，\(ok ? "属于" : "不属于")适用对象（\(wanted)）")
    }

    static func rangeReason(_ c: String, _ value: Double?, _ lo: Int?, _ hi: Int?, name: String, unit: String, missing: String)
        -> MatchReason
    {
        let low = unit == "人" ? "不少于" : "不低于"
        let wanted = name + (Eligibility.rangeText(lo, hi, unit: unit, low: low, high: "不超过") ?? "")
        guard let value else { return MatchReason(condition: c, ok: false, detail: "\(missing)；要求\(wanted)") }
        let ok = lo.map { value >= Double($0) } ?? true && hi.map { value <= Double($0) } ?? true
        return MatchReason(condition: c, ok: ok, detail: "\(name) \(number(value)) \(unit)，要求\(wanted)")
    }

    static func establishedReason(_ on: SimpleDate?, _ after: SimpleDate?, _ before: SimpleDate?) -> MatchReason {
        let c = "established"
        let wanted = Eligibility(establishedAfter: after, establishedBefore: before).describe().first ?? ""
        guard let on else { return MatchReason(condition: c, ok: false, detail: "缺少成立日期；要求\(wanted)") }
        let ok = after.map { on >= $0 } ?? true && before.map { on <= $0 } ?? true
        return MatchReason(condition: c, ok: ok, detail: "成立日期 \(on)，要求\(wanted)")
    }

    static func taxpayerReason(_ t: TaxpayerType?, _ wanted: TaxpayerType) -> MatchReason {
        let c = "taxpayer"
        guard let t else { return MatchReason(condition: c, ok: false, detail: "缺少纳税人类型；要求\(wanted.chineseName)") }
        return MatchReason(condition: c, ok: t == wanted, detail: "纳税人类型为\(t.chineseName)，要求\(wanted.chineseName)")
    }

    /// `12`, `12.5`: whole numbers without a fraction.
    static func number(_ v: Double) -> String {
        v == v.rounded() && abs(v) < 1e15 ? String(Int(v)) : String(v)
    }
}
