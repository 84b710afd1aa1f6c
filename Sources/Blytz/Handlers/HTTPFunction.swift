import HTTPTypes
import Logging

/// A typed HTTP handler: the JSON body decodes into `Input`, the answer is a `FunctionResponse<Output>`.
///
/// ```
/// struct GetJob: HTTPFunction {
///     func handle(_ request: FunctionRequest<Empty>, context: FunctionContext) async throws -> FunctionResponse<Job> {
///         .ok(try await jobs.find(request.parameter("id")))
///     }
/// }
/// ```
/// A body that does not decode answers 400/422 naming the field; a thrown `HTTPResponseError` answers its
/// problem; anything else answers a generic 500 and logs the detail.
public protocol HTTPFunction: FunctionHandler {
    associatedtype Input: Decodable & Sendable = Empty
    associatedtype Output: ResponseBody = Empty
    /// The query parameters it reads (`request.read(Query.self)`); none by default.
    associatedtype Query: QueryParameters = NoQuery

    func handle(_ request: FunctionRequest<Input>, context: FunctionContext) async throws -> FunctionResponse<Output>

    /// Whether a caller needs a bearer token (the default) or the route is open to anyone. The OpenAPI
    /// document declares it; a test holds every route to it.
    static var access: RouteAccess { get }
}

/// Who may reach a route at all (what each caller may then do is the handler's to check).
public enum RouteAccess: String, Codable, Sendable {
    /// Anyone: sign-up, sign-in, key sets, health checks.
    case open
    /// A caller with a bearer token: a person's access token or a service token.
    case bearer
}

extension HTTPFunction {
    public static var access: RouteAccess { .bearer }

    /// The query parameters the function reads, with their schemas.
    public static var queryParameters: [QueryParameter] { Query.parameters }

    /// Whether the request body may be left out (its type is an `OptionalBody`).
    public static var inputIsOptional: Bool { Input.self is any OptionalBody.Type }

    /// The JSON Schema of the request body; nil when the function takes none.
    public static func inputSchema(_ schemas: SchemaCollector) -> JSONValue? {
        Input.self == Empty.self ? nil : schemas.schema(for: Input.self)
    }

    /// Other media types the response body may come in, with their schemas.
    public static var alternateOutputs: [String: JSONValue]? { (Output.self as? any AlternateMedia.Type)?.alternateMedia }

    /// The response body's content type and schema; nil when the function answers without a body.
    public static func outputSchema(_ schemas: SchemaCollector) -> (contentType: String, schema: JSONValue)? {
        switch Output.self {
        case is Empty.Type: nil
        case is Bytes.Type: ("application/octet-stream", ["type": "string", "format": "binary"])
        case let described as any SchemaDescribing.Type: (described.contentType, described.jsonSchema(schemas))
        case let decodable as any Decodable.Type: ("application/json", schemas.schema(for: decodable))
        default: ("application/json", [:])
        }
    }

    public func invoke(_ event: Data, context: FunctionContext) async throws -> Data {
        let request = try JSON.decoder().decode(APIGatewayV2Request.self, from: event)
        let response = await respond(to: request, context: context)
        return try JSON.encoder().encode(response)
    }

    /// Decodes, handles and encodes one API Gateway request; never throws, every failure is a response.
    public func respond(to event: APIGatewayV2Request, context: FunctionContext) async -> APIGatewayV2Response {
        do {
            let request = try decodeRequest(event)
            let response = try await handle(request, context: context)
            var headers = response.headers
            guard let encoded = try response.body?.encodedBody() else {
                return APIGatewayV2Response(statusCode: response.status.code, headers: headers.gatewayHeaders)
            }
            if headers[.contentType] == nil { headers[.contentType] = encoded.contentType }
            return APIGatewayV2Response(statusCode: response.status.code, headers: headers.gatewayHeaders, data: encoded.data)
        } catch let error as any HTTPResponseError {
            return Self.problemResponse(error.problem, headers: error.headers)
        } catch {
            context.logger.error("unhandled error", metadata: ["error": "\(String(reflecting: error))"])
            return Self.problemResponse(Problem(status: 500, detail: "An unexpected error occurred; see the log for request \(context.requestId)."), headers: [:])
        }
    }

    static func problemResponse(_ problem: Problem, headers: HTTPFields) -> APIGatewayV2Response {
        var headers = headers
        headers[.contentType] = Problem.contentType
        return APIGatewayV2Response(statusCode: problem.status, headers: headers.gatewayHeaders, data: problem.encoded)
    }

    func decodeRequest(_ event: APIGatewayV2Request) throws -> FunctionRequest<Input> {
        let body = event.bodyData ?? Data()
        let input: Input
        if Input.self == Empty.self {
            input = Empty() as! Input
        } else {
            guard !body.isEmpty || Input.self is any OptionalBody.Type else {
                throw Problem(status: 400, detail: "A JSON body is required.", errors: [.init(field: "body", message: "is required")])
            }
            let body = body.isEmpty ? Data("{}".utf8) : body
            if let type = event.headers["content-type"], !type.lowercased().contains("json") {
                throw Problem(status: 415, detail: "The body must be application/json, not \(type).", errors: [.init(field: "content-type", message: "must be application/json")])
            }
            do {
                input = try JSON.decoder().decode(Input.self, from: body)
            } catch let error as DecodingError {
                throw error.problem
            }
            if let validatable = input as? any Validatable {
                let errors = validatable.validate()
                if !errors.isEmpty { throw HTTPError.unprocessable(errors) }
            }
        }
        guard let method = HTTPRequest.Method(event.requestContext.http.method) else {
            throw Problem(status: 405, detail: "'\(event.requestContext.http.method)' is not an HTTP method.")
        }
        return FunctionRequest(
            method: method, path: event.rawPath, pathParameters: event.pathParameters ?? [:],
            query: event.queryStringParameters ?? [:], headers: HTTPFields(gatewayHeaders: event.headers), input: input, body: body,
            sourceIP: event.requestContext.http.sourceIp
        )
    }
}
