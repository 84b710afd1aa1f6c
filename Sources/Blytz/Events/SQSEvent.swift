/// A batch of queue messages, in the shape SQS hands them to a function.
public struct SQSEvent: Codable, Sendable, Equatable {
    public struct Message: Codable, Sendable, Equatable {
        public var messageId: String
        public var receiptHandle: String
        public var body: String
        public var attributes: [String: String]
        public var messageAttributes: [String: MessageAttribute]
        public var md5OfBody: String
        public var eventSource: String
        public var eventSourceARN: String
        public var awsRegion: String

        public init(messageId: String, body: String, attributes: [String: String] = [:], messageAttributes: [String: MessageAttribute] = [:], queue: String) {
            self.messageId = messageId
            self.receiptHandle = messageId
            self.body = body
            self.attributes = attributes
            self.messageAttributes = messageAttributes
            self.md5OfBody = ""
            self.eventSource = "aws:sqs"
            self.eventSourceARN = "arn:aws:sqs:local:000000000000:\(queue)"
            self.awsRegion = "local"
        }
    }

    public struct MessageAttribute: Codable, Sendable, Equatable {
        public var stringValue: String?
        public var dataType: String

        public init(stringValue: String?, dataType: String = "String") {
            self.stringValue = stringValue
            self.dataType = dataType
        }
    }

    public var records: [Message]

    public init(records: [Message]) {
        self.records = records
    }

    enum CodingKeys: String, CodingKey {
        case records = "Records"
    }
}

extension SQSEvent.Message {
    /// The event this message carries, as the bus delivered it: the body itself, or, when SNS delivered it
    /// to the queue (the body is an SNS notification: `{"Type": "Notification", "Message": …}`), the
    /// notification's `Message`.
    public var event: String {
        guard body.hasPrefix("{"), body.contains("\"Type\""),
            let notification = try? JSONDecoder().decode(SNSNotification.self, from: Data(body.utf8)), notification.type == "Notification"
        else { return body }
        return notification.message
    }
}

/// What SNS wraps a published message in when it delivers it to an SQS queue (without raw delivery).
public struct SNSNotification: Codable, Sendable, Equatable {
    public var type: String
    public var messageId: String
    public var topicArn: String
    public var message: String
    public var timestamp: String
    public var messageAttributes: [String: Attribute]?

    public struct Attribute: Codable, Sendable, Equatable {
        public var type: String
        public var value: String

        enum CodingKeys: String, CodingKey {
            case type = "Type", value = "Value"
        }
    }

    enum CodingKeys: String, CodingKey {
        case type = "Type", messageId = "MessageId", topicArn = "TopicArn", message = "Message", timestamp = "Timestamp"
        case messageAttributes = "MessageAttributes"
    }
}

/// The answer to a batch: the messages that failed and must be delivered again.
public struct SQSBatchResponse: Codable, Sendable, Equatable {
    public struct ItemFailure: Codable, Sendable, Equatable {
        public var itemIdentifier: String
        /// Why it failed, for the dead-letter store (an addition to SQS's shape; AWS ignores it).
        public var reason: String?
        /// False when another delivery cannot succeed (a payload that does not decode): the local runner
        /// dead-letters it at once. On AWS it is retried until the queue's receive count moves it.
        public var retryable: Bool?

        public init(itemIdentifier: String, reason: String? = nil, retryable: Bool? = nil) {
            self.itemIdentifier = itemIdentifier
            self.reason = reason
            self.retryable = retryable
        }
    }

    public var batchItemFailures: [ItemFailure]

    public init(batchItemFailures: [ItemFailure]) {
        self.batchItemFailures = batchItemFailures
    }
}
