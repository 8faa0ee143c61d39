import Testing
import TongCore

@Suite struct IndustryCodeTests {
    @Test func parses() throws {
        let c = try #require(IndustryCode("C1311"))
        #expect(c.section == "C" && c.digits == "1311")
        #expect(c.division == 13 && c.depth == 4)
        #expect(c.description == "C1311")
        #expect(IndustryCode("H")?.division == nil)
        #expect(IndustryCode("F5211")?.depth == 4)
        #expect(IndustryCode("K701")?.depth == 3)
    }

    @Test(arguments: ["", "c13", "U", "Z01", "C1", "C13111", "C 13", "C13a", "1311", "CC13", "C１３", "A", "T97"])
    func syntax(_ s: String) {
        let ok = ["A", "T97"].contains(s)
        #expect((IndustryCode(s) != nil) == ok, "\(s)")
    }

    /// Every division 01-97 is valid under exactly one letter, the one GB/T 4754-2017 gives it.
    @Test func divisionsBelongToTheirSection() {
        let owner: [ClosedRange<Int>: Character] = [
            1...5: "A", 6...12: "B", 13...43: "C", 44...46: "D", 47...50: "E", 51...52: "F", 53...60: "G", 61...62: "H",
            63...65: "I", 66...69: "J", 70...70: "K", 71...72: "L", 73...75: "M", 76...79: "N", 80...82: "O", 83...83: "P",
            84...85: "Q", 86...90: "R", 91...96: "S", 97...97: "T",
        ]
        for d in 0...99 {
            let expected = owner.first { $0.key.contains(d) }?.value
            let two = d < 10 ? "0\(d)" : "\(d)"
            for letter in "ABCDEFGHIJKLMNOPQRST" {
                let valid = IndustryCode("\(letter)\(two)") != nil
                #expect(valid == (letter == expected), "\(letter)\(two)")
                #expect((IndustryCode("\(letter)\(two)11") != nil) == valid, "\(letter)\(two)11")
            }
        }
        #expect(IndustryCode.sections.count == 20)
    }

    @Test func covers() throws {
        let c = try #require(IndustryCode("C")), c13 = try #require(IndustryCode("C13"))
        let c131 = try #require(IndustryCode("C131")), c1311 = try #require(IndustryCode("C1311"))
        let c14 = try #require(IndustryCode("C14")), h = try #require(IndustryCode("H"))
        #expect(c.covers(c13) && c.covers(c131) && c.covers(c1311) && c13.covers(c1311) && c131.covers(c1311))
        #expect(c13.covers(c13))
        #expect(!c13.covers(c) && !c1311.covers(c131))
        #expect(!c13.covers(c14) && !c14.covers(c1311))
        #expect(!h.covers(c13) && !c.covers(h))
        #expect(try #require(IndustryCode("I65")).isUnder(section: "I", digits: "65"))
    }

    @Test func names() throws {
        #expect(try #require(IndustryCode("H")).label == "H 住宿和餐饮业")
        #expect(try #require(IndustryCode("C13")).label == "C13（制造业）")
        #expect(try #require(IndustryCode("I6510")).sectionName == "信息传输、软件和信息技术服务业")
        #expect(try #require(IndustryCode("A01")).sectionName == "农、林、牧、渔业")
        #expect(try #require(IndustryCode("T")).sectionName == "国际组织")
        #expect(Set(IndustryCode.sections.map(\.name)).count == 20)
        #expect(try #require(IndustryCode("C13")) < (try #require(IndustryCode("C1311"))))
    }
}
