import BlytzManifest
import CoreMetrics
import Prometheus
import Synchronization

/// The runner's metrics (swift-metrics, kept by swift-prometheus in this runner's own registry), in
/// Prometheus' text format on `GET /metrics`: the gateway shows every service's, a service's port its own.
///
/// Invocations, their durations and cold starts are recorded as they happen; what the pools and the event
/// queue already keep (workers by state, crashes, backlogs, dead letters, outbox rows) is read when
/// scraped. Every series has a `service` label; label values come from the manifest and the fixed states
/// and status codes, so the label sets stay bounded.
final class RunnerMetrics: Sendable {
    let registry = PrometheusCollectorRegistry()
    private let factory: PrometheusMetricsFactory
    /// Function → its service.
    private let services: [String: String]
    /// What the pools have counted so far, as last copied into the registry's counters.
    private let copied = Mutex<[String: Int]>([:])
    /// The series an invocation records, made once per function, trigger and status: making them is a
    /// lookup in the registry with its labels checked, which costs more than recording.
    private let series = Mutex<[InvocationKey: InvocationSeries]>([:])

    private struct InvocationKey: Hashable {
        var function: String
        var trigger: String
        var status: Int
    }

    private struct InvocationSeries {
        var invocations: CoreMetrics.Counter
        var duration: CoreMetrics.Timer
        var coldStarts: CoreMetrics.Counter
    }

    /// Histogram buckets from 1 ms to 30 s.
    static let buckets: [Duration] = [1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000].map { .microseconds(Int64($0 * 1000)) }

    init(manifest: Manifest) {
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.defaultDurationHistogramBuckets = Self.buckets
        self.factory = factory
        services = Dictionary(uniqueKeysWithValues: manifest.functions.map { ($0.name, $0.service) })
    }

    private func labels(_ function: String, _ extra: (String, String)...) -> [(String, String)] {
        [("service", services[function] ?? "runner"), ("function", function)] + extra
    }

    /// One invocation as the invocation log records it: `status` is the HTTP status answered (for a queue
    /// batch 200, 207 partly failed or 502; for a schedule 200 or 502).
    func invoked(function: String, trigger: String, status: Int, milliseconds: Double, coldStart: Bool) {
        let key = InvocationKey(function: function, trigger: trigger, status: status)
        let series = self.series.withLock { known in
            if let series = known[key] { return series }
            let series = InvocationSeries(
                invocations: Counter(label: "blytz_function_invocations_total", dimensions: labels(function, ("trigger", trigger), ("code", "\(status)")), factory: factory),
                duration: Timer(label: "blytz_function_duration_seconds", dimensions: labels(function), factory: factory),
                coldStarts: Counter(label: "blytz_function_cold_starts_total", dimensions: labels(function), factory: factory)
            )
            known[key] = series
            return series
        }
        series.invocations.increment()
        series.duration.recordNanoseconds(Int64(milliseconds * 1_000_000))
        if coldStart { series.coldStarts.increment() }
    }

    /// A worker's start, from its spawn to its first request for work.
    func started(function: String, afterMicroseconds micros: Int) {
        Timer(label: "blytz_function_cold_start_duration_seconds", dimensions: labels(function), factory: factory).recordMicroseconds(micros)
    }

    /// A failed delivery scheduled again.
    func retried(function: String) {
        Counter(label: "blytz_queue_retries_total", dimensions: labels(function), factory: factory).increment()
    }

    /// Brings what is read when scraped up to date, and answers the exposition (of `service` only, when given).
    func exposition(pools: [PoolSnapshot], queues: [QueueStatistics], outboxes: [String: Int], service: String?) -> String {
        for pool in pools {
            for (state, count) in [("starting", pool.workers.starting), ("idle", pool.workers.idle), ("busy", pool.workers.busy), ("stopping", pool.workers.stopping)] {
                Gauge(label: "blytz_function_workers", dimensions: labels(pool.name, ("state", state)), factory: factory).record(count)
            }
            Gauge(label: "blytz_function_backlog", dimensions: labels(pool.name), factory: factory).record(pool.backlog)
            for (name, value) in [
                ("blytz_function_throttles_total", pool.throttled), ("blytz_function_timeouts_total", pool.timeouts),
                ("blytz_function_crashes_total", pool.crashes), ("blytz_function_workers_started_total", pool.workersStarted),
            ] {
                copy(value, into: name, function: pool.name)
            }
        }
        for queue in queues {
            Gauge(label: "blytz_queue_backlog", dimensions: labels(queue.function), factory: factory).record(queue.ready)
            Gauge(label: "blytz_queue_in_flight", dimensions: labels(queue.function), factory: factory).record(queue.inFlight)
            Gauge(label: "blytz_queue_dead_letters", dimensions: labels(queue.function), factory: factory).record(queue.dead)
            Gauge(label: "blytz_queue_oldest_event_age_seconds", dimensions: labels(queue.function), factory: factory).record(queue.oldestAgeSeconds)
        }
        for (name, waiting) in outboxes {
            Gauge(label: "blytz_outbox_waiting_events", dimensions: [("service", name)], factory: factory).record(waiting)
        }
        let text = registry.emitToString()
        guard let service else { return text }
        // A service's own series: the families' headers, and the samples labelled with it.
        let mine = "service=\"\(service)\""
        return text.split(separator: "\n", omittingEmptySubsequences: false)
            .filter { $0.hasPrefix("#") || $0.isEmpty || $0.contains(mine) }
            .joined(separator: "\n")
    }

    /// Raises a counter to what a pool has counted (they only grow).
    private func copy(_ value: Int, into name: String, function: String) {
        let key = name + " " + function
        let delta = copied.withLock { copied -> Int in
            let delta = value - (copied[key] ?? 0)
            if delta > 0 { copied[key] = value }
            return delta
        }
        // Incremented by 0 too, so the series exists from the first scrape.
        Counter(label: name, dimensions: labels(function), factory: factory).increment(by: max(0, delta))
    }
}

/// One queue function's deliveries, as the metrics show them.
struct QueueStatistics: Sendable, Equatable, Encodable {
    var function: String
    /// Waiting to be handed over (including those waiting out a retry's backoff).
    var ready: Int
    /// Handed to the function and not yet answered.
    var inFlight: Int
    /// In the dead-letter store.
    var dead: Int
    /// How long the oldest undelivered event has waited, in seconds (0 when none waits).
    var oldestAgeSeconds: Double
}
