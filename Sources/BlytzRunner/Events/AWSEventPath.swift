import Blytz
import BlytzAWS
import BlytzData
import BlytzManifest
import Foundation
import Logging
import Tracing
import NIOCore
import NIOPosix
import ServiceLifecycle
import SigV4
import Synchronization

/// What the runner's listeners need of the event path, whichever carries the events.
protocol EventPath: Service, Sendable {
    /// Publishes an event directly (`blytz events publish`), bypassing any outbox; answers its id.
    func publish(type: String, subject: String?, data: Data) async throws -> String
    /// The functions subscribed to events of `type`.
    func subscribers(of type: String) -> [String]
    /// Each served queue function's deliveries, for the metrics.
    func statistics() async -> [QueueStatistics]
    /// The databases whose outboxes this path relays, by service.
    var outboxes: [String: ServiceDatabase] { get }
}

extension EventPath {
    /// Events waiting in each service's outbox (a service whose database does not answer is left out).
    func outboxWaiting() async -> [String: Int] {
        var waiting: [String: Int] = [:]
        for (service, database) in outboxes {
            if let count = try? await Outbox.waiting(database) { waiting[service] = count }
        }
        return waiting
    }
}

extension EventBus: EventPath {}

/// The event path as AWS runs it, to rehearse production on a laptop (`BLYTZ_QUEUE_URL=aws://host:port`,
/// an AWS-compatible server such as moto's): one SNS topic; for each queue function its own SQS queue,
/// subscribed to its event types, with its dead-letter queue after `maxRetries + 1` receives; workers hand
/// their committed outbox to the topic themselves, as on Lambda (the runner sweeps every second for what a
/// crashed worker left); and each queue is polled and its batches handed to the function as Lambda's event
/// source mapping does, failed items made visible again after their backoff.
final class AWSEventPath: EventPath {
    let manifest: Manifest
    let settings: AWSSettings
    let pools: [String: FunctionPool]
    let outboxes: [String: ServiceDatabase]
    let log: InvocationLog
    let logger: Logger
    let tracer: (any Tracer)?
    let topic: SNSTopic
    /// Each served queue function's queue.
    let queues: [String: SQSQueue]
    private let subscriptions: [(function: FunctionSpec, queue: QueueTrigger)]

    /// The settings of `url` (`aws://host:port`, or `aws+https://host`), with the runner's AWS credentials
    /// (test ones when it has none); nil when the URL is not an AWS one.
    static func settings(_ url: String?, environment: [String: String]) -> AWSSettings? {
        guard let url, let scheme = url.split(separator: ":").first, scheme == "aws" || scheme == "aws+https" else { return nil }
        let address = url.split(separator: "//", maxSplits: 1).last.map(String.init) ?? ""
        let credentials = AWSCredentials(
            accessKeyId: environment["AWS_ACCESS_KEY_ID"] ?? "testing", secretAccessKey: environment["AWS_SECRET_ACCESS_KEY"] ?? "testing",
            sessionToken: environment["AWS_SESSION_TOKEN"]
        )
        return AWSSettings(
            region: environment["AWS_DEFAULT_REGION"] ?? "us-east-1", credentials: credentials,
            endpoint: "\(scheme == "aws" ? "http" : "https")://\(address)"
        )
    }

    /// The topic and the served queue functions' queues.
    struct Provisioned: Sendable {
        var topic: SNSTopic
        var queues: [String: SQSQueue]
    }

    /// Creates (or finds) the topic, and the queues of the `served` services' queue functions with their
    /// subscriptions.
    static func provision(manifest: Manifest, settings: AWSSettings, served: [String]) async throws -> Provisioned {
        let topic = try await SNSTopic.create("blytz-events", settings: settings)
        var queues: [String: SQSQueue] = [:]
        for function in manifest.functions where served.contains(function.service) {
            guard case .queue(let trigger) = function.trigger else { continue }
            let visibility = 6 * max(1, Int((function.timeout.milliseconds + 999) / 1000))
            var attributes = ["VisibilityTimeout": "\(visibility)"]
            if trigger.deadLetter {
                let dead = try await SQSQueue.create("\(function.name)-dead", attributes: ["MessageRetentionPeriod": "1209600"], settings: settings)
                let policy = #"{"deadLetterTargetArn":"\#(try await dead.arn())","maxReceiveCount":"\#(trigger.maxRetries + 1)"}"#
                attributes["RedrivePolicy"] = policy
            }
            let queue = try await SQSQueue.create(function.name, attributes: attributes, settings: settings)
            try await queue.allow(topicArn: topic.arn)
            try await topic.subscribe(queueArn: try await queue.arn(), types: trigger.events)
            queues[function.name] = queue
        }
        return Provisioned(topic: topic, queues: queues)
    }

    init(
        manifest: Manifest, settings: AWSSettings, provisioned: Provisioned, pools: [String: FunctionPool], outboxes: [String: ServiceDatabase],
        log: InvocationLog, logger: Logger, tracer: (any Tracer)? = nil
    ) {
        self.manifest = manifest
        self.tracer = tracer
        self.settings = settings
        self.pools = pools
        self.outboxes = outboxes
        self.log = log
        self.logger = logger
        self.topic = provisioned.topic
        self.queues = provisioned.queues
        subscriptions = EventBus.subscriptions(of: manifest)
    }

    /// What workers are given to publish to the topic themselves.
    static func workerEnvironment(_ settings: AWSSettings, topic: SNSTopic) -> [String: String] {
        [
            "BLYTZ_EVENT_TOPIC_ARN": topic.arn, "BLYTZ_AWS_ENDPOINT": settings.endpoint ?? "", "AWS_REGION": settings.region,
            "AWS_ACCESS_KEY_ID": settings.credentials.accessKeyId, "AWS_SECRET_ACCESS_KEY": settings.credentials.secretAccessKey,
        ].merging(settings.credentials.sessionToken.map { ["AWS_SESSION_TOKEN": $0] } ?? [:]) { $1 }
    }

    func subscribers(of type: String) -> [String] {
        EventBus.subscribers(of: type, in: subscriptions)
    }

    func publish(type: String, subject: String?, data: Data) async throws -> String {
        let (id, envelope) = EventBus.directEnvelope(type: type, subject: subject, data: data)
        try await topic.publish([.init(id: id, type: type, body: envelope)])
        return id
    }

    func run() async throws {
        await cancelWhenGracefulShutdown {
            await withDiscardingTaskGroup { group in
                group.addTask { await self.sweep() }
                // Up to `scaling.max` batches of a function at once, as Lambda's event source mapping scales its pollers.
                for (function, trigger) in self.subscriptions {
                    guard let queue = self.queues[function.name], let pool = self.pools[function.name] else { continue }
                    for _ in 0..<max(1, function.scaling.max) {
                        group.addTask { await self.deliver(from: queue, to: function, trigger: trigger, pool: pool) }
                    }
                }
            }
        }
        for database in outboxes.values { await database.shutdown() }
    }

    /// Hands over, every second, what workers committed but did not publish (a crash before their flush).
    private func sweep() async {
        while !Task.isCancelled {
            for (service, database) in outboxes {
                do {
                    try await OutboxPublisher(topic: topic, database: database).flush()
                } catch {
                    logger.warning("outbox sweep to SNS failed", metadata: ["service": "\(service)", "error": "\(error)"])
                }
            }
            try? await Task.sleep(for: .seconds(1))
        }
    }

    /// Each queue's waiting and in-flight messages as SQS counts them (the age of the oldest and the
    /// dead-letter queues' depth are CloudWatch's SQS metrics on AWS).
    func statistics() async -> [QueueStatistics] {
        var statistics: [QueueStatistics] = []
        for (function, queue) in queues.sorted(by: { $0.key < $1.key }) {
            guard let counts = try? await queue.counts() else { continue }
            statistics.append(QueueStatistics(function: function, ready: counts.waiting, inFlight: counts.inFlight, dead: 0, oldestAgeSeconds: 0))
        }
        return statistics
    }

    /// Polls `queue` and hands each batch to the function; deletes what succeeded, and makes each failed
    /// item visible again after its backoff (SQS moves it to the dead-letter queue after its receives).
    private func deliver(from queue: SQSQueue, to function: FunctionSpec, trigger: QueueTrigger, pool: FunctionPool) async {
        let loop = MultiThreadedEventLoopGroup.singleton.next()
        while !Task.isCancelled {
            do {
                let messages = try await queue.receive(limit: min(10, trigger.batchSize), wait: 1)
                guard !messages.isEmpty else { continue }
                let records = messages.map { message in
                    SQSEvent.Message(
                        messageId: message.messageId, body: message.body, attributes: ["ApproximateReceiveCount": "\(message.receiveCount)"], queue: function.name
                    )
                }
                let requestID = TraceContext.requestID()
                let start = ContinuousClock.now
                let payload = ByteBuffer(bytes: try JSON.encoder().encode(SQSEvent(records: records)))
                let (result, traceparent) = await RunnerTraces.invocation(
                    tracer, "deliver \(function.name)", kind: .consumer, parent: nil, links: RunnerTraces.publishers(of: records.map(\.event)),
                    attributes: ["messaging.batch.message_count": "\(records.count)", "blytz.function": function.name]
                ) { traceparent, _ in
                    (await pool.invoke(id: requestID, payload: payload, traceparent: traceparent, on: loop), traceparent)
                }
                var failed: Set<String> = []
                switch result {
                case .response(let output, _):
                    let response = try? JSONDecoder().decode(SQSBatchResponse.self, from: Data(output.readableBytesView))
                    failed = Set(response?.batchItemFailures.map(\.itemIdentifier) ?? [])
                case .functionError, .failed:
                    failed = Set(messages.map(\.messageId))
                }
                try await queue.delete(messages.filter { !failed.contains($0.messageId) })
                for message in messages where failed.contains(message.messageId) {
                    let delay = Int(EventBus.backoff(attempt: message.receiveCount, trigger.backoff) / 1000)
                    try await queue.release(message, after: delay)
                }
                struct Identified: Decodable { var id: String }
                let events = records.map { (try? JSONDecoder().decode(Identified.self, from: Data($0.event.utf8)).id) ?? $0.messageId }
                log.record(
                    function: function.name, requestID: requestID, status: failed.isEmpty ? 200 : (failed.count >= messages.count ? 502 : 207),
                    durationMs: (ContinuousClock.now - start).fractionalMilliseconds, coldStart: result.coldStart, trigger: "queue", events: events,
                    traceparent: traceparent, event: payload, answer: result.output
                )
            } catch {
                logger.warning("receiving from SQS failed", metadata: ["function": "\(function.name)", "error": "\(error)"])
                try? await Task.sleep(for: .milliseconds(500))
            }
        }
    }
}
