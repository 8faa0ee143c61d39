import CoreMetrics
import Metrics
import Prometheus

/// The node's metrics, through swift-metrics with a per-node Prometheus registry (so several
/// nodes in one test process don't share counters, and nothing is bootstrapped globally).
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
    }

    /// Counts one API request and its latency.
    package func request(route: String, method: String, status: Int, seconds: Double) {
        CoreMetrics.Counter(
            label: "tong_http_requests_total", dimensions: [("route", route), ("method", method), ("status", String(status))], factory: factory
        ).increment()
        CoreMetrics.Timer(label: "tong_http_request_duration_seconds", dimensions: [("route", route)], factory: factory).recordNanoseconds(
            Int64(seconds * 1e9))
    }

    /// Sets the records-by-kind gauges.
    package func records(_ counts: [String: Int]) {
        for (kind, n) in counts { CoreMetrics.Gauge(label: "tong_records", dimensions: [("kind", kind)], factory: factory).record(n) }
    }

    /// Prometheus text.
    public func render() -> String { registry.emitToString() }
}
