/// Policy themes a document can be tagged with; raw values are the wire/storage names.
public enum Theme: String, CaseIterable, Sendable, Codable {
    /// 复工复产 — resuming work and production.
    case resume_work
    /// 稳企稳岗 — keeping firms and jobs stable.
    case stabilize_jobs
    /// 金融财税 — finance, credit and tax relief.
    case finance_tax
    /// 缓缴社保 — deferred social insurance contributions.
    case social_insurance
    /// 租金减免 — rent reductions and waivers.
    case rent_relief
    /// 水电气优惠 — water, power and gas discounts.
    case utilities
    /// 其他 — anything not covered above.
    case other

    /// The label shown to citizens and enterprises.
    public var chineseName: String {
        switch self {
        case .resume_work: "复工复产"
        case .stabilize_jobs: "稳企稳岗"
        case .finance_tax: "金融财税"
        case .social_insurance: "缓缴社保"
        case .rent_relief: "租金减免"
        case .utilities: "水电气优惠"
        case .other: "其他"
        }
    }

    /// A single-bit mask (1 << position in `allCases`); the order is part of the storage format, so never reorder cases.
    public var bit: Int {
        switch self {
        case .resume_work: 1 << 0
        case .stabilize_jobs: 1 << 1
        case .finance_tax: 1 << 2
        case .social_insurance: 1 << 3
        case .rent_relief: 1 << 4
        case .utilities: 1 << 5
        case .other: 1 << 6
        }
    }

    /// The combined mask of `themes`.
    public static func mask<S: Sequence<Theme>>(_ themes: S) -> Int {
        themes.reduce(0) { $0 | $1.bit }
    }

    /// The themes whose bits are set in `mask`, in declaration order; unknown bits are ignored.
    public static func themes(in mask: Int) -> [Theme] {
        allCases.filter { mask & $0.bit != 0 }
    }
}
