import Crypto
import Foundation
import Hummingbird
import Logging
import Synchronization
import TongCore
import TongDomain
import TongPeer
import TongStore

extension Benchmark {
    /// What the delivery scenario measured.
    struct DeliveryFigures: Sendable {
        /// Enterprises registered at the county node.
        var enterprises: Int
        /// Of them, those the new policy fits (outbox entries written).
        var matched: Int
        /// Seconds to apply the pushed set: verify, merge, match every enterprise, write the outbox.
        var applySeconds: Double
        /// Webhook deliveries sent to the local receiver.
        var webhooks: Int
        /// Seconds until every webhook delivery was acknowledged.
        var webhookSeconds: Double
        var webhooksPerSecond: Double { Double(webhooks) / webhookSeconds }
    }

    static let deliveryTopology =
        applyTopology + """

            [[node]]
            id = "330106"
            name = "西湖区"
            parent = "330100"

              [[node.department]]
              id = "330106-commerce"
              name = "西湖区商务局"
            """

    /// 送达 at a county node (330106) with `enterprises` registered profiles (a seeded mix of
    /// industries and sizes; the first `webhooks` of them with a webhook to a receiver on
    /// loopback): the national node's new policy arrives as a pushed, signed set, and is applied
    /// as the push route applies it, which matches it against every profile and writes the
    /// outbox in the same transaction. Then the delivery service sends the webhook entries.
    static func runDelivery(enterprises n: Int, webhooks: Int, dir: String) async throws -> DeliveryFigures {
        progress("delivery: laying out a county node with \(n) registered enterprises")
        _ = try FederationLayout.create(topologyText: deliveryTopology, out: dir, force: true)
        let county = try TongNode.open(home: NodeHome(path: dir + "/330106"), logger: quietLogger)
        defer { try? county.db.close() }
        let receiver = try await BenchWebhookReceiver()
        var rng = SplitMix64(seed: 7)
        let industries = ["H6210", "H6110", "F5211", "F5121", "C1311", "C3411", "I6510", "L7211", "E4710", "A0111"]
        let now = TongNode.now()
        var rows: [EnterpriseRow] = []
        rows.reserveCapacity(n)
        for i in 0..<n {
            let industry = industries[Int(rng.next() % UInt64(industries.count))]
            let employees = Int(rng.next() % 400), revenue = Int(rng.next() % 30_000), assets = Int(rng.next() % 20_000)
            let size = EnterpriseSize.classify(
                industry: IndustryCode(industry)!, employees: employees, revenueWan: Double(revenue),
                assetsWan: Double(assets))
            let body = String(format: "MA%07d", i)
            let uscc = "91330106" + body + "0"  // not a valid code: the bench registers below the API's validation
            rows.append(
                EnterpriseRow(
                    id: "330106-ent-\(i)", uscc: uscc, tokenHash: "bench\(i)", name: "企业\(i)", region: "330106", industry: industry,
                    employees: employees, revenueWan: revenue, assetsWan: assets, establishedOn: "2018-06-01", taxpayer: "small_scale",
                    sizeClass: size.rawValue, contact: ["name": "联系人", "phone": "13900000000"],
                    webhookURL: i < webhooks ? receiver.url : nil,
                    webhookSecret: i < webhooks ? "whsec_" + Data(repeating: 7, count: 32).base64EncodedString() : nil,
                    createdAt: now, updatedAt: now))
        }
        try county.db.registerAll(rows)
        rows = []

        // The national node's policy, signed, pushed down as 330100 would relay it.
        let creds = try PeerCredentials.load(home: dir + "/100000")
        let signer = ChangeSigner(
            nodeID: "100000", key: try P256.Signing.PrivateKey(pemRepresentation: creds.privateKeyPEM),
            certificateDER: creds.certificateDER)
        let policy: [String: JSONValue] = [
            "title": "关于支持小微餐饮和零售企业的房租补贴通知", "department": "100000-mof", "region": "100000", "issued_on": "2026-01-05",
            "effective_from": "2026-01-05", "themes": ["rent_relief"], "tags": [], "audiences": ["micro", "small", "individual"],
            "body": "对小微餐饮和零售企业给予房租补贴。", "doc_number": "", "status": "active",
            "eligibility": ["regions": ["330000"], "industries": ["H", "F52"], "size_classes": ["micro", "small"]],
        ]
        let set = try signer.sign(
            ChangeSet(
                origin: "100000", scope: .owned("100000"), createdAt: now,
                changes: [
                    Change(record: "100000-p1", kind: .policy, owner: "100000", counter: 1, at: now, context: VersionVector(), fields: policy)
                ]))
        let push = PushBody(epoch: "bench-delivery", after: 0, upto: 1, sets: [set.wireBytes]).encoded()
        let clock = ContinuousClock()
        let t0 = clock.now
        let (outcome, _) = try county.receive(try PushBody(bytes: push), from: "330100")
        let applySeconds = seconds(clock.now - t0)
        guard outcome.applied == 1 else { throw NodeError.config("bench: the policy was not applied: \(outcome.rejected.first?.reason ?? "-")") }
        let pending = try county.db.dueDeliveries(now: .max, limit: .max).count
        let matched = try county.db.deliveryFigures().first?.enterprises ?? 0
        progress("delivery: matched \(matched) of \(n) enterprises in \(num(applySeconds * 1000)) ms; sending \(pending) webhooks")

        let service = Task { try await DeliveryService(node: county).run() }
        let t1 = clock.now
        while receiver.count < pending, clock.now - t1 < .seconds(300) { try await Task.sleep(for: .milliseconds(20)) }
        let webhookSeconds = seconds(clock.now - t1)
        service.cancel()
        _ = try? await service.value
        return DeliveryFigures(
            enterprises: n, matched: matched, applySeconds: applySeconds, webhooks: receiver.count,
            webhookSeconds: webhookSeconds)
    }
}

/// A webhook receiver on loopback that acknowledges everything (204) and counts distinct ids.
final class BenchWebhookReceiver: @unchecked Sendable {
    private let ids = Mutex<Set<String>>([])
    private let port = Mutex(0)
    private var task: Task<Void, any Error>?
    var url: String { "http://127.0.0.1:\(port.withLock { $0 })/hook" }
    var count: Int { ids.withLock { $0.count } }

    init() async throws {
        let router = Router()
        router.post("/hook") { [self] req, _ in
            let id = req.headers.first { $0.name.canonicalName == "webhook-id" }?.value ?? ""
            self.ids.withLock { _ = $0.insert(id) }
            return Response(status: .noContent)
        }
        var logger = Logger(label: "bench.receiver")
        logger.logLevel = .critical
        let (ports, c) = AsyncStream.makeStream(of: Int.self)
        let app = Application(
            router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { ch in
                c.yield(ch.localAddress?.port ?? 0); c.finish()
            }, logger: logger)
        task = Task { try await app.runService() }
        var it = ports.makeAsyncIterator()
        let p = await it.next() ?? 0
        port.withLock { $0 = p }
    }

    deinit { task?.cancel() }
}
