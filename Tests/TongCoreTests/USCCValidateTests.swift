import Testing
import TongCore

@Suite struct USCCValidateTests {
    /// Codes whose positions 17 and 18 were computed independently (Python) from the GB 11714 and GB 32100 formulas.
    static let valid = [
        "91110000600037341L", "91330106MA27XF6D24", "92440300L12345JY8M", "93310115MA1K3YJ07Q", "12100000400011374G",
        "52440300MJL123454Y", "Y1110105MA01ABCD5R", "N2330000123456788T", "A1100000MB0Q2T8R6H", "11100000000013127D",
        "91330106MA27XF6KXX", "91110000600037050H",
    ]

    /// Re-derives positions 17 and 18 so that a test breaks exactly one rule.
    func fix(_ head: String) -> String {
        let org = USCC.organizationCheckCharacter(for: String(head.dropFirst(8).prefix(8)))!
        let body = String(head.prefix(16)) + String(org)
        return body + String(USCC.checkCharacter(for: body)!)
    }

    func problem(_ s: String) -> USCCProblem? {
        if case .failure(let p) = USCC.validate(s) { return p }
        return nil
    }

    @Test(arguments: valid)
    func acceptsValidCodes(_ s: String) throws {
        let code = try USCC.validate(s).get()
        #expect(code.string == s)
        #expect(USCC.check(s) == .valid)
    }

    @Test func organizationCheckCharacters() {
        #expect(USCC.organizationCheckCharacter(for: "60003734") == "1")
        #expect(USCC.organizationCheckCharacter(for: "MA27XF6K") == "X")  // 11 − r = 10
        #expect(USCC.organizationCheckCharacter(for: "60003705") == "0")  // 11 − r = 11
        #expect(USCC.organizationCheckCharacter(for: "00000000") == "0")
        #expect(USCC.organizationCheckCharacter(for: "6000373") == nil)
        #expect(USCC.organizationCheckCharacter(for: "6000373a") == nil)
        #expect(fix("91330106MA27XF6D") == "91330106MA27XF6D24")
    }

    @Test func parts() throws {
        let c = try USCC.validate("91330106MA27XF6D24").get()
        #expect(c.authority == "9" && c.entityType == "1")
        #expect(c.division == "330106")
        #expect(c.organizationCode == "MA27XF6D2")
        #expect(c.entityKind == .enterprise)
        #expect(try USCC.validate("92440300L12345JY8M").get().entityKind == .individualBusiness)
        #expect(try USCC.validate("93310115MA1K3YJ07Q").get().entityKind == .cooperative)
        #expect(try USCC.validate("12100000400011374G").get().entityKind == .other)
        #expect(USCC.entityKind(of: "92") == .individualBusiness)
        #expect(USCC.entityKind(of: "9") == .other)
        #expect(USCCEntityKind.individualBusiness.rawValue == "individual_business")
    }

    @Test func syntax() {
        #expect(problem("") == .length(0))
        #expect(problem("91330106MA27XF6D2") == .length(17))
        #expect(problem("91330106MA27XF6D244") == .length(19))
        #expect(problem("91330106ma27xf6d24") == .lowerCase)
        #expect(problem("91330106MA27XI6D24") == .invalidCharacter(position: 14))
        #expect(problem("91330106MA27XF6D2Z") == .invalidCharacter(position: 18))
        #expect(problem("9133010６MA27XF6D24") == .invalidCharacter(position: 8))
        #expect(problem(" 1330106MA27XF6D24") == .invalidCharacter(position: 1))
    }

    @Test func placeholdersAndIDCardsAreRefusedWhateverTheirChecks() {
        #expect(USCC.check("000000000000000000") == .valid)
        #expect(problem("000000000000000000") == .allZeros)
        // An ID number (GB 11643 check 2) whose USCC checks at 17 and 18 also pass: only the ID rule refuses it.
        #expect(USCC.check("113301196001010592") == .valid)
        #expect(USCC.organizationCheckCharacter(for: "60010105") == "9")
        #expect(problem("113301196001010592") == .idCardNumber)
        #expect(problem("11010519491231002X") == .idCardNumber)
        #expect(problem("330110198507041233") == .idCardNumber)
        // The same digits with a wrong ID check are not an ID number; the USCC rules then refuse them.
        #expect(problem("330110198507041234") != .idCardNumber)
        #expect(problem("330110198507041234") != nil)
    }

    @Test func authority() {
        for a in ["0", "B", "X", "W"] {
            #expect(problem(fix(a + "1330106MA27XF6D")) == .unknownAuthority(Character(a)), "\(a)")
        }
        for a in ["1", "2", "3", "4", "5", "6", "7", "8", "A", "N", "Y"] {
            #expect(problem(fix(a + "1330106MA27XF6D")) == nil, "\(a)")
        }
    }

    @Test func entityType() {
        for t in ["0", "4", "9", "A", "Y"] {
            #expect(problem(fix("9" + t + "330106MA27XF6D")) == .unknownEntityType(authority: "9", type: Character(t)), "\(t)")
        }
        #expect(problem(fix("10330106MA27XF6D")) == .unknownEntityType(authority: "1", type: "0"))
        #expect(problem(fix("1A330106MA27XF6D")) == .unknownEntityType(authority: "1", type: "A"))
        #expect(problem(fix("19330106MA27XF6D")) == nil)  // 9 其他 under any authority but market regulation
        #expect(problem(fix("53330106MA27XF6D")) == nil)
    }

    @Test func division() {
        #expect(problem(fix("91990000MA27XF6D")) == .invalidDivision("990000"))
        #expect(problem(fix("91000000MA27XF6D")) == .invalidDivision("000000"))
        #expect(problem(fix("91AB0106MA27XF6D")) == .invalidDivision("AB0106"))
        #expect(problem(fix("9133010AMA27XF6D")) == .invalidDivision("33010A"))
        #expect(problem(fix("91100000MA27XF6D")) == nil)
    }

    @Test func checks() {
        // The older test vector passes position 18 but not position 17.
        #expect(USCC.check("91330106MA27XF6D4A") == .valid)
        #expect(problem("91330106MA27XF6D4A") == .organizationCheckMismatch(expected: "2"))
        let wrong17 = "91330106MA27XF6D3"
        #expect(problem(wrong17 + String(USCC.checkCharacter(for: wrong17)!)) == .organizationCheckMismatch(expected: "2"))
        #expect(problem("91330106MA27XF6D25") == .checkMismatch(expected: "4"))
        #expect(problem("91330106MA27XF6KX0") == .checkMismatch(expected: "X"))
    }

    @Test func chineseDetails() {
        let all: [USCCProblem] = [
            .length(3), .lowerCase, .invalidCharacter(position: 2), .allZeros, .idCardNumber, .unknownAuthority("0"),
            .unknownEntityType(authority: "9", type: "4"), .invalidDivision("990000"),
            .organizationCheckMismatch(expected: "X"), .checkMismatch(expected: "4"),
        ]
        #expect(Set(all.map(\.detail)).count == all.count)
        #expect(USCCProblem.length(17).detail.contains("17"))
        #expect(USCCProblem.checkMismatch(expected: "4").detail.contains("第18位"))
        #expect(USCCProblem.idCardNumber.detail.contains("身份证"))
    }
}
