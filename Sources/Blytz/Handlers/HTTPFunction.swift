import HTTPTypes
import Logging

/// A typed HTTP handler: who may call it (`access`), the JSON body it reads (`Input`) and what it answers
/// (`FunctionResponse<Output>`).
///
/// ```
/// struct GetJob: HTTPFunction {
///     static let access = Access.signedIn
///     func handle(_ request: FunctionRequest<Empty>, caller: Caller, context: FunctionContext) async throws -> FunctionResponse<Job> {
///         .ok(try await jobs.find(request.parameter("id"), for: caller))
///     }
/// }
/// ```
/// The SDK decides access from the request's head before it reads the body: a caller the route does not
/// admit gets 401 or 403 whatever it sent. The handler then receives the verified caller; where access
/// depends on a resource, it loads and checks that before it reads `request.input`, whose 400/415/422 is
/// thrown only then. A thrown `HTTPResponseError` answers its problem; anything else answers a generic 500
/// and logs the detail.
public protocol HTTPFunction: FunctionHandler {
    associatedtype Input: Decodable & Sendable = Empty
    associatedtype Output: ResponseBody = Empty
    /// The query parameters it reads (`request.read(Query.self)`); none by default.
    associatedtype Query: QueryParameters = NoQuery
    /// The kind of rule `access` is; it decides the type of the caller `handle` receives.
    associatedtype Gate: RouteAccess

    /// Who may call the route, declared beside its handler: `Open()` for anyone, or a rule of the
    /// services' kit (`Access.signedIn`, `Access.people(.company)`, …). A route cannot leave it out.
    static var access: Gate { get }

    func handle(_ request: FunctionRequest<Input>, caller: Gate.Caller, context: FunctionContext) async throws -> FunctionResponse<Output>
}

/// A rule for who may call a route, applied to the request's head before its body is read.
public protocol RouteAccess: Sendable {
    /// What the rule hands the handler: the verified caller.
    associatedtype Caller: Sendable

    /// The caller of a request with `headers`, verified; throws the 401, 403 or 503 to answer instead.
    func admit(_ headers: HTTPFields, context: FunctionContext) async throws -> Caller

    /// The rule as the OpenAPI document and the access tests read it.
    var declaration: AccessDeclaration { get }
}

/// What a route's access rule says, in plain values: whether a bearer token is needed and, if only some
/// callers are admitted, which.
public struct AccessDeclaration: Codable, Sendable, Equatable {
    /// Whether the caller must send a bearer token.
    public var bearer: Bool
    /// The roles of the people (or of services acting for them) admitted; nil when the rule does not limit roles.
    public var roles: [String]?
    /// The services admitted on their own; nil when the rule does not limit services.
    public var services: [String]?

    public init(bearer: Bool, roles: [String]? = nil, services: [String]? = nil) {
        self.bearer = bearer
        self.roles = roles
        self.services = services
    }

    public static let open = AccessDeclaration(bearer: false)
}

/// Anyone may call the route: sign-up, sign-in, key sets, webhooks checked by their own signature.
public struct Open: RouteAccess {
    public init() {}

    public func admit(_ headers: HTTPFields, context: FunctionContext) async throws -> Anyone { Anyone() }

    public var declaration: AccessDeclaration { .open }
}

/// The caller of an open route: nobody in particular.
public struct Anyone: Sendable {
    public init() {}
}

extension HTTPFunction {
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
        let request = try APIGatewayV2Request(json: event)
        let response = await respond(to: request, context: context)
        return Data(buffer: response.json)
    }

    /// Admits, decodes, handles and encodes one API Gateway request; never throws, every failure is a response.
    public func respond(to event: APIGatewayV2Request, context: FunctionContext) async -> APIGatewayV2Response {
        do {
            let caller = try await Self.access.admit(HTTPFields(gatewayHeaders: event.headers), context: context)
            let request = try decodeRequest(event)
            let response = try await handle(request, caller: caller, context: context)
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
        guard let method = HTTPRequest.Method(event.requestContext.http.method) else {
            throw Problem(status: 405, detail: "'\(event.requestContext.http.method)' is not an HTTP method.")
        }
        let body = event.bodyData ?? Data()
        return FunctionRequest(
            method: method, path: event.rawPath, pathParameters: event.pathParameters ?? [:],
            query: event.queryStringParameters ?? [:], headers: HTTPFields(gatewayHeaders: event.headers),
            decoded: Result { () throws(Problem) in try Self.decodeInput(body, contentType: event.headers["content-type"]) }, body: body,
            sourceIP: event.requestContext.http.sourceIp
        )
    }

    /// The body as `Input`, validated; a problem naming what is wrong otherwise.
    static func decodeInput(_ body: Data, contentType: String?) throws(Problem) -> Input {
        if Input.self == Empty.self { return Empty() as! Input }
        guard !body.isEmpty || Input.self is any OptionalBody.Type else {
            throw Problem(status: 400, detail: "A JSON body is required.", errors: [.init(field: "body", message: "is required")])
        }
        let body = body.isEmpty ? Data("{}".utf8) : body
        if let contentType, !contentType.lowercased().contains("json") {
            throw Problem(status: 415, detail: "The body must be application/json, not \(contentType).", errors: [.init(field: "content-type", message: "must be application/json")])
        }
        let input: Input
        do {
            input = try JSON.decoder().decode(Input.self, from: body)
        } catch let error as DecodingError {
            throw error.problem
        } catch {
            throw Problem(status: 400, detail: "The body is not valid JSON.", errors: [.init(field: "body", message: "is not valid JSON")])
        }
        if let validatable = input as? any Validatable {
            let errors = validatable.validate()
            if !errors.isEmpty { throw HTTPError.unprocessable(errors).problem }
        }
        return input
    }
}
