#if canImport(Glibc)
import Glibc
#endif
import Blytz
import BlytzData
import BlytzManifest
import Foundation
import Hummingbird
import HummingbirdCore
import HummingbirdWebSocket
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle
import UnixSignals

/// Hosts services: `blytz serve <service>` runs one service as a process of its own (its worker pools,
/// outbox relay, queue consumers, schedules and WebSocket connections, on its port), and `blytz local`
/// composes every service and a gateway in one process. Both run the same parts.
public struct Runner {
    /// What one runner hosts.
    public enum Scope: Sendable, Equatable {
        /// Every service and the gateway, on loopback (`blytz local`).
        case everything
        /// One service on its port, reachable from other machines; its runner's own endpoints listen on
        /// loopback only (`blytz serve <service>`).
        case service(String)
    }

    /// How the runner is started.
    public struct Options: Sendable {
        public var scope: Scope = .everything
        /// The address the service ports listen on (the gateway and the runner's own endpoints always
        /// listen on loopback).
        public var host = "127.0.0.1"
        /// The served service's port, instead of the manifest's (`blytz serve --port`).
        public var servicePort: Int?
        /// The loopback port of a served service's runner endpoints (`/_local/*`, `/@connections/*`);
        /// 0 picks a free one.
        public var adminPort = 0
        public var manifestPath: String
        /// Logs and (later) databases and queues; `BLYTZ_DATA_DIR`, default `local/.data`.
        public var dataDirectory: String
        /// Where the service executables are; default: the folder of `blytz` itself.
        public var binDirectory: String
        /// Bind every listener to a free port instead of the manifest's ports (tests, parallel runs).
        public var ephemeralPorts = false
        public var gatewayPort = 3000
        public var watch = false
        /// Flags of `swift build` that `watch` adds to a service's default build command: the ones the
        /// executables in `binDirectory` were built with (`./local/run` passes its own).
        public var swiftBuildFlags: [String] = []
        public var maxBodyBytes = 6 * 1024 * 1024
        /// How long shutdown waits for in-flight invocations.
        public var drainTimeout: Duration = .seconds(10)
        /// Keep recent invocations and every process's spans for the dashboard (`/_local/` on the gateway);
        /// `blytz local` only.
        public var dashboard = true

        public init(manifestPath: String, dataDirectory: String, binDirectory: String) {
            self.manifestPath = manifestPath
            self.dataDirectory = dataDirectory
            self.binDirectory = binDirectory
        }
    }

    public let options: Options
    let logger: Logger

    public init(options: Options, logger: Logger) {
        self.options = options
        self.logger = logger
    }

    /// Validates the manifest, serves until SIGINT or SIGTERM, then drains and stops every worker.
    public func run() async throws {
        let manifestPath = URL(fileURLWithPath: options.manifestPath).standardizedFileURL.path
        var lookup = ExecutableLookup(binDirectory: options.binDirectory, manifestDirectory: (manifestPath as NSString).deletingLastPathComponent)
        if case .service(let name) = options.scope { lookup.required = [name] }
        let manifest = try Manifest.load(path: manifestPath, executables: lookup)
        let dataDirectory = URL(fileURLWithPath: options.dataDirectory).standardizedFileURL.path
        try FileManager.default.createDirectory(atPath: "\(dataDirectory)/logs", withIntermediateDirectories: true)
        signal(SIGPIPE, SIG_IGN)

        let served: [ServiceSpec]
        switch options.scope {
        case .everything:
            served = manifest.services
        case .service(let name):
            guard let service = manifest.service(named: name) else {
                throw ManifestError(problems: [ManifestProblem(file: manifestPath, line: 1, reason: "no service named '\(name)'; the manifest has \(manifest.services.map(\.name).joined(separator: ", "))")])
            }
            served = [service]
        }
        let servedNames = served.map(\.name)

        let group = MultiThreadedEventLoopGroup.singleton
        let spawner = ProcessSpawner(group: group)
        let ports = PortRegistry(services: servedNames)
        let metrics = RunnerMetrics(manifest: manifest)
        let invocations = open("\(dataDirectory)/logs/invocations.log", O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        let dashboard = options.dashboard && options.scope == .everything
        let activity = dashboard ? ActivityStore() : nil
        let log = InvocationLog(
            copy: invocations >= 0 ? invocations : nil, services: Dictionary(uniqueKeysWithValues: manifest.functions.map { ($0.name, $0.service) }), metrics: metrics,
            activity: activity
        )
        let environment = ProcessInfo.processInfo.environment
        // With the dashboard, workers send their spans to the runner, which keeps them and sends them on.
        let ingest = activity.map { SpanIngest(store: $0, upstream: SpanIngest.upstream(environment), logger: logger) }
        var inherited = WorkerLauncher.inherited(from: environment, services: manifest.services.map(\.name), dataDirectory: dataDirectory)
        let migrated = try await ServiceCommands(manifest: manifest, lookup: lookup, dataDirectory: dataDirectory, environment: environment).migrate(servedNames)
        for outcome in migrated {
            logger.info("migrations checked", metadata: ["service": "\(outcome.service)", "result": "\(outcome.output)"])
        }
        // The outboxes of migrated services, and the queue their events go to: the event queue (whose
        // database also keeps the schedules' slots), or AWS's SNS and SQS (`BLYTZ_QUEUE_URL=aws://…`).
        let aws = AWSEventPath.settings(environment["BLYTZ_QUEUE_URL"], environment: environment)
        let queueLocation = aws == nil ? try EventQueue.location(environment: environment, dataDirectory: dataDirectory) : .sqlite(path: "\(dataDirectory)/events.sqlite")
        let queue = try await EventQueue.open(queueLocation, logger: logger)
        var provisioned: AWSEventPath.Provisioned?
        if let aws {
            let made = try await AWSEventPath.provision(manifest: manifest, settings: aws, served: servedNames)
            inherited.merge(AWSEventPath.workerEnvironment(aws, topic: made.topic)) { $1 }
            provisioned = made
        }
        var outboxes: [String: ServiceDatabase] = [:]
        for service in served where migrated.contains(where: { $0.service == service.name }) {
            let location = try DatabaseLocation.resolve(service: service.name, database: service.database, environment: environment, dataDirectory: dataDirectory)
            outboxes[service.name] = try ServiceDatabase.open(location, maxConnections: 2, logger: logger)
        }
        // Spans over OTLP/HTTP when OTEL_* asks for them: a served service's process is that service.
        let export = try TraceExport.configured(serviceName: servedNames.count == 1 ? servedNames[0] : "blytz-gateway", environment: environment, logger: logger)
        let relayWakeup = Wakeup()
        let launcher = WorkerLauncher(
            spawner: spawner, group: group, manifest: manifest, lookup: lookup, dataDirectory: dataDirectory, ports: ports, inherited: inherited,
            collectsSpans: ingest != nil
        )
        let pools = Dictionary(uniqueKeysWithValues: manifest.functions.filter { servedNames.contains($0.service) }.map {
            ($0.name, FunctionPool(function: $0, launcher: launcher, logger: logger, afterPublishing: relayWakeup, metrics: metrics))
        })
        let events: any EventPath =
            if let aws, let provisioned {
                AWSEventPath(manifest: manifest, settings: aws, provisioned: provisioned, pools: pools, outboxes: outboxes, log: log, logger: logger, tracer: export?.tracer)
            } else {
                EventBus(
                    manifest: manifest, queue: queue, outboxes: outboxes, pools: pools, relayWakeup: relayWakeup, log: log, logger: logger, group: group, tracer: export?.tracer
                )
            }
        // Replicas sharing a PostgreSQL queue share their WebSocket connections' whereabouts through it.
        let connections = queue.database.engine == .postgres
            ? ConnectionRegistry(database: queue.database, services: servedNames, logger: logger) : nil
        let core = RunnerCore(
            manifest: manifest, served: servedNames, lookup: lookup, pools: pools, events: events, connections: connections, log: log, ports: ports,
            group: group, dataDirectory: dataDirectory, maxBodyBytes: options.maxBodyBytes, serviceKey: inherited["BLYTZ_SERVICE_KEY"] ?? "",
            legacy: options.scope == .everything ? manifest.legacy.map { LegacyProxy(legacy: $0, environment: environment, group: group) } : nil,
            tracer: export?.tracer, ingest: ingest
        )

        // Shutdown runs in reverse: listeners stop first, the pools (and their workers) after, the span export last.
        var services: [any Service] = (export.map { [$0.service] } ?? []) + [
            LogService(core: core),
            PoolService(core: core, drainTimeout: options.drainTimeout),
            events,
            Scheduler(core: core, state: ScheduleState(queue: queue), logger: logger),
        ]
        if let legacy = core.legacy {
            services.append(legacy)
        }
        if let connections {
            services.append(ConnectionService(registry: connections, hub: core.hub))
        }
        if options.watch {
            services.append(SourceWatcher(core: core, spawner: spawner, lookup: lookup, dataDirectory: dataDirectory, inherited: inherited, swiftBuildFlags: options.swiftBuildFlags, logger: logger))
        }
        switch options.scope {
        case .everything:
            for service in served {
                services.append(listener(core: core, role: .service(service.name), host: options.host, port: options.ephemeralPorts ? 0 : service.port, websocket: service.websocketPath != nil))
            }
            services.append(listener(core: core, role: .gateway, host: "127.0.0.1", port: options.ephemeralPorts ? 0 : options.gatewayPort, websocket: true))
        case .service:
            let service = served[0]
            let port = options.servicePort ?? (options.ephemeralPorts ? 0 : service.port)
            services.append(listener(core: core, role: .service(service.name), host: options.host, port: port, websocket: service.websocketPath != nil))
            services.append(listener(core: core, role: .runner, host: "127.0.0.1", port: options.adminPort, websocket: false))
        }

        var configuration = ServiceGroupConfiguration(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        // SIGTERM always ends the runner: a drain that overruns is escalated to cancellation, and a
        // cancellation that overruns ends the process.
        configuration.maximumGracefulShutdownDuration = options.drainTimeout + .seconds(5)
        configuration.maximumCancellationDuration = .seconds(10)
        let serviceGroup = ServiceGroup(configuration: configuration)
        do {
            try await serviceGroup.run()
        } catch {
            await spawner.shutdown()
            throw error
        }
        await spawner.shutdown()
    }

    private func listener(core: RunnerCore, role: ListenerRole, host: String, port: Int, websocket: Bool) -> any Service {
        let responder = RunnerResponder(core: core, role: role)
        var quiet = logger
        quiet.logLevel = .warning
        let onRunning: @Sendable (any Channel) async -> Void = { channel in
            core.ports.bound(role.service, port: channel.localAddress?.port ?? port)
        }
        let configuration = ApplicationConfiguration(address: .hostname(host, port: port), serverName: nil, reuseAddress: true)
        guard websocket else {
            return Application(responder: responder, server: .http1(), configuration: configuration, onServerRunning: onRunning, logger: quiet)
        }
        let server = HTTPServerBuilder { responder in RunnerChannel(responder: responder, hub: core.hub, listener: role.service) }
        return Application(responder: responder, server: server, configuration: configuration, onServerRunning: onRunning, logger: quiet)
    }
}

/// Runs every pool; on shutdown (after the listeners have drained) stops their workers.
struct PoolService: Service {
    let core: RunnerCore
    let drainTimeout: Duration

    func run() async throws {
        await withDiscardingTaskGroup { group in
            for pool in core.pools.values {
                group.addTask { await pool.run() }
            }
            try? await gracefulShutdown()
            core.beginDraining()
            await withDiscardingTaskGroup { stopping in
                for pool in core.pools.values {
                    stopping.addTask { await pool.shutdown(grace: drainTimeout) }
                }
            }
            group.cancelAll()
        }
    }
}

/// Announces readiness (one JSON line with every URL) and flushes the invocation log.
struct LogService: Service {
    let core: RunnerCore

    func run() async throws {
        let urls = await core.ports.ready()
        if let line = try? JSON.encoder().encode(ReadyLine(gateway: urls.gateway, services: urls.services)) {
            var bytes = [UInt8](line)
            bytes.append(UInt8(ascii: "\n"))
            core.log.flush()
            _ = bytes.withUnsafeBytes { write(1, $0.baseAddress, $0.count) }
        }
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            try? await Task.sleep(for: .milliseconds(100))
            core.log.flush()
        }
        core.log.flush()
    }
}

/// The line `blytz local` prints once every listener is up: `{"event":"ready","gateway":…,"services":{…}}`.
public struct ReadyLine: Codable, Sendable {
    public var event = "ready"
    public var gateway: String
    public var services: [String: String]
}
