/// A schedule firing, in the shape EventBridge hands it to a function.
public struct ScheduledEvent: Codable, Sendable, Equatable {
    public var version: String
    public var id: String
    public var detailType: String
    public var source: String
    public var account: String
    /// When the schedule was due, ISO-8601 UTC.
    public var time: String
    public var region: String
    public var resources: [String]
    public var detail: [String: String]

    public init(id: String, time: String, rule: String) {
        self.version = "0"
        self.id = id
        self.detailType = "Scheduled Event"
        self.source = "aws.events"
        self.account = "000000000000"
        self.time = time
        self.region = "local"
        self.resources = ["arn:aws:events:local:000000000000:rule/\(rule)"]
        self.detail = [:]
    }

    enum CodingKeys: String, CodingKey {
        case version, id, source, account, time, region, resources, detail
        case detailType = "detail-type"
    }
}
