import Foundation
import Logging
import ServiceLifecycle
import Synchronization
import TongCore
import TongStore

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Sends the delivery outbox's webhook entries (送达): each a POST signed per Standard Webhooks,
/// the same `webhook-id` on every attempt, retried with exponential backoff and jitter for
/// `[delivery] retry_hours` (at least 24), then marked failed. State lives in the `delivery`
/// table, so a restart resumes exactly where the last run stopped; an attempt whose outcome was
/// not recorded (kill -9 mid-request) is made again: at least once, as the spec expects, and
/// receivers de-duplicate by `webhook-id`.
public struct DeliveryService: Service {
    let node: TongNode
    /// Attempts in flight at once.
    let concurrency = 8

    /// A service for `node`.
    public init(node: TongNode) { self.node = node }

    public func run() async throws {
        let session = URLSession(configuration: .ephemeral, delegate: RefuseRedirects(), delegateQueue: nil)
        defer { session.finishTasksAndInvalidate() }
        let inFlight = InFlight()
        await cancelWhenGracefulShutdown {
            await withDiscardingTaskGroup { group in
                for _ in 0..<concurrency { group.addTask { await worker(session: session, inFlight: inFlight) } }
            }
        }
    }

    /// One of `concurrency` workers. Each takes the next due delivery that no other worker holds,
    /// attempts it and takes the next, so a slow receiver (up to the 15 s timeout) holds one
    /// worker and delays no other enterprise's webhooks. With nothing to take, a worker sleeps
    /// until a change (a record arrived or was written) or the next due time; while another
    /// worker holds the delivery due first, it looks again after a second.
    func worker(session: URLSession, inFlight: InFlight) async {
        while !Task.isCancelled {
            let seen = node.notifier.current
            let due = (try? node.db.dueDeliveries(now: TongNode.now(), limit: concurrency * 4)) ?? []
            let taken = inFlight.ids.withLock { held -> DeliveryRow? in
                guard let d = due.first(where: { !held.contains($0.id) }) else { return nil }
                held.insert(d.id)
                return d
            }
            if let d = taken {
                await attempt(d, session: session)
                inFlight.ids.withLock { _ = $0.remove(d.id) }
                continue
            }
            let next = (try? node.db.nextDeliveryDue()) ?? nil
            var wait = min(max((next ?? .max) - TongNode.now(), 10), 60_000)
            if !inFlight.ids.withLock({ $0.isEmpty }) { wait = max(wait, 1_000) }
            await node.notifier.wait(changedFrom: seen, until: .now + .milliseconds(wait))
        }
    }

    /// One attempt at one delivery; records the outcome.
    func attempt(_ d: DeliveryRow, session: URLSession) async {
        let now = TongNode.now()
        let outcome: DeliveryAttempt
        do {
            try await post(d, session: session)
            outcome = .delivered
            node.metrics.webhooksDelivered.increment()
        } catch {
            node.metrics.webhooksFailed.increment()
            let message = "\(error)"
            if now - d.createdAt >= node.config.webhookRetryHours * 3_600_000 {
                outcome = .gaveUp(error: message)
                node.logger.warning("webhook delivery failed for good", metadata: [
                    "delivery.id": .stringConvertible(d.id), "enterprise.id": .string(d.enterprise), "error": .string(message),
                ])
            } else {
                outcome = .retry(at: now + Self.backoff(attempt: d.attempts, baseMs: node.config.webhookRetryBaseMs), error: message)
            }
        }
        do { try node.db.recordAttempt(d.id, outcome: outcome, now: TongNode.now()) } catch {
            node.logger.error("cannot record a webhook attempt", metadata: ["delivery.id": .stringConvertible(d.id), "error": .string("\(error)")])
        }
    }

    /// The deliveries the workers hold now (their `delivery.id`).
    final class InFlight: Sendable {
        let ids = Mutex<Set<Int64>>([])
    }

    /// Delay before attempt `attempt + 1`: base × 2^attempt, at most an hour, ±20 % jitter (ms).
    static func backoff(attempt: Int, baseMs: Int64) -> Int64 {
        let raw = min(Double(baseMs) * pow(2, Double(min(attempt, 30))), 3_600_000)
        return Int64(raw * Double.random(in: 0.8...1.2))
    }

    /// The message a receiver gets (JSON): `type`, `timestamp`, `data` with the record.
    static func payload(_ d: DeliveryRow, node: String) -> [UInt8] {
        CanonicalJSON.encode([
            "type": .string(d.offer ? "application.offer" : "\(d.kind).matched"),
            "timestamp": .string(TongNode.iso8601(ms: d.createdAt)),
            "data": [
                "node": .string(node), "enterprise": .string(d.enterprise), "record": .string(d.record), "kind": .string(d.kind),
                "title": .string(d.title), "department": .string(d.department), "offer": .bool(d.offer),
            ],
        ])
    }

    func post(_ d: DeliveryRow, session: URLSession) async throws {
        guard let e = try node.db.enterprise(d.enterprise), let url = e.webhookURL, let secret = e.webhookSecret, let target = URL(string: url)
        else { throw NodeError(.invalid, "the enterprise has no webhook any more") }
        // Resolved again now: a name that moved to a private address is refused (see WebhookTarget).
        if let why = WebhookTarget.refusal(url, allow: node.config.webhookAllow) { throw NodeError(.forbidden, why) }
        let body = Self.payload(d, node: node.id)
        let id = "msg_\(node.id)_\(d.id)"
        guard let headers = StandardWebhooks.headers(id: id, timestamp: TongNode.now() / 1000, body: body, secret: secret) else {
            throw NodeError(.internal, "bad webhook secret")
        }
        var request = URLRequest(url: target, timeoutInterval: 15)
        request.httpMethod = "POST"
        request.httpBody = Data(body)
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        request.setValue("tong/\(node.id)", forHTTPHeaderField: "User-Agent")
        for (k, v) in headers { request.setValue(v, forHTTPHeaderField: k) }
        let (_, response) = try await session.data(for: request)
        guard let http = response as? HTTPURLResponse else { throw NodeError(.internal, "no HTTP response") }
        guard (200..<300).contains(http.statusCode) else { throw NodeError(.unavailable, "receiver answered \(http.statusCode)") }
    }
}

/// A redirect could lead a webhook to an address `WebhookTarget` refuses: follow none.
final class RefuseRedirects: NSObject, URLSessionTaskDelegate, Sendable {
    func urlSession(_ session: URLSession, task: URLSessionTask, willPerformHTTPRedirection response: HTTPURLResponse,
                    newRequest request: URLRequest, completionHandler: @escaping @Sendable (URLRequest?) -> Void) {
        completionHandler(nil)
    }
}
