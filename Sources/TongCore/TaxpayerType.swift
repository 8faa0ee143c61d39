/// VAT taxpayer types (增值税纳税人类型); raw values are the wire/storage names.
public enum TaxpayerType: String, CaseIterable, Sendable, Codable {
    /// 小规模纳税人.
    case small_scale
    /// 一般纳税人.
    case general

    /// The label shown to enterprises.
    public var chineseName: String {
        switch self {
        case .small_scale: "小规模纳税人"
        case .general: "一般纳税人"
        }
    }
}
