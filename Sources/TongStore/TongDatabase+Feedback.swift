import GRDB
import TongCore

/// What the supervision figures of one department are computed from (no personal data).
public struct FeedbackFigures: Sendable, Equatable {
    /// Feedback records by status (`submitted` when not yet acknowledged).
    public var byStatus: [String: Int]
    /// Open items (not replied or closed) past their due date.
    public var overdue: Int
    /// Submission and reply times (ISO 8601) of every replied item.
    public var answers: [(submittedAt: String, repliedAt: String)]

    public static func == (a: Self, b: Self) -> Bool {
        a.byStatus == b.byStatus && a.overdue == b.overdue
            && a.answers.map { [$0.submittedAt, $0.repliedAt] } == b.answers.map { [$0.submittedAt, $0.repliedAt] }
    }
}

extension TongDatabase {
    /// The feedback record a receipt hash points to.
    public func feedback(receiptHash: String) throws -> StoredRecord? {
        try pool.read { db in
            guard let id = try String.fetchOne(db, sql: "SELECT feedback_id FROM receipt WHERE hash = ?", arguments: [receiptHash]) else {
                return nil
            }
            return try Self.load(db, id: id)
        }
    }

    /// Feedback addressed to one department (all, or one status): open items first, then the
    /// rest, newest first within each, at most `limit`. Open items never hide behind old ones.
    /// With `applications`, only applications (办理); otherwise only feedback (互动通).
    public func feedback(department: String, status: String? = nil, applications: Bool = false, limit: Int = 1_000) throws -> [StoredRecord] {
        try pool.read { db in
            var sql = "SELECT rowid FROM feedback_index WHERE department = ? AND (form = 'application') = \(applications ? 1 : 0)"
            var args: [any DatabaseValueConvertible] = [department]
            if let status { sql += " AND status = ?"; args.append(status) }
            sql += " ORDER BY open DESC, submitted_at DESC, rowid DESC LIMIT ?"
            args.append(limit)
            return try Int64.fetchAll(db, sql: sql, arguments: StatementArguments(args)).compactMap { try Self.load(db, rowid: $0) }
        }
    }

    /// Calls `body` with every feedback record of one department (optionally only one form or
    /// one survey's responses, only rows after `after`), oldest first, one at a time: no cap,
    /// bounded memory.
    public func eachFeedback(
        department: String, form: String? = nil, survey: String? = nil, after: Int64 = 0,
        _ body: (StoredRecord) throws -> Void
    ) throws {
        try pool.read { db in
            var sql = "SELECT rowid FROM feedback_index WHERE department = ? AND rowid > ?"
            var args: [any DatabaseValueConvertible] = [department, after]
            if let form { sql += " AND form = ?"; args.append(form) }
            if let survey { sql += " AND survey = ?"; args.append(survey) }
            sql += " ORDER BY rowid"
            let rowids = try Int64.fetchCursor(db, sql: sql, arguments: StatementArguments(args))
            while let rowid = try rowids.next() {
                if let r = try Self.load(db, rowid: rowid) { try body(r) }
            }
        }
    }

    /// Counts by status, overdue items (as of `today`, yyyy-mm-dd) and answer times of one
    /// department, from the index alone.
    public func feedbackFigures(department: String, today: String) throws -> FeedbackFigures {
        try pool.read { db in
            var byStatus: [String: Int] = [:]
            for row in try Row.fetchAll(
                db, sql: "SELECT status, count(*) FROM feedback_index WHERE department = ? AND form != 'application' GROUP BY status",
                arguments: [department])
            {
                byStatus[row[0]] = row[1]
            }
            let overdue =
                try Int.fetchOne(
                    db,
                    sql: """
                        SELECT count(*) FROM feedback_index
                        WHERE department = ? AND form != 'application' AND open = 1 AND due_on != '' AND due_on < ?
                        """, arguments: [department, today]) ?? 0
            let answers = try Row.fetchAll(
                db,
                sql: """
                    SELECT submitted_at, replied_at FROM feedback_index WHERE department = ? AND form != 'application' AND replied_at != ''
                    ORDER BY rowid
                    """, arguments: [department]
            ).map { (submittedAt: $0[0] as String, repliedAt: $0[1] as String) }
            return FeedbackFigures(byStatus: byStatus, overdue: overdue, answers: answers)
        }
    }

    /// Open and overdue items (as of `today`, yyyy-mm-dd) per department of `node`, separately
    /// for feedback and for applications (办理), from the index alone: the backlog metrics.
    public func openItems(departmentsOf node: String, today: String) throws -> [(department: String, application: Bool, open: Int, overdue: Int)] {
        try pool.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT department, form = 'application', sum(open), sum(open = 1 AND due_on != '' AND due_on < ?)
                    FROM feedback_index WHERE department >= ? AND department < ? GROUP BY 1, 2
                    """, arguments: [today, node + "-", node + "."]
            ).map { ($0[0], ($0[1] as Int64) != 0, $0[2], $0[3]) }
        }
    }

    /// Feedback records this node must act on: addressed to one of its departments and not yet
    /// acknowledged (`status` still `submitted`).
    public func undelivered(departmentsOf node: String, limit: Int = 500) throws -> [StoredRecord] {
        try pool.read { db in
            // Department ids are `<node>-<slug>`: the range ["<node>-", "<node>.") is exactly them.
            try Int64.fetchAll(
                db,
                sql: """
                    SELECT rowid FROM feedback_index
                    WHERE status = 'submitted' AND department >= ? AND department < ?
                    ORDER BY rowid LIMIT ?
                    """, arguments: [node + "-", node + ".", limit]
            ).compactMap { try Self.load(db, rowid: $0) }
        }
    }
}
