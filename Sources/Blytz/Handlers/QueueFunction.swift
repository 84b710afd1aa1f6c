import Logging
import Tracing

/// A queue-triggered handler: called once per message of a batch; a message whose call throws
/// (or whose body does not decode into `Message`) is reported back for redelivery, the rest are done.
public protocol QueueFunction: FunctionHandler {
    associatedtype Message: Decodable & Sendable

    func handle(_ message: Message, metadata: QueueMessageMetadata, context: FunctionContext) async throws
}

/// What a queue message carries besides its body.
public struct QueueMessageMetadata: Sendable {
    public var messageId: String
    public var attributes: [String: String]
    /// How many times this message was delivered, this delivery included.
    public var receiveCount: Int

    public init(messageId: String, attributes: [String: String] = [:], receiveCount: Int = 1) {
        self.messageId = messageId
        self.attributes = attributes
        self.receiveCount = receiveCount
    }
}

extension QueueFunction {
    public func invoke(_ event: Data, context: FunctionContext) async throws -> Data {
        let batch = try JSON.decoder().decode(SQSEvent.self, from: event)
        var failures: [SQSBatchResponse.ItemFailure] = []
        for record in batch.records {
            let metadata = QueueMessageMetadata(record)
            // Traced, each message is a span that links to the one that published it (read only then).
            let published = Traces.tracer == nil ? nil : Traces.publisher(of: record.event)
            await Traces.span("handle \(published?.type ?? "message")", kind: .consumer, links: [published?.traceparent].compactMap { $0 }) { span in
                let context = Traces.continuing(context)
                do {
                    let message = try JSON.decoder().decode(Message.self, from: Data(record.event.utf8))
                    try await handle(message, metadata: metadata, context: context)
                } catch {
                    span?.setStatus(.init(code: .error))
                    context.logger.warning("message failed", metadata: ["message.id": "\(record.messageId)", "error": "\(String(reflecting: error))"])
                    failures.append(.init(itemIdentifier: record.messageId))
                }
            }
        }
        return try JSON.encoder().encode(SQSBatchResponse(batchItemFailures: failures))
    }
}

/// A queue-triggered handler that takes a whole batch at once (for example, to write it in one
/// transaction) and returns the ids of the messages that failed; messages whose body does not decode
/// into `Message` are reported failed without reaching it.
public protocol QueueBatchFunction: FunctionHandler {
    associatedtype Message: Decodable & Sendable

    func handle(_ batch: [QueueItem<Message>], context: FunctionContext) async throws -> [String]
}

/// One decoded message of a batch.
public struct QueueItem<Message: Sendable>: Sendable {
    public var message: Message
    public var metadata: QueueMessageMetadata
}

extension QueueBatchFunction {
    public func invoke(_ event: Data, context: FunctionContext) async throws -> Data {
        let batch = try JSON.decoder().decode(SQSEvent.self, from: event)
        var items: [QueueItem<Message>] = []
        var failures: [String] = []
        for record in batch.records {
            do {
                items.append(QueueItem(message: try JSON.decoder().decode(Message.self, from: Data(record.event.utf8)), metadata: .init(record)))
            } catch {
                context.logger.warning("message does not decode", metadata: ["message.id": "\(record.messageId)", "error": "\(error)"])
                failures.append(record.messageId)
            }
        }
        if !items.isEmpty { failures += try await handle(items, context: context) }
        return try JSON.encoder().encode(SQSBatchResponse(batchItemFailures: failures.map { .init(itemIdentifier: $0) }))
    }
}

extension QueueMessageMetadata {
    init(_ record: SQSEvent.Message) {
        self.init(
            messageId: record.messageId, attributes: record.attributes,
            receiveCount: record.attributes["ApproximateReceiveCount"].flatMap(Int.init) ?? 1
        )
    }
}

/// A schedule-triggered handler, called with the EventBridge event of each firing.
public protocol ScheduleFunction: FunctionHandler {
    func handle(_ event: ScheduledEvent, context: FunctionContext) async throws
}

extension ScheduleFunction {
    public func invoke(_ event: Data, context: FunctionContext) async throws -> Data {
        try await handle(try JSON.decoder().decode(ScheduledEvent.self, from: event), context: context)
        return Data("{}".utf8)
    }
}

/// A WebSocket route handler (`$connect`, `$disconnect`, `$default` or a named action).
/// On `$connect` a non-2xx status refuses the upgrade; a body, on a message route, is sent back to the caller.
public protocol WebSocketFunction: FunctionHandler {
    func handle(_ event: APIGatewayWebSocketRequest, context: FunctionContext) async throws -> APIGatewayWebSocketResponse
}

extension WebSocketFunction {
    public func invoke(_ event: Data, context: FunctionContext) async throws -> Data {
        let request = try JSON.decoder().decode(APIGatewayWebSocketRequest.self, from: event)
        let response: APIGatewayWebSocketResponse
        do {
            response = try await handle(request, context: context)
        } catch let error as any HTTPResponseError {
            response = APIGatewayWebSocketResponse(statusCode: error.problem.status, body: String(decoding: error.problem.encoded, as: UTF8.self))
        }
        return try JSON.encoder().encode(response)
    }
}
