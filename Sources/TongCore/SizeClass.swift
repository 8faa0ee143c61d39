/// Enterprise size classes of 中小企业划型标准规定 (工信部联企业〔2011〕300号); raw values are the wire/storage names.
public enum SizeClass: String, CaseIterable, Sendable, Codable {
    /// 微型.
    case micro
    /// 小型.
    case small
    /// 中型.
    case medium
    /// 大型: outside the SME ceilings of the enterprise's industry.
    case large

    /// The short label, e.g. `小型`.
    public var chineseName: String {
        switch self {
        case .micro: "微型"
        case .small: "小型"
        case .medium: "中型"
        case .large: "大型"
        }
    }

    /// The policy audience this size belongs to; large enterprises are no audience of SME policies.
    public var audience: Audience? {
        switch self {
        case .micro: .micro
        case .small: .small
        case .medium: .medium
        case .large: nil
        }
    }
}
