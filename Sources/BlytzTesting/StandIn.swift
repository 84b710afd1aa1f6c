import Hummingbird

/// A stand-in for another service on a real loopback socket: a Hummingbird router served on a free port
/// for as long as `body` runs, so a handler's calls go through the real service client (timeouts, retries,
/// circuit breaker) to something a test controls.
///
/// ```
/// let router = Router()
/// router.post("/contracts") { _, _ in Response(status: .serviceUnavailable) }
/// try await StandIn.serve(router) { port in
///     try await ServiceHarness<Marketplace>.with(.sqlite, services: [.contracts: "http://127.0.0.1:\(port)"]) { … }
/// }
/// ```
public enum StandIn {
    public static func serve(_ router: Router<BasicRequestContext>, _ body: @escaping @Sendable (Int) async throws -> Void) async throws {
        let ready = AsyncStream<Int>.makeStream()
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)), onServerRunning: { channel in
            ready.continuation.yield(channel.localAddress?.port ?? 0)
        })
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await app.runService(gracefulShutdownSignals: []) }
            var iterator = ready.stream.makeAsyncIterator()
            try await body(await iterator.next() ?? 0)
            group.cancelAll()
        }
    }
}
