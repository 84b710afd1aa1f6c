/// An HTTP request as API Gateway HTTP API (payload format 2.0) hands it to a function.
public struct APIGatewayV2Request: Codable, Sendable, Equatable {
    public struct Context: Codable, Sendable, Equatable {
        public struct HTTP: Codable, Sendable, Equatable {
            public var method: String
            public var path: String
            public var `protocol`: String
            public var sourceIp: String
            public var userAgent: String

            public init(method: String, path: String, protocol: String = "HTTP/1.1", sourceIp: String, userAgent: String) {
                self.method = method
                self.path = path
                self.protocol = `protocol`
                self.sourceIp = sourceIp
                self.userAgent = userAgent
            }
        }

        public var accountId: String
        public var apiId: String
        public var domainName: String
        public var domainPrefix: String
        public var http: HTTP
        public var requestId: String
        public var routeKey: String
        public var stage: String
        public var time: String
        public var timeEpoch: Int64

        public init(
            accountId: String = "000000000000", apiId: String = "local", domainName: String, domainPrefix: String = "local",
            http: HTTP, requestId: String, routeKey: String, stage: String = "$default", time: String, timeEpoch: Int64
        ) {
            self.accountId = accountId
            self.apiId = apiId
            self.domainName = domainName
            self.domainPrefix = domainPrefix
            self.http = http
            self.requestId = requestId
            self.routeKey = routeKey
            self.stage = stage
            self.time = time
            self.timeEpoch = timeEpoch
        }
    }

    public var version: String
    public var routeKey: String
    public var rawPath: String
    public var rawQueryString: String
    public var cookies: [String]?
    /// Lower-cased names; repeated headers joined with commas.
    public var headers: [String: String]
    public var queryStringParameters: [String: String]?
    public var pathParameters: [String: String]?
    public var requestContext: Context
    public var body: String?
    public var isBase64Encoded: Bool

    public init(
        routeKey: String, rawPath: String, rawQueryString: String, cookies: [String]?, headers: [String: String],
        queryStringParameters: [String: String]?, pathParameters: [String: String]?, requestContext: Context,
        body: String?, isBase64Encoded: Bool
    ) {
        self.version = "2.0"
        self.routeKey = routeKey
        self.rawPath = rawPath
        self.rawQueryString = rawQueryString
        self.cookies = cookies
        self.headers = headers
        self.queryStringParameters = queryStringParameters
        self.pathParameters = pathParameters
        self.requestContext = requestContext
        self.body = body
        self.isBase64Encoded = isBase64Encoded
    }

    /// The body's bytes, base64-decoded where the event says so.
    public var bodyData: Data? {
        guard let body else { return nil }
        return isBase64Encoded ? Data(base64Encoded: body) : Data(body.utf8)
    }
}

/// A function's answer to an HTTP request, in API Gateway HTTP API (payload format 2.0) form.
public struct APIGatewayV2Response: Codable, Sendable, Equatable {
    public var statusCode: Int
    public var headers: [String: String]?
    public var cookies: [String]?
    public var body: String?
    public var isBase64Encoded: Bool?

    public init(statusCode: Int, headers: [String: String]? = nil, cookies: [String]? = nil, body: String? = nil, isBase64Encoded: Bool? = nil) {
        self.statusCode = statusCode
        self.headers = headers
        self.cookies = cookies
        self.body = body
        self.isBase64Encoded = isBase64Encoded
    }

    /// Encodes `data` as text when `contentType` is textual, otherwise as base64.
    public init(statusCode: Int, headers: [String: String], data: Data) {
        let contentType = headers.first { $0.key.lowercased() == "content-type" }?.value ?? ""
        if Self.isTextual(contentType), let text = String(data: data, encoding: .utf8) {
            self.init(statusCode: statusCode, headers: headers, body: text, isBase64Encoded: false)
        } else {
            self.init(statusCode: statusCode, headers: headers, body: data.base64EncodedString(), isBase64Encoded: true)
        }
    }

    /// The body's bytes, base64-decoded where the response says so.
    public var bodyData: Data {
        guard let body else { return Data() }
        return isBase64Encoded == true ? (Data(base64Encoded: body) ?? Data()) : Data(body.utf8)
    }

    /// Whether a body of this content type travels as text.
    public static func isTextual(_ contentType: String) -> Bool {
        // Compared as ASCII bytes, ignoring case: this runs for every request and answer with a body.
        let type = contentType.utf8.map { (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains($0) ? $0 | 0x20 : $0 }
        func contains(_ word: StaticString) -> Bool {
            let needle = UnsafeBufferPointer(start: word.utf8Start, count: word.utf8CodeUnitCount)
            return type.count >= needle.count && (0...(type.count - needle.count)).contains { type[$0..<($0 + needle.count)].elementsEqual(needle) }
        }
        func starts(_ word: StaticString) -> Bool {
            type.starts(with: UnsafeBufferPointer(start: word.utf8Start, count: word.utf8CodeUnitCount))
        }
        return starts("text/") || contains("json") || contains("xml") || starts("application/x-www-form-urlencoded") || starts("application/javascript")
    }
}
