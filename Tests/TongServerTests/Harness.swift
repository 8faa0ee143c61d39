import Foundation
import Logging
import Synchronization
import Testing
import TongCore

@testable import TongDomain
@testable import TongServer
@testable import TongTools

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// The one tree every server test draws its federation from: national, two provinces, their
/// capitals and a Hangzhou district, each with its departments.
enum TestTree {
    /// A single-node home (330000) laid out in a fresh temporary folder named after `label`,
    /// with ports left to the system; nothing started.
    static func singleHome(_ label: String) throws -> NodeHome {
        let root = NSTemporaryDirectory() + "tong-\(label)-\(UUID().uuidString.prefix(8))"
        _ = try FederationLayout.create(topologyText: toml(["330000"]), out: root, force: true) { c in
            c.http = "127.0.0.1:0"
            c.peer = "127.0.0.1:0"
        }
        return NodeHome(path: root + "/330000")
    }

    static let nodes: [Topology.Node] = [
        .init(id: "100000", name: "国家政务服务平台", departments: [.init(id: "100000-mof", name: "财政部")]),
        .init(
            id: "330000", name: "浙江省", parent: "100000",
            departments: [
                .init(id: "330000-hrss", name: "浙江省人力资源和社会保障厅"), .init(id: "330000-dof", name: "浙江省财政厅"),
            ]),
        .init(id: "320000", name: "江苏省", parent: "100000", departments: [.init(id: "320000-dof", name: "江苏省财政厅")]),
        .init(id: "330100", name: "杭州市", parent: "330000", departments: [.init(id: "330100-hrss", name: "杭州市人力资源和社会保障局")]),
        .init(id: "320100", name: "南京市", parent: "320000", departments: [.init(id: "320100-tax", name: "南京市税务局")]),
        .init(id: "330106", name: "西湖区", parent: "330100", departments: [.init(id: "330106-commerce", name: "西湖区商务局")]),
    ]

    /// topology.toml of the nodes `only` (all when nil), in tree order; a node whose parent is
    /// left out becomes the root.
    static func toml(_ only: Set<String>? = nil, federation: String = "test") -> String {
        let kept = nodes.filter { only?.contains($0.id) ?? true }.map { n -> Topology.Node in
            var n = n
            if let p = n.parent, only?.contains(p) == false { n.parent = nil }
            return n
        }
        return try! Topology(federation: federation, nodes: kept).toTOML()
    }
}

/// A federation of real nodes on loopback for one test: real SQLite files, real mutual TLS,
/// real HTTP. Stops when the test's task ends.
final class TestFederation: @unchecked Sendable {
    let fed: LocalFederation
    var task: Task<Void, any Error>?
    /// Why the federation stopped running, if it did (a server that could not start).
    let failure = FailureNote()

    /// The whole test tree (see `TestTree`).
    static let demoTopology = TestTree.toml()

    init(topology: String = TestFederation.demoTopology, start: Bool = true) async throws {
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        let root = NSTemporaryDirectory() + "tong-test-\(UUID().uuidString.prefix(8))"
        // Webhook retries every 200 ms instead of 30 s: a test waits for them.
        fed = try LocalFederation(topologyText: topology, root: root, freePorts: true, syncIntervalMs: 500, logger: logger) {
            $0.webhookRetryBaseMs = 200
        }
        if start { try await self.start() }
    }

    func start() async throws {
        let fed = self.fed
        let failure = self.failure
        task = Task {
            do { try await fed.run() } catch {
                failure.note("\(error)")
                throw error
            }
        }
        do {
            try await DemoRunner.waitUntil(seconds: 60) { fed.servers.values.allSatisfy { $0.httpPort != nil && $0.peerPort != nil } }
        } catch {
            let ports = fed.servers.sorted { $0.key < $1.key }.map { "\($0.key) http=\($0.value.httpPort ?? -1) peer=\($0.value.peerPort ?? -1)" }
            print("DIAG listening: \(ports.joined(separator: ", ")); a server failed: \(failure.text ?? "no")")
            throw error
        }
        // Directory converged: every node knows every department.
        let departments = fed.topology.nodes.flatMap { $0.departments.map(\.id) }
        do {
            try await DemoRunner.waitUntil(seconds: 60) {
                fed.nodes.values.allSatisfy { n in departments.allSatisfy { n.department($0) != nil } }
            }
        } catch {
            for (id, n) in fed.nodes.sorted(by: { $0.key < $1.key }) {
                print(
                    "DIAG \(id) http=\(fed.servers[id]!.httpPort ?? -1) peer=\(fed.servers[id]!.peerPort ?? -1) "
                        + "status=\(String(decoding: CanonicalJSON.encode((try? n.syncStatus()) ?? nil), as: UTF8.self))"
                )
            }
            throw error
        }
    }

    func stop() async {
        await fed.shutdown()
        _ = try? await task?.value
    }

    deinit { task?.cancel() }

    func node(_ id: String) -> TongNode { fed.nodes[id]! }

    func has(_ node: String, _ record: String) -> Bool { ((try? fed.nodes[node]!.db.record(record)) ?? nil) != nil }

    /// One HTTP request to a node's API.
    /// `raw` bytes go as `contentType` (JSON unless a test says otherwise: the API takes nothing else).
    func request(
        _ method: String, _ node: String, _ path: String, token: String? = nil, body: JSONValue? = nil, raw: [UInt8]? = nil,
        contentType: String = "application/json"
    ) async throws
        -> (status: Int, json: JSONValue?, text: String, contentType: String)
    {
        var req = URLRequest(url: URL(string: "http://\(fed.http[node]!)\(path)")!)
        req.httpMethod = method
        if let token { req.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization") }
        if let body { req.httpBody = Data(CanonicalJSON.encode(body)); req.setValue("application/json", forHTTPHeaderField: "Content-Type") }
        if let raw { req.httpBody = Data(raw); req.setValue(contentType, forHTTPHeaderField: "Content-Type") }
        let (data, resp) = try await URLSession.shared.data(for: req)
        let http = resp as! HTTPURLResponse
        return (
            http.statusCode, try? JSONParser.parse(Array(data)), String(decoding: data, as: UTF8.self),
            http.value(forHTTPHeaderField: "Content-Type") ?? ""
        )
    }
}

/// Runs `body` against a fresh federation and always stops it before returning, so the next
/// test never meets this one's nodes.
func withFederation(topology: String = TestFederation.demoTopology, _ body: (TestFederation) async throws -> Void) async throws {
    // One federation at a time: six nodes each on two cores is enough load for timing-based waits.
    await FederationLock.shared.acquire()
    do {
        let f = try await TestFederation(topology: topology)
        do { try await body(f) } catch { await f.stop(); throw error }
        await f.stop()
    } catch {
        await FederationLock.shared.release()
        throw error
    }
    await FederationLock.shared.release()
}

/// The first failure of something running in the background.
final class FailureNote: Sendable {
    private let value = Mutex<String?>(nil)
    func note(_ s: String) { value.withLock { $0 = $0 ?? s } }
    var text: String? { value.withLock { $0 } }
}

/// A process-wide async lock for test federations.
actor FederationLock {
    static let shared = FederationLock()
    private var busy = false
    private var waiters: [CheckedContinuation<Void, Never>] = []

    func acquire() async {
        if !busy { busy = true; return }
        await withCheckedContinuation { waiters.append($0) }
    }

    func release() {
        if waiters.isEmpty { busy = false } else { waiters.removeFirst().resume() }
    }
}

/// A policy body for the API.
func policyBody(_ title: String, dept: String, body: String = "中小微企业可申请缓缴社保费。", themes: [String] = ["social_insurance"]) -> JSONValue {
    [
        "title": .string(title), "department": .string(dept), "issued_on": "2022-05-01", "doc_number": "国办发[2022]6号",
        "themes": .strings(themes), "tags": ["小微企业"], "body": .string(body), "source_url": "https://www.gov.cn/zhengce/",
    ]
}
