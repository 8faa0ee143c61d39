import Testing
import TongCore

@Suite struct EnterpriseSizeTests {
    func size(_ code: String, e: Int = 0, r: Double = 0, a: Double = 0) -> SizeClass {
        EnterpriseSize.classify(industry: IndustryCode(code)!, employees: e, revenueWan: r, assetsWan: a)
    }

    @Test func workedExamples() {
        #expect(size("C", e: 500, r: 1000) == .small)
        #expect(size("F52", e: 8, r: 5000) == .micro)
        #expect(size("I65", e: 120, r: 3000) == .medium)
        #expect(size("F51", e: 300, r: 50000) == .large)
    }

    @Test func agriculture() {
        #expect(size("A", r: 19999.99) == .medium)
        #expect(size("A01", r: 20000) == .large)
        #expect(size("A", e: 100_000, r: 500) == .medium)
        #expect(size("A", r: 499.99) == .small)
        #expect(size("A", r: 50) == .small)
        #expect(size("A", r: 49.99) == .micro)
    }

    /// Rows with employees and revenue: (code, SME employees ceiling, SME revenue ceiling, medium e/r, small e/r).
    static let employeesAndRevenue: [(String, Int, Double, Int, Double, Int, Double)] = [
        ("B06", 1000, 40000, 300, 2000, 20, 300), ("C13", 1000, 40000, 300, 2000, 20, 300), ("D44", 1000, 40000, 300, 2000, 20, 300),
        ("F51", 200, 40000, 20, 5000, 5, 1000), ("F52", 300, 20000, 50, 500, 10, 100),
        ("G53", 1000, 30000, 300, 3000, 20, 200), ("G58", 1000, 30000, 300, 3000, 20, 200),
        ("G59", 200, 30000, 100, 1000, 20, 100), ("G60", 1000, 30000, 300, 2000, 20, 100),
        ("H61", 300, 10000, 100, 2000, 10, 100), ("H62", 300, 10000, 100, 2000, 10, 100),
        ("I63", 2000, 100000, 100, 1000, 10, 100), ("I64", 2000, 100000, 100, 1000, 10, 100),
        ("I65", 300, 10000, 100, 1000, 10, 50), ("K702", 1000, 5000, 300, 1000, 100, 500),
    ]

    @Test func employeesAndRevenueRows() {
        for (code, ce, cr, me, mr, se, sr) in Self.employeesAndRevenue {
            // Large only when both measures reach the ceiling ("or" in the SME condition).
            #expect(size(code, e: ce, r: cr) == .large, "\(code)")
            #expect(size(code, e: ce - 1, r: cr) == .medium, "\(code)")
            #expect(size(code, e: ce, r: cr - 0.01) == .medium, "\(code)")
            // Medium needs both floors ("and").
            #expect(size(code, e: me, r: mr) == .medium, "\(code)")
            #expect(size(code, e: me - 1, r: mr) == .small, "\(code)")
            #expect(size(code, e: me, r: mr - 0.01) == .small, "\(code)")
            // Small needs both floors; the rest is micro.
            #expect(size(code, e: se, r: sr) == .small, "\(code)")
            #expect(size(code, e: se - 1, r: sr) == .micro, "\(code)")
            #expect(size(code, e: se, r: sr - 0.01) == .micro, "\(code)")
            #expect(size(code, e: 0, r: 0) == .micro, "\(code)")
        }
    }

    /// Rows with revenue and assets (E, K701) and employees and assets (L).
    @Test func assetRows() {
        #expect(size("E47", r: 80000, a: 80000) == .large)
        #expect(size("E", r: 79999, a: 1_000_000) == .medium)
        #expect(size("E", r: 1_000_000, a: 79999) == .medium)
        #expect(size("E", r: 6000, a: 5000) == .medium)
        #expect(size("E", r: 5999, a: 5000) == .small)
        #expect(size("E", r: 6000, a: 4999) == .small)
        #expect(size("E", r: 300, a: 300) == .small)
        #expect(size("E", r: 299, a: 300) == .micro)
        #expect(size("E", r: 300, a: 299) == .micro)

        #expect(size("K701", r: 200000, a: 10000) == .large)
        #expect(size("K7010", r: 199999, a: 10000) == .medium)
        #expect(size("K701", r: 200000, a: 9999) == .medium)
        #expect(size("K701", r: 1000, a: 5000) == .medium)
        #expect(size("K701", r: 999, a: 5000) == .small)
        #expect(size("K701", r: 1000, a: 4999) == .small)
        #expect(size("K701", r: 100, a: 2000) == .small)
        #expect(size("K701", r: 99, a: 2000) == .micro)
        #expect(size("K701", r: 100, a: 1999) == .micro)

        #expect(size("L", e: 300, r: 1_000_000, a: 120000) == .large)
        #expect(size("L72", e: 299, a: 120000) == .medium)
        #expect(size("L", e: 300, a: 119999) == .medium)
        #expect(size("L", e: 100, a: 8000) == .medium)
        #expect(size("L", e: 99, a: 8000) == .small)
        #expect(size("L", e: 100, a: 7999) == .small)
        #expect(size("L", e: 10, a: 100) == .small)
        #expect(size("L", e: 9, a: 100) == .micro)
        #expect(size("L", e: 10, a: 99) == .micro)
    }

    @Test func otherIndustries() {
        for code in ["J66", "M73", "P", "K703", "K70", "K", "F", "G", "I", "S91", "T"] {
            #expect(size(code, e: 300, r: 0) == .large, "\(code)")
            #expect(size(code, e: 299, r: 1e9, a: 1e9) == .medium, "\(code)")
            #expect(size(code, e: 100) == .medium, "\(code)")
            #expect(size(code, e: 99) == .small, "\(code)")
            #expect(size(code, e: 10) == .small, "\(code)")
            #expect(size(code, e: 9) == .micro, "\(code)")
        }
        #expect(EnterpriseSize.row(for: IndustryCode("F")!).name == "其他未列明行业")
        #expect(EnterpriseSize.row(for: IndustryCode("H")!).name == "住宿业、餐饮业")
        #expect(EnterpriseSize.row(for: IndustryCode("C1311")!).name == "工业")
    }

    @Test func classifyIfKnown() {
        let c = IndustryCode("C")
        #expect(EnterpriseSize.classifyIfKnown(industry: c, employees: 500, revenueWan: 1000, assetsWan: nil) == .small)
        #expect(EnterpriseSize.classifyIfKnown(industry: c, employees: 500, revenueWan: nil, assetsWan: 1) == nil)
        #expect(EnterpriseSize.classifyIfKnown(industry: nil, employees: 5, revenueWan: 5, assetsWan: 5) == nil)
        #expect(EnterpriseSize.classifyIfKnown(industry: IndustryCode("A"), employees: nil, revenueWan: 10, assetsWan: nil) == .micro)
        #expect(EnterpriseSize.classifyIfKnown(industry: IndustryCode("E"), employees: 5, revenueWan: 10, assetsWan: nil) == nil)
        #expect(EnterpriseSize.classifyIfKnown(industry: IndustryCode("J"), employees: 5, revenueWan: nil, assetsWan: nil) == .micro)
    }

    @Test func sizeClassNames() {
        #expect(SizeClass.allCases.map(\.rawValue) == ["micro", "small", "medium", "large"])
        #expect(SizeClass.allCases.map(\.chineseName) == ["微型", "小型", "中型", "大型"])
        #expect(SizeClass.small.audience == .small && SizeClass.medium.audience == .medium && SizeClass.large.audience == nil)
    }
}
