import HTTPTypes

/// `GET /<segment>/ping`: answers which service, function and process served the call — the end-to-end
/// check every service has before its domain routes exist.
public struct Ping: HTTPFunction {
    public static let access = RouteAccess.open

    public struct Output: Codable, Sendable, ResponseBody {
        public var service: String
        public var function: String
        public var requestId: String
        public var pid: Int32
    }

    public let service: String

    public init(service: String) {
        self.service = service
    }

    public func handle(_ request: FunctionRequest<Empty>, context: FunctionContext) async throws -> FunctionResponse<Output> {
        .ok(Output(service: service, function: context.functionName, requestId: context.requestId, pid: ProcessInfo.processInfo.processIdentifier))
    }
}

/// `POST /<segment>/echo`: decodes a message and returns it with the request's parameters and query.
public struct Echo: HTTPFunction {
    public static let access = RouteAccess.open

    public struct Input: Codable, Sendable, Validatable {
        public var message: String
        public var count: Int?

        public func validate() -> [Problem.FieldError] {
            var errors: [Problem.FieldError] = []
            if message.isEmpty { errors.append(.init(field: "message", message: "must not be empty")) }
            if let count, !(1...100).contains(count) { errors.append(.init(field: "count", message: "must be from 1 to 100")) }
            return errors
        }
    }

    public struct Output: Codable, Sendable, ResponseBody {
        public var message: String
        public var count: Int
        public var service: String
        public var query: [String: String]
        public var traceparent: String?
    }

    public let service: String

    public init(service: String) {
        self.service = service
    }

    public func handle(_ request: FunctionRequest<Input>, context: FunctionContext) async throws -> FunctionResponse<Output> {
        .ok(Output(
            message: request.input.message, count: request.input.count ?? 1, service: service, query: request.query,
            traceparent: request.header(.traceparent)
        ))
    }
}
