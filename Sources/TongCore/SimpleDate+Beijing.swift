extension SimpleDate {
    /// The calendar date in Beijing (UTC+8, no daylight saving since 1991) at `ms` milliseconds
    /// since 1970-01-01T00:00:00Z: what "today" means for a policy's validity and a due date.
    /// Nil outside `SimpleDate.yearRange`.
    public init?(beijingMillis ms: Int64) {
        let days = Int((ms + 8 * 3_600_000).floorDiv(86_400_000))
        // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        self.init(year: yoe + era * 400 + (m <= 2 ? 1 : 0), month: m, day: d)
    }
}

extension Int64 {
    /// Division rounding toward negative infinity.
    fileprivate func floorDiv(_ d: Int64) -> Int64 {
        let q = self / d
        return (self % d != 0 && (self < 0) != (d < 0)) ? q - 1 : q
    }
}
