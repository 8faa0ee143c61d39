import Crypto
import Foundation
import Hummingbird
import Logging
import Synchronization

/// A real HTTP webhook receiver on loopback for the delivery tests: it verifies each request's
/// Standard Webhooks signature itself (HMAC-SHA256 over "id.timestamp.body" with the
/// base64-decoded `whsec_` secret; written here from the spec, not with the node's code), and
/// answers 503 while `up` is false.
final class WebhookReceiver: @unchecked Sendable {
    struct Received: Sendable {
        var id: String
        var body: [UInt8]
        var signatureValid: Bool
        var accepted: Bool
    }
    let received = Mutex<[Received]>([])
    let up = Mutex(true)
    /// How long the receiver takes to answer (nil: at once).
    let delay = Mutex<Duration?>(nil)
    let secrets = Mutex<[String]>([])
    private let port = Mutex<Int?>(nil)
    private var task: Task<Void, any Error>?

    var url: String { "http://127.0.0.1:\(port.withLock { $0 } ?? 0)/hook" }

    /// Webhook ids answered 2xx, with how many times each was.
    var accepted: [String: Int] {
        received.withLock { r in r.filter(\.accepted).reduce(into: [:]) { $0[$1.id, default: 0] += 1 } }
    }

    static func valid(id: String, timestamp: String, body: [UInt8], header: String, secret: String) -> Bool {
        guard secret.hasPrefix("whsec_"), let key = Data(base64Encoded: String(secret.dropFirst(6))) else { return false }
        let mac = HMAC<SHA256>.authenticationCode(for: Array("\(id).\(timestamp).".utf8) + body, using: SymmetricKey(data: key))
        let expected = "v1," + Data(mac).base64EncodedString()
        return header.split(separator: " ").contains { $0 == expected }
    }

    init() async throws {
        let router = Router()
        router.post("/hook") { [self] req, _ in
            let body = Array(try await req.body.collect(upTo: 1 << 20).readableBytesView)
            func header(_ name: String) -> String { req.headers.first { $0.name.canonicalName == name }?.value ?? "" }
            let id = header("webhook-id"), ts = header("webhook-timestamp"), sig = header("webhook-signature")
            let ok = self.secrets.withLock { $0.contains { Self.valid(id: id, timestamp: ts, body: body, header: sig, secret: $0) } }
            if let d = self.delay.withLock({ $0 }) { try await Task.sleep(for: d) }
            let isUp = self.up.withLock { $0 }
            self.received.withLock { $0.append(Received(id: id, body: body, signatureValid: ok, accepted: isUp && ok)) }
            return Response(status: isUp ? (ok ? .noContent : .unauthorized) : .serviceUnavailable)
        }
        var logger = Logger(label: "receiver")
        logger.logLevel = .critical
        let (ports, c) = AsyncStream.makeStream(of: Int.self)
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
                              onServerRunning: { ch in c.yield(ch.localAddress?.port ?? 0); c.finish() }, logger: logger)
        task = Task { try await app.runService() }
        var it = ports.makeAsyncIterator()
        let p = await it.next()
        port.withLock { $0 = p }
    }

    deinit { task?.cancel() }
}
