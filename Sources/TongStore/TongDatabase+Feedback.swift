import Foundation
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
    /// The stored first answer for an idempotency key's hash: the hash of the request it
    /// answered and the answer, encrypted (see migration v6-idempotency). Nil if never seen.
    public func idempotentAnswer(keyHash: String) throws -> (requestHash: String, sealedResponse: [UInt8])? {
        try pool.read { db in
            let sql = "SELECT request_hash, sealed_response FROM idempotency WHERE key_hash = ?"
            guard let row = try Row.fetchOne(db, sql: sql, arguments: [keyHash]) else { return nil }
            let data: Data = row[1]
            return (row[0], Array(data))
        }
    }

    /// Forgets idempotency keys stored before `before` (ms since 1970); returns how many.
    @discardableResult
    public func pruneIdempotency(before: Int64) throws -> Int {
        try writing { db in
            try db.execute(sql: "DELETE FROM idempotency WHERE created_at < ?", arguments: [before])
            return db.changesCount
        }
    }

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

    /// Where an inbox page starts: after the item with this sort key (see `inboxPage`).
    public struct InboxCursor: Sendable, Equatable, CustomStringConvertible {
        /// 0 overdue, 1 open, 2 answered or closed.
        public var rank: Int
        /// The due date, `9999-12-31` for none.
        public var due: String
        /// The index row.
        public var rowid: Int64

        /// Makes a cursor.
        public init(rank: Int, due: String, rowid: Int64) { self.rank = rank; self.due = due; self.rowid = rowid }

        /// Parses `rank.due.rowid` (what `description` prints); nil for anything else.
        public init?(_ text: String) {
            let p = text.split(separator: ".", omittingEmptySubsequences: false)
            guard p.count == 3, let r = Int(p[0]), (0...2).contains(r), SimpleDate(String(p[1])) != nil || p[1] == "9999-12-31",
                let id = Int64(p[2]), id >= 0
            else { return nil }
            self.init(rank: r, due: String(p[1]), rowid: id)
        }

        public var description: String { "\(rank).\(due).\(rowid)" }
    }

    /// One page of a department's feedback (never applications), in keyset order: overdue items
    /// first, then open items, then answered and closed ones, each by due date (none last) and
    /// arrival. Filters: `status`, `form` (a feedback kind or `survey`), `survey` (one survey's
    /// responses), `includeSurveys` (false: no survey responses); `today` (`YYYY-MM-DD`, Beijing) decides what is overdue. Reads at most
    /// `limit + 1` index rows' keys past the cursor and loads only the page's records.
    /// - Returns: the records with their sort keys, and the cursor of the next page (nil at the end).
    public func inboxPage(
        department: String, status: String?, form: String?, survey: String? = nil, includeSurveys: Bool = true, today: String,
        after: InboxCursor?, limit: Int
    ) throws -> (records: [(StoredRecord, InboxCursor)], next: InboxCursor?) {
        try pool.read { db in
            var sql = """
                SELECT rowid, rank, due FROM (
                    SELECT rowid,
                        CASE WHEN open = 1 AND due_on != '' AND due_on < ? THEN 0 WHEN open = 1 THEN 1 ELSE 2 END AS rank,
                        CASE WHEN due_on = '' THEN '9999-12-31' ELSE due_on END AS due
                    FROM feedback_index WHERE department = ? AND form != 'application'
                """
            var args: [any DatabaseValueConvertible] = [today, department]
            if let status { sql += " AND status = ?"; args.append(status) }
            if let form { sql += " AND form = ?"; args.append(form) }
            if let survey { sql += " AND survey = ?"; args.append(survey) }
            if !includeSurveys { sql += " AND form != 'survey'" }
            sql += ")"
            if let after {
                sql += " WHERE (rank, due, rowid) > (?, ?, ?)"
                args.append(after.rank)
                args.append(after.due)
                args.append(after.rowid)
            }
            sql += " ORDER BY rank, due, rowid LIMIT ?"
            args.append(max(1, min(limit, 500)) + 1)
            var keys: [InboxCursor] = []
            for row in try Row.fetchAll(db, sql: sql, arguments: StatementArguments(args)) {
                keys.append(InboxCursor(rank: row[1], due: row[2], rowid: row[0]))
            }
            let more = keys.count > max(1, min(limit, 500))
            if more { keys.removeLast() }
            let records = try keys.compactMap { k in try Self.load(db, rowid: k.rowid).map { ($0, k) } }
            return (records, more ? keys.last : nil)
        }
    }

    /// Feedback counts of one department by form (never applications).
    public func feedbackCountsByForm(department: String) throws -> [String: Int] {
        try pool.read { db in
            var out: [String: Int] = [:]
            for row in try Row.fetchAll(
                db, sql: "SELECT form, count(*) FROM feedback_index WHERE department = ? AND form != 'application' GROUP BY form",
                arguments: [department])
            {
                out[row[0]] = row[1]
            }
            return out
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
    /// department's feedback, from the index alone. Survey responses and applications are not
    /// feedback to answer: they are counted elsewhere (tallies, 办理 figures).
    public func feedbackFigures(department: String, today: String) throws -> FeedbackFigures {
        try pool.read { db in
            var byStatus: [String: Int] = [:]
            for row in try Row.fetchAll(
                db, sql: "SELECT status, count(*) FROM feedback_index WHERE department = ? AND form NOT IN ('application', 'survey') GROUP BY status",
                arguments: [department])
            {
                byStatus[row[0]] = row[1]
            }
            let overdue =
                try Int.fetchOne(
                    db,
                    sql: """
                        SELECT count(*) FROM feedback_index
                        WHERE department = ? AND form NOT IN ('application', 'survey') AND open = 1 AND due_on != '' AND due_on < ?
                        """, arguments: [department, today]) ?? 0
            let answers = try Row.fetchAll(
                db,
                sql: """
                    SELECT submitted_at, replied_at FROM feedback_index
                    WHERE department = ? AND form NOT IN ('application', 'survey') AND replied_at != ''
                    ORDER BY rowid
                    """, arguments: [department]
            ).map { (submittedAt: $0[0] as String, repliedAt: $0[1] as String) }
            return FeedbackFigures(byStatus: byStatus, overdue: overdue, answers: answers)
        }
    }

    /// Submission time, first reply time and due date (ISO 8601 UTC, ISO 8601 UTC or "",
    /// `YYYY-MM-DD` or "") of every feedback item of one department submitted at or after
    /// `since` (ISO 8601 UTC), survey responses and applications left out: what the weekly
    /// supervision figures are counted from.
    public func feedbackTimes(department: String, since: String) throws -> [(submittedAt: String, repliedAt: String, dueOn: String)] {
        try pool.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT submitted_at, replied_at, due_on FROM feedback_index
                    WHERE department = ? AND form NOT IN ('application', 'survey') AND submitted_at >= ?
                    """, arguments: [department, since]
            ).map { (submittedAt: $0[0] as String, repliedAt: $0[1] as String, dueOn: $0[2] as String) }
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
                    FROM feedback_index WHERE department >= ? AND department < ? AND form != 'survey' GROUP BY 1, 2
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
