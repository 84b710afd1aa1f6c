import Tracing
import Logging

/// A queue function that consumes typed events, one envelope at a time:
///
/// ```
/// struct RecordReview: EventConsumer {
///     func handle(_ event: EventEnvelope<ReviewPosted>, context: FunctionContext) async throws { … }
/// }
/// ```
/// `Payload` is one `Event` type, an `EventChoice` enum of several, or `AnyEvent`. Fields the payload does
/// not know are ignored. An envelope that does not decode (a missing field, a type the payload does not
/// handle) is dead-lettered with the reason at once and never holds up the rest of its batch; one whose
/// handling throws is retried.
public protocol EventConsumer: FunctionHandler, ConsumesEvents {
    associatedtype Payload: ConsumedEvent

    func handle(_ event: EventEnvelope<Payload>, context: FunctionContext) async throws
}

/// The batch form of `EventConsumer`: the decoded envelopes of one delivery at once (for example, to apply
/// them in one transaction); returns the ids of those that failed and must be delivered again.
public protocol EventBatchConsumer: FunctionHandler, ConsumesEvents {
    associatedtype Payload: ConsumedEvent

    func handle(_ events: [EventEnvelope<Payload>], context: FunctionContext) async throws -> [String]
}

/// What `describe` reports of a function that consumes events.
public protocol ConsumesEvents {
    /// The event types it decodes; nil for every type.
    static var consumedTypes: [EventType]? { get }
}

extension EventConsumer {
    public static var consumedTypes: [EventType]? { Payload.eventTypes }

    public func invoke(_ event: Data, context: FunctionContext) async throws -> Data {
        let decoded = EventBatch<Payload>.decode(event, context: context)
        var failures = decoded.failures
        for (messageId, envelope) in decoded.events {
            // Traced, each event is a span that links to the one that published it.
            await Traces.span("handle \(envelope.type)", kind: .consumer, attributes: ["messaging.message.id": envelope.id], links: [envelope.traceparent].compactMap { $0 }) { span in
                let context = Traces.continuing(context)
                do {
                    try await handle(envelope, context: context)
                } catch {
                    span?.setStatus(.init(code: .error))
                    context.logger.warning("event failed", metadata: ["event.id": "\(envelope.id)", "event.type": "\(envelope.type)", "error": "\(String(reflecting: error))"])
                    failures.append(.init(itemIdentifier: messageId, reason: "\(error)"))
                }
            }
        }
        return try JSON.encoder().encode(SQSBatchResponse(batchItemFailures: failures))
    }
}

extension EventBatchConsumer {
    public static var consumedTypes: [EventType]? { Payload.eventTypes }

    public func invoke(_ event: Data, context: FunctionContext) async throws -> Data {
        let decoded = EventBatch<Payload>.decode(event, context: context)
        var failures = decoded.failures
        if !decoded.events.isEmpty {
            let byEvent = Dictionary(decoded.events.map { ($0.envelope.id, $0.messageId) }, uniquingKeysWith: { first, _ in first })
            let failed = try await Traces.span(
                "handle \(decoded.events.count) events", kind: .consumer, links: decoded.events.compactMap(\.envelope.traceparent)
            ) { _ in
                try await handle(decoded.events.map(\.envelope), context: Traces.continuing(context))
            }
            failures += failed.map { .init(itemIdentifier: byEvent[$0] ?? $0, reason: "reported failed by the consumer") }
        }
        return try JSON.encoder().encode(SQSBatchResponse(batchItemFailures: failures))
    }
}

/// The envelopes of one SQS batch, and the messages that did not decode.
struct EventBatch<Payload: ConsumedEvent> {
    var events: [(messageId: String, envelope: EventEnvelope<Payload>)] = []
    var failures: [SQSBatchResponse.ItemFailure] = []

    static func decode(_ event: Data, context: FunctionContext) -> EventBatch {
        var batch = EventBatch()
        let records: [SQSEvent.Message]
        do {
            records = try JSON.decoder().decode(SQSEvent.self, from: event).records
        } catch {
            context.logger.error("not an SQS batch", metadata: ["error": "\(error)"])
            return batch
        }
        for record in records {
            do {
                batch.events.append((record.messageId, try JSON.decoder().decode(ConsumedEnvelope<Payload>.self, from: Data(record.event.utf8)).envelope))
            } catch {
                let reason = "the event does not decode as \(Payload.self): \(DecodingFailure.describe(error))"
                context.logger.error("event does not decode", metadata: ["message.id": "\(record.messageId)", "error": "\(reason)"])
                batch.failures.append(.init(itemIdentifier: record.messageId, reason: reason, retryable: false))
            }
        }
        return batch
    }
}

/// Any event, its `data` kept as JSON: for consumers of every type, such as an audit log.
public struct AnyEvent: ConsumedEvent, Codable, Equatable {
    public static var eventTypes: [EventType]? { nil }

    public var fields: [String: JSONValue]

    public init(fields: [String: JSONValue]) {
        self.fields = fields
    }

    public init(type: EventType, data decoder: any Decoder) throws {
        fields = try [String: JSONValue](from: decoder)
    }

    public init(from decoder: any Decoder) throws {
        fields = try [String: JSONValue](from: decoder)
    }

    public func encode(to encoder: any Encoder) throws {
        try fields.encode(to: encoder)
    }
}

/// A decoding error as a short sentence naming the field.
enum DecodingFailure {
    static func describe(_ error: any Error) -> String {
        guard let error = error as? DecodingError else { return "\(error)" }
        func path(_ context: DecodingError.Context) -> String {
            context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
        }
        switch error {
        case .keyNotFound(let key, let context): return "missing field \((path(context).isEmpty ? "" : path(context) + ".") + key.stringValue)"
        case .typeMismatch(_, let context), .valueNotFound(_, let context): return "wrong type at \(path(context)): \(context.debugDescription)"
        case .dataCorrupted(let context): return "bad value at \(path(context)): \(context.debugDescription)"
        @unknown default: return "\(error)"
        }
    }
}
