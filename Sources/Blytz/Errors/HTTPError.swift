public import HTTPTypes

/// An error that knows how it is answered over HTTP. Anything else is a generic 500 whose detail goes to the log.
public protocol HTTPResponseError: Error {
    /// The problem document the client receives.
    var problem: Problem { get }
    /// Extra headers, such as `Retry-After`.
    var headers: HTTPFields { get }
}

extension HTTPResponseError {
    public var headers: HTTPFields { [:] }
}

extension Problem: HTTPResponseError {
    public var problem: Problem { self }
}

/// The errors handlers throw most: `throw HTTPError.notFound("job \(id)")`.
public struct HTTPError: HTTPResponseError, Sendable, Equatable {
    public var problem: Problem
    public var headers: HTTPFields

    public init(_ status: Int, detail: String? = nil, errors: [Problem.FieldError]? = nil, headers: HTTPFields = [:]) {
        self.problem = Problem(status: status, detail: detail, errors: errors)
        self.headers = headers
    }

    public static func badRequest(_ detail: String, field: String? = nil) -> HTTPError {
        HTTPError(400, detail: detail, errors: field.map { [.init(field: $0, message: detail)] })
    }

    public static func unprocessable(_ errors: [Problem.FieldError]) -> HTTPError {
        HTTPError(422, detail: "The request has invalid fields.", errors: errors)
    }

    public static func unauthorized(_ detail: String = "Sign in first.") -> HTTPError { HTTPError(401, detail: detail) }
    public static func forbidden(_ detail: String = "Not allowed.") -> HTTPError { HTTPError(403, detail: detail) }
    public static func notFound(_ detail: String) -> HTTPError { HTTPError(404, detail: detail) }
    public static func conflict(_ detail: String) -> HTTPError { HTTPError(409, detail: detail) }
}

/// An input that checks its own values after decoding; failures answer 422 naming each field.
public protocol Validatable {
    /// Returns every invalid field; empty when the input is valid.
    func validate() -> [Problem.FieldError]
}
