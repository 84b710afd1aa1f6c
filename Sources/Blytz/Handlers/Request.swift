public import HTTPTypes

/// An HTTP request as a handler sees it: decoded input plus everything about the call.
public struct FunctionRequest<Input: Sendable>: Sendable {
    public var method: HTTPRequest.Method
    /// The path the service saw (without the gateway's `/api` prefix).
    public var path: String
    public var pathParameters: [String: String]
    public var query: [String: String]
    public var headers: HTTPFields
    public var input: Input
    /// The body's raw bytes.
    public var body: Data
    public var sourceIP: String

    public init(
        method: HTTPRequest.Method, path: String, pathParameters: [String: String] = [:], query: [String: String] = [:],
        headers: HTTPFields = [:], input: Input, body: Data = Data(), sourceIP: String = "127.0.0.1"
    ) {
        self.method = method
        self.path = path
        self.pathParameters = pathParameters
        self.query = query
        self.headers = headers
        self.input = input
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
