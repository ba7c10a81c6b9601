import CoreMetrics
import Metrics

/// A pool's figures for the ecosystem (swift-metrics: any backend the app bootstrapped —
/// Prometheus, StatsD, OTel) and for its own snapshots (latency windows).
///
/// Metric names: `flame_calls_total{pool, outcome=completed|failed|timed_out}`,
/// `flame_call_duration_seconds{pool}` (timer), `flame_boot_duration_seconds{pool}` (timer),
/// `flame_boot_failures_total{pool}`, `flame_runners{pool}`, `flame_queue_depth{pool}` and
/// `flame_pending_boots{pool}` (gauges).
final class PoolTelemetry: Sendable {
    let callLatency = LatencyWindow()
    let bootLatency = LatencyWindow(window: .seconds(600), sliceCount: 10)
    private let completed: Counter
    private let failed: Counter
    private let timedOut: Counter
    private let bootFailures: Counter
    private let callDuration: Metrics.Timer
    private let bootDuration: Metrics.Timer
    private let runners: Gauge
    private let queueDepth: Gauge
    private let pendingBoots: Gauge

    init(pool: String) {
        let dimensions = [("pool", pool)]
        completed = Counter(label: "flame_calls_total", dimensions: dimensions + [("outcome", "completed")])
        failed = Counter(label: "flame_calls_total", dimensions: dimensions + [("outcome", "failed")])
        timedOut = Counter(label: "flame_calls_total", dimensions: dimensions + [("outcome", "timed_out")])
        bootFailures = Counter(label: "flame_boot_failures_total", dimensions: dimensions)
        callDuration = Metrics.Timer(label: "flame_call_duration_seconds", dimensions: dimensions, preferredDisplayUnit: .milliseconds)
        bootDuration = Metrics.Timer(label: "flame_boot_duration_seconds", dimensions: dimensions, preferredDisplayUnit: .milliseconds)
        runners = Gauge(label: "flame_runners", dimensions: dimensions)
        queueDepth = Gauge(label: "flame_queue_depth", dimensions: dimensions)
        pendingBoots = Gauge(label: "flame_pending_boots", dimensions: dimensions)
    }

    /// A call got its answer from a runner (its result, or its job's error).
    func callAnswered(after latency: Duration, succeeded: Bool) {
        callLatency.record(latency)
        callDuration.recordNanoseconds(latency.nanoseconds)
        (succeeded ? completed : failed).increment()
    }

    /// A call failed without an answer (runner exit, kill).
    func callFailed() { failed.increment() }

    func callTimedOut() { timedOut.increment() }

    func booted(after latency: Duration) {
        bootLatency.record(latency)
        bootDuration.recordNanoseconds(latency.nanoseconds)
    }

    func bootFailed() { bootFailures.increment() }

    func gauges(runners: Int, queueDepth: Int, pendingBoots: Int) {
        self.runners.record(runners)
        self.queueDepth.record(queueDepth)
        self.pendingBoots.record(pendingBoots)
    }
}
