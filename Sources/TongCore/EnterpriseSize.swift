/// Enterprise size classification by 中小企业划型标准规定 (工信部联企业〔2011〕300号), with industries in GB/T 4754-2017 codes.
/// Employees (从业人员) are persons; operating revenue (营业收入) and total assets (资产总额) are 万元.
public enum EnterpriseSize {
    /// Lower bounds on the measures a row uses; a nil bound is a measure that row does not use.
    public struct Bounds: Sendable, Equatable {
        /// Employees, persons.
        public var employees: Int?
        /// Operating revenue, 万元.
        public var revenueWan: Double?
        /// Total assets, 万元.
        public var assetsWan: Double?
    }

    /// One row of the standard's table.
    public struct Row: Sendable, Equatable {
        /// The industry as the standard names it, e.g. `工业`.
        public var name: String
        /// SME if any used measure is below its ceiling ("or"); otherwise large.
        public var ceiling: Bounds
        /// Medium if every used measure reaches its floor ("and").
        public var medium: Bounds
        /// Small if every used measure reaches its floor ("and"); what is neither medium nor small is micro.
        public var small: Bounds

        /// Which measures this row needs: employees, revenue, assets.
        public var needs: (employees: Bool, revenue: Bool, assets: Bool) {
            (ceiling.employees != nil, ceiling.revenueWan != nil, ceiling.assetsWan != nil)
        }
    }

    private static func b(e: Int? = nil, r: Double? = nil, a: Double? = nil) -> Bounds {
        Bounds(employees: e, revenueWan: r, assetsWan: a)
    }

    static let agriculture = Row(name: "农、林、牧、渔业", ceiling: b(r: 20000), medium: b(r: 500), small: b(r: 50))
    static let industrial = Row(name: "工业", ceiling: b(e: 1000, r: 40000), medium: b(e: 300, r: 2000), small: b(e: 20, r: 300))
    static let construction = Row(name: "建筑业", ceiling: b(r: 80000, a: 80000), medium: b(r: 6000, a: 5000), small: b(r: 300, a: 300))
    static let wholesale = Row(name: "批发业", ceiling: b(e: 200, r: 40000), medium: b(e: 20, r: 5000), small: b(e: 5, r: 1000))
    static let retail = Row(name: "零售业", ceiling: b(e: 300, r: 20000), medium: b(e: 50, r: 500), small: b(e: 10, r: 100))
    static let transport = Row(name: "交通运输业", ceiling: b(e: 1000, r: 30000), medium: b(e: 300, r: 3000), small: b(e: 20, r: 200))
    static let warehousing = Row(name: "仓储业", ceiling: b(e: 200, r: 30000), medium: b(e: 100, r: 1000), small: b(e: 20, r: 100))
    static let postal = Row(name: "邮政业", ceiling: b(e: 1000, r: 30000), medium: b(e: 300, r: 2000), small: b(e: 20, r: 100))
    static let hospitality = Row(name: "住宿业、餐饮业", ceiling: b(e: 300, r: 10000), medium: b(e: 100, r: 2000), small: b(e: 10, r: 100))
    static let telecom = Row(name: "信息传输业", ceiling: b(e: 2000, r: 100000), medium: b(e: 100, r: 1000), small: b(e: 10, r: 100))
    static let software = Row(name: "软件和信息技术服务业", ceiling: b(e: 300, r: 10000), medium: b(e: 100, r: 1000), small: b(e: 10, r: 50))
    static let realEstate = Row(name: "房地产开发经营", ceiling: b(r: 200000, a: 10000), medium: b(r: 1000, a: 5000), small: b(r: 100, a: 2000))
    static let propertyManagement = Row(name: "物业管理", ceiling: b(e: 1000, r: 5000), medium: b(e: 300, r: 1000), small: b(e: 100, r: 500))
    static let leasing = Row(name: "租赁和商务服务业", ceiling: b(e: 300, a: 120000), medium: b(e: 100, a: 8000), small: b(e: 10, a: 100))
    static let other = Row(name: "其他未列明行业", ceiling: b(e: 300), medium: b(e: 100), small: b(e: 10))

    /// The row of the table that governs `industry`. A code too coarse to pick a row (`F`, `G`, `I`, `K`, `K70`) falls to
    /// 其他未列明行业, as do K703-K709 and every section the table does not name (J, M-T).
    public static func row(for industry: IndustryCode) -> Row {
        switch industry.section {
        case "A": return agriculture
        case "B", "C", "D": return industrial
        case "E": return construction
        case "H": return hospitality
        case "L": return leasing
        default: break
        }
        let d = industry.division ?? 0
        switch (industry.section, d) {
        case ("F", 51): return wholesale
        case ("F", 52): return retail
        case ("G", 53...58): return transport
        case ("G", 59): return warehousing
        case ("G", 60): return postal
        case ("I", 63), ("I", 64): return telecom
        case ("I", 65): return software
        default: break
        }
        if industry.isUnder(section: "K", digits: "701") { return realEstate }
        if industry.isUnder(section: "K", digits: "702") { return propertyManagement }
        return other
    }

    /// Classifies by the standard: large unless some measure is under the row's SME ceiling; then medium if every measure
    /// reaches the medium floor, small if every measure reaches the small floor, otherwise micro. Measures the row does not
    /// use are ignored.
    public static func classify(industry: IndustryCode, employees: Int, revenueWan: Double, assetsWan: Double) -> SizeClass {
        let r = row(for: industry)
        func below(_ x: Bounds) -> Bool {
            (x.employees.map { employees < $0 } ?? false) || (x.revenueWan.map { revenueWan < $0 } ?? false)
                || (x.assetsWan.map { assetsWan < $0 } ?? false)
        }
        func reaches(_ x: Bounds) -> Bool {
            (x.employees.map { employees >= $0 } ?? true) && (x.revenueWan.map { revenueWan >= $0 } ?? true)
                && (x.assetsWan.map { assetsWan >= $0 } ?? true)
        }
        guard below(r.ceiling) else { return .large }
        if reaches(r.medium) { return .medium }
        if reaches(r.small) { return .small }
        return .micro
    }

    /// Like `classify`, but nil when a measure the industry's row needs is missing (or the industry itself is).
    public static func classifyIfKnown(industry: IndustryCode?, employees: Int?, revenueWan: Double?, assetsWan: Double?) -> SizeClass? {
        guard let industry else { return nil }
        let needs = row(for: industry).needs
        if needs.employees && employees == nil || needs.revenue && revenueWan == nil || needs.assets && assetsWan == nil {
            return nil
        }
        return classify(industry: industry, employees: employees ?? 0, revenueWan: revenueWan ?? 0, assetsWan: assetsWan ?? 0)
    }
}
