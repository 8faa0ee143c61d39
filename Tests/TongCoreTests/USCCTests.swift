import Testing
import TongCore

@Suite struct USCCTests {
    @Test func referenceVectors() {
        #expect(USCC.check("91110000600037341L") == .valid)
        #expect(USCC.check("91110000600037341X") == .checkMismatch(expected: "L"))
    }

    @Test func computedValidCodes() {
        // Check characters computed independently (Python) from the GB 32100-2015 formula.
        for ok in [
            "91330106MA27XF6D4A", "12100000400011373D", "52440300MJL1234565", "93310115MA1K3YJ04F",
            "11100000000013127D",
        ] {
            #expect(USCC.check(ok) == .valid, "\(ok)")
        }
        #expect(USCC.checkCharacter(for: "91110000600037341") == "L")
        #expect(USCC.checkCharacter(for: "9111000060003734") == nil)
        #expect(USCC.check("91330106MA27XF6D40") == .checkMismatch(expected: "A"))
    }

    @Test func malformed() {
        func isMalformed(_ s: String) -> String? {
            if case .malformed(let m) = USCC.check(s) { return m }
            return nil
        }
        #expect(isMalformed("")?.contains("18") == true)
        #expect(isMalformed("91110000600037341") != nil)
        #expect(isMalformed("91110000600037341LL") != nil)
        #expect(isMalformed("91110000600037341l")?.contains("upper-case") == true)
        #expect(isMalformed("91330106ma27xf6d4a")?.contains("upper-case") == true)
        for letter in ["I", "O", "S", "V", "Z"] {
            let m = isMalformed("9111000060003734" + letter + "L")
            #expect(m?.contains(letter) == true, "\(letter)")
        }
        #expect(isMalformed("9111000060003734１L") != nil)
        #expect(isMalformed("91110000-00037341L") != nil)
        #expect(isMalformed(" 1110000600037341L") != nil)
    }
}
