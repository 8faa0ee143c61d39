import GRDB
import Synchronization
import TongCore

/// Every enterprise registered at this node, in memory, with what matching needs: a new policy
/// is matched against all of them inside the transaction that stores it (`TongDatabase.save`),
/// so the catalog must answer without a query. 100,000 profiles are about 15 MB.
final class EnterpriseCatalog: Sendable {
    /// One registered enterprise as matching sees it.
    struct Entry: Sendable {
        var id: String
        var profile: EnterpriseProfile
        var hasWebhook: Bool
    }
    private let entries = Mutex<[String: Entry]>([:])

    /// A snapshot of every entry (in no particular order).
    var all: [Entry] { entries.withLock { Array($0.values) } }

    /// Number of registered enterprises.
    var count: Int { entries.withLock { $0.count } }

    /// Loads every profile from the `enterprise` table.
    func load(_ db: Database) throws {
        var loaded: [String: Entry] = [:]
        let rows = try Row.fetchCursor(db, sql: "SELECT \(EnterpriseRow.columns) FROM enterprise")
        while let row = try rows.next() {
            let e = EnterpriseRow(row: row)
            loaded[e.id] = Entry(id: e.id, profile: e.profile, hasWebhook: e.webhookURL != nil)
        }
        entries.withLock { $0 = loaded }
    }

    /// Publishes profiles once the transaction that wrote them committed (one observer for the
    /// whole batch: GRDB notifies every registered observer of every statement).
    func publish(_ rows: [EnterpriseRow], in db: Database) {
        let batch = rows.map { Entry(id: $0.id, profile: $0.profile, hasWebhook: $0.webhookURL != nil) }
        db.afterNextTransaction { _ in self.entries.withLock { for e in batch { $0[e.id] = e } } }
    }
}
