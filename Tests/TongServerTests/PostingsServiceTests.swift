import Foundation
import Testing
import TongCore

@testable import TongDomain
@testable import TongStore

/// The node seals postings segments (`PostingsService`) as policies arrive, and its API answers
/// the same with them as without.
@Suite struct PostingsServiceTests {
    @Test func aNodeSealsSegmentsAsPoliciesArriveAndAnswersTheSame() async throws {
        try await withFederation(topology: TestTree.toml(["330000"])) { f in
            let node = f.node("330000")
            node.postingsSegmentRows.store(100, ordering: .relaxed)
            let lines = (0..<250).map { i in
                String(
                    decoding: CanonicalJSON.encode(
                        policyBody("第\(i)号稳岗通知", dept: "330000-hrss", body: i % 3 == 0 ? "个体工商户房租减免" : "缓缴社保费")),
                    as: UTF8.self)
            }
            #expect(try node.importPolicies(lines: lines).imported == 250)
            let q = "个体工商户".addingPercentEncoding(withAllowedCharacters: .alphanumerics)!
            // While writes flow, 250 rows are not the backlog of eight segments it waits for.
            #expect(await !node.buildPostingsSegment(whileWriting: true))
            let before = try await f.request("GET", "330000", "/api/v1/policies?q=" + q + "&limit=100")
            #expect(before.status == 200)
            // Two segments of 100; the last 50 policies stay with FTS5 until 100 more arrive.
            #expect(await node.buildPostingsSegment())
            #expect(await node.buildPostingsSegment())
            #expect(await !node.buildPostingsSegment())
            let summary = try node.db.postingsSummary()
            #expect(summary.ready == 2 && summary.rows == 200)
            let walks = node.db.searchPostingPasses.load(ordering: .relaxed)
            let after = try await f.request("GET", "330000", "/api/v1/policies?q=" + q + "&limit=100")
            #expect(node.db.searchPostingPasses.load(ordering: .relaxed) == walks + 1)
            #expect(after.json?["total"] == before.json?["total"] && after.json?["total"]?.intValue == 84)
            #expect(after.json?["items"] == before.json?["items"])
            let m = Sample.parse(try await f.request("GET", "330000", "/metrics").text)
            #expect(m.first { $0.name == "tong_search_postings_segments" && $0.labels["state"] == "ready" }?.value == 2)
            #expect(m.first { $0.name == "tong_search_postings_rows" }?.value == 200)
        }
    }
}
