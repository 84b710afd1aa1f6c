/// The parsed and validated `functions.yaml`: every service and every function of the backend.
public struct Manifest: Sendable {
    /// The file it was read from.
    public var file: String
    /// Services in the order the file lists them.
    public var services: [ServiceSpec]
    /// Functions in the order the file lists them.
    public var functions: [FunctionSpec]
    /// The monolith still serving the path prefixes not yet moved to a service, if any.
    public var legacy: LegacyUpstream?

    /// The service named `name`.
    public func service(named name: String) -> ServiceSpec? {
        services.first { $0.name == name }
    }

    /// The function named `name`.
    public func function(named name: String) -> FunctionSpec? {
        functions.first { $0.name == name }
    }

    /// The functions that belong to `service`.
    public func functions(of service: String) -> [FunctionSpec] {
        functions.filter { $0.service == service }
    }
}

/// One service: a port of its own, one executable holding all its handlers, one database.
public struct ServiceSpec: Sendable, Equatable {
    public var name: String
    public var port: Int
    /// The executable (a product of this package) whose `_HANDLER` selects the function.
    public var executable: String
    public var database: String
    /// Folders whose changes rebuild this service under `blytz local --watch`.
    public var sources: [String]
    /// The command that rebuilds the executable, when the manifest names one (`build:`); see `buildCommand`.
    public var build: [String]?
    /// The path where this service accepts WebSocket upgrades, if it has WebSocket functions.
    public var websocketPath: String?
    /// The settings of this service that are secrets (`STRIPE_SECRET_KEY`): given to its functions from
    /// the environment (locally `<SERVICE>_<NAME>`), and in a deploy template each a parameter never echoed.
    public var secrets: [String]
    public var line: Int

    /// The command that rebuilds the executable: the manifest's `build:`, or else
    /// `swift build --product <executable>` with `swiftBuildFlags` (the flags the running executables were
    /// built with, so that the rebuild lands where they are).
    public func buildCommand(swiftBuildFlags: [String]) -> [String] {
        build ?? ["swift", "build", "--product", executable] + swiftBuildFlags
    }
}

/// One function: a handler, its trigger, its limits and how it scales.
public struct FunctionSpec: Sendable, Equatable {
    public var name: String
    public var service: String
    /// The Swift type that implements it, as `Module.Type` (documentation and one-hop navigation).
    public var handler: String?
    public var trigger: Trigger
    public var timeout: Duration
    public var memoryMB: Int
    public var scaling: Scaling
    public var environment: [String: String]
    /// A command that replaces the service executable (any program that speaks the Runtime API).
    public var command: [String]?
    public var line: Int
}

/// What invokes a function.
public enum Trigger: Sendable, Equatable {
    case http(method: String, path: RoutePattern)
    case queue(QueueTrigger)
    case schedule(CronSchedule)
    case websocket(route: String)

    /// A short human form, as `blytz routes` prints it.
    public var summary: String {
        switch self {
        case .http(let method, let path): "\(method) \(path)"
        case .queue(let queue): "queue \(queue.events.joined(separator: ","))"
        case .schedule(let cron): "schedule \(cron.expression)"
        case .websocket(let route): "websocket \(route)"
        }
    }
}

/// How a queue-triggered function receives events.
public struct QueueTrigger: Sendable, Equatable {
    public var events: [String]
    public var batchSize: Int
    public var batchWindow: Duration
    public var maxRetries: Int
    public var backoff: Backoff
    public var deadLetter: Bool
}

/// Exponential backoff between retries.
public struct Backoff: Sendable, Equatable {
    public var initial: Duration
    public var maximum: Duration
    public var multiplier: Double

    public init(initial: Duration, maximum: Duration, multiplier: Double) {
        self.initial = initial
        self.maximum = maximum
        self.multiplier = multiplier
    }
}

/// Worker pool limits of one function.
public struct Scaling: Sendable, Equatable {
    /// Workers kept warm even when idle.
    public var min: Int
    /// Workers at most; each holds one invocation at a time.
    public var max: Int
    /// How long a worker above `min` may sit idle before it is stopped.
    public var idle: Duration
    /// Invocations that may wait for a worker before new ones are answered 503.
    public var backlog: Int

    public init(min: Int, max: Int, idle: Duration, backlog: Int) {
        self.min = min
        self.max = max
        self.idle = idle
        self.backlog = backlog
    }
}

/// The monolith the API is moving off, one service at a time: requests under a prefix it still owns go to
/// it unchanged (path, headers, body and status), ahead of any service; a service is switched on by moving
/// its prefixes out of this list.
public struct LegacyUpstream: Sendable, Equatable {
    /// The monolith's base URL (`http://monolith:4000`); `BLYTZ_LEGACY_URL` overrides it where it runs.
    public var upstream: String
    /// Path prefixes as clients send them (`/api/jobs`); each matches itself and what lies below it.
    public var prefixes: [String]
    public var line: Int

    public init(upstream: String, prefixes: [String], line: Int = 0) {
        self.upstream = upstream
        self.prefixes = prefixes
        self.line = line
    }

    /// Whether the monolith still answers `path`: a prefix matches whole segments, as the proxy's rule does.
    public func owns(_ path: String) -> Bool {
        prefixes.contains { path == $0 || path.hasPrefix($0.hasSuffix("/") ? $0 : $0 + "/") }
    }
}
