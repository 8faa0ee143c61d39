import Testing
import TongCore

@testable import TongDomain
@testable import TongServer
@testable import TongTools

/// Due dates of feedback count working days, with public holidays and make-up working days
/// (调休) taken from node.toml.
@Suite struct DueDateTests {
    // A National Day week like the State Council announces: Thursday 1 to Wednesday 7 October
    // off, Saturday 10 October worked instead.
    static let holidays: Set<String> = ["2026-10-01", "2026-10-02", "2026-10-05", "2026-10-06", "2026-10-07"]
    static let workdays: Set<String> = ["2026-10-10"]

    @Test func workingDaysSkipWeekendsHolidaysAndCountMakeUpDays() {
        // Wednesday 30 September plus 3 working days.
        #expect(TongNode.addWorkingDays(3, to: "2026-09-30") == "2026-10-05")
        #expect(TongNode.addWorkingDays(3, to: "2026-09-30", holidays: Self.holidays, workdays: Self.workdays) == "2026-10-10")
        #expect(TongNode.addWorkingDays(1, to: "2026-10-09", holidays: Self.holidays, workdays: Self.workdays) == "2026-10-10")
        #expect(TongNode.addWorkingDays(1, to: "2026-10-09") == "2026-10-12")
        // A holiday on a weekend changes nothing; a year boundary is crossed.
        #expect(TongNode.addWorkingDays(2, to: "2026-12-31", holidays: ["2027-01-01"]) == "2027-01-05")
        #expect(TongNode.addWorkingDays(1, to: "2026-10-02", holidays: ["2026-10-03"]) == "2026-10-05")
    }

    @Test func nodeTomlCarriesTheCalendarAndRefusesBadDates() throws {
        let base = """
            id = "330000"
            http = "127.0.0.1:0"
            peer = "127.0.0.1:0"
            [feedback]
            consultation_days = 5

            """
        let c = try NodeConfiguration.parse(
            toml: base + """
                holidays = ["2026-10-01", "2026-10-02"]
                workdays = ["2026-10-10"]
                """)
        #expect(c.holidays == ["2026-10-01", "2026-10-02"] && c.workdays == ["2026-10-10"] && c.dueDays["consultation"] == 5)
        let again = try NodeConfiguration.parse(toml: c.toTOML())
        #expect(again.holidays == c.holidays && again.workdays == c.workdays && again.dueDays == c.dueDays)
        #expect(try NodeConfiguration.parse(toml: base).holidays.isEmpty)
        for bad in [
            "holidays = [\"2026-13-01\"]", "holidays = \"2026-10-01\"", "workdays = [20261010]",
            "holidays = [\"2026-10-01\"]\nworkdays = [\"2026-10-01\"]",
        ] {
            #expect(throws: NodeError.self, "\(bad)") { _ = try NodeConfiguration.parse(toml: base + bad) }
        }
    }
}
