import Testing
import TongCore

@Suite struct DivisionTests {
    @Test func coversBySubtree() {
        #expect(Division.covers("100000", "330106") && Division.covers("100000", "110000") && Division.covers("100000", "100000"))
        #expect(Division.covers("330000", "330000") && Division.covers("330000", "330100") && Division.covers("330000", "330106"))
        #expect(!Division.covers("330000", "310000") && !Division.covers("330000", "100000"))
        #expect(Division.covers("330100", "330106") && Division.covers("330100", "330100"))
        #expect(!Division.covers("330100", "330206") && !Division.covers("330100", "330000"))
        #expect(Division.covers("330106", "330106"))
        #expect(!Division.covers("330106", "330107") && !Division.covers("330106", "330100"))
    }

    @Test func invalidCodesCoverNothing() {
        #expect(!Division.covers("990000", "990101"))
        #expect(!Division.covers("330000", "33010x"))
        #expect(!Division.covers("100000", ""))
    }
}
