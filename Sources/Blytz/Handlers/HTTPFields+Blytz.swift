public import HTTPTypes

extension HTTPField.Name {
    /// The request id every hop carries and every log line names.
    public static let requestID = HTTPField.Name("X-Request-Id")!
    /// The client's key for a retried request (see `IdempotencyStore`).
    public static let idempotencyKey = HTTPField.Name("Idempotency-Key")!
}

extension HTTPFields {
    /// Fields from the gateway event's map of lower-cased names (names that are not valid tokens are dropped).
    public init(gatewayHeaders: [String: String]) {
        self.init(gatewayHeaders.sorted { $0.key < $1.key }.compactMap { name, value in
            HTTPField.Name(name).map { HTTPField(name: $0, value: value) }
        })
    }

    /// The gateway event's form: lower-cased names, repeated fields joined with commas.
    public var gatewayHeaders: [String: String] {
        var map: [String: String] = [:]
        for field in self {
            let name = field.name.canonicalName
            map[name] = map[name].map { "\($0),\(field.value)" } ?? field.value
        }
        return map
    }
}
