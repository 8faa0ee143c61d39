import Crypto
import Foundation
import TongCore
import TongDomain
import TongPeer
import TongStore

extension Benchmark {
    /// What the search scenario measured.
    struct SearchFigures: Sendable {
        var records: Int
        var loadSeconds: Double
        var databaseMB: Double
        var queries: Int
        var p50: Double
        var p99: Double
        var byKind: [(name: String, count: Int, p50: Double, p99: Double)]
        var peakMB: Double
        /// Seconds to seal the postings segments after loading (`TongDatabase.buildPostings`; a
        /// running node does it in the background), and how many were ready then.
        var postingsSeconds: Double = 0
        var postingsSegments = 0
        /// Records loaded per second; 0 when a kept corpus was reused (`TONG_BENCH_SEARCH_DB`: nothing loaded).
        var loadPerSecond: Double { loadSeconds > 1 ? Double(records) / loadSeconds : 0 }
    }

    /// The query mix: each kind gets an equal share of the queries, cycling through its list.
    static let searchQueries: [(kind: String, requests: [SearchRequest])] = {
        func req(_ q: String, theme: String? = nil, region: String? = nil) -> SearchRequest {
            var r = SearchRequest()
            r.q = q; r.theme = theme; r.region = region
            return r
        }
        return [
            ("common_word", ["企业", "社保", "补贴", "租金", "减免", "贷款", "缓缴", "稳岗", "增值税", "复工复产"].map { req($0) }),
            ("rare_word", ["区块链", "冷链物流", "跨境电商", "专精特新", "首台套", "海外仓"].map { req($0) }),
            ("latin_digits", ["LPR", "5G", "2021", "LPR 贴息"].map { req($0) }),
            (
                "filter",
                [
                    req("", theme: "rent_relief", region: "330100"), req("", theme: "social_insurance"), req("", region: "330106"),
                    req("", theme: "utilities", region: "330200"),
                ]
            ),
            (
                "word_filter",
                [
                    req("社保", theme: "social_insurance", region: "330100"), req("租金", region: "330106"),
                    req("贴息", theme: "finance_tax"), req("个体工商户", theme: "rent_relief", region: "330000"),
                ]
            ),
        ]
    }()

    /// Loads `records` synthetic policies into one node's database through the normal local
    /// write path (`TongDatabase.write`, chunks of 2,000: merged, projected, signed and
    /// logged like any write), the next chunk generated on the other core meanwhile; then
    /// times keyword, filter and facet queries.
    static func runSearch(records n: Int, queries: Int, dir: String) async throws -> SearchFigures {
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        resetPeak()
        let now = Date()
        let ca = try FederationCA.create(federation: "bench", now: now)
        let cred = try FederationCA.issueNode(nodeID: "330000", nodeName: "浙江省", ca: ca, now: now)
        let creds = try PeerCredentials(caPEM: ca.certificatePEM, certificatePEM: cred.certificatePEM, privateKeyPEM: cred.privateKeyPEM)
        let signer = ChangeSigner(
            nodeID: "330000", key: try P256.Signing.PrivateKey(pemRepresentation: cred.privateKeyPEM),
            certificateDER: creds.certificateDER)
        let topology = try Topology(
            federation: "bench",
            nodes: [
                .init(id: "100000", name: "国家政务服务平台"),
                .init(
                    id: "330000", name: "浙江省", parent: "100000",
                    departments: CorpusGenerator.standardDepartments.map { .init(id: "330000-\($0.slug)", name: "浙江省\($0.name)") }),
            ])
        // TONG_BENCH_SEARCH_DB keeps the corpus at that path and reuses it on the next run
        // (to profile queries without reloading); the figures in the docs load afresh.
        let keep = ProcessInfo.processInfo.environment["TONG_BENCH_SEARCH_DB"]
        let path = keep ?? dir + "/search.sqlite"
        let reuse = keep.map { FileManager.default.fileExists(atPath: $0) } ?? false
        let db = try TongDatabase(path: path, nodeID: "330000", now: TongNode.now())
        defer { try? db.close() }
        let generator = CorpusGenerator(seed: 7, owner: "330000")
        let chunk = 2_000
        @Sendable func writes(_ first: Int) -> [LocalWrite] {
            (first..<min(n, first + chunk)).map {
                LocalWrite(id: nil, kind: .policy, owner: "330000", scope: .owned("330000"), fields: generator.policy($0))
            }
        }

        progress("search: loading \(n) policies")
        let clock = ContinuousClock()
        let t0 = clock.now
        // Nothing generated for a kept corpus: the generator would share the cores with the timed queries.
        var next = Task { reuse ? [] : writes(0) }
        var first = reuse ? n : 0
        if reuse { progress("search: reusing the corpus at \(path) (load figures are void)") }
        var lastReport = t0
        while first < n {
            let batch = await next.value
            let following = first + chunk
            if following < n { next = Task { writes(following) } }
            _ = try db.write(batch, signer: signer, topology: topology, now: TongNode.now())
            first = following
            if clock.now - lastReport > .seconds(15) || first >= n {
                lastReport = clock.now
                let s = seconds(clock.now - t0)
                progress("search: \(min(first, n)) loaded, \(num(Double(min(first, n)) / s, 0)) records/s, \(num(memory().rss, 0)) MB resident")
            }
        }
        let loadSeconds = seconds(clock.now - t0)
        // The postings a running node seals in the background (`PostingsService`), all at once
        // here. TONG_BENCH_POSTINGS=0 builds none and searches without them (FTS5 alone, as
        // before them) even where a kept corpus has some.
        let t1 = clock.now
        let postings = ProcessInfo.processInfo.environment["TONG_BENCH_POSTINGS"] != "0"
        if postings {
            while try db.buildPostings(limit: 8) > 0 {
                let summary = try db.postingsSummary()
                progress("search: postings: \(summary.ready) segments, \(summary.rows) rows, \(num(memory().rss, 0)) MB resident")
            }
        }
        let postingsSeconds = seconds(clock.now - t1)
        let postingsSegments = try db.postingsSummary().ready
        progress("search: postings: \(postingsSegments) segments ready, \(num(postingsSeconds)) s")
        try db.checkpoint()
        let databaseMB = fileMB(path)

        progress("search: \(queries) queries")
        var all: [Double] = []
        var byKind: [(String, Int, Double, Double)] = []
        let perKind = max(1, queries / searchQueries.count)
        // One untimed pass, as a running node would have served queries before.
        for (_, reqs) in searchQueries { for r in reqs { _ = try db.search(r) } }
        // TONG_BENCH_SEARCH_SLOW_MS=20 prints each query slower than that, with its monotonic
        // start and end (to find it in a perf recording).
        let slow = ProcessInfo.processInfo.environment["TONG_BENCH_SEARCH_SLOW_MS"].flatMap(Double.init)
        // TONG_BENCH_SEARCH_KINDS=rare_word,filter times only those kinds (to profile one of them).
        let kinds = ProcessInfo.processInfo.environment["TONG_BENCH_SEARCH_KINDS"].map { Set($0.split(separator: ",").map(String.init)) }
        for (kind, reqs) in searchQueries where kinds?.contains(kind) ?? true {
            var times: [Double] = []
            for k in 0..<perKind {
                var ts0 = timespec(); clock_gettime(CLOCK_MONOTONIC, &ts0)
                let t = clock.now
                var req = reqs[k % reqs.count]
                req.postings = postings
                let result = try db.search(req)
                times.append(milliseconds(clock.now - t))
                if let slow, times[times.count - 1] > slow {
                    // CLOCK_MONOTONIC, as `perf record -k CLOCK_MONOTONIC` stamps its samples.
                    var ts1 = timespec()
                    clock_gettime(CLOCK_MONOTONIC, &ts1)
                    let from = "\(ts0.tv_sec).\(String(format: "%09d", ts0.tv_nsec))", to = "\(ts1.tv_sec).\(String(format: "%09d", ts1.tv_nsec))"
                    progress("search: slow: \"\(reqs[k % reqs.count].q)\" \(num(times[times.count - 1])) ms, monotonic \(from) to \(to)")
                }
                if k < reqs.count, result.total == 0 {
                    progress("search: warning: \(kind) query \"\(reqs[k].q)\" found nothing")
                }
            }
            all += times
            byKind.append((kind, times.count, percentile(times, 50), percentile(times, 99)))
            progress("search: \(kind): p50 \(num(percentile(times, 50))) ms, p99 \(num(percentile(times, 99))) ms")
            for (i, r) in reqs.enumerated() {
                let mine = stride(from: i, to: times.count, by: reqs.count).map { times[$0] }
                let filters = [r.region.map { "region \($0)" }, r.theme.map { "theme \($0)" }].compactMap { $0 }.joined(separator: ", ")
                progress("search:   \"\(r.q)\" \(filters): p50 \(num(percentile(mine, 50))) ms, max \(num(mine.max() ?? .nan)) ms")
            }
        }
        let peak = memory().hwm
        return SearchFigures(
            records: n, loadSeconds: loadSeconds, databaseMB: databaseMB, queries: all.count, p50: percentile(all, 50),
            p99: percentile(all, 99), byKind: byKind, peakMB: peak, postingsSeconds: postingsSeconds, postingsSegments: postingsSegments)
    }
}
