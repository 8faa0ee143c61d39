import Foundation
import Logging
import Testing
import TongCore

@testable import TongDomain
@testable import TongServer
@testable import TongTools

/// `tong policy import`: LF and CRLF files, one error per bad line with its line number and the
/// byte offset of the problem, the good lines imported; date and limit messages that state the rule.
@Suite struct PolicyImportTests {
    static func node() throws -> TongNode {
        let node = try TongNode.open(home: try TestTree.singleHome("import"), logger: Logger(label: "test"))
        try node.publishDirectory()
        return node
    }

    static func line(_ title: String, body: String = "中小微企业可申请缓缴社保费。", issued: String = "2022-05-01") -> String {
        var v = policyBody(title, dept: "330000-hrss", body: body)
        if case .object(var o) = v {
            o["issued_on"] = .string(issued)
            v = .object(o)
        }
        return String(decoding: CanonicalJSON.encode(v), as: UTF8.self)
    }

    @Test func crlfAndLFFilesImportAlike() throws {
        let node = try Self.node()
        let lines = (0..<5).map { Self.line("第\($0)号政策") }
        let crlf = Array((lines.joined(separator: "\r\n") + "\r\n").utf8)
        let r = try node.importPolicies(jsonLines: crlf)
        #expect(r.errors == [])
        #expect(r.imported == 5)
        let lf = Array((lines.map { $0.replacingOccurrences(of: "号政策", with: "号通知") }.joined(separator: "\n")).utf8)
        #expect(try node.importPolicies(jsonLines: lf).imported == 5)
    }

    @Test func eachBadLineIsReportedWithItsPositionAndTheRestImported() throws {
        let node = try Self.node()
        let good = Self.line("好的政策")
        let bell = Self.line("含控制字符的政策", body: String(repeating: "稳岗返还。", count: 300) + "\u{7}" + "结束")
        let broken = #"{"title": "缺了括号""#
        let old = Self.line("一九四八年的政策", issued: "1948-12-31")
        let file = [good, bell, good, broken, "", old, good].joined(separator: "\r\n")
        let bytes = Array(file.utf8)
        let r = try node.importPolicies(jsonLines: bytes)
        #expect(r.imported == 3)
        #expect(r.errors.count == 3)
        // Line 2: the control character named, with its character position in the field.
        #expect(r.errors[0].hasPrefix("line 2, byte "))
        #expect(r.errors[0].hasSuffix(": body must not contain control characters (U+0007 at character 1501)"))
        #expect(Self.named(r.errors[0], in: bytes) == "\"body\"")
        // Line 4: malformed JSON, at the byte where it breaks (the end of the line).
        let lineStart4 = 2 * (good.utf8.count + 2) + bell.utf8.count + 2
        #expect(r.errors[1] == "line 4, byte \(lineStart4 + broken.utf8.count): invalid JSON: unexpected end in object")
        // Line 6 (line 5 is blank): the date rule stated.
        #expect(r.errors[2].hasPrefix("line 6, byte "))
        #expect(r.errors[2].contains("issued_on must be a date from 1949-01-01 to 2100-12-31"))
        // The byte offsets point into the file: the key named there.
        #expect(Self.named(r.errors[2], in: bytes) == "\"issued_on\"")
    }

    /// The JSON key that starts at the byte offset an error names ("line N, byte B: ...").
    static func named(_ error: String, in bytes: [UInt8]) -> String? {
        guard let b = Int(error.split(separator: " ")[3].dropLast()), b < bytes.count,
            let end = bytes[(b + 1)...].firstIndex(of: UInt8(ascii: "\""))
        else { return nil }
        return String(decoding: bytes[b...end], as: UTF8.self)
    }

    @Test func limitAboveTheCapIsTheCapAndDatesStateTheRule() async throws {
        try await withFederation(topology: TestTree.toml(["330000"])) { f in
            let capped = try await f.request("GET", "330000", "/api/v1/policies?limit=500")
            #expect(capped.status == 200)
            let huge = try await f.request("GET", "330000", "/api/v1/policies?limit=99999999999999999999999")
            #expect(huge.status == 200)
            let negative = try await f.request("GET", "330000", "/api/v1/policies?limit=-1")
            #expect(negative.status == 422)
        }
        #expect(PortalSite.totalText(10_000, exact: false) == "10,000+")
        #expect(PortalSite.totalText(1_234_567, exact: false) == "1,234,567+")
        #expect(PortalSite.totalText(9_999, exact: true) == "9999")
        #expect(SimpleDate.problem("1949-09-30") == nil)
        #expect(SimpleDate.problem("1948-12-31") == "must be a date from 1949-01-01 to 2100-12-31 (years 1949-2100)")
        #expect(SimpleDate.problem("2021-02-29") == "is not a real calendar date (month 01-12, a day that month has)")
        #expect(SimpleDate.problem("2021/02/01") == "must be a date written YYYY-MM-DD (e.g. 2020-02-06)")
    }
}
