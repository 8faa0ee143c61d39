import TongCore

/// Labels for the enterprise pages (政策计算器, 企业服务).
extension PortalText {
    /// The standard a size class is computed by, named as enterprises know it.
    static let sizeStandard = "《中小企业划型标准规定》（工信部联企业〔2011〕300号）"

    /// A delivery state's name.
    static func deliveryState(_ code: String) -> String {
        switch code {
        case "pending": "待推送"
        case "delivered": "已推送"
        case "failed": "推送失败"
        case "feed": "仅订阅源"
        case "withdrawn": "政策已废止，未推送"
        default: code
        }
    }

    /// A size class's name; `未能测算` when unknown.
    static func sizeClass(_ code: String?) -> String {
        code.flatMap(SizeClass.init(rawValue:))?.chineseName ?? "未能测算"
    }

    /// A taxpayer type's name.
    static func taxpayer(_ code: String) -> String { TaxpayerType(rawValue: code)?.chineseName ?? code }

    /// An industry code with its section's name, e.g. `H6210（住宿和餐饮业）`.
    static func industry(_ code: String) -> String { IndustryCode(code)?.label ?? code }

    /// The name of a match condition, shown before its reason.
    static func condition(_ code: String) -> String {
        let names: [String: String] = [
            "in_force": "有效期", "region": "注册地", "industry": "行业", "size_class": "企业规模", "audience": "适用对象",
            "employees": "从业人员", "revenue_wan": "营业收入", "established": "成立时间", "taxpayer": "纳税人类型",
        ]
        return names[code] ?? code
    }

    /// Labels of the enterprise form's fields, for messages that name the field.
    static let enterpriseFields: [String: String] = [
        "uscc": "统一社会信用代码", "name": "企业名称", "region": "注册地", "industry": "所属行业", "employees": "从业人员",
        "revenue_wan": "年营业收入", "assets_wan": "资产总额", "established_on": "成立日期", "taxpayer": "纳税人类型",
        "contact": "联系方式", "contact.name": "联系人", "contact.phone": "联系电话", "contact.email": "电子邮箱", "webhook": "推送地址",
        "size_class": "企业规模",
    ]

    /// `2026-01-05 14:03` in Beijing time (UTC+8, no daylight saving since 1991) for `ms`
    /// milliseconds since 1970.
    static func beijingTime(ms: Int64) -> String {
        guard let day = SimpleDate(beijingMillis: ms) else { return "—" }
        let dayMs: Int64 = 86_400_000
        let inDay = ((ms + 8 * 3_600_000) % dayMs + dayMs) % dayMs / 60_000
        let h = inDay / 60, m = inDay % 60
        return "\(day) \(h < 10 ? "0" : "")\(h):\(m < 10 ? "0" : "")\(m)"
    }
}
