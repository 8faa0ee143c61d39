/// The `eligibility` object of a policy or service item: who it applies to. Every condition is optional and an absent one
/// means no restriction. Ranges are inclusive at both ends (`min ≤ x ≤ max`, dates "on or after" / "on or before"),
/// following the Chinese legal reading of 以上/以下 as including the bound.
public struct Eligibility: Sendable, Hashable {
    /// GB/T 2260 division codes where the enterprise is registered; each covers its subtree (see `Division.covers`).
    public var regions: [String]?
    /// GB/T 4754-2017 industry codes; each covers its children.
    public var industries: [IndustryCode]?
    /// Size classes by 工信部联企业〔2011〕300号.
    public var sizeClasses: [SizeClass]?
    /// Policy audiences (micro, small, individual, medium).
    public var audiences: [Audience]?
    /// Least number of employees (persons), inclusive.
    public var employeesMin: Int?
    /// Greatest number of employees (persons), inclusive.
    public var employeesMax: Int?
    /// Least annual operating revenue in whole 万元, inclusive (Tong's JSON carries no fractions).
    public var revenueWanMin: Int?
    /// Greatest annual operating revenue in whole 万元, inclusive.
    public var revenueWanMax: Int?
    /// Established on or after this date.
    public var establishedAfter: SimpleDate?
    /// Established on or before this date.
    public var establishedBefore: SimpleDate?
    /// VAT taxpayer type.
    public var taxpayer: TaxpayerType?

    /// The JSON keys, in the order `json` and `describe` use.
    public static let keys = [
        "regions", "industries", "size_classes", "audiences", "employees_min", "employees_max",
        "revenue_wan_min", "revenue_wan_max", "established_after", "established_before", "taxpayer",
    ]

    /// The most codes one list may hold; a longer list is almost certainly a paste error.
    public static let maxListLength = 200

    /// Creates an eligibility; with no arguments it restricts nothing.
    public init(
        regions: [String]? = nil, industries: [IndustryCode]? = nil, sizeClasses: [SizeClass]? = nil,
        audiences: [Audience]? = nil, employeesMin: Int? = nil, employeesMax: Int? = nil,
        revenueWanMin: Int? = nil, revenueWanMax: Int? = nil,
        establishedAfter: SimpleDate? = nil, establishedBefore: SimpleDate? = nil, taxpayer: TaxpayerType? = nil
    ) {
        self.regions = regions
        self.industries = industries
        self.sizeClasses = sizeClasses
        self.audiences = audiences
        self.employeesMin = employeesMin
        self.employeesMax = employeesMax
        self.revenueWanMin = revenueWanMin
        self.revenueWanMax = revenueWanMax
        self.establishedAfter = establishedAfter
        self.establishedBefore = establishedBefore
        self.taxpayer = taxpayer
    }

    /// Whether no condition is set.
    public var isUnrestricted: Bool { self == Eligibility() }

    /// Parses and validates the JSON object. Unknown keys, wrong types, empty or duplicated lists, invalid division or
    /// industry codes, unknown enum values, negative numbers, `min > max` and `after > before` are refused; `null` counts as
    /// absent. Throws the first issue found, with `field` such as `eligibility.regions[1]`.
    public static func parse(_ v: JSONValue, field: String = "eligibility") throws(ValidationIssue) -> Eligibility {
        guard let o = v.objectValue else { throw ValidationIssue(field: field, message: "must be an object") }
        if let unknown = o.keys.sorted().first(where: { !keys.contains($0) }) {
            throw ValidationIssue(field: "\(field).\(unknown)", message: "is not a known eligibility condition")
        }
        func present(_ k: String) -> JSONValue? {
            guard let x = o[k], x != .null else { return nil }
            return x
        }
        func list<T: Hashable>(_ k: String, what: String, _ make: (String) -> T?) throws(ValidationIssue) -> [T]? {
            guard let x = present(k) else { return nil }
            let f = "\(field).\(k)"
            guard let a = x.arrayValue else { throw ValidationIssue(field: f, message: "must be a list") }
            guard !a.isEmpty else { throw ValidationIssue(field: f, message: "must not be empty; omit it for no restriction") }
            guard a.count <= maxListLength else { throw ValidationIssue(field: f, message: "must have at most \(maxListLength) items") }
            var out: [T] = []
            for (i, item) in a.enumerated() {
                guard let s = item.stringValue, let t = make(s) else {
                    throw ValidationIssue(field: "\(f)[\(i)]", message: "must be \(what)")
                }
                guard !out.contains(t) else { throw ValidationIssue(field: "\(f)[\(i)]", message: "is listed twice") }
                out.append(t)
            }
            return out
        }
        func count(_ k: String) throws(ValidationIssue) -> Int? {
            guard let x = present(k) else { return nil }
            guard let i = x.intValue, i >= 0, i <= Int64(Int32.max) else {
                throw ValidationIssue(field: "\(field).\(k)", message: "must be a whole number from 0 to \(Int32.max)")
            }
            return Int(i)
        }
        func date(_ k: String) throws(ValidationIssue) -> SimpleDate? {
            guard let x = present(k) else { return nil }
            guard let s = x.stringValue, let d = SimpleDate(s) else {
                let message = x.stringValue.flatMap(SimpleDate.problem) ?? "must be a date written YYYY-MM-DD (e.g. 2020-02-06)"
                throw ValidationIssue(field: "\(field).\(k)", message: message)
            }
            return d
        }
        var e = Eligibility()
        e.regions = try list("regions", what: "a six-digit GB/T 2260 division code") { Validation.divisionCode($0) ? $0 : nil }
        e.industries = try list("industries", what: "a GB/T 4754-2017 industry code such as C or C13") { IndustryCode($0) }
        e.sizeClasses = try list("size_classes", what: "one of micro, small, medium, large") { SizeClass(rawValue: $0) }
        e.audiences = try list("audiences", what: "one of micro, small, individual, medium") { Audience(rawValue: $0) }
        e.employeesMin = try count("employees_min")
        e.employeesMax = try count("employees_max")
        e.revenueWanMin = try count("revenue_wan_min")
        e.revenueWanMax = try count("revenue_wan_max")
        e.establishedAfter = try date("established_after")
        e.establishedBefore = try date("established_before")
        if let x = present("taxpayer") {
            guard let s = x.stringValue, let t = TaxpayerType(rawValue: s) else {
                throw ValidationIssue(field: "\(field).taxpayer", message: "must be small_scale or general")
            }
            e.taxpayer = t
        }
        if let lo = e.employeesMin, let hi = e.employeesMax, lo > hi {
            throw ValidationIssue(field: "\(field).employees_min", message: "must not exceed employees_max")
        }
        if let lo = e.revenueWanMin, let hi = e.revenueWanMax, lo > hi {
            throw ValidationIssue(field: "\(field).revenue_wan_min", message: "must not exceed revenue_wan_max")
        }
        if let lo = e.establishedAfter, let hi = e.establishedBefore, lo > hi {
            throw ValidationIssue(field: "\(field).established_after", message: "must not be later than established_before")
        }
        return e
    }

    /// The JSON object with only the conditions that are set; `parse(json)` gives back an equal value.
    public var json: JSONValue {
        var o: [String: JSONValue] = [:]
        if let regions { o["regions"] = .strings(regions) }
        if let industries { o["industries"] = .strings(industries.map(\.description)) }
        if let sizeClasses { o["size_classes"] = .strings(sizeClasses.map(\.rawValue)) }
        if let audiences { o["audiences"] = .strings(audiences.map(\.rawValue)) }
        if let employeesMin { o["employees_min"] = .int(Int64(employeesMin)) }
        if let employeesMax { o["employees_max"] = .int(Int64(employeesMax)) }
        if let revenueWanMin { o["revenue_wan_min"] = .int(Int64(revenueWanMin)) }
        if let revenueWanMax { o["revenue_wan_max"] = .int(Int64(revenueWanMax)) }
        if let establishedAfter { o["established_after"] = .string(establishedAfter.description) }
        if let establishedBefore { o["established_before"] = .string(establishedBefore.description) }
        if let taxpayer { o["taxpayer"] = .string(taxpayer.rawValue) }
        return .object(o)
    }

    /// The conditions in plain Chinese, one line each, in the order of `keys`; empty when nothing is restricted.
    public func describe() -> [String] {
        var out: [String] = []
        if let regions { out.append("注册地：" + Self.regionText(regions)) }
        if let industries { out.append("行业：" + industries.map(\.label).joined(separator: "、")) }
        if let sizeClasses { out.append("企业规模：" + sizeClasses.map(\.chineseName).joined(separator: "、")) }
        if let audiences { out.append("适用对象：" + audiences.map(\.chineseName).joined(separator: "、")) }
        if let t = Self.rangeText(employeesMin, employeesMax, unit: "人", low: "不少于", high: "不超过") {
            out.append("从业人员" + t)
        }
        if let t = Self.rangeText(revenueWanMin, revenueWanMax, unit: "万元", low: "不低于", high: "不超过") {
            out.append("年营业收入" + t)
        }
        switch (establishedAfter, establishedBefore) {
        case let (a?, b?): out.append("成立于 \(a) 至 \(b) 之间（含首尾两日）")
        case let (a?, nil): out.append("成立于 \(a) 之后（含当日）")
        case let (nil, b?): out.append("成立于 \(b) 之前（含当日）")
        case (nil, nil): break
        }
        if let taxpayer { out.append("纳税人类型：" + taxpayer.chineseName) }
        return out
    }

    /// `330000、310000 及其下辖地区`, or `全国` for the national code.
    static func regionText(_ codes: [String]) -> String {
        if codes.contains(Validation.nationalCode) { return "全国" }
        return codes.joined(separator: "、") + " 及其下辖地区"
    }

    /// ` 10–300 人`, `不少于 10 人`, `不超过 300 人`, or nil when neither bound is set.
    static func rangeText(_ lo: Int?, _ hi: Int?, unit: String, low: String, high: String) -> String? {
        switch (lo, hi) {
        case let (l?, h?): " \(l)–\(h) \(unit)"
        case let (l?, nil): "\(low) \(l) \(unit)"
        case let (nil, h?): "\(high) \(h) \(unit)"
        case (nil, nil): nil
        }
    }
}
