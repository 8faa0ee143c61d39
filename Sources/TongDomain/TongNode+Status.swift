import Foundation
import TongCore
import TongStore

extension TongNode {
    /// Neighbours with their roles.
    package var neighbours: [(id: String, role: String)] {
        var out: [(String, String)] = []
        if let p = topology.parent(of: id) { out.append((p, "parent")) }
        for c in topology.children(of: id) { out.append((c, "child")) }
        return out
    }

    /// `GET /api/v1/sync/status` per contract.
    public func syncStatus() throws -> JSONValue {
        let counts = try db.syncCounts()
        var peers: [JSONValue] = []
        for (p, role) in neighbours {
            let l = link.get(p)
            let pending = try db.pending(for: p, after: l.peerCursor ?? 0, topology: topology)
            var o: [String: JSONValue] = [
                "id": .string(p), "role": .string(role), "connected": .bool(l.connected),
                "last_sync": l.lastSync.map { .string(Self.iso8601(ms: $0)) } ?? .null, "pending": .int(Int64(pending)),
            ]
            if let e = l.lastError { o["last_error"] = .string(e) }
            if let name = topology.node(p)?.name { o["name"] = .string(name) }
            peers.append(.object(o))
        }
        let st = try db.state()
        return [
            "node": .string(id), "peers": .array(peers), "applied": .int(Int64(counts.applied)),
            "rejected": .int(Int64(counts.rejected)), "conflicts": .int(Int64(try db.conflictCount())),
            "counter": .int(Int64(st.counter)), "log_epoch": .string(st.logEpoch), "restore_pending": .bool(st.restorePending),
            "recent_rejections": .array(
                try db.rejections(limit: 10).map {
                    [
                        "at": .string(Self.iso8601(ms: $0.at)), "peer": .string($0.peer), "origin": $0.origin.map(JSONValue.string) ?? .null,
                        "reason": .string($0.reason),
                    ]
                }),
        ]
    }

    /// Supervision figures (督查): this node's own line, plus every line that flowed up to it.
    public func supervision() throws -> JSONValue {
        var lines: [JSONValue] = []
        for r in try db.records(kind: .stats) {
            for (dept, fig) in r.state["departments"]?.objectValue ?? [:] {
                var o = fig.objectValue ?? [:]
                o["department"] = .string(dept)
                o["node"] = .string(r.state.owner)
                if let d = try db.record(dept) { o["name"] = d.state["name"] ?? "" }
                lines.append(.object(o))
            }
        }
        lines.sort { ($0["department"]?.stringValue ?? "") < ($1["department"]?.stringValue ?? "") }
        return ["node": .string(id), "departments": .array(lines)]
    }

    /// Recomputes this node's supervision figures from its departments' feedback (counts, overdue,
    /// median answer time, average rating: no personal data) and publishes them if they changed.
    package func publishSupervision() throws {
        let today = Self.day(ms: Self.now())
        var figures: [String: JSONValue] = [:]
        let parser = ISO8601DateFormatter()
        parser.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        for d in topology.node(id)?.departments ?? [] {
            // Counts, overdue items and answer times come from the feedback index; only the
            // ratings need the records, because they are sealed to the department.
            let f = try db.feedbackFigures(department: d.id, today: today)
            var answerMinutes: [Int64] = f.answers.compactMap { a in
                guard let s = parser.date(from: a.submittedAt), let r = parser.date(from: a.repliedAt) else { return nil }
                return Int64(r.timeIntervalSince(s) / 60)
            }
            // A submitted evaluation never changes, so each is opened once: the tally keeps the
            // sum and count and where it stopped, and each run reads only newer evaluations.
            // Held across the read, so two runs never both count the same evaluations.
            let tally = try ratingTallies.withLock { tallies -> RatingTally in
                var t = tallies[d.id] ?? RatingTally()
                guard let key = departmentSealKey(d.id) else { return t }
                var incomplete = false
                try db.eachFeedback(department: d.id, form: "evaluation", after: t.after) { r in
                    guard !incomplete else { return }
                    // Not complete here yet (an edit overtook its creation): read it again next time.
                    guard let s = r.state["sealed"]?.stringValue else { incomplete = true; return }
                    if let rating = Sealing.open(s, with: key, aad: r.state.id)?["rating"]?.intValue {
                        t.sum += rating
                        t.count += 1
                    }
                    t.after = r.rowid
                }
                tallies[d.id] = t
                return t
            }
            answerMinutes.sort()
            figures[d.id] = [
                "by_status": .object(f.byStatus.mapValues { .int(Int64($0)) }), "overdue": .int(Int64(f.overdue)),
                "median_answer_minutes": answerMinutes.isEmpty ? .null : .int(answerMinutes[answerMinutes.count / 2]),
                "average_rating_x100": tally.count == 0 ? .null : .int(tally.sum * 100 / tally.count),
                "evaluations": .int(tally.count),
            ]
        }
        let statsID = "\(id)-stats"
        if (try db.record(statsID))?.state["departments"] == .object(figures) { return }
        try write([LocalWrite(id: statsID, kind: .stats, owner: id, scope: .owned(id), fields: ["departments": .object(figures)], mustExist: false)])
    }
}

/// Evaluation ratings of one department opened so far: their sum and count, and the last row read.
package struct RatingTally: Sendable {
    package var after: Int64 = 0
    package var sum: Int64 = 0
    package var count: Int64 = 0
}
