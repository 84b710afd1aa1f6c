import Blytz
import Foundation
public import HTTPTypes

/// Drives a handler directly through its bytes-level entry point, exactly as the runtime does,
/// so decoding, validation and error mapping are part of what a unit test sees.
///
/// ```
/// let response = try await HandlerTester.http(CreateJob(), .post("/jobs", json: #"{"title":"VA"}"#))
/// #expect(response.status == 201)
/// ```
public enum HandlerTester {
    /// An HTTP request to hand a handler.
    public struct Request: Sendable {
        public var method: HTTPRequest.Method
        public var path: String
        public var pathParameters: [String: String] = [:]
        public var query: [String: String] = [:]
        public var headers: HTTPFields = [:]
        public var body: Data?

        public init(method: HTTPRequest.Method, path: String, pathParameters: [String: String] = [:], query: [String: String] = [:], headers: HTTPFields = [:], body: Data? = nil) {
            self.method = method
            self.path = path
            self.pathParameters = pathParameters
            self.query = query
            self.headers = headers
            self.body = body
        }

        public static func get(_ path: String, pathParameters: [String: String] = [:], query: [String: String] = [:], headers: HTTPFields = [:]) -> Request {
            Request(method: .get, path: path, pathParameters: pathParameters, query: query, headers: headers)
        }

        public static func post(_ path: String, json: String, pathParameters: [String: String] = [:], headers: HTTPFields = [:]) -> Request {
            var headers = headers
            headers[.contentType] = "application/json"
            return Request(method: .post, path: path, pathParameters: pathParameters, headers: headers, body: Data(json.utf8))
        }
    }

    /// What the handler answered, decoded from its API Gateway response.
    public struct Response: Sendable {
        public var status: HTTPResponse.Status
        public var headers: HTTPFields
        public var body: Data

        public init(status: HTTPResponse.Status, headers: HTTPFields = [:], body: Data = Data()) {
            self.status = status
            self.headers = headers
            self.body = body
        }

        /// The body decoded as `type`.
        public func json<T: Decodable>(_ type: T.Type = T.self) throws -> T {
            try JSON.decoder().decode(type, from: body)
        }

        /// The body as a problem document.
        public var problem: Problem? { try? json(Problem.self) }
        /// The fields the problem document names.
        public var problemFields: [String] { problem?.errors?.map(\.field) ?? [] }
        /// The body as a JSON object (empty when it is not one).
        public var object: [String: Any] { ((try? JSONSerialization.jsonObject(with: body)) as? [String: Any]) ?? [:] }
    }

    public static func http(_ handler: some HTTPFunction, _ request: Request, context: FunctionContext = TestContext.make()) async throws -> Response {
        let contentType = request.headers[.contentType] ?? ""
        let body = request.body
        let textual = APIGatewayV2Response.isTextual(contentType)
        let method = request.method.rawValue
        let event = APIGatewayV2Request(
            routeKey: "\(method) \(request.path)", rawPath: request.path,
            rawQueryString: request.query.map { "\($0.key)=\($0.value)" }.joined(separator: "&"), cookies: nil,
            headers: request.headers.gatewayHeaders, queryStringParameters: request.query.isEmpty ? nil : request.query,
            pathParameters: request.pathParameters.isEmpty ? nil : request.pathParameters,
            requestContext: .init(
                domainName: "localhost", http: .init(method: method, path: request.path, sourceIp: "127.0.0.1", userAgent: "test"),
                requestId: context.requestId, routeKey: "\(method) \(request.path)", time: "", timeEpoch: 0
            ),
            body: body.map { textual ? String(decoding: $0, as: UTF8.self) : $0.base64EncodedString() },
            isBase64Encoded: body != nil && !textual
        )
        let output = try await handler.invoke(try JSON.encoder().encode(event), context: context)
        let response = try JSON.decoder().decode(APIGatewayV2Response.self, from: output)
        return Response(status: HTTPResponse.Status(code: response.statusCode), headers: HTTPFields(gatewayHeaders: (response.headers ?? [:])), body: response.bodyData)
    }

    /// Hands a batch of message bodies to a queue handler; returns the ids of the messages that failed.
    public static func queue(_ handler: some QueueFunction, messages: [String], context: FunctionContext = TestContext.make()) async throws -> [String] {
        let event = SQSEvent(records: messages.enumerated().map { SQSEvent.Message(messageId: "m\($0.offset)", body: $0.element, queue: "test") })
        let output = try await handler.invoke(try JSON.encoder().encode(event), context: context)
        return try JSON.decoder().decode(SQSBatchResponse.self, from: output).batchItemFailures.map(\.itemIdentifier)
    }
}
