public import HTTPTypes
/// A body a handler can answer with: JSON for any `Encodable` that adopts it, raw bytes with `Bytes`.
public protocol ResponseBody: Sendable {
    /// The bytes and their content type; `nil` for no body.
    func encodedBody() throws -> (data: Data, contentType: String)?
}

extension ResponseBody where Self: Encodable {
    public func encodedBody() throws -> (data: Data, contentType: String)? {
        (try JSON.encoder().encode(self), "application/json")
    }
}

extension Empty: ResponseBody {
    public func encodedBody() throws -> (data: Data, contentType: String)? { nil }
}

/// Raw bytes with their content type, for downloads and non-JSON answers.
public struct Bytes: ResponseBody, Equatable {
    public var data: Data
    public var contentType: String

    public init(_ data: Data, contentType: String = "application/octet-stream") {
        self.data = data
        self.contentType = contentType
    }

    public func encodedBody() throws -> (data: Data, contentType: String)? { (data, contentType) }
}

/// What an HTTP handler answers: a status, headers and a typed body.
public struct FunctionResponse<Body: ResponseBody>: Sendable {
    public var status: HTTPResponse.Status
    public var headers: HTTPFields
    public var body: Body?

    public init(status: HTTPResponse.Status = .ok, headers: HTTPFields = [:], body: Body?) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// 200 with `body`.
    public static func ok(_ body: Body) -> FunctionResponse { FunctionResponse(body: body) }
    /// 201 with `body`.
    public static func created(_ body: Body, location: String? = nil) -> FunctionResponse {
        FunctionResponse(status: .created, headers: location.map { [.location: $0] } ?? [:], body: body)
    }
}

extension FunctionResponse where Body == Empty {
    /// 204 with no body.
    public static var noContent: FunctionResponse { FunctionResponse(status: .noContent, body: nil) }
}
