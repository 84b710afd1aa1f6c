import HTTPTypes

/// `GET /<segment>/ping`: answers which service, function and process served the call — the trivial
/// function the benchmarks measure the request path with (bench/bench.yaml, bench/profiles.yaml).
public struct Ping: HTTPFunction {
    public static let access = Open()

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

    public func handle(_ request: FunctionRequest<Empty>, caller _: Anyone, context: FunctionContext) async throws -> FunctionResponse<Output> {
        .ok(Output(service: service, function: context.functionName, requestId: context.requestId, pid: ProcessInfo.processInfo.processIdentifier))
    }
}
