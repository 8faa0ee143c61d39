import GRDB
import TongCore

extension TongDatabase {
    /// The feedback record a receipt hash points to.
    public func feedback(receiptHash: String) throws -> StoredRecord? {
        try pool.read { db in
            guard let id = try String.fetchOne(db, sql: "SELECT feedback_id FROM receipt WHERE hash = ?", arguments: [receiptHash]) else { return nil }
            return try Self.load(db, id: id)
        }
    }

    /// Feedback records addressed to one department (all, or one status), oldest first.
    public func feedback(department: String, limit: Int = 1_000) throws -> [StoredRecord] {
        try pool.read { db in
            try String.fetchAll(db, sql: """
                SELECT id FROM record WHERE kind = 'feedback' AND json_extract(doc, '$.department') = ?
                ORDER BY rowid LIMIT ?
                """, arguments: [department, limit]).compactMap { try Self.load(db, id: $0) }
        }
    }

    /// Feedback records this node must act on: addressed to one of its departments and not yet
    /// acknowledged (`status` still `submitted`).
    public func undelivered(departmentsOf node: String, limit: Int = 500) throws -> [StoredRecord] {
        try pool.read { db in
            try String.fetchAll(db, sql: """
                SELECT id FROM record WHERE kind = 'feedback'
                  AND json_extract(doc, '$.department') LIKE ? || '-%'
                  AND json_extract(doc, '$.status') IS NULL
                ORDER BY rowid LIMIT ?
                """, arguments: [node, limit]).compactMap { try Self.load(db, id: $0) }
        }
    }
}
