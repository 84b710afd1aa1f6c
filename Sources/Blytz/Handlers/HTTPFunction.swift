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

    func handle(_ request: FunctionRequest<Input>, context: FunctionContext) async throws -> FunctionResponse<Output>
}

extension HTTPFunction {
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
            guard !body.isEmpty else {
                throw Problem(status: 400, detail: "A JSON body is required.", errors: [.init(field: "body", message: "is required")])
            }
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
