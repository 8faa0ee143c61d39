import Testing
import TongCore

@Suite struct EnterpriseProfileTests {
    @Test func sizeIsComputedWhenNotGiven() {
        let p = EnterpriseProfile(industry: IndustryCode("C"), employees: 500, revenueWan: 1000)
        #expect(p.sizeClass == .small)
        #expect(p.audience == .small)
        let given = EnterpriseProfile(industry: IndustryCode("C"), sizeClass: .medium, employees: 500, revenueWan: 1000)
        #expect(given.sizeClass == .medium)
        #expect(EnterpriseProfile(industry: IndustryCode("E"), revenueWan: 100).sizeClass == nil)
    }

    @Test func audienceDerivation() {
        let individual = EnterpriseProfile(uscc: "92440300L12345JY8M", industry: IndustryCode("F52"), employees: 3, revenueWan: 50)
        #expect(individual.entityKind == .individualBusiness)
        #expect(individual.sizeClass == .micro)
        #expect(individual.audience == .individual)
        let large = EnterpriseProfile(uscc: "91110000600037341L", industry: IndustryCode("F51"), employees: 300, revenueWan: 50000)
        #expect(large.sizeClass == .large && large.audience == nil)
        #expect(EnterpriseProfile(uscc: "91110000600037341L").audience == nil)
        #expect(EnterpriseProfile(sizeClass: .micro).audience == .micro)
        #expect(EnterpriseProfile(uscc: "93310115MA1K3YJ07Q", sizeClass: .medium).audience == .medium)
        #expect(EnterpriseProfile().entityKind == nil)
    }
}
