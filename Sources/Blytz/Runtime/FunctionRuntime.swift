#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import Tracing

/// The worker side of the AWS Lambda Runtime API: a service executable hands its handlers here and the
/// function named by `_HANDLER` is served at `AWS_LAMBDA_RUNTIME_API` until the runtime goes away.
///
/// ```
/// // Sources/UsersWorker/main.swift
/// await FunctionRuntime.run(Users.functions)
/// ```
public enum FunctionRuntime {
    static let base = "/2018-06-01/runtime"
    /// Sent with a response whose invocation published events: the runner relays its outbox at once.
    public static let publishedHeader = "Blytz-Published"

    /// Builds a worker's dependencies once, before its first invocation; a failure is reported as an init error.
    public typealias DependencySetup = @Sendable (Configuration, Logger) async throws -> Dependencies

    /// The entry point of a service executable: serves the function named by `_HANDLER` on one thread
    /// (the event loop also runs Swift Concurrency, so an invocation never changes threads), and exits
    /// when the Runtime API goes away. Started with arguments (`migrate`, `seed`, …), it runs `command`
    /// with them instead and exits with its status (an executable without a database has nothing to migrate).
    public static func main(
        _ functions: [String: any FunctionHandler], dependencies: @escaping DependencySetup = { _, _ in Dependencies() },
        command: @escaping @Sendable ([String]) async -> Int32 = defaultCommand
    ) -> Never {
        NIOSingletons.groupLoopCountSuggestion = 1
        NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()
        let arguments = Array(CommandLine.arguments.dropFirst())
        Task.detached {
            if !arguments.isEmpty { exit(await command(arguments)) }
            await run(functions, group: MultiThreadedEventLoopGroup.singleton, dependencies: dependencies)
            exit(0)
        }
        while true { pause() }
    }

    /// Writes a line to standard error (what a command says when it fails).
    public static func printError(_ message: String) {
        let line = Array((message + "\n").utf8)
        _ = line.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
    }

    /// The commands of an executable without a database: `migrate` and `seed` have nothing to do.
    public static func defaultCommand(_ arguments: [String]) async -> Int32 {
        switch arguments[0] {
        case "migrate": print(#"{"applied":[]}"#)
        case "seed": print(#"{"seeded":{}}"#)
        default:
            printError("unknown command '\(arguments[0])'")
            return 64
        }
        return 0
    }

    /// Serves one function of `functions` and returns when the Runtime API closes; exits 1 on a failed start.
    public static func run(
        _ functions: [String: any FunctionHandler], environment: [String: String] = ProcessInfo.processInfo.environment,
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton, dependencies: DependencySetup = { _, _ in Dependencies() }
    ) async {
        let level = environment["LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .info
        let name = environment["_HANDLER"] ?? ""
        var logger = Logger(label: name.isEmpty ? "worker" : name) { JSONLogHandler(label: $0, level: level) }
        logger[metadataKey: "function"] = "\(name)"
        guard let endpoint = environment["AWS_LAMBDA_RUNTIME_API"], let (host, port) = split(endpoint) else {
            logger.critical("AWS_LAMBDA_RUNTIME_API is not set to host:port")
            exit(1)
        }
        do {
            let connection = try await HTTPClientConnection.connect(host: host, port: port, group: group)
            guard let handler = functions[name] else {
                let known = functions.keys.sorted().joined(separator: ", ")
                _ = try? await connection.request(
                    .POST, "\(base)/init/error", headers: ["Lambda-Runtime-Function-Error-Type": "Runtime.NoSuchHandler"],
                    body: errorBody("no handler named '\(name)' in this executable (it has: \(known))", type: "Runtime.NoSuchHandler")
                )
                logger.critical("no such handler", metadata: ["function": "\(name)"])
                exit(1)
            }
            let configuration = Configuration(environment)
            let built: Dependencies
            do {
                built = try await dependencies(configuration, logger)
            } catch {
                _ = try? await connection.request(
                    .POST, "\(base)/init/error", headers: ["Lambda-Runtime-Function-Error-Type": "Runtime.InitError"],
                    body: errorBody("cannot set up dependencies: \(error)", type: "Runtime.InitError")
                )
                logger.critical("cannot set up dependencies", metadata: ["error": "\(error)"])
                exit(1)
            }
            let shared = Shared(
                functionName: name, logger: logger, configuration: configuration, dependencies: built,
                connections: built.connections ?? RuntimeConnectionManager(endpoint: environment["BLYTZ_WEBSOCKET_ENDPOINT"], group: group),
                followsCallersSampling: Traces.followsCallersSampling(environment)
            )
            do {
                try await loop(connection, handler: handler, shared: shared)
            } catch {
                // The Runtime API closed (the runner stopped this worker): release pools and clients cleanly.
                await built.shutdown()
                throw error
            }
        } catch {
            logger.info("runtime API closed; stopping", metadata: ["error": "\(error)"])
        }
    }

    struct Shared {
        var functionName: String
        var logger: Logger
        var configuration: Configuration
        var dependencies: Dependencies
        var connections: any ConnectionManager
        /// Whether an invocation whose `traceparent` says "not sampled" runs untraced (a parent-based sampler).
        var followsCallersSampling: Bool
    }

    /// Serves invocations until the Runtime API closes. Each answer goes out together with the next
    /// `GET …/invocation/next` (HTTP/1.1 pipelining), so the worker wakes once per invocation.
    static func loop(_ connection: HTTPClientConnection, handler: any FunctionHandler, shared: Shared) async throws {
        let nextPath = "\(base)/invocation/next"
        var next = try await connection.request(.GET, nextPath)
        while true {
            guard next.status == 200, let requestId = next.headers.first(name: "Lambda-Runtime-Aws-Request-Id") else {
                throw HTTPClientConnection.Closed()
            }
            let context = FunctionContext(
                requestId: requestId, functionName: shared.functionName,
                deadlineEpochMilliseconds: next.headers.first(name: "Lambda-Runtime-Deadline-Ms").flatMap { Int64($0) } ?? Int64.max,
                traceparent: next.headers.first(name: "traceparent"), logger: shared.logger,
                configuration: shared.configuration, dependencies: shared.dependencies, connections: shared.connections
            )
            let event = Data(buffer: next.body)
            let answer: Answer
            // Untraced when tracing is off, or when the caller decided not to keep this trace: nothing under it
            // would be kept either, and its calls and events still carry the caller's `traceparent`.
            if let tracer = shared.dependencies.tracer, !shared.followsCallersSampling || Traces.isSampled(context.traceparent) {
                // Traced: the invocation is a span under the runner's (the traceparent it was handed), and what
                // the handler does is under it. What it calls and publishes names its own span (the task's
                // context carries it), so the invocation's own `traceparent` is not worked out here.
                let parent = Traces.context(traceparent: context.traceparent, tracer: tracer) ?? .topLevel
                answer = await Traces.span(tracer, shared.functionName, kind: .server, parent: parent, attributes: ["faas.invocation_id": requestId]) { span in
                    await invoke(handler, event, context: context, span: span, shared: shared)
                }
            } else {
                answer = await invoke(handler, event, context: context, span: nil, shared: shared)
            }
            (_, next) = try await connection.pipelined(.POST, answer.path, headers: answer.headers, body: answer.body, then: .GET, nextPath)
        }
    }

    /// What a worker posts for one invocation: `/response` with the output, or `/error` with what was thrown.
    struct Answer {
        var path: String
        var headers: HTTPHeaders
        var body: ByteBuffer
    }

    /// Runs one invocation and works out its answer.
    static func invoke(_ handler: any FunctionHandler, _ event: Data, context: FunctionContext, span: (any Span)?, shared: Shared) async -> Answer {
        let requestId = context.requestId
        do {
            let output = try await handler.invoke(event, context: context)
            if context.effects.didPublish { await shared.dependencies.published() }
            let headers: HTTPHeaders = context.effects.didPublish ? [Self.publishedHeader: "1"] : [:]
            return Answer(path: "\(base)/invocation/\(requestId)/response", headers: headers, body: ByteBuffer(data: output))
        } catch {
            let type = "\(Swift.type(of: error))"
            span?.recordError(error)
            span?.setStatus(.init(code: .error))
            context.logger.error("invocation failed", metadata: ["error": "\(String(reflecting: error))"])
            return Answer(
                path: "\(base)/invocation/\(requestId)/error", headers: ["Lambda-Runtime-Function-Error-Type": "Unhandled"],
                body: errorBody("\(error)", type: type)
            )
        }
    }

    static func errorBody(_ message: String, type: String) -> ByteBuffer {
        let body = ["errorMessage": message, "errorType": type, "stackTrace": ""] as [String: String]
        return ByteBuffer(data: (try? JSONEncoder().encode(body)) ?? Data())
    }

    static func split(_ endpoint: String) -> (String, Int)? {
        guard let colon = endpoint.lastIndex(of: ":"), let port = Int(endpoint[endpoint.index(after: colon)...]) else { return nil }
        return (String(endpoint[..<colon]), port)
    }
}

extension Data {
    init(buffer: ByteBuffer) {
        self = buffer.withUnsafeReadableBytes { Data($0) }
    }
}

extension ByteBuffer {
    init(data: Data) {
        self.init(bytes: data)
    }
}
