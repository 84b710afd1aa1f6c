import NIOCore

/// The API Gateway event and answer read and written without `JSONDecoder`/`JSONEncoder`: both cross the
/// Runtime API on every HTTP invocation, where Foundation's coders were a third of a worker's instructions.
/// They accept and produce the same JSON as the types' `Codable` conformances: unknown fields are skipped,
/// a missing required field or a value of the wrong type throws, `null` is nil for optional fields.
extension APIGatewayV2Request {
    public init(json bytes: some ContiguousBytes) throws {
        self = try JSONReader.read(bytes) { reader in try Self(reading: &reader) }
    }

    init(reading reader: inout JSONReader) throws {
        var version, routeKey, rawPath, rawQueryString, body: String?
        var cookies: [String]?
        var headers, queryStringParameters, pathParameters: [String: String]?
        var context: Context?
        var isBase64Encoded: Bool?
        try reader.object { reader, key in
            switch key {
            case "version": version = try reader.string()
            case "routeKey": routeKey = try reader.string()
            case "rawPath": rawPath = try reader.string()
            case "rawQueryString": rawQueryString = try reader.string()
            case "cookies": cookies = try reader.stringArray()
            case "headers": headers = try reader.stringMap()
            case "queryStringParameters": queryStringParameters = try reader.stringMap()
            case "pathParameters": pathParameters = try reader.stringMap()
            case "requestContext": context = try Context(reading: &reader)
            case "body": body = try reader.optionalString()
            case "isBase64Encoded": isBase64Encoded = try reader.bool()
            default: try reader.skip()
            }
        }
        self.init(
            routeKey: try routeKey.orMissing("routeKey"), rawPath: try rawPath.orMissing("rawPath"),
            rawQueryString: try rawQueryString.orMissing("rawQueryString"), cookies: cookies, headers: try headers.orMissing("headers"),
            queryStringParameters: queryStringParameters, pathParameters: pathParameters, requestContext: try context.orMissing("requestContext"),
            body: body, isBase64Encoded: try isBase64Encoded.orMissing("isBase64Encoded")
        )
        self.version = try version.orMissing("version")
    }

    /// The event as JSON.
    public var json: ByteBuffer {
        var writer = JSONWriter(capacity: 1024 + (body?.utf8.count ?? 0))
        writer.object { json in
            json.field("version", version)
            json.field("routeKey", routeKey)
            json.field("rawPath", rawPath)
            json.field("rawQueryString", rawQueryString)
            if let cookies { json.field("cookies", cookies) }
            json.field("headers", headers)
            if let queryStringParameters { json.field("queryStringParameters", queryStringParameters) }
            if let pathParameters { json.field("pathParameters", pathParameters) }
            json.object("requestContext") { json in
                json.field("accountId", requestContext.accountId)
                json.field("apiId", requestContext.apiId)
                json.field("domainName", requestContext.domainName)
                json.field("domainPrefix", requestContext.domainPrefix)
                json.object("http") { json in
                    json.field("method", requestContext.http.method)
                    json.field("path", requestContext.http.path)
                    json.field("protocol", requestContext.http.protocol)
                    json.field("sourceIp", requestContext.http.sourceIp)
                    json.field("userAgent", requestContext.http.userAgent)
                }
                json.field("requestId", requestContext.requestId)
                json.field("routeKey", requestContext.routeKey)
                json.field("stage", requestContext.stage)
                json.field("time", requestContext.time)
                json.field("timeEpoch", requestContext.timeEpoch)
            }
            if let body { json.field("body", body) }
            json.field("isBase64Encoded", isBase64Encoded)
        }
        return writer.buffer
    }
}

extension APIGatewayV2Request.Context {
    init(reading reader: inout JSONReader) throws {
        var accountId, apiId, domainName, domainPrefix, requestId, routeKey, stage, time: String?
        var http: HTTP?
        var timeEpoch: Int64?
        try reader.object { reader, key in
            switch key {
            case "accountId": accountId = try reader.string()
            case "apiId": apiId = try reader.string()
            case "domainName": domainName = try reader.string()
            case "domainPrefix": domainPrefix = try reader.string()
            case "http": http = try HTTP(reading: &reader)
            case "requestId": requestId = try reader.string()
            case "routeKey": routeKey = try reader.string()
            case "stage": stage = try reader.string()
            case "time": time = try reader.string()
            case "timeEpoch": timeEpoch = try reader.int()
            default: try reader.skip()
            }
        }
        self.init(
            accountId: try accountId.orMissing("accountId"), apiId: try apiId.orMissing("apiId"), domainName: try domainName.orMissing("domainName"),
            domainPrefix: try domainPrefix.orMissing("domainPrefix"), http: try http.orMissing("http"), requestId: try requestId.orMissing("requestId"),
            routeKey: try routeKey.orMissing("routeKey"), stage: try stage.orMissing("stage"), time: try time.orMissing("time"),
            timeEpoch: try timeEpoch.orMissing("timeEpoch")
        )
    }
}

extension APIGatewayV2Request.Context.HTTP {
    init(reading reader: inout JSONReader) throws {
        var method, path, `protocol`, sourceIp, userAgent: String?
        try reader.object { reader, key in
            switch key {
            case "method": method = try reader.string()
            case "path": path = try reader.string()
            case "protocol": `protocol` = try reader.string()
            case "sourceIp": sourceIp = try reader.string()
            case "userAgent": userAgent = try reader.string()
            default: try reader.skip()
            }
        }
        self.init(
            method: try method.orMissing("method"), path: try path.orMissing("path"), protocol: try `protocol`.orMissing("protocol"),
            sourceIp: try sourceIp.orMissing("sourceIp"), userAgent: try userAgent.orMissing("userAgent")
        )
    }
}

extension APIGatewayV2Response {
    public init(json bytes: some ContiguousBytes) throws {
        self = try JSONReader.read(bytes) { reader in
            var statusCode: Int64?
            var headers: [String: String]?
            var cookies: [String]?
            var body: String?
            var isBase64Encoded: Bool?
            try reader.object { reader, key in
                switch key {
                case "statusCode": statusCode = try reader.int()
                case "headers": headers = try reader.stringMap()
                case "cookies": cookies = try reader.stringArray()
                case "body": body = try reader.optionalString()
                case "isBase64Encoded": isBase64Encoded = try reader.null() ? nil : reader.bool()
                default: try reader.skip()
                }
            }
            return Self(statusCode: Int(try statusCode.orMissing("statusCode")), headers: headers, cookies: cookies, body: body, isBase64Encoded: isBase64Encoded)
        }
    }

    /// The answer as JSON (fields that are nil are left out).
    public var json: ByteBuffer {
        var writer = JSONWriter(capacity: 256 + (body?.utf8.count ?? 0))
        writer.object { json in
            json.field("statusCode", Int64(statusCode))
            if let headers { json.field("headers", headers) }
            if let cookies { json.field("cookies", cookies) }
            if let body { json.field("body", body) }
            if let isBase64Encoded { json.field("isBase64Encoded", isBase64Encoded) }
        }
        return writer.buffer
    }
}

extension JSONReader {
    /// A required field the document does not have.
    public struct MissingField: Error, Equatable {
        public var name: String

        public init(name: String) {
            self.name = name
        }
    }
}

extension Optional {
    fileprivate func orMissing(_ name: String) throws -> Wrapped {
        guard let self else { throw JSONReader.MissingField(name: name) }
        return self
    }
}
