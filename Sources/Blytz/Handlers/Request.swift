public import HTTPTypes

/// An HTTP request as a handler sees it: everything about the call, and its body decoded into `Input`.
public struct FunctionRequest<Input: Sendable>: Sendable {
    public var method: HTTPRequest.Method
    /// The path the service saw (without the gateway's `/api` prefix).
    public var path: String
    public var pathParameters: [String: String]
    public var query: [String: String]
    public var headers: HTTPFields
    /// The body's raw bytes.
    public var body: Data
    public var sourceIP: String
    private var decoded: Result<Input, Problem>

    /// The body, decoded and validated. A body that is missing, not JSON, of the wrong types or invalid
    /// throws its 400, 415 or 422 here, not before: a handler that checks the caller against a resource
    /// does so first, and reads its input after.
    public var input: Input {
        get throws(Problem) { try decoded.get() }
    }

    public init(
        method: HTTPRequest.Method, path: String, pathParameters: [String: String] = [:], query: [String: String] = [:],
        headers: HTTPFields = [:], input: Input, body: Data = Data(), sourceIP: String = "127.0.0.1"
    ) {
        self.init(method: method, path: path, pathParameters: pathParameters, query: query, headers: headers, decoded: .success(input), body: body, sourceIP: sourceIP)
    }

    init(
        method: HTTPRequest.Method, path: String, pathParameters: [String: String], query: [String: String], headers: HTTPFields,
        decoded: Result<Input, Problem>, body: Data, sourceIP: String
    ) {
        self.method = method
        self.path = path
        self.pathParameters = pathParameters
        self.query = query
        self.headers = headers
        self.decoded = decoded
        self.body = body
        self.sourceIP = sourceIP
    }

    /// A header's value (repeated fields joined with commas).
    public func header(_ name: HTTPField.Name) -> String? { headers[name] }

    /// A path parameter the route declares; a missing one is a 400 naming it.
    public func parameter(_ name: String) throws(HTTPError) -> String {
        guard let value = pathParameters[name], !value.isEmpty else {
            throw .badRequest("is required", field: name)
        }
        return value
    }
}

/// The input of a handler that takes no body.
public struct Empty: Codable, Sendable, Equatable {
    public init() {}
}

/// A request body whose fields are all optional, which a client may leave out entirely (it is then `{}`).
public protocol OptionalBody: Decodable {}
