import Foundation
import GRDB
import TongCore

/// The delivery outbox (送达): written in the transaction that stores a record version, so a
/// delivery exists exactly when the version that caused it does (kill -9 loses neither).
extension TongDatabase {
    /// The enterprises that `after` fits and `before` (the same record's previous version here,
    /// nil if new here) did not: created here, arrived by sync, or changed so that it now fits.
    /// Only policies and service items are delivered.
    static func newlyFitting(before: RecordState?, after: RecordState, today: SimpleDate,
                             enterprises: [EnterpriseCatalog.Entry]) -> [EnterpriseCatalog.Entry] {
        guard after.kind == .policy || after.kind == .serviceItem, !enterprises.isEmpty else { return [] }
        guard let now = MatchInput(after, today: today) else { return [] }
        let then = before.flatMap { MatchInput($0, today: today) }
        if let then, then == now { return [] }  // nothing that matching reads changed
        return enterprises.filter { e in
            now.fits(e.profile) && !(then?.fits(e.profile) ?? false)
        }
    }

    /// Writes one outbox entry per newly fitting enterprise (ignored if that version was
    /// already delivered to it). Webhook entries are `pending` and due now; others are `feed`.
    static func enqueueDeliveries(_ db: Database, before: RecordState?, after: RecordState, now: Int64,
                                  enterprises: EnterpriseCatalog) throws -> Int {
        if after.kind == .policy || after.kind == .serviceItem, after["status"]?.stringValue == "withdrawn" {
            try cancelDeliveries(db, record: after.id)
        }
        guard after.kind == .policy || after.kind == .serviceItem, enterprises.count > 0,
              let today = SimpleDate(beijingMillis: now) else { return 0 }
        let fits = newlyFitting(before: before, after: after, today: today, enterprises: enterprises.all)
        guard !fits.isEmpty else { return 0 }
        let v = after.values
        let version = String(decoding: CanonicalJSON.encode(after.version.json), as: UTF8.self)
        let title = v["title"]?.stringValue ?? v["name"]?.stringValue ?? after.id
        let offer = v["application"]?["mode"]?.stringValue == "confirm"
        let stmt = try db.cachedStatement(sql: """
            INSERT INTO delivery (enterprise, record, kind, department, version, title, offer, created_at, state, next_attempt_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING
            """)
        for e in fits {
            try stmt.execute(arguments: [
                e.id, after.id, after.kind.rawValue, v["department"]?.stringValue ?? "", version, title, offer, now,
                e.hasWebhook ? "pending" : "feed", e.hasWebhook ? now : nil,
            ])
        }
        return fits.count
    }
}

extension TongDatabase {
    /// The webhooks of `record` not yet sent (`pending`, however often tried) become
    /// `withdrawn`: the policy or service item was withdrawn (废止) here or at its owner before
    /// the enterprise's receiver took them, and telling it now of a policy that no longer
    /// applies would mislead. Deliveries already made stay as they are, and the feed keeps
    /// listing every delivery with its state. Runs in the transaction that stores the
    /// withdrawn version, so a restart never resumes them.
    static func cancelDeliveries(_ db: Database, record: String) throws {
        try db.cachedStatement(
            sql: """
                UPDATE delivery SET state = 'withdrawn', next_attempt_at = NULL, last_error = 'withdrawn before delivery' \
                WHERE record = ? AND state = 'pending'
                """
        ).execute(arguments: [record])
    }

    /// Of `records`, those withdrawn now, with when their withdrawn version was stored here
    /// (`record.updated_at`, ms): one query for a page of deliveries (the Atom feed).
    public func withdrawnAt(_ records: [String]) throws -> [String: Int64] {
        guard !records.isEmpty else { return [:] }
        return try pool.read { db in
            let marks = Array(repeating: "?", count: records.count).joined(separator: ",")
            let rows = try Row.fetchAll(
                db, sql: "SELECT id, updated_at FROM record WHERE id IN (\(marks)) AND json_extract(doc, '$.status') = 'withdrawn'",
                arguments: StatementArguments(records))
            return Dictionary(rows.map { ($0[0], $0[1]) }) { a, _ in a }
        }
    }
}

/// What matching reads of a record, parsed once per record version.
struct MatchInput: Equatable {
    var eligibility: Eligibility
    var audiences: [Audience]
    var status: String?
    var effectiveFrom: SimpleDate?
    var effectiveTo: SimpleDate?
    var today: SimpleDate

    /// Nil for a record whose eligibility does not parse (it fits nobody until its owner fixes it).
    init?(_ r: RecordState, today: SimpleDate) {
        let v = r.values
        if let e = v["eligibility"], e != .null {
            guard let parsed = try? Eligibility.parse(e) else { return nil }
            eligibility = parsed
        } else {
            eligibility = Eligibility()
        }
        audiences = (v["audiences"]?.stringArray ?? []).compactMap(Audience.init(rawValue:))
        status = v["status"]?.stringValue
        effectiveFrom = v["effective_from"]?.stringValue.flatMap(SimpleDate.init)
        effectiveTo = v["effective_to"]?.stringValue.flatMap(SimpleDate.init)
        self.today = today
    }

    func fits(_ p: EnterpriseProfile) -> Bool {
        Matching.fits(profile: p, eligibility: eligibility, audiences: audiences, status: status, effectiveFrom: effectiveFrom,
                      effectiveTo: effectiveTo, today: today)
    }
}
