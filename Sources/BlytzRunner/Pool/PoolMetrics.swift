/// Counters and recent latencies of one function, as `GET /_local/functions` reports them.
struct PoolMetrics: Sendable {
    var invocations = 0
    var errors = 0
    var timeouts = 0
    var crashes = 0
    var throttled = 0
    var coldStarts = 0
    var workersStarted = 0
    /// The most recent latencies in microseconds (a ring of fixed size).
    private var latencies: [Int] = []
    private var next = 0
    private static let window = 2048
    /// Spawn to first `next` of recent workers, in microseconds.
    private(set) var coldStartMicros: [Int] = []

    mutating func record(latencyMicros: Int) {
        if latencies.count < Self.window {
            latencies.append(latencyMicros)
        } else {
            latencies[next] = latencyMicros
            next = (next + 1) % Self.window
        }
    }

    /// Cold starts not yet handed to the runner's metrics (`takeColdStarts`).
    private var unreported: [Int] = []

    mutating func record(coldStartMicros value: Int) {
        coldStartMicros.append(value)
        if coldStartMicros.count > 64 { coldStartMicros.removeFirst() }
        if unreported.count < 1024 { unreported.append(value) }
    }

    /// The cold starts since the last call, in microseconds.
    mutating func takeColdStarts() -> [Int] {
        defer { unreported.removeAll() }
        return unreported
    }

    /// The latency percentile `p` (0...100) in milliseconds over the window.
    func latencyPercentile(_ p: Double) -> Double? {
        percentile(latencies, p)
    }

    func coldStartPercentile(_ p: Double) -> Double? {
        percentile(coldStartMicros, p)
    }

    private func percentile(_ values: [Int], _ p: Double) -> Double? {
        guard !values.isEmpty else { return nil }
        let sorted = values.sorted()
        let rank = Int((p / 100 * Double(sorted.count - 1)).rounded())
        return Double(sorted[rank]) / 1000
    }
}
