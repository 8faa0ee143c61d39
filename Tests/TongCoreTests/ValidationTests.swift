import Testing
import TongCore

@Suite struct ValidationTests {
    @Test func divisionCodes() {
        for ok in ["100000", "110000", "330106", "320100", "650000", "710000", "810000", "820000", "540000"] {
            #expect(Validation.divisionCode(ok), "\(ok)")
        }
        for bad in [
            "", "10000", "1000000", "100001", "160000", "240000", "380000", "470000", "550000",
            "660000", "720000", "830000", "000000", "99000a", "３３００００", " 330000", "330000 ",
        ] {
            #expect(!Validation.divisionCode(bad), "\(bad)")
        }
    }

    @Test func departmentIDs() throws {
        let p = try #require(Validation.departmentID("100000-mof"))
        #expect(p.node == "100000" && p.slug == "mof")
        #expect(Validation.departmentID("330106-tax-bureau-2")?.slug == "tax-bureau-2")
        #expect(Validation.departmentID("330000-" + String(repeating: "a", count: 48)) != nil)
        for bad in [
            "100000-", "100000", "100000-Mof", "100000--mof", "100000-mof-", "100000_mof",
            "990000-mof", "10000-mof", "100000-m of", "100000-财政", "330000-" + String(repeating: "a", count: 49),
        ] {
            #expect(Validation.departmentID(bad) == nil, "\(bad)")
        }
    }

    @Test func themesAndAudiences() {
        #expect(Theme.allCases.count == 7)
        #expect(Theme.resume_work.chineseName == "复工复产")
        #expect(Theme.utilities.chineseName == "水电气优惠")
        for (i, t) in Theme.allCases.enumerated() { #expect(t.bit == 1 << i) }
        #expect(Theme(rawValue: "rent_relief") == .rent_relief)
        #expect(Theme.themes(in: Theme.mask([.finance_tax, .other])) == [.finance_tax, .other])
        #expect(Audience.allCases.map(\.rawValue) == ["micro", "small", "individual", "medium"])
        #expect(Audience.individual.chineseName == "个体工商户")
        for (i, a) in Audience.allCases.enumerated() { #expect(a.bit == 1 << i) }
        #expect(Audience.audiences(in: 0b1010) == [.small, .medium])
    }

    @Test func dates() throws {
        #expect(Validation.date("2024-02-29"))
        #expect(!Validation.date("2023-02-29"))
        #expect(Validation.date("2000-02-29"))
        #expect(!Validation.date("1900-02-29"))
        #expect(Validation.date("1949-10-01"))
        #expect(Validation.date("2100-12-31"))
        for bad in [
            "1948-12-31", "2101-01-01", "2024-2-29", "2024-13-01", "2024-00-10", "2024-04-31",
            "2024-01-00", "20240101", "2024/01/01", "2024-01-01T00:00", " 2024-01-01", "２０２４-01-01", "",
        ] {
            #expect(!Validation.date(bad), "\(bad)")
        }
        let d = try #require(SimpleDate("2020-02-07"))
        #expect(d.year == 2020 && d.month == 2 && d.day == 7)
        #expect(d.description == "2020-02-07")
        #expect(try #require(SimpleDate("2020-02-07")) < (try #require(SimpleDate("2020-10-01"))))
        #expect(SimpleDate(year: 2023, month: 2, day: 29) == nil)
    }

    @Test func urls() {
        for ok in [
            "http://www.gov.cn", "https://www.gov.cn/zhengce/content/2020-02/07/content_5475846.htm",
            "https://127.0.0.1:8443/a?b=c#d", "http://localhost:8100/", "HTTPS://Example.COM",
            "https://[::1]:8080/x", "http://政府.cn/路径",
        ] {
            #expect(Validation.url(ok), "\(ok)")
        }
        for bad in [
            "", "www.gov.cn", "ftp://gov.cn", "javascript:alert(1)", "http://", "https:///path",
            "http://a b.cn", "http://gov.cn/\u{0}", "https://gov.cn/x\ny", "http://www.gov.cn@evil.example/",
            "http://gov.cn:0/", "http://gov.cn:65536/", "http://gov.cn:/", "http://999.1.1.1/",
            "https://" + String(repeating: "a", count: 2048), "http://-bad.cn/", "http://a..b/",
        ] {
            #expect(!Validation.url(bad), "\(bad)")
        }
    }

    @Test func phones() {
        for ok in [
            "13800138000", "19912345678", "010-12345678", "01012345678", "0571-8765432", "0571-87654321",
            "057187654321", "010-12345678-123", "0755-8888888-1",
        ] {
            #expect(Validation.phone(ok), "\(ok)")
        }
        for bad in [
            "", "12800138000", "1380013800", "138001380000", "+8613800138000", "10-12345678",
            "010-123456", "010-123456789", "010-12345678-", "010-12345678-1234567", "010 12345678",
            "１３８００１３８０００",
        ] {
            #expect(!Validation.phone(bad), "\(bad)")
        }
    }

    @Test func emails() {
        for ok in ["a@b.cn", "zhang.san+tag@gov.cn", "x_y@mail.zj.gov.cn"] {
            #expect(Validation.email(ok), "\(ok)")
        }
        for bad in [
            "", "a", "a@", "@b.cn", "a@b", "a@@b.cn", "a b@c.cn", ".a@b.cn", "a..b@c.cn", "a@b..cn",
            "a@-b.cn", "a@b.123", String(repeating: "a", count: 65) + "@b.cn",
            "a@" + String(repeating: "b", count: 250) + ".cn",
        ] {
            #expect(!Validation.email(bad), "\(bad)")
        }
    }

    @Test func text() {
        #expect(Validation.text("关于应对新冠肺炎疫情的通知", field: "title", min: 1, max: 200) == nil)
        #expect(Validation.text("一二三", field: "t", min: 1, max: 3) == nil)
        #expect(
            Validation.text("一二三四", field: "t", min: 1, max: 3)
                == ValidationIssue(field: "t", message: "must be at most 3 characters"))
        #expect(Validation.text("", field: "t", min: 1, max: 3)?.message == "must not be blank")
        #expect(Validation.text("   ", field: "t", min: 1, max: 3)?.message == "must not be blank")
        #expect(Validation.text("", field: "t", min: 0, max: 3) == nil)
        #expect(Validation.text("ab", field: "t", min: 3, max: 9)?.message == "must be at least 3 characters")
        #expect(Validation.text("a\nb\tc\r\n", field: "t", min: 0, max: 100) == nil)
        #expect(Validation.text("a\u{0}b", field: "body", min: 0, max: 100)?.field == "body")
        #expect(Validation.text("a\u{1B}[31m", field: "t", min: 0, max: 100) != nil)
        #expect(Validation.text("a\u{7F}", field: "t", min: 0, max: 100) != nil)
        // Characters, not scalars or bytes: a flag emoji is one.
        #expect(Validation.text("🇨🇳", field: "t", min: 1, max: 1) == nil)
    }
}
