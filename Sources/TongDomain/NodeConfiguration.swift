import Foundation
import TongCore

/// A node's settings (node.toml). Tests build one directly; every key has a default but `id`.
public struct NodeConfiguration: Sendable {
    /// This node's id (GB/T 2260 code).
    public var nodeID: String
    /// Portal + JSON API listen address, `host:port` (port 0 picks a free port).
    public var http: String
    /// Mutual-TLS federation listen address, `host:port`.
    public var peer: String
    /// Addresses of neighbours, overriding the topology's `peer` (tests use this for port 0).
    public var peerAddresses: [String: String] = [:]
    /// Anti-entropy period of an idle link, milliseconds (`[sync] interval_ms`). New writes are
    /// pushed at once; this only bounds how long a missed push stays missed, and what an idle
    /// link costs (docs/performance.md, idle).
    public var syncIntervalMs: Int64 = 15_000
    /// Extra wait before pushing a change that arrived after the last push, to batch bursts
    /// (milliseconds; `[sync] push_delay_ms`). 0 by default: a change is pushed at once, and the
    /// changes that arrive while a push is in flight travel together in the next one, which
    /// batches a burst without a timer. A 50 ms default added up to 50 ms per hop to the
    /// convergence tail (docs/performance.md, fifth session).
    public var pushDelayMs: Int64 = 0
    /// Working days to answer, by feedback form (`consultation`, `complaint`, `evaluation`, `suggestion`, `survey`).
    /// `application` (办理) is `[applications] due_days`: working days from delivery (or a
    /// resubmission after 补正) to a decision.
    public var dueDays: [String: Int] = [
        "consultation": 3, "complaint": 13, "evaluation": 15, "suggestion": 15, "survey": 15, "application": 20,
    ]
    /// Weekdays that are not working days (public holidays, from the State Council's yearly
    /// notice and any local ones), `yyyy-mm-dd`.
    public var holidays: Set<String> = []
    /// Weekend days that are working days (调休 make-up days), `yyyy-mm-dd`.
    public var workdays: Set<String> = []

    /// Webhook targets allowed although private, loopback or link-local (`[delivery]
    /// webhook_allow`): host names, IP addresses or CIDR blocks. Empty: only public addresses.
    public var webhookAllow: [String] = []
    /// First webhook retry delay, milliseconds; each later one doubles it (with ±20 % jitter),
    /// capped at an hour (`[delivery] retry_base_ms`).
    public var webhookRetryBaseMs: Int64 = 30_000
    /// How long a webhook delivery is retried before it is marked failed, hours
    /// (`[delivery] retry_hours`, at least 24).
    public var webhookRetryHours: Int64 = 26

    /// How often the running node checks its replica with SQLite's `quick_check`, milliseconds
    /// (`[storage] integrity_check_interval_ms`, 10 minutes by default, at least 1 s). A failed
    /// check makes `/healthz` answer 503 with the reason.
    public var integrityCheckIntervalMs: Int64 = 600_000

    /// Makes a configuration.
    public init(nodeID: String, http: String, peer: String) {
        self.nodeID = nodeID; self.http = http; self.peer = peer
    }

    /// Parses node.toml.
    public static func parse(toml: String) throws -> NodeConfiguration {
        let t: [String: TOMLValue]
        do { t = try TOML.parse(toml) } catch { throw NodeError.config("node.toml: \(error)") }
        guard case .string(let id)? = t["id"], Validation.divisionCode(id) else {
            throw NodeError.config("node.toml: `id` must be a six-digit division code")
        }
        guard case .string(let http)? = t["http"], case .string(let peer)? = t["peer"] else {
            throw NodeError.config("node.toml: `http` and `peer` addresses are required")
        }
        var c = NodeConfiguration(nodeID: id, http: http, peer: peer)
        if case .table(let s)? = t["sync"] {
            if case .integer(let ms)? = s["interval_ms"] { c.syncIntervalMs = Int64(max(100, ms)) }
            if case .integer(let ms)? = s["push_delay_ms"] { c.pushDelayMs = Int64(max(0, ms)) }
        }
        if case .table(let f)? = t["feedback"] {
            for (k, v) in f { if case .integer(let d) = v, k.hasSuffix("_days") { c.dueDays[String(k.dropLast(5))] = max(1, d) } }
            c.holidays = try dates(f["holidays"], key: "holidays")
            c.workdays = try dates(f["workdays"], key: "workdays")
            if let both = c.holidays.intersection(c.workdays).sorted().first {
                throw NodeError.config("node.toml: [feedback] \(both) is listed both as a holiday and as a working day")
            }
        }
        if case .table(let a)? = t["applications"] {
            if case .integer(let d)? = a["due_days"] { c.dueDays["application"] = max(1, d) }
        }
        if case .table(let d)? = t["delivery"] {
            if let allow = d["webhook_allow"] {
                guard let items = allow.arrayValue?.compactMap(\.stringValue), items.count == allow.arrayValue?.count else {
                    throw NodeError.config("node.toml: [delivery] webhook_allow must be a list of hosts or CIDRs like \"127.0.0.1\"")
                }
                for item in items where WebhookTarget.Allowance(item) == nil {
                    throw NodeError.config("node.toml: [delivery] webhook_allow: \"\(item)\" is not a host name, IP address or CIDR block")
                }
                c.webhookAllow = items
            }
            if case .integer(let ms)? = d["retry_base_ms"] { c.webhookRetryBaseMs = Int64(max(10, ms)) }
            if case .integer(let h)? = d["retry_hours"] { c.webhookRetryHours = Int64(max(24, h)) }
        }
        if case .table(let st)? = t["storage"] {
            if case .integer(let ms)? = st["integrity_check_interval_ms"] { c.integrityCheckIntervalMs = Int64(max(1_000, ms)) }
        }
        if case .table(let p)? = t["peers"] {
            for (k, v) in p { if case .string(let a) = v { c.peerAddresses[k] = a } }
        }
        return c
    }

    /// A list of `yyyy-mm-dd` days, or one clear error naming the key.
    package static func dates(_ v: TOMLValue?, key: String) throws -> Set<String> {
        guard let v else { return [] }
        guard let items = v.arrayValue else { throw NodeError.config("node.toml: [feedback] \(key) must be a list of dates like \"2026-10-01\"") }
        var out: Set<String> = []
        for item in items {
            guard let s = item.stringValue, SimpleDate(s) != nil else {
                throw NodeError.config("node.toml: [feedback] \(key) must be a list of dates like \"2026-10-01\"")
            }
            out.insert(s)
        }
        return out
    }

    /// Writes node.toml.
    public func toTOML() -> String {
        var s = """
            # Tong node settings. See docs/architecture.md.
            id = "\(nodeID)"
            http = "\(http)"
            peer = "\(peer)"

            [sync]
            interval_ms = \(syncIntervalMs)
            push_delay_ms = \(pushDelayMs)

            [feedback]

            """
        for k in dueDays.keys.sorted() where k != "application" { s += "\(k)_days = \(dueDays[k]!)\n" }
        s += """
            # Due dates count working days: Monday to Friday, except `holidays`, plus `workdays`
            # (weekend make-up days). Fill both from the State Council's yearly holiday notice
            # (国务院办公厅关于部分节假日安排的通知) and any local holidays.
            holidays = [\(holidays.sorted().map { "\"\($0)\"" }.joined(separator: ", "))]
            workdays = [\(workdays.sorted().map { "\"\($0)\"" }.joined(separator: ", "))]

            """
        s += """

            [applications]
            # Working days from delivery (or a resubmission after 补正) to a decision (办理).
            due_days = \(dueDays["application"] ?? 20)

            [delivery]
            # Webhooks (送达) go to public addresses only, unless listed here (hosts, IPs or CIDRs).
            webhook_allow = [\(webhookAllow.map { "\"\($0)\"" }.joined(separator: ", "))]
            retry_base_ms = \(webhookRetryBaseMs)
            retry_hours = \(webhookRetryHours)

            [storage]
            # PRAGMA quick_check of the replica while running (at start it always runs).
            integrity_check_interval_ms = \(integrityCheckIntervalMs)

            """
        if !peerAddresses.isEmpty {
            s += "\n[peers]\n"
            for k in peerAddresses.keys.sorted() { s += "\(k) = \"\(peerAddresses[k]!)\"\n" }
        }
        return s
    }

    /// Splits `host:port`.
    package static func hostPort(_ s: String) throws -> (String, Int) {
        guard let i = s.lastIndex(of: ":"), let p = Int(s[s.index(after: i)...]), (0...65535).contains(p) else {
            throw NodeError.config("address \"\(s)\" is not host:port")
        }
        return (String(s[..<i]), p)
    }
}
