import Tracing
import Logging
import Synchronization

/// Everything one invocation may use: who it is, how long it has, and its dependencies.
///
/// Handlers never reach for globals: a unit test builds a context with in-memory parts
/// (see `BlytzTesting.TestContext`) and calls the handler directly.
public struct FunctionContext: Sendable {
    /// The invocation's id; also the `X-Request-Id` of an HTTP request.
    public var requestId: String
    /// The function being invoked.
    public var functionName: String
    /// When the invocation must have answered, in milliseconds since 1970.
    public var deadlineEpochMilliseconds: Int64
    /// The W3C trace context of the invocation, continued from the caller.
    public var traceparent: String?
    /// A logger already tagged with `function`, `requestId` and `traceId` (the keys every log line shares).
    public var logger: Logger
    /// The function's environment (manifest `environment` plus what the runner sets).
    public var configuration: Configuration
    /// Databases, publishers, clients, storage and the clock.
    public var dependencies: Dependencies
    /// Pushes to WebSocket connections through the management endpoint.
    public var connections: any ConnectionManager
    /// What this invocation did that the runtime reports back (such as publishing events).
    public let effects = InvocationEffects()

    /// The trace id of a W3C `traceparent` (`00-<trace id>-<span id>-<flags>`).
    public static func traceId(_ traceparent: String) -> String? {
        guard let parts = traceparentParts(traceparent), parts.traceId.utf8.count == 32 else { return nil }
        return String(parts.traceId)
    }

    /// The fields of a `traceparent` after its version, when it has exactly four separated by dashes.
    public static func traceparentParts(_ traceparent: String) -> (traceId: Substring, spanId: Substring, flags: Substring)? {
        let utf8 = traceparent.utf8
        let dash = UInt8(ascii: "-")
        // The version-00 form, by position: `vv-<32>-<16>-ff`.
        if utf8.count == 55 {
            let first = utf8.index(utf8.startIndex, offsetBy: 2)
            let second = utf8.index(first, offsetBy: 33)
            let third = utf8.index(second, offsetBy: 17)
            if utf8[first] == dash, utf8[second] == dash, utf8[third] == dash {
                guard utf8.count(where: { $0 == dash }) == 3 else { return nil }
                return (traceparent[utf8.index(after: first)..<second], traceparent[utf8.index(after: second)..<third], traceparent[utf8.index(after: third)...])
            }
        }
        let parts = traceparent.split(separator: "-")
        guard parts.count == 4 else { return nil }
        return (parts[1], parts[2], parts[3])
    }

    public init(
        requestId: String, functionName: String, deadlineEpochMilliseconds: Int64, traceparent: String?,
        logger: Logger, configuration: Configuration, dependencies: Dependencies, connections: any ConnectionManager
    ) {
        self.requestId = requestId
        self.functionName = functionName
        self.deadlineEpochMilliseconds = deadlineEpochMilliseconds
        self.traceparent = traceparent
        var logger = logger
        logger[metadataKey: "function"] = "\(functionName)"
        logger[metadataKey: "requestId"] = "\(requestId)"
        if let traceId = traceparent.flatMap(Self.traceId) { logger[metadataKey: "traceId"] = "\(traceId)" }
        self.logger = logger
        self.configuration = configuration
        self.dependencies = dependencies
        self.connections = connections
    }

    /// The current time, from the dependencies' wall clock.
    public var now: Date { dependencies.now() }

    /// Time left before the deadline.
    public var remainingTime: Duration {
        .milliseconds(deadlineEpochMilliseconds - Int64((Date().timeIntervalSince1970 * 1000).rounded()))
    }
}

/// What an invocation did that the runtime tells the runner about with its response.
public final class InvocationEffects: Sendable {
    private let published = Atomic<Bool>(false)

    public init() {}

    /// Records that the invocation wrote events to its service's outbox, so the runner relays them now.
    public func markPublished() {
        published.store(true, ordering: .relaxed)
    }

    public var didPublish: Bool { published.load(ordering: .relaxed) }
}

/// A function's environment, read through typed accessors.
public struct Configuration: Sendable {
    public var values: [String: String]

    public init(_ values: [String: String]) {
        self.values = values
    }

    public subscript(_ key: String) -> String? { values[key] }

    /// An integer setting; nil when unset or not an integer.
    public func int(_ key: String) -> Int? { values[key].flatMap { Int($0) } }

    /// Where local state lives: `BLYTZ_DATA_DIR`, as the runner sets it, default `local/.data`.
    public var dataDirectory: String { values["BLYTZ_DATA_DIR"] ?? "local/.data" }

    /// The base URL of another service, as the runner publishes it (`BLYTZ_SERVICE_URL_USERS`, …).
    public func serviceURL(_ service: String) -> String? {
        values["BLYTZ_SERVICE_URL_\(service.uppercased())"]
    }
}

/// A typed key into `Dependencies`: later layers (database, events, clients, storage) declare theirs.
public protocol DependencyKey {
    associatedtype Value: Sendable
}

/// The parts a handler works with, looked up by key; the clock is always there.
public struct Dependencies: Sendable {
    private var storage: [ObjectIdentifier: any Sendable] = [:]
    /// The clock retries, timeouts and schedules read; tests hand in a manual one.
    public var clock: any Clock<Duration>
    /// The wall-clock time handlers read for "now" (expiry, throttling, overdue rules); tests hand in a
    /// manual one that moves with `clock`.
    public var now: @Sendable () -> Date

    public init(clock: any Clock<Duration> = ContinuousClock(), now: @escaping @Sendable () -> Date = { Date() }) {
        self.clock = clock
        self.now = now
    }

    /// What `shutdown()` runs, in reverse order of registration.
    private var shutdownActions: [@Sendable () async -> Void] = []

    /// Registers work for when the worker stops, such as closing a connection pool.
    public mutating func onShutdown(_ action: @escaping @Sendable () async -> Void) {
        shutdownActions.append(action)
    }

    /// Runs the registered shutdown work, last registered first.
    public func shutdown() async {
        for action in shutdownActions.reversed() { await action() }
    }

    /// Where handlers push to WebSocket connections, when not the runner's management endpoint
    /// (API Gateway's, on AWS).
    public var connections: (any ConnectionManager)?

    /// The tracer invocations are traced with (`OTEL_*` configured), or nil: tracing is off.
    public var tracer: (any Tracer)?

    /// What runs after an invocation that published events, before its response is sent.
    private var publishedActions: [@Sendable () async -> Void] = []

    /// Registers work for after an invocation published events, such as handing the committed outbox to
    /// a bus (on Lambda, where nothing runs between invocations).
    public mutating func afterPublishing(_ action: @escaping @Sendable () async -> Void) {
        publishedActions.append(action)
    }

    /// Runs the work registered for after an invocation published events.
    public func published() async {
        for action in publishedActions { await action() }
    }

    public subscript<Key: DependencyKey>(_ key: Key.Type) -> Key.Value? {
        get { storage[ObjectIdentifier(key)] as? Key.Value }
        set { storage[ObjectIdentifier(key)] = newValue }
    }

    /// The value under `key`; a 503 naming `what` when this worker was started without it.
    public func require<Key: DependencyKey>(_ key: Key.Type, _ what: String) throws(HTTPError) -> Key.Value {
        guard let value = self[key] else { throw HTTPError(503, detail: "\(what) is not configured for this function.") }
        return value
    }
}
