/// A calendar date without time zone, parsed from strict `YYYY-MM-DD` (years 1949-2100).
public struct SimpleDate: Comparable, Hashable, Sendable, CustomStringConvertible, Codable {
    /// Gregorian year, 1949...2100.
    public let year: Int
    /// Month, 1...12.
    public let month: Int
    /// Day of month, valid for `month` and `year`.
    public let day: Int

    /// The earliest and latest accepted years; policy documents predate neither bound.
    public static let yearRange = 1949...2100

    /// Builds a date from components, or nil when it is not a real calendar date in range.
    public init?(year: Int, month: Int, day: Int) {
        guard Self.yearRange.contains(year), (1...12).contains(month),
            day >= 1, day <= Self.daysIn(month: month, year: year)
        else { return nil }
        self.year = year
        self.month = month
        self.day = day
    }

    /// Parses exactly `YYYY-MM-DD` with ASCII digits; anything looser (no padding, time suffix, spaces) is rejected.
    public init?(_ s: String) {
        let b = Array(s.utf8)
        guard b.count == 10, b[4] == UInt8(ascii: "-"), b[7] == UInt8(ascii: "-") else { return nil }
        func num(_ r: Range<Int>) -> Int? {
            var v = 0
            for i in r {
                let c = b[i]
                guard c >= 0x30, c <= 0x39 else { return nil }
                v = v * 10 + Int(c - 0x30)
            }
            return v
        }
        guard let y = num(0..<4), let m = num(5..<7), let d = num(8..<10) else { return nil }
        self.init(year: y, month: m, day: d)
    }

    /// Why `s` is not a `SimpleDate`, as a field message stating the rule it breaks (the form,
    /// a real calendar day, the years 1949-2100); nil when it is one.
    public static func problem(_ s: String) -> String? {
        if SimpleDate(s) != nil { return nil }
        let b = Array(s.utf8)
        let digits = [0, 1, 2, 3, 5, 6, 8, 9]
        guard b.count == 10, b[4] == UInt8(ascii: "-"), b[7] == UInt8(ascii: "-"), digits.allSatisfy({ b[$0] >= 0x30 && b[$0] <= 0x39 })
        else { return "must be a date written YYYY-MM-DD (e.g. 2020-02-06)" }
        let year = Int(String(decoding: b[0..<4], as: UTF8.self)) ?? 0
        if !yearRange.contains(year) {
            let (first, last) = (yearRange.lowerBound, yearRange.upperBound)
            return "must be a date from \(first)-01-01 to \(last)-12-31 (years \(first)-\(last))"
        }
        return "is not a real calendar date (month 01-12, a day that month has)"
    }

    /// Whether `year` is a Gregorian leap year.
    public static func isLeap(_ year: Int) -> Bool {
        (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
    }

    /// The number of days in `month` of `year`.
    public static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: isLeap(year) ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    /// The canonical `YYYY-MM-DD` form.
    public var description: String {
        func pad(_ v: Int, _ w: Int) -> String {
            let s = String(v)
            return String(repeating: "0", count: max(0, w - s.count)) + s
        }
        return "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))"
    }

    /// Orders chronologically.
    public static func < (a: SimpleDate, b: SimpleDate) -> Bool {
        (a.year, a.month, a.day) < (b.year, b.month, b.day)
    }

    /// Decodes from the `YYYY-MM-DD` string form so JSON stays human-readable.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        let s = try c.decode(String.self)
        guard let d = SimpleDate(s) else {
            throw DecodingError.dataCorruptedError(in: c, debugDescription: "expected YYYY-MM-DD, got \(s)")
        }
        self = d
    }

    /// Encodes as the `YYYY-MM-DD` string form.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(description)
    }
}
