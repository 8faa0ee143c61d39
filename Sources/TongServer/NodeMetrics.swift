import CoreMetrics
import Metrics
import Prometheus

/// The node's metrics, through swift-metrics with a per-node Prometheus registry (so several
/// nodes in one test process don't share counters, and nothing is bootstrapped globally).
public final class NodeMetrics: Sendable {
    /// The registry `/metrics` renders.
    public let registry = PrometheusCollectorRegistry()
    let factory: PrometheusMetricsFactory
    let setsApplied: Counter
    let setsRejected: Counter
    let setsSent: Counter
    let bytesSent: Counter
    let bytesReceived: Counter

    /// Makes the node's metrics.
    public init() {
        factory = PrometheusMetricsFactory(registry: registry)
        setsApplied = Counter(label: "tong_sync_sets_applied_total", factory: factory)
        setsRejected = Counter(label: "tong_sync_sets_rejected_total", factory: factory)
        setsSent = Counter(label: "tong_sync_sets_sent_total", factory: factory)
        bytesSent = Counter(label: "tong_sync_bytes_sent_total", factory: factory)
        bytesReceived = Counter(label: "tong_sync_bytes_received_total", factory: factory)
    }

    /// Counts one API request and its latency.
    func request(route: String, method: String, status: Int, seconds: Double) {
        Counter(label: "tong_http_requests_total", dimensions: [("route", route), ("method", method), ("status", String(status))], factory: factory).increment()
        Timer(label: "tong_http_request_duration_seconds", dimensions: [("route", route)], factory: factory).recordNanoseconds(Int64(seconds * 1e9))
    }

    /// Sets the records-by-kind gauges.
    func records(_ counts: [String: Int]) {
        for (kind, n) in counts { Gauge(label: "tong_records", dimensions: [("kind", kind)], factory: factory).record(n) }
    }

    /// Prometheus text.
    public func render() -> String { registry.emitToString() }
}
