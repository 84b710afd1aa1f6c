#if canImport(Glibc)
import Glibc
#endif
import Blytz
import NIOCore
import Synchronization

/// One JSON line per invocation on standard output (and in `logs/invocations.log`, where `blytz logs` reads
/// it), buffered so logging never slows the hot path; the invocation counted in the metrics, and kept for
/// the dashboard with its event and answer.
final class InvocationLog: Sendable {
    private let buffer = Mutex<[UInt8]>([])
    private let fd: Int32
    private let copy: Int32?
    /// Function → its service.
    private let services: [String: String]
    let metrics: RunnerMetrics?
    let activity: ActivityStore?

    init(fd: Int32 = 1, copy: Int32? = nil, services: [String: String] = [:], metrics: RunnerMetrics? = nil, activity: ActivityStore? = nil) {
        self.fd = fd
        self.copy = copy
        self.services = services
        self.metrics = metrics
        self.activity = activity
    }

    /// Logs one invocation; a queue function's line names the events it was handed (`events`). The
    /// dashboard keeps it as the runner's span `operation` (by default named as the runner's tracer names
    /// it: `deliver f`, `schedule f`, …), under `parent` (a caller's `traceparent`), with the `event` the
    /// function was handed and its `answer`.
    func record(
        function: String, requestID: String, status: Int, durationMs: Double, coldStart: Bool, trigger: String, events: [String]? = nil, traceparent: String? = nil,
        operation: String? = nil, parent: String? = nil, event: ByteBuffer? = nil, answer: ByteBuffer? = nil
    ) {
        metrics?.invoked(function: function, trigger: trigger, status: status, milliseconds: durationMs, coldStart: coldStart)
        let time = wallClockMilliseconds()
        let service = services[function] ?? "runner"
        activity?.add(ActivityStore.Invocation(
            seq: 0, time: time, function: function, service: service, trigger: trigger, status: status, durationMs: durationMs,
            coldStart: coldStart, requestId: requestID, traceparent: traceparent, parentSpanId: parent.flatMap(TraceContext.spanID),
            operation: operation ?? "\(trigger == "queue" ? "deliver" : trigger) \(function)", event: event, answer: answer, events: events
        ))
        var writer = JSONWriter(capacity: 256)
        writer.object { json in
            json.field("time", Timestamp.iso8601(milliseconds: time))
            json.field("level", "info")
            json.field("message", "invoked")
            json.field("service", service)
            json.field("function", function)
            json.field("requestId", requestID)
            if let traceId = traceparent.flatMap(FunctionContext.traceId) { json.field("traceId", traceId) }
            json.field("status", Int64(status))
            json.field("durationMs", raw: String((durationMs * 1000).rounded() / 1000))
            json.field("coldStart", coldStart)
            json.field("trigger", trigger)
            if let events { json.field("events", events) }
        }
        writer.append(UInt8(ascii: "\n"))
        let line = writer.bytes
        let full = buffer.withLock { buffer -> [UInt8]? in
            buffer.append(contentsOf: line)
            guard buffer.count > 32 * 1024 else { return nil }
            defer { buffer.removeAll(keepingCapacity: true) }
            return buffer
        }
        if let full { write(full) }
    }

    /// Writes what is buffered.
    func flush() {
        let pending = buffer.withLock { buffer -> [UInt8] in
            defer { buffer.removeAll(keepingCapacity: true) }
            return buffer
        }
        if !pending.isEmpty { write(pending) }
    }

    private func write(_ bytes: [UInt8]) {
        write(bytes, to: fd)
        if let copy { write(bytes, to: copy) }
    }

    private func write(_ bytes: [UInt8], to fd: Int32) {
        bytes.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let written = Glibc.write(fd, raw.baseAddress! + offset, raw.count - offset)
                if written <= 0 { return }
                offset += written
            }
        }
    }
}
