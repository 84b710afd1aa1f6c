import Blytz
import Foundation
import NIOCore
import Synchronization

/// What the local dashboard shows (`/_local/`): the runner's most recent invocations, each with the event
/// it handed the function and what the function answered, and the most recent spans of every process,
/// kept in memory whether or not traces are exported elsewhere. Retention: the last
/// `invocationCapacity` invocations (their event and answer up to `bodyLimit` bytes each) and the last
/// `spanCapacity` spans; older ones are dropped as new ones come, and nothing outlives the runner.
final class ActivityStore: Sendable {
    static let invocationCapacity = 10_000
    static let spanCapacity = 100_000
    static let bodyLimit = 16 * 1024

    /// One invocation as the runner saw it.
    struct Invocation: Sendable {
        var seq: Int
        /// When it ended, in milliseconds since 1970.
        var time: Int64
        var function: String
        var service: String
        var trigger: String
        var status: Int
        var durationMs: Double
        var coldStart: Bool
        var requestId: String
        /// The `traceparent` the function was handed: its trace, and the runner's span for the invocation.
        var traceparent: String?
        /// The span the runner's span continues (a caller's `traceparent`), if any.
        var parentSpanId: String?
        /// What the runner's span is called (`POST /jobs`, `deliver f`).
        var operation: String
        var event: ByteBuffer?
        var answer: ByteBuffer?
        var events: [String]?
        let traceId: String?

        init(
            seq: Int, time: Int64, function: String, service: String, trigger: String, status: Int, durationMs: Double, coldStart: Bool, requestId: String,
            traceparent: String?, parentSpanId: String?, operation: String, event: ByteBuffer?, answer: ByteBuffer?, events: [String]?
        ) {
            (self.seq, self.time, self.function, self.service, self.trigger, self.status) = (seq, time, function, service, trigger, status)
            (self.durationMs, self.coldStart, self.requestId, self.traceparent, self.parentSpanId) = (durationMs, coldStart, requestId, traceparent, parentSpanId)
            (self.operation, self.event, self.answer, self.events) = (operation, event, answer, events)
            traceId = traceparent.flatMap(FunctionContext.traceId)
        }
    }

    struct Link: Codable, Sendable, Equatable {
        var traceId: String
        var spanId: String
    }

    /// One finished span, of the runner or of a worker.
    struct Span: Codable, Sendable {
        var traceId: String
        var spanId: String
        var parentSpanId: String
        var name: String
        var kind: String
        var service: String
        var startNs: Int64
        var endNs: Int64
        var attributes: [String: String]
        var links: [Link]
        var error: Bool
    }

    private struct State {
        var invocations = Ring<Invocation>(capacity: ActivityStore.invocationCapacity)
        var spans = Ring<Span>(capacity: ActivityStore.spanCapacity)
        var nextSeq = 1
    }

    private let state = Mutex(State())

    /// Keeps one invocation; its event and answer are kept by reference when small, else their beginning.
    func add(_ invocation: Invocation) {
        var invocation = invocation
        invocation.event = invocation.event.map(Self.bounded)
        invocation.answer = invocation.answer.map(Self.bounded)
        state.withLock { state in
            invocation.seq = state.nextSeq
            state.nextSeq += 1
            state.invocations.append(invocation)
        }
    }

    func add(_ spans: [Span]) {
        guard !spans.isEmpty else { return }
        state.withLock { state in
            for span in spans { state.spans.append(span) }
        }
    }

    /// The sequence number the next invocation will get.
    var nextSeq: Int { state.withLock { $0.nextSeq } }

    /// Newest first: at most `limit` invocations after `after` that `filter` admits.
    func invocations(after: Int = 0, limit: Int = 200, where filter: (Invocation) -> Bool = { _ in true }) -> [Invocation] {
        state.withLock { state in
            var found: [Invocation] = []
            for invocation in state.invocations.newestFirst {
                guard invocation.seq > after else { break }
                if filter(invocation) { found.append(invocation) }
                if found.count == limit { break }
            }
            return found
        }
    }

    /// The invocation numbered `seq`, while it is kept (the ring holds consecutive numbers, newest last).
    func invocation(_ seq: Int) -> Invocation? {
        state.withLock { state in state.invocations.newest(state.nextSeq - 1 - seq) }
    }

    /// The spans of `traceId` — the runner's own made from its invocations — and those of every trace
    /// that links to one of them (an event's deliveries and consumers), and of the traces linking to those.
    func trace(_ traceId: String) -> [Span] {
        let (invocations, spans) = state.withLock { state in (Array(state.invocations.newestFirst), Array(state.spans.newestFirst)) }
        let all = spans + invocations.compactMap(Self.span)
        var traces: Set = [traceId]
        var found: [Span] = []
        while true {
            found = all.filter { traces.contains($0.traceId) }
            let ids = Set(found.map(\.spanId))
            let linked = Set(all.filter { span in !traces.contains(span.traceId) && span.links.contains { ids.contains($0.spanId) } }.map(\.traceId))
            if linked.isEmpty { break }
            traces.formUnion(linked)
        }
        var seen: Set<String> = []
        return found.filter { seen.insert($0.spanId).inserted }.sorted { $0.startNs < $1.startNs }
    }

    /// The runner's span of an invocation: the one whose id the function was handed as its parent.
    static func span(of invocation: Invocation) -> Span? {
        let parts = invocation.traceparent?.split(separator: "-") ?? []
        guard parts.count == 4 else { return nil }
        let end = invocation.time * 1_000_000
        let kind = switch invocation.trigger {
        case "http", "websocket": "SPAN_KIND_SERVER"
        case "queue": "SPAN_KIND_CONSUMER"
        default: "SPAN_KIND_INTERNAL"
        }
        return Span(
            traceId: String(parts[1]), spanId: String(parts[2]), parentSpanId: invocation.parentSpanId ?? "", name: invocation.operation, kind: kind,
            service: "runner", startNs: end - Int64(invocation.durationMs * 1_000_000), endNs: end,
            attributes: ["blytz.function": invocation.function, "blytz.status": "\(invocation.status)", "blytz.request_id": invocation.requestId],
            links: [], error: invocation.status >= 500
        )
    }

    private static func bounded(_ buffer: ByteBuffer) -> ByteBuffer {
        buffer.readableBytes <= bodyLimit ? buffer : ByteBuffer(bytes: buffer.readableBytesView.prefix(bodyLimit))
    }
}

/// An invocation as the dashboard's list shows it: without its event and answer.
extension ActivityStore.Invocation: Encodable {
    enum CodingKeys: String, CodingKey {
        case seq, time, function, service, trigger, status, durationMs, coldStart, requestId, traceId, operation
    }
}

/// The last `capacity` elements appended.
struct Ring<Element> {
    let capacity: Int
    private var elements: [Element] = []
    /// Where the oldest element is once the ring is full.
    private var head = 0

    init(capacity: Int) {
        self.capacity = capacity
    }

    mutating func append(_ element: Element) {
        if elements.count < capacity {
            elements.append(element)
        } else {
            elements[head] = element
            head = (head + 1) % capacity
        }
    }

    var count: Int { elements.count }

    /// The element `back` places before the newest (0: the newest), if the ring still holds it.
    func newest(_ back: Int) -> Element? {
        guard back >= 0, back < elements.count else { return nil }
        return elements[(head + elements.count - 1 - back) % elements.count]
    }

    var newestFirst: some Sequence<Element> {
        let ring = self
        return (0..<elements.count).lazy.map { ring.newest($0)! }
    }
}
