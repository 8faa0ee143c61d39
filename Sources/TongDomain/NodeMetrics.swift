import CoreMetrics
import Metrics
import Prometheus

/// The node's metrics, through swift-metrics with a per-node Prometheus registry (so several
/// nodes in one test process don't share counters, and nothing is bootstrapped globally).
/// Every family has `# HELP` and `# TYPE` (docs/operations.md lists them with alert rules).
public final class NodeMetrics: Sendable {
    /// The registry `/metrics` renders.
    public let registry = PrometheusCollectorRegistry()
    package let factory: PrometheusMetricsFactory
    package let setsApplied: CoreMetrics.Counter
    package let setsRejected: CoreMetrics.Counter
    package let setsSent: CoreMetrics.Counter
    package let bytesSent: CoreMetrics.Counter
    package let bytesReceived: CoreMetrics.Counter
    package let webhooksDelivered: CoreMetrics.Counter
    package let webhooksFailed: CoreMetrics.Counter

    /// The help text of every family this node exports. swift-prometheus 2.4.1 writes `# HELP`
    /// only for metrics made with a help string, which swift-metrics' factory never passes, so
    /// `render()` adds the missing lines from this table; metrics made on the registry directly
    /// (`gauge`, `counter`) pass it themselves.
    package static let help: [String: String] = [
        "tong_build_info": "Always 1; the labels say which version and commit this node runs.",
        "tong_search_postings_segments":
            "Postings segments in the full-text index: ready, or not_ready (stale, being built, or of an older format; FTS5 answers for those).",
        "tong_search_postings_rows": "Searchable rows covered by ready postings segments.",
        "tong_sync_sets_applied_total": "Change sets received from neighbours and applied here.",
        "tong_sync_sets_rejected_total": "Change sets (or whole push bodies) received and rejected.",
        "tong_sync_sets_sent_total": "Change sets pushed to neighbours.",
        "tong_sync_bytes_sent_total": "Bytes of push bodies sent to neighbours.",
        "tong_sync_bytes_received_total": "Bytes of push bodies received from neighbours.",
        "tong_webhook_deliveries_total": "Webhook delivery attempts (送达) by outcome.",
        "tong_http_requests_total": "HTTP requests answered, by route, method and status.",
        "tong_http_request_duration_seconds": "Time to answer an HTTP request, by route.",
        "tong_records": "Records in the replica, by kind.",
        "tong_conflicts": "Field values currently kept as concurrent-edit conflicts.",
        "tong_peer_connected": "1 while the sync link to the neighbour works, 0 after a failed request.",
        "tong_peer_last_contact_age_seconds": "Seconds since the last successful request on the link (-1: never).",
        "tong_peer_pending_sets": "Change sets in this node's log that the neighbour still lacks.",
        "tong_peer_lag_seconds": "Age of the oldest change set the neighbour still lacks (0: none).",
        "tong_peer_sets_pushed_total": "Change sets pushed to the neighbour and acknowledged.",
        "tong_peer_bytes_pushed_total": "Bytes of push bodies sent to the neighbour and acknowledged.",
        "tong_peer_sets_received_total": "Change sets received from the neighbour (applied, duplicate or rejected).",
        "tong_peer_bytes_received_total": "Bytes of push bodies received from the neighbour.",
        "tong_feedback_open": "Open feedback items (互动通) of this node's departments.",
        "tong_feedback_overdue": "Open feedback items past their due date.",
        "tong_applications_open": "Open applications (办理) of this node's departments.",
        "tong_applications_overdue": "Open applications past their due date.",
        "tong_storage_ok": "1 while the last integrity check of the replica passed, 0 once one failed.",
    ]

    /// Makes the node's metrics.
    public init() {
        factory = PrometheusMetricsFactory(registry: registry)
        setsApplied = CoreMetrics.Counter(label: "tong_sync_sets_applied_total", factory: factory)
        setsRejected = CoreMetrics.Counter(label: "tong_sync_sets_rejected_total", factory: factory)
        setsSent = CoreMetrics.Counter(label: "tong_sync_sets_sent_total", factory: factory)
        bytesSent = CoreMetrics.Counter(label: "tong_sync_bytes_sent_total", factory: factory)
        bytesReceived = CoreMetrics.Counter(label: "tong_sync_bytes_received_total", factory: factory)
        webhooksDelivered = CoreMetrics.Counter(label: "tong_webhook_deliveries_total", dimensions: [("outcome", "delivered")], factory: factory)
        webhooksFailed = CoreMetrics.Counter(label: "tong_webhook_deliveries_total", dimensions: [("outcome", "failed_attempt")], factory: factory)
        gauge("tong_build_info", [("version", BuildInfo.version), ("commit", BuildInfo.commit)]).set(Int64(1))
    }

    /// A gauge of the registry with its help text (one per name and labels; the registry keeps it).
    package func gauge(_ name: String, _ labels: [(String, String)]) -> Prometheus.Gauge {
        registry.makeGauge(name: name, labels: labels, help: Self.help[name] ?? "")
    }

    /// A counter of the registry with its help text.
    package func counter(_ name: String, _ labels: [(String, String)]) -> Prometheus.Counter {
        registry.makeCounter(name: name, labels: labels, help: Self.help[name] ?? "")
    }

    /// Counts one API request and its latency.
    package func request(route: String, method: String, status: Int, seconds: Double) {
        CoreMetrics.Counter(
            label: "tong_http_requests_total", dimensions: [("route", route), ("method", method), ("status", String(status))], factory: factory
        ).increment()
        CoreMetrics.Timer(label: "tong_http_request_duration_seconds", dimensions: [("route", route)], factory: factory).recordNanoseconds(
            Int64(seconds * 1e9))
    }

    /// Counts a push acknowledged by `peer`: its sets and bytes.
    package func pushed(peer: String, sets: Int, bytes: Int) {
        counter("tong_peer_sets_pushed_total", [("peer", peer)]).increment(by: Int64(sets))
        counter("tong_peer_bytes_pushed_total", [("peer", peer)]).increment(by: Int64(bytes))
    }

    /// Counts a push body received from `peer`: its bytes, and its sets once it was read.
    package func received(peer: String, sets: Int, bytes: Int) {
        counter("tong_peer_sets_received_total", [("peer", peer)]).increment(by: Int64(sets))
        counter("tong_peer_bytes_received_total", [("peer", peer)]).increment(by: Int64(bytes))
    }

    /// Sets the records-by-kind gauges.
    package func records(_ counts: [String: Int]) {
        for (kind, n) in counts { CoreMetrics.Gauge(label: "tong_records", dimensions: [("kind", kind)], factory: factory).record(n) }
    }

    /// Prometheus text format 0.0.4, with a `# HELP` line before every `# TYPE` line that lacks one.
    public func render() -> String { Self.addingHelp(registry.emitToString()) }

    /// Inserts `# HELP` lines from `help` where the registry wrote none.
    package static func addingHelp(_ text: String) -> String {
        var out: [Substring] = []
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        for line in lines {
            if line.hasPrefix("# TYPE ") {
                let name = line.dropFirst(7).prefix { $0 != " " }
                let hasHelp = out.last.map { $0.hasPrefix("# HELP \(name) ") } ?? false
                if !hasHelp { out.append("# HELP \(name) \(help[String(name)] ?? "Tong metric \(name).")") }
            }
            out.append(line)
        }
        return out.joined(separator: "\n")
    }
}
