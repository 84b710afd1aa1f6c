/// An event as services exchange it: `{id, type, source, time, subject, data, traceparent}`.
/// Delivery is at least once, so consumers deduplicate on `id`.
public struct EventEnvelope<Payload: Codable & Sendable>: Codable, Sendable {
    /// Unique per event; the deduplication key.
    public var id: String
    /// The event's name, such as `JobPosted`.
    public var type: String
    /// The service that published it.
    public var source: String
    /// When it was published, ISO-8601 UTC.
    public var time: String
    /// The id of the object it is about.
    public var subject: String?
    public var data: Payload
    /// The trace of the request that published it.
    public var traceparent: String?

    public init(id: String, type: String, source: String, time: String, subject: String?, data: Payload, traceparent: String?) {
        self.id = id
        self.type = type
        self.source = source
        self.time = time
        self.subject = subject
        self.data = data
        self.traceparent = traceparent
    }
}
