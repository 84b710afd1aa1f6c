import Blytz

/// Drives a handler directly through its bytes-level entry point, exactly as the runtime does,
/// so decoding, validation and error mapping are part of what a unit test sees.
///
/// ```
/// let response = try await HandlerTester.http(CreateJob(), .post("/jobs", json: #"{"title":"VA"}"#))
/// #expect(response.status == 201)
/// ```
public enum HandlerTester {
    /// An HTTP request to hand a handler.
    public struct HTTPRequest: Sendable {
        public var method: String
        public var path: String
        public var pathParameters: [String: String] = [:]
        public var query: [String: String] = [:]
        public var headers: [String: String] = [:]
        public var body: Data?

        public init(method: String, path: String, pathParameters: [String: String] = [:], query: [String: String] = [:], headers: [String: String] = [:], body: Data? = nil) {
            self.method = method
            self.path = path
            self.pathParameters = pathParameters
            self.query = query
            self.headers = Dictionary(uniqueKeysWithValues: headers.map { ($0.key.lowercased(), $0.value) })
            self.body = body
        }

        public static func get(_ path: String, pathParameters: [String: String] = [:], query: [String: String] = [:], headers: [String: String] = [:]) -> HTTPRequest {
            HTTPRequest(method: "GET", path: path, pathParameters: pathParameters, query: query, headers: headers)
        }

        public static func post(_ path: String, json: String, pathParameters: [String: String] = [:], headers: [String: String] = [:]) -> HTTPRequest {
            HTTPRequest(method: "POST", path: path, pathParameters: pathParameters, headers: headers.merging(["content-type": "application/json"]) { $1 }, body: Data(json.utf8))
        }
    }

    /// What the handler answered, decoded from its API Gateway response.
    public struct HTTPResponse: Sendable {
        public var status: Int
        public var headers: [String: String]
        public var body: Data

        /// The body decoded as `type`.
        public func json<T: Decodable>(_ type: T.Type = T.self) throws -> T {
            try JSON.decoder().decode(type, from: body)
        }

        /// The body as a problem document.
        public var problem: Problem? { try? json(Problem.self) }
    }

    public static func http(_ handler: some HTTPFunction, _ request: HTTPRequest, context: FunctionContext = TestContext.make()) async throws -> HTTPResponse {
        let contentType = request.headers["content-type"] ?? ""
        let body = request.body
        let textual = APIGatewayV2Response.isTextual(contentType)
        let event = APIGatewayV2Request(
            routeKey: "\(request.method) \(request.path)", rawPath: request.path,
            rawQueryString: request.query.map { "\($0.key)=\($0.value)" }.joined(separator: "&"), cookies: nil,
            headers: request.headers, queryStringParameters: request.query.isEmpty ? nil : request.query,
            pathParameters: request.pathParameters.isEmpty ? nil : request.pathParameters,
            requestContext: .init(
                domainName: "localhost", http: .init(method: request.method, path: request.path, sourceIp: "127.0.0.1", userAgent: "test"),
                requestId: context.requestId, routeKey: "\(request.method) \(request.path)", time: "", timeEpoch: 0
            ),
            body: body.map { textual ? String(decoding: $0, as: UTF8.self) : $0.base64EncodedString() },
            isBase64Encoded: body != nil && !textual
        )
        let output = try await handler.invoke(try JSON.encoder().encode(event), context: context)
        let response = try JSON.decoder().decode(APIGatewayV2Response.self, from: output)
        let headers = Dictionary((response.headers ?? [:]).map { ($0.key.lowercased(), $0.value) }) { $1 }
        return HTTPResponse(status: response.statusCode, headers: headers, body: response.bodyData)
    }

    /// Hands a batch of message bodies to a queue handler; returns the ids of the messages that failed.
    public static func queue(_ handler: some QueueFunction, messages: [String], context: FunctionContext = TestContext.make()) async throws -> [String] {
        let event = SQSEvent(records: messages.enumerated().map { SQSEvent.Message(messageId: "m\($0.offset)", body: $0.element, queue: "test") })
        let output = try await handler.invoke(try JSON.encoder().encode(event), context: context)
        return try JSON.decoder().decode(SQSBatchResponse.self, from: output).batchItemFailures.map(\.itemIdentifier)
    }
}
