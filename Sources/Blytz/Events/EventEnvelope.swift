/// The name of an event type, such as `JobPosted`: every type services exchange is a static member
/// (`BlytzEvents` declares them), so publishers, consumers and the manifest name them the same way.
public struct EventType: RawRepresentable, Hashable, Codable, Sendable, Comparable, CustomStringConvertible, ExpressibleByStringLiteral {
    public var rawValue: String

    public init(rawValue: String) {
        self.rawValue = rawValue
    }

    public init(stringLiteral value: String) {
        rawValue = value
    }

    public init(from decoder: any Decoder) throws {
        rawValue = try decoder.singleValueContainer().decode(String.self)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }

    public var description: String { rawValue }

    public static func < (lhs: EventType, rhs: EventType) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// The payload of one event type: a plain Codable struct named by `type`, at `version` (a new version only
/// adds fields), about the object `subject` names.
public protocol Event: Codable, ConsumedEvent {
    static var type: EventType { get }
    /// Starts at 1; raised when fields are added.
    static var version: Int { get }
    /// The id of the object the event is about (the envelope's `subject`).
    var subject: String { get }
}

extension Event {
    public static var version: Int { 1 }
}

/// What a consumer decodes an envelope's `data` into: one `Event` type, or an enum of several
/// (`EventChoice`), or `AnyEvent` for a consumer of every type.
public protocol ConsumedEvent: Sendable {
    /// The event types this payload decodes; nil for every type.
    static var eventTypes: [EventType]? { get }
    /// Decodes `data` of an envelope of `type`.
    init(type: EventType, data decoder: any Decoder) throws
}

extension ConsumedEvent where Self: Event {
    public static var eventTypes: [EventType]? { [type] }

    public init(type: EventType, data decoder: any Decoder) throws {
        guard type == Self.type else { throw UnexpectedEventType(type: type, expected: [Self.type]) }
        try self.init(from: decoder)
    }
}

/// An enum of the events one consumer handles, one case per type:
///
/// ```
/// enum DirectoryEvent: EventChoice {
///     case created(UserCreated), updated(UserUpdated)
///     static let choices: [any Event.Type] = [UserCreated.self, UserUpdated.self]
///     init(_ event: any Event) throws { … }
/// }
/// ```
public protocol EventChoice: ConsumedEvent {
    /// The event types of the cases.
    static var choices: [any Event.Type] { get }
    /// The case holding `event`, one of `choices`.
    init(_ event: any Event) throws
}

extension EventChoice {
    public static var eventTypes: [EventType]? { choices.map { $0.type } }

    public init(type: EventType, data decoder: any Decoder) throws {
        guard let choice = Self.choices.first(where: { $0.type == type }) else {
            throw UnexpectedEventType(type: type, expected: Self.choices.map { $0.type })
        }
        try self.init(try choice.init(from: decoder))
    }
}

/// An envelope whose type is not one its consumer handles.
public struct UnexpectedEventType: Error, CustomStringConvertible {
    public var type: EventType
    public var expected: [EventType]

    public init(type: EventType, expected: [EventType]) {
        self.type = type
        self.expected = expected
    }

    public var description: String { "an event of type \(type), where \(expected.map(\.rawValue).joined(separator: " or ")) was expected" }
}

/// An event as services exchange it: `{id, type, source, time, subject, data, traceparent}`.
/// Delivery is at least once, so consumers deduplicate on `id`.
public struct EventEnvelope<Payload: Sendable>: Sendable {
    /// Unique per event; the deduplication key.
    public var id: String
    /// The event's type, such as `JobPosted`.
    public var type: EventType
    /// The version of the payload's type.
    public var version: Int
    /// The service that published it.
    public var source: String
    /// When it was published, ISO-8601 UTC.
    public var time: String
    /// The id of the object it is about.
    public var subject: String?
    public var data: Payload
    /// The trace of the request that published it.
    public var traceparent: String?

    public init(id: String, type: EventType, version: Int = 1, source: String, time: String, subject: String?, data: Payload, traceparent: String?) {
        self.id = id
        self.type = type
        self.version = version
        self.source = source
        self.time = time
        self.subject = subject
        self.data = data
        self.traceparent = traceparent
    }

    enum CodingKeys: String, CodingKey {
        case id, type, version, source, time, subject, data, traceparent
    }
}

extension EventEnvelope: Encodable where Payload: Encodable {
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode(type, forKey: .type)
        try container.encode(version, forKey: .version)
        try container.encode(source, forKey: .source)
        try container.encode(time, forKey: .time)
        try container.encodeIfPresent(subject, forKey: .subject)
        try container.encode(data, forKey: .data)
        try container.encodeIfPresent(traceparent, forKey: .traceparent)
    }
}

extension EventEnvelope: Decodable where Payload: Decodable {
    public init(from decoder: any Decoder) throws {
        try self.init(decoder) { type, data in
            if let consumed = Payload.self as? any ConsumedEvent.Type { return try consumed.init(type: type, data: data) as! Payload }
            return try Payload(from: data)
        }
    }
}

extension EventEnvelope {
    /// Decodes an envelope whose `data` is read by `payload`, given the envelope's type.
    init(_ decoder: any Decoder, payload: (EventType, any Decoder) throws -> Payload) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        id = try container.decode(String.self, forKey: .id)
        type = try container.decode(EventType.self, forKey: .type)
        version = try container.decodeIfPresent(Int.self, forKey: .version) ?? 1
        source = try container.decode(String.self, forKey: .source)
        time = try container.decode(String.self, forKey: .time)
        subject = try container.decodeIfPresent(String.self, forKey: .subject)
        traceparent = try container.decodeIfPresent(String.self, forKey: .traceparent)
        data = try payload(type, try container.superDecoder(forKey: .data))
    }
}

/// Decodes an envelope for a consumer of `Payload` (one event, a choice of several, or any).
struct ConsumedEnvelope<Payload: ConsumedEvent>: Decodable {
    var envelope: EventEnvelope<Payload>

    init(from decoder: any Decoder) throws {
        envelope = try EventEnvelope(decoder) { type, data in try Payload(type: type, data: data) }
    }
}
