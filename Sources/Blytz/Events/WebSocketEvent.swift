/// A WebSocket connect, message or disconnect, as API Gateway WebSocket APIs hand it to a function.
public struct APIGatewayWebSocketRequest: Codable, Sendable, Equatable {
    public struct Context: Codable, Sendable, Equatable {
        public var routeKey: String
        /// `CONNECT`, `MESSAGE` or `DISCONNECT`.
        public var eventType: String
        public var connectionId: String
        public var requestId: String
        public var messageId: String?
        public var domainName: String
        public var stage: String
        public var apiId: String
        public var connectedAt: Int64
        public var requestTimeEpoch: Int64
        public var disconnectStatusCode: Int?

        public init(
            routeKey: String, eventType: String, connectionId: String, requestId: String, messageId: String?,
            domainName: String, connectedAt: Int64, requestTimeEpoch: Int64, disconnectStatusCode: Int? = nil
        ) {
            self.routeKey = routeKey
            self.eventType = eventType
            self.connectionId = connectionId
            self.requestId = requestId
            self.messageId = messageId
            self.domainName = domainName
            self.stage = "$default"
            self.apiId = "local"
            self.connectedAt = connectedAt
            self.requestTimeEpoch = requestTimeEpoch
            self.disconnectStatusCode = disconnectStatusCode
        }
    }

    public var requestContext: Context
    /// On `$connect`: the upgrade request's headers, lower-cased.
    public var headers: [String: String]?
    /// On `$connect`: the upgrade request's query.
    public var queryStringParameters: [String: String]?
    public var body: String?
    public var isBase64Encoded: Bool

    public init(requestContext: Context, headers: [String: String]? = nil, queryStringParameters: [String: String]? = nil, body: String? = nil, isBase64Encoded: Bool = false) {
        self.requestContext = requestContext
        self.headers = headers
        self.queryStringParameters = queryStringParameters
        self.body = body
        self.isBase64Encoded = isBase64Encoded
    }
}

/// A WebSocket function's answer: on `$connect` a non-2xx status refuses the connection; a body is sent back.
public struct APIGatewayWebSocketResponse: Codable, Sendable, Equatable {
    public var statusCode: Int
    public var headers: [String: String]?
    public var body: String?

    public init(statusCode: Int, headers: [String: String]? = nil, body: String? = nil) {
        self.statusCode = statusCode
        self.headers = headers
        self.body = body
    }
}
