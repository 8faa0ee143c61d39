import Foundation
import TongCore
import TongStore

extension TongNode {
    /// A report older than this is sent again even if nothing significant changed, so the
    /// nodes above can tell a quiet node from a silent one (milliseconds).
    package static let syncReportHeartbeatMs: Int64 = 300_000

    /// This node's sync health as it goes into its stats record (the `sync` object): version,
    /// sets applied and rejected, conflicting values, and per neighbour whether the link is up,
    /// how many sets it lacks and since when (`oldest_pending_at`, ms), plus `reported_at` (ms).
    package func syncReport(now: Int64) throws -> [String: JSONValue] {
        let counts = try db.syncCounts()
        var peers: [String: JSONValue] = [:]
        for (p, role) in neighbours {
            let l = link.get(p)
            let b = try db.backlog(for: p, after: l.peerCursor ?? 0, topology: topology)
            peers[p] = [
                "role": .string(role), "connected": .bool(l.connected), "pending": .int(Int64(b.pending)),
                "oldest_pending_at": b.oldestAt.map(JSONValue.int) ?? .null,
            ]
        }
        return [
            "version": .string(BuildInfo.version), "commit": .string(BuildInfo.commit), "applied": .int(Int64(counts.applied)),
            "rejected": .int(Int64(counts.rejected)), "conflicts": .int(Int64(try db.conflictCount())), "peers": .object(peers),
            "reported_at": .int(now),
        ]
    }

    /// Whether a new sync report must be published over `old`: something an operator acts on
    /// changed (version, rejections, conflicts, a link going up or down, a backlog starting or
    /// clearing), or the old one is older than the heartbeat. Counts that move with every set
    /// (applied, pending) ride along but do not trigger a write on their own, so a busy tree
    /// does not flood its root with stats.
    package static func syncReportChanged(old: JSONValue?, new: [String: JSONValue], now: Int64) -> Bool {
        guard let old = old?.objectValue else { return true }
        if now - (old["reported_at"]?.intValue ?? 0) >= syncReportHeartbeatMs { return true }
        func significant(_ o: [String: JSONValue]) -> JSONValue {
            var o = o
            o["applied"] = nil; o["reported_at"] = nil
            var peers = o["peers"]?.objectValue ?? [:]
            for (k, v) in peers {
                var p = v.objectValue ?? [:]
                p["pending"] = nil
                peers[k] = .object(p)
            }
            o["peers"] = .object(peers)
            return .object(o)
        }
        return significant(old) != significant(new)
    }

    /// `GET /api/v1/federation/status`: this node (live) and every node of its subtree, from the
    /// stats records that flowed up. Per node: `id`, `name`, `parent`, `version`, `last_contact`
    /// (when its stats last changed here, ISO 8601; null if it never reported),
    /// `last_contact_age_seconds`, `pending` and `lag_seconds` (sets it has not yet sent to its
    /// parent, and the age of the oldest of them in seconds), `applied`, `rejected`, `conflicts`,
    /// and `links` (each neighbour: role, connected, pending, lag_seconds).
    public func federationStatus() throws -> JSONValue {
        let now = Self.now()
        var reports: [String: (sync: [String: JSONValue], updatedAt: Int64)] = [:]
        for r in try db.records(kind: .stats) {
            if let s = r.state["sync"]?.objectValue { reports[r.state.owner] = (s, r.updatedAt) }
        }
        reports[id] = (try syncReport(now: now), now)
        var rows: [JSONValue] = []
        for n in [id] + topology.descendants(of: id) {
            let parent = topology.parent(of: n)
            var o: [String: JSONValue] = [
                "id": .string(n), "name": .string(topology.node(n)?.name ?? ""), "parent": parent.map(JSONValue.string) ?? .null,
                "depth": .int(Int64(topology.depth(of: n) ?? 0)),
            ]
            guard let (s, at) = reports[n] else {
                o["last_contact"] = .null
                rows.append(.object(o))
                continue
            }
            o["last_contact"] = .string(Self.iso8601(ms: at))
            o["last_contact_age_seconds"] = .int(max(0, now - at) / 1000)
            for k in ["version", "applied", "rejected", "conflicts"] { o[k] = s[k] ?? .null }
            var links: [String: JSONValue] = [:]
            for (p, v) in s["peers"]?.objectValue ?? [:] {
                var l = v.objectValue ?? [:]
                let oldest = l.removeValue(forKey: "oldest_pending_at")?.intValue
                l["lag_seconds"] = .int(oldest.map { max(0, now - $0) / 1000 } ?? 0)
                links[p] = .object(l)
            }
            o["links"] = .object(links)
            if let parent, let up = links[parent] {
                o["pending"] = up["pending"] ?? .int(0)
                o["lag_seconds"] = up["lag_seconds"] ?? .int(0)
            }
            rows.append(.object(o))
        }
        return ["node": .string(id), "at": .string(Self.iso8601(ms: now)), "nodes": .array(rows)]
    }
}
