import GRDB
import TongCore

/// One entry of the delivery outbox (送达): a record version that fits an enterprise.
public struct DeliveryRow: Sendable, Equatable {
    /// Outbox sequence number; the Standard Webhooks `webhook-id` is `msg_<node>_<id>`.
    public var id: Int64
    /// The enterprise's id.
    public var enterprise: String
    /// The policy or service item.
    public var record: String
    /// `policy` or `service_item`.
    public var kind: String
    /// The record's department.
    public var department: String
    /// The record's version vector (canonical JSON) when it started to fit.
    public var version: String
    /// The record's title (name for a service item).
    public var title: String
    /// True for a 免申即享 offer (a policy with `application.mode = confirm`).
    public var offer: Bool
    /// When it was written, ms since 1970.
    public var createdAt: Int64
    /// `pending` (webhook not yet acknowledged), `delivered`, `failed` (gave up), `feed` (no webhook: feed only).
    public var state: String
    /// Webhook attempts made.
    public var attempts: Int
    /// When the next attempt is due, ms since 1970 (pending only).
    public var nextAttemptAt: Int64?
    /// Why the last attempt failed.
    public var lastError: String?
    /// When the webhook acknowledged it, ms since 1970.
    public var deliveredAt: Int64?

    static let columns =
        "id, enterprise, record, kind, department, version, title, offer, created_at, state, attempts, next_attempt_at, last_error, delivered_at"

    init(row: Row) {
        id = row[0]; enterprise = row[1]; record = row[2]; kind = row[3]; department = row[4]; version = row[5]; title = row[6]
        offer = row[7]; createdAt = row[8]; state = row[9]; attempts = row[10]; nextAttemptAt = row[11]; lastError = row[12]
        deliveredAt = row[13]
    }

    /// The JSON the API shows.
    public var json: JSONValue {
        var o: [String: JSONValue] = [
            "id": .int(id), "record": .string(record), "kind": .string(kind), "department": .string(department), "title": .string(title),
            "offer": .bool(offer), "created_at": .int(createdAt), "state": .string(state), "attempts": .int(Int64(attempts)),
        ]
        if let v = try? JSONParser.parse(version) { o["version"] = v }
        if let n = nextAttemptAt { o["next_attempt_at"] = .int(n) }
        if let e = lastError { o["last_error"] = .string(e) }
        if let d = deliveredAt { o["delivered_at"] = .int(d) }
        return .object(o)
    }
}
