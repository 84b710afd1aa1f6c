/// An RFC 9457 problem document, as every route answers errors (`application/problem+json`).
public struct Problem: Codable, Sendable, Equatable, Error {
    /// One invalid field of a request.
    public struct FieldError: Codable, Sendable, Equatable {
        public var field: String
        public var message: String

        public init(field: String, message: String) {
            self.field = field
            self.message = message
        }
    }

    public var type: String
    public var title: String
    public var status: Int
    public var detail: String?
    public var errors: [FieldError]?

    public init(status: Int, title: String? = nil, detail: String? = nil, errors: [FieldError]? = nil, type: String = "about:blank") {
        self.type = type
        self.title = title ?? Problem.title(for: status)
        self.status = status
        self.detail = detail
        self.errors = errors
    }

    public static let contentType = "application/problem+json"

    /// The standard reason phrase of a status.
    public static func title(for status: Int) -> String {
        switch status {
        case 400: "Bad Request"
        case 401: "Unauthorized"
        case 403: "Forbidden"
        case 404: "Not Found"
        case 405: "Method Not Allowed"
        case 409: "Conflict"
        case 413: "Content Too Large"
        case 415: "Unsupported Media Type"
        case 422: "Unprocessable Content"
        case 429: "Too Many Requests"
        case 500: "Internal Server Error"
        case 502: "Bad Gateway"
        case 503: "Service Unavailable"
        case 504: "Gateway Timeout"
        default: "HTTP \(status)"
        }
    }

    /// The document as bytes.
    public var encoded: Data {
        (try? JSON.encoder().encode(self)) ?? Data(#"{"status":500,"title":"Internal Server Error","type":"about:blank"}"#.utf8)
    }
}
