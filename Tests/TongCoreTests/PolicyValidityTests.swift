import Testing

@testable import TongCore

/// A policy's validity on a day: both ends of the period are in force, the day after the end
/// is not, and withdrawal wins over any dates.
struct PolicyValidityTests {
    @Test func boundsAreInclusiveAndWithdrawalWins() {
        let v = PolicyValidity(from: "2026-11-30", to: "2026-12-31")
        #expect(v.state(today: "2026-11-29", withdrawn: false) == .notYet)
        #expect(v.state(today: "2026-11-30", withdrawn: false) == .inForce)
        #expect(v.state(today: "2026-12-31", withdrawn: false) == .inForce)
        #expect(v.state(today: "2027-01-01", withdrawn: false) == .expired)
        #expect(v.state(today: "2026-12-01", withdrawn: true) == .withdrawn)
        // Absent or malformed dates do not bound.
        #expect(PolicyValidity(from: "", to: "").state(today: "1990-01-01", withdrawn: false) == .inForce)
        #expect(PolicyValidity(from: "2026-13-01", to: "soon").state(today: "2000-01-01", withdrawn: false) == .inForce)
        #expect(PolicyValidity.State.expired.chineseName == "已失效" && PolicyValidity.State.notYet.rawValue == "not_yet")
    }

    @Test func theBeijingDateTurnsAtSixteenHundredUTC() {
        // 2026-11-29T15:59:59.999Z is 23:59 on the 29th in Beijing; a millisecond later it is the 30th.
        #expect(SimpleDate(beijingMillis: 1_795_967_999_999)?.description == "2026-11-29")
        #expect(SimpleDate(beijingMillis: 1_795_968_000_000)?.description == "2026-11-30")
    }
}
