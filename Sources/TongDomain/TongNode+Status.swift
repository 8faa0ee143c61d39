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
                // The neighbour's own highest counter held here: the bound a revocation of its
                // certificate can give (`tong ca revoke --last-counter`).
                "seen_counter": .int(Int64(clamping: try db.seen(from: p))),
            ]
            if let e = l.lastError { o["last_error"] = .string(e) }
            if let name = topology.node(p)?.name { o["name"] = .string(name) }
            peers.append(.object(o))
        }
        let st = try db.state()
        let trusted = try trustStatus()
        return [
            "revocations": trusted.revocations, "keys": trusted.keys,
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
    /// median answer time, average rating: no personal data) and its sync health (`syncReport`),
    /// and publishes them if they changed.
    package func publishSupervision() throws {
        let today = self.today()
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
                        if rating >= 4 { t.good += 1 }
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
                "evaluations": .int(tally.count), "good_ratings": .int(tally.good),
                "weeks": try weeklyFigures(department: d.id, now: wallClock()),
            ]
        }
        let statsID = "\(id)-stats"
        let wanted: [String: JSONValue] = [
            "departments": .object(figures), "deliveries": try deliverySupervision(), "applications": try applicationSupervision(today: today),
        ]
        let current = (try db.record(statsID))?.state.values ?? [:]
        var changed = wanted.filter { current[$0.key] != $0.value }
        // Sync health for `tong status` at the nodes above (see `syncReportChanged`).
        let now = Self.now()
        let report = try syncReport(now: now)
        if Self.syncReportChanged(old: current["sync"], new: report, now: now) { changed["sync"] = .object(report) }
        if changed.isEmpty { return }
        try write([LocalWrite(id: statsID, kind: .stats, owner: id, scope: .owned(id), fields: changed, mustExist: false)])
    }
}

extension TongNode {
    /// 送达 figures of this node, per delivered policy or service item (no personal data):
    /// enterprises it was delivered to, webhook deliveries, how many succeeded or failed for good.
    func deliverySupervision() throws -> JSONValue {
        var out: [String: JSONValue] = [:]
        for f in try db.deliveryFigures() {
            out[f.record] = [
                "department": .string(f.department), "enterprises": .int(Int64(f.enterprises)), "webhooks": .int(Int64(f.webhooks)),
                "delivered": .int(Int64(f.delivered)), "failed": .int(Int64(f.failed)),
            ]
        }
        return .object(out)
    }

    /// 办理 figures of this node's departments, per department and policy (no personal data):
    /// received, decided (approved or rejected) and decided on time, approved, rejected, paid
    /// (count and 万元), open and overdue, and the median working-day-free days to decision.
    func applicationSupervision(today: String) throws -> JSONValue {
        var out: [String: JSONValue] = [:]
        for d in topology.node(id)?.departments ?? [] {
            var perPolicy: [String: [String: Int64]] = [:]
            var decisionDays: [String: [Int64]] = [:]
            for r in try db.feedback(department: d.id, applications: true, limit: 1_000_000) {
                let v = r.state.values
                let policy = v["about"]?.stringValue ?? ""
                let (status, moves) = ApplicationTimeline.replay(v)
                var f = perPolicy[policy] ?? [:]
                f["received", default: 0] += 1
                let submitted = moves.first?.at ?? 0
                if let decision = moves.first(where: { $0.to == .approved || $0.to == .rejected }) {
                    f["decided", default: 0] += 1
                    // On time: decided no later than the due date in force when it was decided.
                    let due = moves.last { $0.at <= decision.at && $0.dueOn != nil }?.dueOn ?? ""
                    if due.isEmpty || Self.day(ms: decision.at) <= due { f["decided_on_time", default: 0] += 1 }
                    decisionDays[policy, default: []].append(max(0, (decision.at - submitted) / 86_400_000))
                }
                if moves.contains(where: { $0.to == .approved }) { f["approved", default: 0] += 1 }
                if status == .rejected { f["rejected", default: 0] += 1 }
                if let paid = moves.first(where: { $0.to == .paid }) {
                    f["paid", default: 0] += 1
                    f["paid_wan", default: 0] += paid.amountWan ?? 0
                }
                if status.isOpen {
                    f["open", default: 0] += 1
                    let due = ApplicationTimeline.dueOn(v)
                    if !due.isEmpty, due < today { f["overdue", default: 0] += 1 }
                }
                perPolicy[policy] = f
            }
            guard !perPolicy.isEmpty else { continue }
            var policies: [String: JSONValue] = [:]
            for (p, f) in perPolicy {
                var o = f.mapValues { JSONValue.int($0) }
                let days = (decisionDays[p] ?? []).sorted()
                o["median_days_to_decision"] = days.isEmpty ? .null : .int(days[days.count / 2])
                policies[p] = .object(o)
            }
            out[d.id] = .object(policies)
        }
        return .object(out)
    }
}

/// Evaluation ratings of one department opened so far: their sum and count, and the last row read.
package struct RatingTally: Sendable {
    package var after: Int64 = 0
    package var sum: Int64 = 0
    package var count: Int64 = 0
    /// Ratings of 4 (满意) or 5 (非常满意): what 满意率 counts.
    package var good: Int64 = 0
}

extension TongNode {
    /// Weeks kept in a department's supervision figures.
    package static let supervisionWeeks = 26

    /// The Monday (`YYYY-MM-DD`, Beijing) of the week holding `ms` (ms since 1970, UTC).
    public static func beijingMonday(ms: Int64) -> String {
        let day: Int64 = 86_400_000
        let local = ms + 8 * 3_600_000
        let days = local >= 0 ? local / day : (local - day + 1) / day
        let monday = days - ((days + 3) % 7 + 7) % 7  // 1970-01-01 was a Thursday
        return SimpleDate(beijingMillis: monday * day - 8 * 3_600_000)?.description ?? "1970-01-01"
    }

    /// ISO 8601 text as ms since 1970 (nil if it is not a time).
    package static func millis(iso: String) -> Int64? {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let d = f.date(from: iso) { return Int64((d.timeIntervalSince1970 * 1000).rounded(.down)) }
        f.formatOptions = [.withInternetDateTime]
        return f.date(from: iso).map { Int64(($0.timeIntervalSince1970 * 1000).rounded(.down)) }
    }

    /// Per week of submission (Beijing Mondays, the last `supervisionWeeks`): items received,
    /// answered (a first reply exists), and answered by their due date (Beijing date of the
    /// first reply ≤ `due_on`; an item without a due date counts as on time).
    package func weeklyFigures(department: String, now: Int64) throws -> JSONValue {
        let since = Self.iso8601(ms: now - Int64(Self.supervisionWeeks) * 7 * 86_400_000)
        var weeks: [String: (received: Int64, answered: Int64, onTime: Int64)] = [:]
        for t in try db.feedbackTimes(department: department, since: since) {
            guard let submitted = Self.millis(iso: t.submittedAt) else { continue }
            let week = Self.beijingMonday(ms: submitted)
            var w = weeks[week] ?? (0, 0, 0)
            w.received += 1
            if let replied = Self.millis(iso: t.repliedAt) {
                w.answered += 1
                let day = SimpleDate(beijingMillis: replied)?.description ?? ""
                if t.dueOn.isEmpty || day <= t.dueOn { w.onTime += 1 }
            }
            weeks[week] = w
        }
        return .object(
            weeks.mapValues { ["received": .int($0.received), "answered": .int($0.answered), "on_time": .int($0.onTime)] })
    }
}
