/// The kinds of enterprise a policy targets; raw values are the wire/storage names.
public enum Audience: String, CaseIterable, Sendable, Codable {
    /// 微型企业 — micro enterprises.
    case micro
    /// 小型企业 — small enterprises.
    case small
    /// 个体工商户 — individually owned businesses.
    case individual
    /// 中型企业 — medium-sized enterprises.
    case medium

    /// The label shown to citizens and enterprises.
    public var chineseName: String {
        switch self {
        case .micro: "微型企业"
        case .small: "小型企业"
        case .individual: "个体工商户"
        case .medium: "中型企业"
        }
    }

    /// A single-bit mask (1 << position in `allCases`); the order is part of the storage format, so never reorder cases.
    public var bit: Int {
        switch self {
        case .micro: 1 << 0
        case .small: 1 << 1
        case .individual: 1 << 2
        case .medium: 1 << 3
        }
    }

    /// The combined mask of `audiences`.
    public static func mask<S: Sequence<Audience>>(_ audiences: S) -> Int {
        audiences.reduce(0) { $0 | $1.bit }
    }

    /// The audiences whose bits are set in `mask`, in declaration order; unknown bits are ignored.
    public static func audiences(in mask: Int) -> [Audience] {
        allCases.filter { mask & $0.bit != 0 }
    }
}
