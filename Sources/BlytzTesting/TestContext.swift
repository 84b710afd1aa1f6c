import Blytz
import Logging
import Synchronization

/// Builds the context a handler receives, with test parts: a logger, a configuration, a deadline.
public enum TestContext {
    public static func make(
        function: String = "test-function", requestId: String = "test-request", timeout: Duration = .seconds(10),
        configuration: [String: String] = [:], dependencies: Dependencies = Dependencies(),
        connections: any ConnectionManager = RecordingConnections()
    ) -> FunctionContext {
        let now = Int64((Date().timeIntervalSince1970 * 1000).rounded())
        return FunctionContext(
            requestId: requestId, functionName: function, deadlineEpochMilliseconds: now + timeout.components.seconds * 1000,
            traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", logger: Logger(label: function),
            configuration: Configuration(configuration), dependencies: dependencies, connections: connections
        )
    }
}

/// A connection manager that keeps what handlers push, for assertions.
public final class RecordingConnections: ConnectionManager {
    private let state = Mutex<(posts: [(String, Data)], closed: [String])>(([], []))

    public init() {}

    public func post(_ data: Data, to connectionId: String) async throws {
        state.withLock { $0.posts.append((connectionId, data)) }
    }

    public func close(_ connectionId: String) async throws {
        state.withLock { $0.closed.append(connectionId) }
    }

    /// Every push so far: connection id and data.
    public var posts: [(connectionId: String, data: Data)] { state.withLock { $0.posts.map { ($0.0, $0.1) } } }
    /// Every connection closed so far.
    public var closed: [String] { state.withLock { $0.closed } }
}
