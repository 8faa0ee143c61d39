import Foundation
import TongCore
import TongDomain

extension Benchmark {
    /// What the convergence scenario measured.
    struct ConvergenceFigures: Sendable {
        var nodes: Int
        var writes: Int
        var p50: Double
        var p99: Double
        var max: Double
    }

    /// A four-tier tree: the national node, two provinces, two cities each, one or two
    /// counties per city (13 nodes); the quick tree has one city per province (7 nodes).
    static func convergenceTopology(quick: Bool) -> String {
        var tree: [(id: String, name: String, parent: String?)] = [("100000", "国家政务服务平台", nil)]
        let provinces: [(String, String, [(String, String, [(String, String)])])] = [
            ("330000", "浙江省", [("330100", "杭州市", [("330106", "西湖区"), ("330108", "滨江区")]), ("330200", "宁波市", [("330203", "海曙区")])]),
            ("320000", "江苏省", [("320100", "南京市", [("320102", "玄武区"), ("320104", "秦淮区")]), ("320500", "苏州市", [("320506", "吴中区")])]),
        ]
        for (p, pn, cities) in provinces {
            tree.append((p, pn, "100000"))
            for (c, cn, counties) in cities.prefix(quick ? 1 : 2) {
                tree.append((c, cn, p))
                for (k, kn) in counties.prefix(quick ? 1 : 2) { tree.append((k, kn, c)) }
            }
        }
        var text = "federation = \"bench\"\n"
        for n in tree {
            text += "\n[[node]]\nid = \"\(n.id)\"\nname = \"\(n.name)\"\n"
            if let p = n.parent { text += "parent = \"\(p)\"\n" }
            text += "  [[node.department]]\n  id = \"\(n.id)-gov\"\n  name = \"\(n.name)人民政府办公厅\"\n"
        }
        return text
    }

    /// Real nodes on loopback with mutual TLS; policies are created at the leaves and at the
    /// root at a steady pace (one every 100 ms), and each write is timed until every node that
    /// must hold it (Topology.holds) has it, polled in-process every 2 ms.
    static func runConvergence(quick: Bool, writes total: Int, dir: String) async throws -> ConvergenceFigures {
        let fed = try LocalFederation(
            topologyText: convergenceTopology(quick: quick), root: dir, freePorts: true, syncIntervalMs: 1_000,
            logger: quietLogger)
        let topology = fed.topology
        let nodeCount = topology.nodes.count
        progress("convergence: starting \(nodeCount) nodes on loopback (mutual TLS)")
        let leaves = topology.nodes.map(\.id).filter { topology.children(of: $0).isEmpty }
        let writers = [topology.root] + leaves
        var latencies: [Double] = []
        // Stopped gracefully when done: cancelling servers can trap in NIOAsyncWriter on a
        // connection accepted but not yet served (swift-nio #3481).
        let running = Task { try await fed.run() }
        do {
            try await DemoRunner.waitUntil(seconds: 30) { fed.servers.values.allSatisfy { $0.httpPort != nil && $0.peerPort != nil } }
            // Start measuring once the directory (every node's departments) is everywhere.
            try await DemoRunner.waitUntil(seconds: 60) {
                try fed.nodes.values.allSatisfy { try ($0.db.counts()["department"] ?? 0) == nodeCount }
            }
            progress("convergence: directory converged; \(total) writes at the root and \(leaves.count) leaves")

            struct Pending {
                var id: String; var owner: String; var missing: [String]; var start: ContinuousClock.Instant
                var arrivals: [(String, Double)] = []
            }
            // TONG_BENCH_CONVERGENCE_TRACE=40 prints each write slower than 40 ms with the time it reached each node.
            let trace = ProcessInfo.processInfo.environment["TONG_BENCH_CONVERGENCE_TRACE"].flatMap(Double.init)
            let clock = ContinuousClock()
            var pending: [Pending] = []
            var issued = 0
            var nextAt = clock.now
            while latencies.count < total {
                let now = clock.now
                if issued < total, now >= nextAt {
                    let owner = writers[issued % writers.count]
                    let node = fed.nodes[owner]!
                    let body: JSONValue = .object(
                        CorpusGenerator(seed: 3, owner: owner).createBody(issued).filter { $0.key != "department" }
                            .merging(["department": .string("\(owner)-gov"), "region": .string(owner)]) { _, b in b })
                    let start = clock.now
                    let r = try node.create(kind: .policy, body: body, by: .admin)
                    pending.append(
                        Pending(id: r.id, owner: owner, missing: topology.holders(ofRecordOwnedBy: owner).filter { $0 != owner }, start: start))
                    issued += 1
                    nextAt = nextAt + .milliseconds(100)
                }
                var k = 0
                while k < pending.count {
                    let id = pending[k].id
                    let arrived = pending[k].missing.filter { ((try? fed.nodes[$0]!.db.record(id)) ?? nil) != nil }
                    if !arrived.isEmpty {
                        let at = milliseconds(clock.now - pending[k].start)
                        pending[k].arrivals += arrived.map { ($0, at) }
                        pending[k].missing.removeAll { arrived.contains($0) }
                    }
                    if pending[k].missing.isEmpty {
                        latencies.append(milliseconds(clock.now - pending[k].start))
                        if let trace, latencies[latencies.count - 1] > trace {
                            let path = pending[k].arrivals.map { "\($0.0)@\(num($0.1))" }.joined(separator: " ")
                            let ms = num(latencies[latencies.count - 1])
                            progress("convergence: slow write #\(latencies.count) from \(pending[k].owner): \(ms) ms: \(path)")
                        }
                        pending.remove(at: k)
                    } else if clock.now - pending[k].start > .seconds(60) {
                        throw NodeError.config("bench: \(id) did not reach \(pending[k].missing.joined(separator: ", ")) within 60 s")
                    } else {
                        k += 1
                    }
                }
                try await Task.sleep(for: .milliseconds(2))
            }
        } catch {
            await fed.shutdown()
            _ = try? await running.value
            throw error
        }
        await fed.shutdown()
        _ = try? await running.value
        let figures = ConvergenceFigures(
            nodes: nodeCount, writes: latencies.count, p50: percentile(latencies, 50), p99: percentile(latencies, 99),
            max: latencies.max() ?? .nan)
        progress("convergence: p50 \(num(figures.p50)) ms, p99 \(num(figures.p99)) ms")
        return figures
    }
}
