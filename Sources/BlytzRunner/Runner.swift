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

/// `blytz local`: one process that serves every function of the manifest the way production does.
public struct Runner {
    /// How the runner is started.
    public struct Options: Sendable {
        public var manifestPath: String
        /// Logs and (later) databases and queues; `BLYTZ_DATA_DIR`, default `local/.data`.
        public var dataDirectory: String
        /// Where the service executables are; default: the folder of `blytz` itself.
        public var binDirectory: String
        /// Bind every listener to a free port instead of the manifest's ports (tests, parallel runs).
        public var ephemeralPorts = false
        public var gatewayPort = 3000
        public var watch = false
        public var maxBodyBytes = 6 * 1024 * 1024
        /// How long shutdown waits for in-flight invocations.
        public var drainTimeout: Duration = .seconds(10)

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
        let lookup = ExecutableLookup(binDirectory: options.binDirectory, manifestDirectory: (manifestPath as NSString).deletingLastPathComponent)
        let manifest = try Manifest.load(path: manifestPath, executables: lookup)
        let dataDirectory = URL(fileURLWithPath: options.dataDirectory).standardizedFileURL.path
        try FileManager.default.createDirectory(atPath: "\(dataDirectory)/logs", withIntermediateDirectories: true)
        signal(SIGPIPE, SIG_IGN)

        let group = MultiThreadedEventLoopGroup.singleton
        let spawner = ProcessSpawner(group: group)
        let ports = PortRegistry(services: manifest.services.map(\.name))
        let log = InvocationLog()
        let environment = ProcessInfo.processInfo.environment
        let inherited = WorkerLauncher.inherited(from: environment, services: manifest.services.map(\.name), dataDirectory: dataDirectory)
        let migrated = try await ServiceCommands(manifest: manifest, lookup: lookup, dataDirectory: dataDirectory, environment: environment).migrate()
        for outcome in migrated {
            logger.info("migrations checked", metadata: ["service": "\(outcome.service)", "result": "\(outcome.output)"])
        }
        // The outboxes of migrated services, and the queue their events go to.
        let queue = try await EventQueue.open(try EventQueue.location(environment: environment, dataDirectory: dataDirectory), logger: logger)
        var outboxes: [String: ServiceDatabase] = [:]
        for service in manifest.services where migrated.contains(where: { $0.service == service.name }) {
            let location = try DatabaseLocation.resolve(service: service.name, database: service.database, environment: environment, dataDirectory: dataDirectory)
            outboxes[service.name] = try ServiceDatabase.open(location, maxConnections: 2, logger: logger)
        }
        let relayWakeup = Wakeup()
        let launcher = WorkerLauncher(
            spawner: spawner, group: group, manifest: manifest, lookup: lookup, dataDirectory: dataDirectory, ports: ports, inherited: inherited
        )
        let pools = Dictionary(uniqueKeysWithValues: manifest.functions.map {
            ($0.name, FunctionPool(function: $0, launcher: launcher, logger: logger, afterPublishing: relayWakeup))
        })
        let events = EventBus(
            manifest: manifest, queue: queue, outboxes: outboxes, pools: pools, relayWakeup: relayWakeup, log: log, logger: logger, group: group
        )
        let core = RunnerCore(
            manifest: manifest, lookup: lookup, pools: pools, events: events, log: log, ports: ports, group: group, dataDirectory: dataDirectory,
            maxBodyBytes: options.maxBodyBytes, serviceKey: inherited["BLYTZ_SERVICE_KEY"] ?? ""
        )

        // Shutdown runs in reverse: listeners stop first, the pools (and their workers) last.
        var services: [any Service] = [
            LogService(core: core),
            PoolService(core: core, drainTimeout: options.drainTimeout),
            events,
            Scheduler(core: core, state: ScheduleState(queue: queue), logger: logger),
        ]
        if options.watch {
            services.append(SourceWatcher(core: core, spawner: spawner, lookup: lookup, dataDirectory: dataDirectory, inherited: inherited, logger: logger))
        }
        for service in manifest.services {
            services.append(listener(core: core, service: service.name, port: options.ephemeralPorts ? 0 : service.port, websocket: service.websocketPath != nil))
        }
        services.append(listener(core: core, service: nil, port: options.ephemeralPorts ? 0 : options.gatewayPort, websocket: true))

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

    private func listener(core: RunnerCore, service: String?, port: Int, websocket: Bool) -> any Service {
        let responder = RunnerResponder(core: core, service: service)
        var quiet = logger
        quiet.logLevel = .warning
        let onRunning: @Sendable (any Channel) async -> Void = { channel in
            core.ports.bound(service, port: channel.localAddress?.port ?? port)
        }
        let configuration = ApplicationConfiguration(address: .hostname("127.0.0.1", port: port), serverName: nil, reuseAddress: true)
        guard websocket else {
            return Application(responder: responder, server: .http1(), configuration: configuration, onServerRunning: onRunning, logger: quiet)
        }
        let server = HTTPServerBuilder { responder in RunnerChannel(responder: responder, hub: core.hub, listener: service) }
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
