import Foundation

/// An SQS queue: created with its attributes, read as a consumer's event source reads it.
public struct SQSQueue: Sendable {
    public let url: String
    let client: AWSQueryClient

    public init(url: String, settings: AWSSettings) {
        self.url = url
        self.client = Self.client(settings)
    }

    static func client(_ settings: AWSSettings) -> AWSQueryClient {
        AWSQueryClient(settings: settings, service: "sqs", version: "2012-11-05")
    }

    /// A received message.
    public struct Received: Sendable {
        public var messageId: String
        public var receiptHandle: String
        public var body: String
        public var receiveCount: Int
    }

    /// The path SQS addresses this queue by.
    var path: String { URLComponents(string: url)?.path ?? "/" }

    /// Creates queue `name` with `attributes` (`VisibilityTimeout`, `RedrivePolicy`, …), or finds it.
    public static func create(_ name: String, attributes: [String: String] = [:], settings: AWSSettings) async throws -> SQSQueue {
        let client = Self.client(settings)
        var parameters = [("QueueName", name)]
        for (index, (key, value)) in attributes.sorted(by: { $0.key < $1.key }).enumerated() {
            parameters += [("Attribute.\(index + 1).Name", key), ("Attribute.\(index + 1).Value", value)]
        }
        let answer = try await client.call("CreateQueue", parameters)
        guard let url = XML.first("QueueUrl", in: answer) else { throw AWSError(status: 200, code: "NoQueueUrl", message: answer) }
        return SQSQueue(url: url, settings: settings)
    }

    /// The queue's ARN.
    public func arn() async throws -> String {
        let answer = try await client.call("GetQueueAttributes", [("AttributeName.1", "QueueArn")], path: path)
        return XML.all("Value", in: answer).first ?? ""
    }

    /// SQS's approximate counts: messages waiting, and received but not yet deleted.
    public func counts() async throws -> (waiting: Int, inFlight: Int) {
        let answer = try await client.call(
            "GetQueueAttributes", [("AttributeName.1", "ApproximateNumberOfMessages"), ("AttributeName.2", "ApproximateNumberOfMessagesNotVisible")], path: path
        )
        let values = Dictionary(zip(XML.all("Name", in: answer), XML.all("Value", in: answer)).map { ($0, Int($1) ?? 0) }) { first, _ in first }
        return (values["ApproximateNumberOfMessages"] ?? 0, values["ApproximateNumberOfMessagesNotVisible"] ?? 0)
    }

    /// Receives up to `limit` messages, waiting up to `wait` seconds for the first.
    public func receive(limit: Int = 10, wait: Int = 0) async throws -> [Received] {
        let answer = try await client.call(
            "ReceiveMessage", [("MaxNumberOfMessages", "\(limit)"), ("WaitTimeSeconds", "\(wait)"), ("AttributeName.1", "ApproximateReceiveCount")], path: path
        )
        return answer.components(separatedBy: "<Message>").dropFirst().map { message in
            let count = zip(XML.all("Name", in: message), XML.all("Value", in: message)).first { $0.0 == "ApproximateReceiveCount" }?.1
            return Received(
                messageId: XML.first("MessageId", in: message) ?? "", receiptHandle: XML.first("ReceiptHandle", in: message) ?? "",
                body: XML.first("Body", in: message) ?? "", receiveCount: count.flatMap(Int.init) ?? 1
            )
        }
    }

    /// Deletes a received message (it was handled).
    public func delete(_ message: Received) async throws {
        try await client.call("DeleteMessage", [("ReceiptHandle", message.receiptHandle)], path: path)
    }

    /// Deletes received messages, ten a call (they were handled).
    public func delete(_ messages: [Received]) async throws {
        for start in stride(from: 0, to: messages.count, by: 10) {
            var parameters: [(String, String)] = []
            for (index, message) in messages[start..<min(start + 10, messages.count)].enumerated() {
                parameters += [
                    ("DeleteMessageBatchRequestEntry.\(index + 1).Id", "m\(index)"),
                    ("DeleteMessageBatchRequestEntry.\(index + 1).ReceiptHandle", message.receiptHandle),
                ]
            }
            try await client.call("DeleteMessageBatch", parameters, path: path)
        }
    }

    /// Makes a received message visible again after `seconds` (0: at once).
    public func release(_ message: Received, after seconds: Int) async throws {
        try await client.call("ChangeMessageVisibility", [("ReceiptHandle", message.receiptHandle), ("VisibilityTimeout", "\(seconds)")], path: path)
    }

    /// Lets `topicArn` send to this queue (what an SNS subscription needs).
    public func allow(topicArn: String) async throws {
        let queueArn = try await arn()
        let policy: [String: Any] = [
            "Version": "2012-10-17",
            "Statement": [[
                "Effect": "Allow", "Principal": ["Service": "sns.amazonaws.com"], "Action": "sqs:SendMessage", "Resource": queueArn,
                "Condition": ["ArnEquals": ["aws:SourceArn": topicArn]],
            ]],
        ]
        let text = String(decoding: try JSONSerialization.data(withJSONObject: policy), as: UTF8.self)
        try await client.call("SetQueueAttributes", [("Attribute.Name", "Policy"), ("Attribute.Value", text)], path: path)
    }
}
