import Foundation

/// An SNS topic events are published to: each message is an event's envelope, with its type as the
/// `type` message attribute, which subscriptions filter on.
public struct SNSTopic: Sendable {
    public let arn: String
    let client: AWSQueryClient

    public init(arn: String, settings: AWSSettings) {
        self.arn = arn
        self.client = Self.client(settings)
    }

    static func client(_ settings: AWSSettings) -> AWSQueryClient {
        AWSQueryClient(settings: settings, service: "sns", version: "2010-03-31")
    }

    /// One event to publish.
    public struct Message: Sendable {
        public var id: String
        public var type: String
        public var body: String

        public init(id: String, type: String, body: String) {
            self.id = id
            self.type = type
            self.body = body
        }
    }

    /// SNS takes at most 10 messages a call.
    public static let batchLimit = 10

    /// Calls in flight at once when there are more than ten messages.
    public static let concurrentCalls = 8

    /// Publishes `messages`, ten a call and up to `concurrentCalls` calls at once; throws when SNS refuses
    /// any of them (those it took stay published: delivery is at least once).
    public func publish(_ messages: [Message]) async throws {
        let batches = stride(from: 0, to: messages.count, by: Self.batchLimit).map { Array(messages[$0..<min($0 + Self.batchLimit, messages.count)]) }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for (index, batch) in batches.enumerated() {
                if index >= Self.concurrentCalls { try await group.next() }
                group.addTask { try await publish(batch: batch) }
            }
            try await group.waitForAll()
        }
    }

    private func publish(batch: [Message]) async throws {
        var parameters: [(String, String)] = [("TopicArn", arn)]
        for (index, message) in batch.enumerated() {
            let entry = "PublishBatchRequestEntries.member.\(index + 1)"
            parameters += [
                ("\(entry).Id", String(message.id.filter { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }.prefix(80))),
                ("\(entry).Message", message.body),
                ("\(entry).MessageAttributes.entry.1.Name", "type"),
                ("\(entry).MessageAttributes.entry.1.Value.DataType", "String"),
                ("\(entry).MessageAttributes.entry.1.Value.StringValue", message.type),
            ]
        }
        let answer = try await client.call("PublishBatch", parameters)
        if let failed = answer.range(of: "<Failed>").map({ String(answer[$0.upperBound...]) }), failed.contains("<member>") {
            throw AWSError(status: 200, code: XML.first("Code", in: failed) ?? "PublishFailed", message: XML.first("Message", in: failed) ?? failed)
        }
    }

    /// Creates the topic `name` (or finds the existing one).
    public static func create(_ name: String, settings: AWSSettings) async throws -> SNSTopic {
        let answer = try await client(settings).call("CreateTopic", [("Name", name)])
        guard let arn = XML.first("TopicArn", in: answer) else { throw AWSError(status: 200, code: "NoTopicArn", message: answer) }
        return SNSTopic(arn: arn, settings: settings)
    }

    /// Subscribes an SQS queue to the events of `types` (every event for `*`), delivered as SNS
    /// notifications (not raw).
    @discardableResult
    public func subscribe(queueArn: String, types: [String]) async throws -> String {
        var parameters = [("TopicArn", arn), ("Protocol", "sqs"), ("Endpoint", queueArn)]
        if !types.contains("*") {
            let policy = String(decoding: try JSONSerialization.data(withJSONObject: ["type": types.sorted()]), as: UTF8.self)
            parameters += [("Attributes.entry.1.key", "FilterPolicy"), ("Attributes.entry.1.value", policy)]
        }
        let answer = try await client.call("Subscribe", parameters)
        return XML.first("SubscriptionArn", in: answer) ?? ""
    }
}
