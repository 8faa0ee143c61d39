/// An industry code of 国民经济行业分类 (GB/T 4754-2017): a section letter A-T, then optionally a two-digit division (大类),
/// a three-digit group (中类) or a four-digit class (小类), e.g. `C`, `C13`, `C131`, `C1311`.
/// Only the division is checked against its section; groups and classes are not checked against the full catalogue.
public struct IndustryCode: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// The section letter, `A`…`T`.
    public let section: Character
    /// The digits after the letter: empty, or 2-4 ASCII digits.
    public let digits: String

    /// The twenty sections of GB/T 4754-2017 with their Chinese names and the divisions (01-97) each owns.
    public static let sections: [(letter: Character, name: String, divisions: ClosedRange<Int>)] = [
        ("A", "农、林、牧、渔业", 1...5),
        ("B", "采矿业", 6...12),
        ("C", "制造业", 13...43),
        ("D", "电力、热力、燃气及水生产和供应业", 44...46),
        ("E", "建筑业", 47...50),
        ("F", "批发和零售业", 51...52),
        ("G", "交通运输、仓储和邮政业", 53...60),
        ("H", "住宿和餐饮业", 61...62),
        ("I", "信息传输、软件和信息技术服务业", 63...65),
        ("J", "金融业", 66...69),
        ("K", "房地产业", 70...70),
        ("L", "租赁和商务服务业", 71...72),
        ("M", "科学研究和技术服务业", 73...75),
        ("N", "水利、环境和公共设施管理业", 76...79),
        ("O", "居民服务、修理和其他服务业", 80...82),
        ("P", "教育", 83...83),
        ("Q", "卫生和社会工作", 84...85),
        ("R", "文化、体育和娱乐业", 86...90),
        ("S", "公共管理、社会保障和社会组织", 91...96),
        ("T", "国际组织", 97...97),
    ]

    /// Parses `s` strictly (upper-case letter, no spaces); nil when the letter is not A-T, the digit count is not 0, 2, 3 or 4,
    /// or the division does not belong to the letter's section.
    public init?(_ s: String) {
        let b = Array(s.utf8)
        guard let first = b.first, first >= UInt8(ascii: "A"), first <= UInt8(ascii: "T"),
              [1, 3, 4, 5].contains(b.count), b.dropFirst().allSatisfy(Validation.isDigit) else { return nil }
        let letter = Character(Unicode.Scalar(first))
        if b.count >= 3 {
            let division = Int(b[1] - 0x30) * 10 + Int(b[2] - 0x30)
            guard let entry = Self.sections.first(where: { $0.letter == letter }), entry.divisions.contains(division) else {
                return nil
            }
        }
        section = letter
        digits = String(decoding: b.dropFirst(), as: UTF8.self)
    }

    /// The two-digit division (大类) as a number, or nil for a bare section.
    public var division: Int? { digits.count >= 2 ? Int(digits.prefix(2)) : nil }

    /// 0 for a section, 2 for a division, 3 for a group, 4 for a class.
    public var depth: Int { digits.count }

    /// The Chinese name of the section, e.g. `住宿和餐饮业` for any `H…` code.
    public var sectionName: String {
        Self.sections.first { $0.letter == section }?.name ?? ""
    }

    /// Whether `other` is this code or one of its descendants: `C` covers `C13`, which covers `C1311`; nothing covers a coarser code.
    public func covers(_ other: IndustryCode) -> Bool {
        section == other.section && other.digits.hasPrefix(digits)
    }

    /// Whether this code's digits start with `prefix` (e.g. division `"51"`, group `"701"`) in the same section.
    public func isUnder(section s: Character, digits prefix: String) -> Bool {
        section == s && digits.hasPrefix(prefix)
    }

    /// Human-readable Chinese label: `H 住宿和餐饮业` for a section, `C13（制造业）` for anything deeper.
    public var label: String {
        digits.isEmpty ? "\(section) \(sectionName)" : "\(description)（\(sectionName)）"
    }

    /// The wire form, e.g. `C1311`.
    public var description: String { "\(section)\(digits)" }

    /// Orders by the wire form, which puts a parent before its children.
    public static func < (a: IndustryCode, b: IndustryCode) -> Bool { a.description < b.description }
}
