import Foundation
import TongCore
import TongStore

extension TongNode {
    /// Updates the gauges `/metrics` reports from the replica and the link table, just before a
    /// scrape: records by kind, conflicts, postings segments, per neighbour (connected, last contact age, pending
    /// sets and lag), open and overdue feedback and applications per department, storage health.
    /// Storage health is set first: a damaged replica may fail the queries after it, and the
    /// scrape must still report it.
    package func refreshMetrics() throws {
        let now = Self.now()
        metrics.gauge("tong_storage_ok", []).set(Int64(health.corruption == nil ? 1 : 0))
        metrics.records(try db.counts())
        metrics.gauge("tong_conflicts", []).set(Int64(try db.conflictCount()))
        let postings = try db.postingsSummary()
        metrics.gauge("tong_search_postings_segments", [("state", "ready")]).set(Int64(postings.ready))
        metrics.gauge("tong_search_postings_segments", [("state", "not_ready")]).set(Int64(postings.segments - postings.ready))
        metrics.gauge("tong_search_postings_rows", []).set(Int64(postings.rows))
        for (p, role) in neighbours {
            let l = link.get(p)
            let labels = [("peer", p), ("role", role)]
            metrics.gauge("tong_peer_connected", labels).set(Int64(l.connected ? 1 : 0))
            metrics.gauge("tong_peer_last_contact_age_seconds", labels).set(l.lastSync.map { Double(max(0, now - $0)) / 1000 } ?? -1)
            let b = try db.backlog(for: p, after: l.peerCursor ?? 0, topology: topology)
            metrics.gauge("tong_peer_pending_sets", labels).set(Int64(b.pending))
            metrics.gauge("tong_peer_lag_seconds", labels).set(b.oldestAt.map { Double(max(0, now - $0)) / 1000 } ?? 0)
        }
        var seen = Set<String>()
        for row in try db.openItems(departmentsOf: id, today: Self.day(ms: now)) {
            let prefix = row.application ? "tong_applications" : "tong_feedback"
            seen.insert("\(prefix) \(row.department)")
            metrics.gauge("\(prefix)_open", [("department", row.department)]).set(Int64(row.open))
            metrics.gauge("\(prefix)_overdue", [("department", row.department)]).set(Int64(row.overdue))
        }
        // Every department has both series, at 0 when it has nothing open, so alerts see them.
        for d in topology.node(id)?.departments ?? [] {
            for prefix in ["tong_feedback", "tong_applications"] where !seen.contains("\(prefix) \(d.id)") {
                metrics.gauge("\(prefix)_open", [("department", d.id)]).set(Int64(0))
                metrics.gauge("\(prefix)_overdue", [("department", d.id)]).set(Int64(0))
            }
        }
    }
}
