/// What kind of entity a unified social credit code names, read from its first two characters (GB 32100-2015, table 1).
public enum USCCEntityKind: String, CaseIterable, Sendable, Codable {
    /// `91…`: an enterprise (企业) registered with market regulation.
    case enterprise
    /// `92…`: an individual business (个体工商户).
    case individualBusiness = "individual_business"
    /// `93…`: a farmers' specialised cooperative (农民专业合作社).
    case cooperative
    /// Anything else: public institutions, social organisations, collectives, foreign representative offices.
    case other

    /// The kind for a code's first two characters; nil-free because any other prefix is `.other`.
    public init(prefix: Substring) {
        switch prefix.prefix(2) {
        case "91": self = .enterprise
        case "92": self = .individualBusiness
        case "93": self = .cooperative
        default: self = .other
        }
    }

    /// The label shown to enterprises and staff.
    public var chineseName: String {
        switch self {
        case .enterprise: "企业"
        case .individualBusiness: "个体工商户"
        case .cooperative: "农民专业合作社"
        case .other: "其他组织"
        }
    }
}
