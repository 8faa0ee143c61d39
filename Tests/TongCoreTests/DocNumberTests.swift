import Testing
import TongCore

@Suite struct DocNumberTests {
    @Test(arguments: [
        "国办发[2020]6号", "国办发（2020）6号", "国办发(2020)6号", "国办发［2020］6号", "国办发〔2020〕6号",
        "国办发【2020】6号", "国办发﹝2020﹞6号", "  国办发〔2020〕6号 ", "国办发〔２０２０〕６号", "国办发 [ 2020 ] 6 号",
        "国办发(2020]6号",
    ])
    func bracketForms(_ input: String) {
        #expect(DocNumber.normalize(input) == "国办发〔2020〕6号")
    }

    @Test func otherForms() {
        #expect(DocNumber.normalize("浙政办发[2020]12号") == "浙政办发〔2020〕12号")
        #expect(DocNumber.normalize("财税  [2020]  13号") == "财税〔2020〕13号")
        #expect(DocNumber.normalize("人社部  明电\t2020\n第 5 期") == "人社部 明电 2020 第 5 期")
        #expect(DocNumber.normalize("公告 2020 年第８号") == "公告 2020 年第8号")
        #expect(DocNumber.normalize("国办发(20201)6号") == "国办发(20201)6号")
        #expect(DocNumber.normalize("(2020)") == "(2020)")
        #expect(DocNumber.hasYearPattern("国办发[2020]6号"))
        #expect(!DocNumber.hasYearPattern("国办发2020年6号"))
    }

    @Test func rejects() {
        #expect(DocNumber.normalize("") == nil)
        #expect(DocNumber.normalize("  \t ") == nil)
        #expect(DocNumber.normalize("国办发\u{0}〔2020〕6号") == nil)
        #expect(DocNumber.normalize("国办发\u{1B}〔2020〕6号") == nil)
        #expect(DocNumber.normalize(String(repeating: "文", count: 65)) == nil)
        #expect(DocNumber.normalize(String(repeating: "文", count: 64)) != nil)
    }

    /// Numbers already in normal form take a one-pass shortcut; it must agree with the full rules.
    @Test func normalFormsComeBackUnchanged() {
        for s in ["国办发〔2020〕6号", "浙人社发〔2022〕15号", "ABC-12/3", "〔2020〕", "国办发〔20201〕6号", "财税〔2020〕1234567890123号"] {
            #expect(DocNumber.normalize(s) == s, "\(s)")
        }
        #expect(DocNumber.normalize("国办发〔2020]6号") == "国办发〔2020〕6号")
        #expect(DocNumber.normalize("国办发〔2020〕６号") == "国办发〔2020〕6号")
        #expect(DocNumber.normalize(String(repeating: "a", count: 65)) == nil)
        #expect(DocNumber.normalize(String(repeating: "a", count: 64)) == String(repeating: "a", count: 64))
    }

    /// URLs: ASCII is decided byte by byte, anything else by Unicode's whitespace property.
    @Test func urlWhitespaceAndControls() {
        #expect(Validation.url("https://www.gov.cn/zhengce/content/2020-02/06.htm"))
        #expect(!Validation.url("https://www.gov.cn/a b"))
        #expect(!Validation.url("https://www.gov.cn/a\tb"))
        #expect(!Validation.url("https://www.gov.cn/a\u{7F}"))
        #expect(!Validation.url("https://www.gov.cn/a\u{85}"))
        #expect(!Validation.url("https://www.gov.cn/a\u{3000}"))
        #expect(Validation.url("https://www.gov.cn/政策"))
    }
}
