/// What matching knows about an enterprise; every field may be missing (the 政策计算器 takes partial profiles), and a
/// condition that needs a missing field fails with a "missing data" reason.
public struct EnterpriseProfile: Sendable, Hashable {
    /// The unified social credit code, if known; only its first two characters are used here (entity kind).
    public var uscc: String?
    /// GB/T 2260 division code where the enterprise is registered.
    public var region: String?
    /// GB/T 4754-2017 industry code.
    public var industry: IndustryCode?
    /// Size class; computed from the measures by `EnterpriseSize` when not given.
    public var sizeClass: SizeClass?
    /// Employees (从业人员), persons.
    public var employees: Int?
    /// Annual operating revenue (营业收入), 万元.
    public var revenueWan: Double?
    /// Total assets (资产总额), 万元.
    public var assetsWan: Double?
    /// Date of establishment (成立日期).
    public var establishedOn: SimpleDate?
    /// VAT taxpayer type.
    public var taxpayer: TaxpayerType?

    /// Creates a profile; a nil `sizeClass` is computed with `EnterpriseSize.classifyIfKnown` from the other fields.
    public init(
        uscc: String? = nil, region: String? = nil, industry: IndustryCode? = nil, sizeClass: SizeClass? = nil,
        employees: Int? = nil, revenueWan: Double? = nil, assetsWan: Double? = nil,
        establishedOn: SimpleDate? = nil, taxpayer: TaxpayerType? = nil
    ) {
        self.uscc = uscc
        self.region = region
        self.industry = industry
        self.employees = employees
        self.revenueWan = revenueWan
        self.assetsWan = assetsWan
        self.establishedOn = establishedOn
        self.taxpayer = taxpayer
        self.sizeClass = sizeClass
            ?? EnterpriseSize.classifyIfKnown(industry: industry, employees: employees, revenueWan: revenueWan, assetsWan: assetsWan)
    }

    /// The entity kind from the USCC prefix; nil without a USCC.
    public var entityKind: USCCEntityKind? { uscc.map(USCC.entityKind(of:)) }

    /// The policy audience: `individual` for an individual business (92…), otherwise the size class's audience;
    /// nil for a large enterprise or when the size is unknown.
    public var audience: Audience? {
        if entityKind == .individualBusiness { return .individual }
        return sizeClass?.audience
    }
}
