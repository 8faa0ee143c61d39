import Foundation
import GRDB

extension TongDatabase {
    /// Every CA-signed revocation list this replica has kept (`keepRevocationLists`), as the
    /// canonical wire JSON text `tong ca revoke` writes, oldest issue first.
    /// - Throws: `DatabaseError` from SQLite.
    public func keptRevocationLists() throws -> [String] {
        try pool.read { db in try String.fetchAll(db, sql: "SELECT wire FROM revocation_list ORDER BY issued_at, id") }
    }

    /// Keeps revocation lists for good, each under its id (hex SHA-256 of its signed payload); a
    /// list already kept is left as it is. The caller checks the CA's signature first: this
    /// stores what it is given.
    /// - Parameters:
    ///   - lists: id, canonical wire JSON text, and the list's `issued_at` (ms since 1970).
    ///   - now: when they were seen (ms since 1970).
    /// - Throws: `DatabaseError` from SQLite.
    public func keepRevocationLists(_ lists: [(id: String, wire: String, issuedAt: Int64)], now: Int64) throws {
        guard !lists.isEmpty else { return }
        try writing { db in
            let insert = try db.cachedStatement(
                sql: "INSERT INTO revocation_list (id, wire, issued_at, seen_at) VALUES (?, ?, ?, ?) ON CONFLICT(id) DO NOTHING")
            for l in lists { try insert.execute(arguments: [l.id, l.wire, l.issuedAt, now]) }
        }
    }
}
