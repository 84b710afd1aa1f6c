// The benchmark's baseline: the same `Ping` handler the runner serves through worker processes,
// called in-process by a bare Hummingbird server. Usage: bench-baseline PORT
import Blytz
import Hummingbird
import Logging

let port = CommandLine.arguments.dropFirst().first.flatMap(Int.init) ?? 3100
let handler = Ping(service: "users")
let router = Router()
router.get("/users/ping") { request, _ -> Hummingbird.Response in
    let requestID = request.headers[.init("X-Request-Id")!] ?? "baseline"
    let context = FunctionContext(
        requestId: requestID, functionName: "users-ping", deadlineEpochMilliseconds: .max, traceparent: nil,
        logger: Logger(label: "baseline"), configuration: Configuration([:]), dependencies: Dependencies(), connections: NoConnections()
    )
    let response = try await handler.handle(Blytz.FunctionRequest(method: .get, path: "/users/ping", input: Empty()), caller: Anyone(), context: context)
    let (data, contentType) = try response.body?.encodedBody() ?? (Data(), "application/json")
    return Hummingbird.Response(status: response.status, headers: [.contentType: contentType], body: .init(byteBuffer: ByteBuffer(bytes: data)))
}

/// The baseline has no WebSocket connections to push to.
struct NoConnections: ConnectionManager {
    func post(_ data: Data, to connectionId: String) async throws {}
    func close(_ connectionId: String) async throws {}
}

var logger = Logger(label: "bench-baseline")
logger.logLevel = .warning
let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: port)), logger: logger)
try await app.runService()
