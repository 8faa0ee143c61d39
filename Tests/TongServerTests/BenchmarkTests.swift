import Crypto
import Foundation
import Testing
import TongCore
import TongStore

@testable import TongDomain
@testable import TongServer
@testable import TongTools

@Suite struct BenchmarkTests {
    @Test func corpusIsDeterministic() {
        let a = CorpusGenerator(seed: 42, owner: "330000"), b = CorpusGenerator(seed: 42, owner: "330000")
        for i in [0, 1, 999, 123_456] { #expect(a.policy(i) == b.policy(i)) }
        #expect(a.policy(1) != a.policy(2))
        #expect(CorpusGenerator(seed: 43, owner: "330000").policy(1) != a.policy(1))
    }

    @Test func corpusLooksLikeChinesePolicies() throws {
        let g = CorpusGenerator(seed: 1, owner: "330000")
        for i in 0..<200 {
            let p = g.policy(i)
            let body = try #require(p["body"]?.stringValue)
            #expect((150...400).contains(body.count), "body of \(i) has \(body.count) characters")
            #expect(body.unicodeScalars.filter { (0x4E00...0x9FFF).contains($0.value) }.count > body.count / 2)
            let docNumber = try #require(p["doc_number"]?.stringValue)
            #expect(DocNumber.hasYearPattern(docNumber), "\(docNumber)")
            #expect(p["department"]?.stringValue?.hasPrefix("330000-") == true)
            #expect(Validation.divisionCode(p["region"]?.stringValue ?? ""))
        }
    }

    @Test func searchFindsGeneratedText() throws {
        let dir = NSTemporaryDirectory() + "tong-bench-test-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let topology = try Topology(federation: "t", nodes: [.init(id: "100000", name: "国家"), .init(id: "330000", name: "浙江", parent: "100000")])
        let db = try TongDatabase(path: dir + "/t.sqlite", nodeID: "330000", now: 1)
        let g = CorpusGenerator(seed: 5, owner: "330000")
        let writes = (0..<300).map { LocalWrite(id: nil, kind: .policy, owner: "330000", scope: .owned("330000"), fields: g.policy($0)) }
        _ = try db.write(
            writes, signer: ChangeSigner(nodeID: "330000", key: P256.Signing.PrivateKey(), certificateDER: [1]), topology: topology, now: 1)
        var req = SearchRequest()
        req.q = "企业"
        #expect(try db.search(req).total > 100)
        // A two-character word taken from a generated title is found in that very record.
        let title = try #require(g.policy(17)["title"]?.stringValue)
        req.q = String(title.dropFirst(2).prefix(2))
        req.limit = 100
        let hits = try db.search(req)
        #expect(hits.total > 0)
        req.q = title
        #expect(try db.search(req).hits.contains { $0.record.state["title"]?.stringValue == title })
        req.q = ""
        req.theme = "rent_relief"
        #expect(try db.search(req).total > 0)
        try db.close()
    }
}
