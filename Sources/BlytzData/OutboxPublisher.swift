import Blytz
import BlytzAWS
import Logging

/// Hands a service's committed outbox to the SNS topic events travel by on AWS (`BLYTZ_EVENT_TOPIC_ARN`),
/// where no runner relays it: right after every invocation that published (the SDK runs it before the
/// invocation's response, while Lambda still gives the environment time), and from each service's
/// `blytz-outbox-sweep` schedule for what a crash left between the commit and the hand-over. Delivery stays
/// at least once: an event handed over twice (a crash after SNS took it, before it was marked sent)
/// reaches consumers that deduplicate on its id.
public struct OutboxPublisher: Sendable {
    public let topic: SNSTopic
    public let database: ServiceDatabase

    public init(topic: SNSTopic, database: ServiceDatabase) {
        self.topic = topic
        self.database = database
    }

    /// The publisher of a worker configured for AWS's event path; nil without a topic or credentials.
    public init?(configuration: Configuration, database: ServiceDatabase) {
        guard let arn = configuration["BLYTZ_EVENT_TOPIC_ARN"], !arn.isEmpty, let settings = AWSSettings({ configuration[$0] }) else { return nil }
        self.init(topic: SNSTopic(arn: arn, settings: settings), database: database)
    }

    /// Publishes every pending event, oldest first, and marks each sent; returns how many.
    @discardableResult
    public func flush() async throws -> Int {
        let batch = SNSTopic.batchLimit * 10
        var total = 0
        while true {
            let sent = try await Outbox.relay(database, limit: batch) { [topic] entries in
                try await topic.publish(entries.map { SNSTopic.Message(id: $0.id, type: $0.type, body: $0.envelope) })
            }
            total += sent
            if sent < batch { return total }
        }
    }
}

/// A worker's outbox publisher, when it has one.
public enum OutboxPublisherKey: DependencyKey {
    public typealias Value = OutboxPublisher
}

/// `blytz-outbox-sweep`, which every service executable serves: hands over what an invocation committed
/// but did not get to publish (on AWS, a schedule of each service's stack runs it every minute).
public struct OutboxSweep: ScheduleFunction {
    public static let name = "blytz-outbox-sweep"

    public init() {}

    public func handle(_ event: ScheduledEvent, context: FunctionContext) async throws {
        guard let publisher = context.dependencies[OutboxPublisherKey.self] else { return }
        let sent = try await publisher.flush()
        if sent > 0 { context.logger.warning("the outbox sweep handed over events no flush had", metadata: ["count": "\(sent)"]) }
    }
}
