import Blytz
import BlytzData
import BlytzManifest
import Foundation
import Logging
import NIOCore
import ServiceLifecycle
import Synchronization
import Tracing

/// Moves events from each service's outbox to the event queue and delivers them to every subscribed
/// queue function, in SQS-shaped batches: failed items (reported, thrown, timed out, or lost with a crashed
/// worker) are retried with exponential backoff and jitter up to the function's `maxRetries`, then
/// dead-lettered. Nothing else waits behind a failing event.
final class EventBus: Service, Sendable {
    let manifest: Manifest
    let queue: EventQueue
    /// The databases whose outboxes are relayed, by service.
    let outboxes: [String: ServiceDatabase]
    let pools: [String: FunctionPool]
    let log: InvocationLog
    let logger: Logger
    let group: any EventLoopGroup
    let tracer: (any Tracer)?
    private let relayWakeup: Wakeup
    /// Each queue function's deliverers, one per batch it may work on at once (its `scaling.max`).
    private let deliveryWakeups: [String: [Wakeup]]
    /// Event type → subscribed queue functions (`*` subscribes to every type).
    private let subscriptions: [(function: FunctionSpec, queue: QueueTrigger)]

    init(
        manifest: Manifest, queue: EventQueue, outboxes: [String: ServiceDatabase], pools: [String: FunctionPool], relayWakeup: Wakeup,
        log: InvocationLog, logger: Logger, group: any EventLoopGroup, tracer: (any Tracer)? = nil
    ) {
        self.manifest = manifest
        self.tracer = tracer
        self.relayWakeup = relayWakeup
        self.queue = queue
        self.outboxes = outboxes
        self.pools = pools
        self.log = log
        self.logger = logger
        self.group = group
        subscriptions = Self.subscriptions(of: manifest)
        deliveryWakeups = Dictionary(uniqueKeysWithValues: subscriptions.map { subscription in
            (subscription.function.name, (0..<max(1, subscription.function.scaling.max)).map { _ in Wakeup() })
        })
    }

    /// Every queue function of `manifest`, with its trigger.
    static func subscriptions(of manifest: Manifest) -> [(function: FunctionSpec, queue: QueueTrigger)] {
        manifest.functions.compactMap { function in
            if case .queue(let queue) = function.trigger { return (function, queue) }
            return nil
        }
    }

    /// The functions of `subscriptions` subscribed to events of `type` (`*` subscribes to every type).
    static func subscribers(of type: String, in subscriptions: [(function: FunctionSpec, queue: QueueTrigger)]) -> [String] {
        subscriptions.filter { $0.queue.events.contains(type) || $0.queue.events.contains("*") }.map(\.function.name)
    }

    /// The functions subscribed to events of `type`.
    func subscribers(of type: String) -> [String] {
        Self.subscribers(of: type, in: subscriptions)
    }

    /// The envelope of an event published directly (`blytz events publish`): a fresh id, `blytz` as its source.
    static func directEnvelope(type: String, subject: String?, data: Data) -> (id: String, envelope: String) {
        let id = UUID().uuidString.lowercased()
        var writer = JSONWriter(capacity: 256 + data.count)
        writer.object { json in
            json.field("id", id)
            json.field("type", type)
            json.field("source", "blytz")
            json.field("time", Timestamp.iso8601(milliseconds: wallClockMilliseconds()))
            json.field("subject", subject)
            json.field("data", raw: String(decoding: data, as: UTF8.self))
            json.field("traceparent", TraceContext.child(of: nil))
        }
        return (id, String(decoding: writer.bytes, as: UTF8.self))
    }

    /// Queues an event directly (`blytz events publish`), bypassing any outbox.
    func publish(type: String, subject: String?, data: Data) async throws -> String {
        let (id, envelope) = Self.directEnvelope(type: type, subject: subject, data: data)
        let subscribers = self.subscribers(of: type)
        try await queue.enqueue([.init(id: id, type: type, envelope: envelope)], subscribers: { _ in subscribers }, now: wallClockMilliseconds())
        subscribers.forEach(wake)
        return id
    }

    /// Has every deliverer look for work now (after dead letters were replayed).
    func wake() {
        deliveryWakeups.keys.forEach(wake)
    }

    /// Has `function`'s deliverers look for work now.
    private func wake(_ function: String) {
        deliveryWakeups[function]?.forEach { $0.signal() }
    }

    func run() async throws {
        await cancelWhenGracefulShutdown {
            await withDiscardingTaskGroup { group in
                group.addTask { await self.relay() }
                // Runners sharing a PostgreSQL queue wake each other's deliverers.
                group.addTask { await self.queue.listen(logger: self.logger) { function in self.wake(function) } }
                // Up to `scaling.max` batches of a function at once, each claimed on its own; a wake-up reaches every deliverer.
                for (function, trigger) in self.subscriptions where self.pools[function.name] != nil {
                    for wakeup in self.deliveryWakeups[function.name] ?? [] {
                        group.addTask { await self.deliver(to: function, trigger: trigger, wakeup: wakeup) }
                    }
                }
            }
        }
        for database in outboxes.values { await database.shutdown() }
        await queue.shutdown()
    }

    func statistics() async -> [QueueStatistics] {
        let counted = Dictionary(((try? await queue.statistics(now: wallClockMilliseconds())) ?? []).map { ($0.function, $0) }) { first, _ in first }
        return subscriptions.map(\.function.name).filter { pools[$0] != nil }.map {
            counted[$0] ?? QueueStatistics(function: $0, ready: 0, inFlight: 0, dead: 0, oldestAgeSeconds: 0)
        }
    }

    // MARK: Relay

    private func relay() async {
        let loop = group.next()
        while !Task.isCancelled {
            for (service, database) in outboxes {
                do {
                    try await drain(service, database)
                } catch {
                    logger.warning("outbox relay failed", metadata: ["service": "\(service)", "error": "\(error)"])
                }
            }
            // Woken when an invocation reports it published; the timeout catches anything else.
            await relayWakeup.wait(timeout: .seconds(1), on: loop)
        }
    }

    private func drain(_ service: String, _ database: ServiceDatabase) async throws {
        while true {
            let routed = Routed()
            let sent = try await Outbox.relay(database, limit: 500) { [self] pending in
                let events = pending.map { EventQueue.Event(id: $0.id, type: $0.type, envelope: $0.envelope) }
                let routes = Dictionary(uniqueKeysWithValues: Set(pending.map(\.type)).map { ($0, subscribers(of: $0)) })
                try await queue.enqueue(events, subscribers: { routes[$0] ?? [] }, now: wallClockMilliseconds())
                routed.add(routes.values.joined())
            }
            routed.functions.forEach(wake)
            if sent < 500 { return }
        }
    }

    /// The functions a relay queued deliveries for.
    private final class Routed: Sendable {
        private let names = Mutex<Set<String>>([])
        func add(_ functions: some Sequence<String>) { names.withLock { $0.formUnion(functions) } }
        var functions: Set<String> { names.withLock { $0 } }
    }

    // MARK: Delivery

    private func deliver(to function: FunctionSpec, trigger: QueueTrigger, wakeup: Wakeup) async {
        guard let pool = pools[function.name] else { return }
        let loop = group.next()
        let lease = function.timeout.milliseconds + 5000
        while !Task.isCancelled {
            do {
                var batch = try await queue.claim(function: function.name, limit: trigger.batchSize, now: wallClockMilliseconds(), lease: lease)
                // A batch window trades latency for fuller batches: gather more before invoking.
                if !batch.isEmpty, trigger.batchWindow > .zero, trigger.batchSize > batch.count {
                    try? await Task.sleep(for: trigger.batchWindow)
                    batch += try await queue.claim(function: function.name, limit: trigger.batchSize - batch.count, now: wallClockMilliseconds(), lease: lease)
                }
                if !batch.isEmpty {
                    try await deliver(batch, to: function, trigger: trigger, pool: pool, loop: loop)
                    continue
                }
                let next = try await queue.nextAvailable(function: function.name)
                let wait = next.map { max(1, min(1000, $0 - wallClockMilliseconds())) } ?? 1000
                await wakeup.wait(timeout: .milliseconds(wait), on: loop)
            } catch {
                logger.warning("delivery failed", metadata: ["function": "\(function.name)", "error": "\(error)"])
                await wakeup.wait(timeout: .milliseconds(200), on: loop)
            }
        }
    }

    private func deliver(_ batch: [EventQueue.Delivery], to function: FunctionSpec, trigger: QueueTrigger, pool: FunctionPool, loop: any EventLoop) async throws {
        let records = batch.map { delivery in
            SQSEvent.Message(
                messageId: delivery.event_id, body: delivery.envelope,
                attributes: ["ApproximateReceiveCount": "\(delivery.attempts)", "SentTimestamp": "\(delivery.created_at)", "MessageType": delivery.type],
                queue: function.name
            )
        }
        let payload = ByteBuffer(bytes: try JSON.encoder().encode(SQSEvent(records: records)))
        let requestID = TraceContext.requestID()
        let start = ContinuousClock.now
        // A delivery starts a trace of its own, linked to the spans that published its events.
        let (result, traceparent) = await RunnerTraces.invocation(
            tracer, "deliver \(function.name)", kind: .consumer, parent: nil, links: RunnerTraces.publishers(of: batch.map(\.envelope)),
            attributes: ["messaging.batch.message_count": "\(batch.count)", "blytz.function": function.name]
        ) { traceparent, _ in
            (await pool.invoke(id: requestID, payload: payload, traceparent: traceparent, on: loop), traceparent)
        }
        // Each failed item with why it failed and whether another delivery could succeed.
        var failures: [String: (reason: String, retryable: Bool)] = [:]
        switch result {
        case .response(let output, _):
            let response = try? JSONDecoder().decode(SQSBatchResponse.self, from: Data(output.readableBytesView))
            for item in response?.batchItemFailures ?? [] {
                failures[item.itemIdentifier] = (item.reason ?? "reported failed by the function", item.retryable ?? true)
            }
        case .functionError(let output, _):
            for delivery in batch { failures[delivery.event_id] = (RuntimeAPIHandler.errorMessage(output), true) }
        case .failed(let failure):
            for delivery in batch { failures[delivery.event_id] = (failure.detail, true) }
        }
        try await queue.acknowledge(batch.filter { failures[$0.event_id] == nil }.map(\.seq))
        let now = wallClockMilliseconds()
        for delivery in batch {
            guard let (reason, retryable) = failures[delivery.event_id] else { continue }
            if delivery.attempts > trigger.maxRetries || !retryable {
                if trigger.deadLetter {
                    try await queue.fail(delivery.seq, error: reason, retryAt: nil)
                } else {
                    try await queue.acknowledge([delivery.seq])
                }
                logger.warning("event dead-lettered", metadata: ["function": "\(function.name)", "event.id": "\(delivery.event_id)", "error": "\(reason)"])
            } else {
                try await queue.fail(delivery.seq, error: reason, retryAt: now + Self.backoff(attempt: delivery.attempts, trigger.backoff))
                log.metrics?.retried(function: function.name)
            }
        }
        let elapsed = ContinuousClock.now - start
        log.record(
            function: function.name, requestID: requestID, status: failures.isEmpty ? 200 : (failures.count >= batch.count ? 502 : 207),
            durationMs: elapsed.fractionalMilliseconds, coldStart: result.coldStart, trigger: "queue",
            events: batch.map(\.event_id), traceparent: traceparent, event: payload, answer: result.output
        )
    }

    /// Exponential backoff with jitter: between half and all of `initial × multiplier^(attempt−1)`, capped.
    static func backoff(attempt: Int, _ backoff: Backoff) -> Int64 {
        let base = Double(backoff.initial.milliseconds) * pow(backoff.multiplier, Double(max(attempt - 1, 0)))
        let capped = min(base, Double(backoff.maximum.milliseconds))
        return Int64(capped * Double.random(in: 0.5...1.0))
    }
}
