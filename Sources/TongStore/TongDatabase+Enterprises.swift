import Foundation
import GRDB
import TongCore

/// Enterprise profiles and their delivery outbox (送达). Profiles live only here: no change set
/// carries them.
extension TongDatabase {
    /// Registers a profile. Throws `StoreError(.conflict)` if the USCC is already registered here.
    public func register(_ e: EnterpriseRow) throws {
        try writing { db in
            if try Bool.fetchOne(db, sql: "SELECT 1 FROM enterprise WHERE uscc = ?", arguments: [e.uscc]) == true {
                throw StoreError(.conflict, "统一社会信用代码 \(e.uscc) 已在本节点登记")
            }
            try db.execute(
                sql: "INSERT INTO enterprise (\(EnterpriseRow.columns)) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                arguments: e.arguments)
            enterprises.publish([e], in: db)
        }
    }

    /// Replaces a profile's fields (same id, USCC and token). Throws `StoreError(.notFound)`.
    public func update(_ e: EnterpriseRow) throws {
        try writing { db in
            try db.execute(
                sql: """
                    UPDATE enterprise SET name = ?, region = ?, industry = ?, employees = ?, revenue_wan = ?, assets_wan = ?,
                    established_on = ?, taxpayer = ?, size_class = ?, contact = ?, webhook_url = ?, webhook_secret = ?, updated_at = ?
                    WHERE id = ?
                    """,
                arguments: [
                    e.name, e.region, e.industry, e.employees, e.revenueWan, e.assetsWan, e.establishedOn, e.taxpayer, e.sizeClass,
                    String(decoding: CanonicalJSON.encode(e.contact), as: UTF8.self), e.webhookURL, e.webhookSecret, e.updatedAt,
                    e.id,
                ])
            guard db.changesCount == 1 else { throw StoreError(.notFound, "no enterprise \(e.id) here") }
            enterprises.publish([e], in: db)
        }
    }

    /// One profile by id.
    public func enterprise(_ id: String) throws -> EnterpriseRow? {
        try pool.read { db in
            try Row.fetchOne(db, sql: "SELECT \(EnterpriseRow.columns) FROM enterprise WHERE id = ?", arguments: [id]).map(EnterpriseRow.init)
        }
    }

    /// The profile whose token hashes to `tokenHash` (hex SHA-256; unique per enterprise), if any.
    public func enterprise(tokenHash: String) throws -> EnterpriseRow? {
        try pool.read { db in
            try Row.fetchOne(db, sql: "SELECT \(EnterpriseRow.columns) FROM enterprise WHERE token_hash = ?", arguments: [tokenHash])
                .map(EnterpriseRow.init)
        }
    }

    /// Number of registered enterprises.
    public var enterpriseCount: Int { enterprises.count }

    /// An enterprise's deliveries, newest first; `before` pages by id (keyset).
    public func deliveries(enterprise: String, before: Int64? = nil, limit: Int = 100) throws -> [DeliveryRow] {
        try pool.read { db in
            try Row.fetchAll(
                db, sql: "SELECT \(DeliveryRow.columns) FROM delivery WHERE enterprise = ? AND id < ? ORDER BY id DESC LIMIT ?",
                arguments: [enterprise, before ?? .max, limit]
            ).map(DeliveryRow.init)
        }
    }

    /// Webhook deliveries due at `now`, oldest due first.
    public func dueDeliveries(now: Int64, limit: Int = 100) throws -> [DeliveryRow] {
        try pool.read { db in
            try Row.fetchAll(
                db,
                sql: "SELECT \(DeliveryRow.columns) FROM delivery WHERE state = 'pending' AND next_attempt_at <= ? ORDER BY next_attempt_at LIMIT ?",
                arguments: [now, limit]
            ).map(DeliveryRow.init)
        }
    }

    /// When the next pending webhook delivery falls due, if any.
    public func nextDeliveryDue() throws -> Int64? {
        try pool.read { db in try Int64.fetchOne(db, sql: "SELECT min(next_attempt_at) FROM delivery WHERE state = 'pending'") }
    }

    /// Records a webhook attempt: `delivered`, or still `pending` with the next attempt's time,
    /// or `failed` (gave up). A delivery withdrawn while its attempt was in flight
    /// (`cancelDeliveries`) that the receiver took is recorded `delivered`: it reached the
    /// enterprise, and the state says what happened.
    public func recordAttempt(_ id: Int64, outcome: DeliveryAttempt, now: Int64) throws {
        try writing { db in
            switch outcome {
            case .delivered:
                try db.execute(
                    sql:
                        "UPDATE delivery SET state = 'delivered', attempts = attempts + 1, delivered_at = ?, "
                        + "next_attempt_at = NULL, last_error = NULL "
                        + "WHERE id = ? AND state IN ('pending', 'withdrawn')",
                    arguments: [now, id])
            case .retry(let at, let error):
                try db.execute(
                    sql: "UPDATE delivery SET attempts = attempts + 1, next_attempt_at = ?, last_error = ? WHERE id = ? AND state = 'pending'",
                    arguments: [at, String(error.prefix(300)), id])
                // An attempt in flight when it was withdrawn still reached the receiver's door: counted.
                try db.execute(sql: "UPDATE delivery SET attempts = attempts + 1 WHERE id = ? AND state = 'withdrawn'", arguments: [id])
            case .gaveUp(let error):
                try db.execute(
                    sql:
                        "UPDATE delivery SET state = 'failed', attempts = attempts + 1, next_attempt_at = NULL, last_error = ? "
                        + "WHERE id = ? AND state = 'pending'",
                    arguments: [String(error.prefix(300)), id])
                try db.execute(sql: "UPDATE delivery SET attempts = attempts + 1 WHERE id = ? AND state = 'withdrawn'", arguments: [id])
            }
        }
    }

    /// Delivery figures per delivered record (no personal data): how many enterprises each was
    /// delivered to, and the webhook outcomes. For supervision. `webhooks` leaves out those
    /// withdrawn before they were sent (they are neither made, failed nor still retried).
    public func deliveryFigures() throws -> [(record: String, department: String, enterprises: Int, webhooks: Int, delivered: Int, failed: Int)] {
        try pool.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT record, department, count(DISTINCT enterprise), sum(state NOT IN ('feed', 'withdrawn')), sum(state = 'delivered'),
                        sum(state = 'failed')
                    FROM delivery GROUP BY record ORDER BY record
                    """
            ).map { ($0[0], $0[1], $0[2], $0[3], $0[4], $0[5]) }
        }
    }
}

/// What became of one webhook attempt.
public enum DeliveryAttempt: Sendable, Equatable {
    /// The receiver answered 2xx.
    case delivered
    /// Failed; try again at `at` (ms since 1970).
    case retry(at: Int64, error: String)
    /// Failed for the last time.
    case gaveUp(error: String)
}

extension TongDatabase {
    /// The applications an enterprise filed here, newest first (optionally to one policy).
    /// The enterprise that filed application `applicationID` here (nil when none of ours did).
    public func applicant(of applicationID: String) throws -> String? {
        try pool.read { db in
            try String.fetchOne(db, sql: "SELECT enterprise FROM enterprise_application WHERE feedback_id = ?", arguments: [applicationID])
        }
    }

    public func applications(enterprise: String, policy: String? = nil) throws -> [StoredRecord] {
        try pool.read { db in
            var sql = "SELECT feedback_id FROM enterprise_application WHERE enterprise = ?"
            var args: [any DatabaseValueConvertible] = [enterprise]
            if let policy { sql += " AND policy = ?"; args.append(policy) }
            sql += " ORDER BY created_at DESC"
            return try String.fetchAll(db, sql: sql, arguments: StatementArguments(args)).compactMap { try Self.load(db, id: $0) }
        }
    }
}
