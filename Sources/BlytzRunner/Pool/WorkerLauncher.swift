import BlytzManifest
import BlytzObjects
import NIOCore

/// Starts one worker process of a function, with its own Runtime API endpoint and environment.
struct WorkerLauncher: Sendable {
    let spawner: ProcessSpawner
    let group: any EventLoopGroup
    let manifest: Manifest
    let lookup: ExecutableLookup
    let dataDirectory: String
    let ports: PortRegistry
    /// Variables every worker inherits from the runner (PATH, HOME, LOG_LEVEL, …).
    let inherited: [String: String]
    /// Whether workers send their spans to the runner (`SpanIngest`) rather than to `OTEL_*`'s collector.
    var collectsSpans = false

    struct Launched: Sendable {
        var process: ProcessSpawner.Spawned
        var server: RuntimeAPIServer
    }

    struct Unlaunchable: Error, CustomStringConvertible {
        var description: String
    }

    /// What every process of `service` is started with: the inherited variables, the service's own
    /// settings (`USERS_BCRYPT_COST=4` reaches the users service as `BCRYPT_COST=4`), and which service,
    /// database and data directory it belongs to.
    static func environment(of service: ServiceSpec, inherited: [String: String], dataDirectory: String) -> [String: String] {
        var environment = inherited
        let prefix = service.name.uppercased() + "_"
        for (key, value) in inherited where key.hasPrefix(prefix) && key.count > prefix.count {
            environment[String(key.dropFirst(prefix.count))] = value
        }
        environment["BLYTZ_SERVICE"] = service.name
        environment["BLYTZ_DATABASE"] = service.database
        environment["BLYTZ_DATA_DIR"] = dataDirectory
        // Its spans are the service's (the runner's own name, if one was given, is not).
        environment["OTEL_SERVICE_NAME"] = service.name
        return environment
    }

    /// The runner's variables workers inherit: the basics, log level, every `BLYTZ_*` setting (service
    /// URLs configured there win over the runner's own ports), every `OTEL_*` one (trace export) and every `<SERVICE>_*` setting; and the
    /// key service secrets derive from (`BLYTZ_SERVICE_KEY`, kept in the data directory when not set).
    static func inherited(from environment: [String: String], services: [String], dataDirectory: String) -> [String: String] {
        let names: Set = ["PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "USER", "LOG_LEVEL"]
        let prefixes = ["BLYTZ_", "OTEL_"] + services.map { $0.uppercased() + "_" }
        var inherited = environment.filter { variable in
            names.contains(variable.key) || variable.key.hasSuffix("_DATABASE_URL") || prefixes.contains { variable.key.hasPrefix($0) }
        }
        if inherited["BLYTZ_SERVICE_KEY"] == nil { inherited["BLYTZ_SERVICE_KEY"] = LocalServiceKey.load(dataDirectory: dataDirectory) }
        return inherited
    }

    /// The environment a command of `service`'s executable runs with (`blytz migrate`, `blytz <service> …`).
    static func commandEnvironment(of service: ServiceSpec, manifest: Manifest, environment: [String: String], dataDirectory: String) -> [String: String] {
        Self.environment(of: service, inherited: inherited(from: environment, services: manifest.services.map(\.name), dataDirectory: dataDirectory), dataDirectory: dataDirectory)
    }

    func launch(function: FunctionSpec, worker: Int, pool: FunctionPool) async throws -> Launched {
        let urls = await ports.ready()
        guard let service = manifest.service(named: function.service) else { throw Unlaunchable(description: "unknown service") }
        let command: [String]
        if let custom = function.command {
            guard let resolved = lookup.command(custom) else { throw Unlaunchable(description: "command '\(custom[0])' not found") }
            command = resolved
        } else {
            guard let path = lookup.executable(service.executable) else {
                throw Unlaunchable(description: "executable '\(service.executable)' not found in \(lookup.binDirectory)")
            }
            command = [path]
        }
        let server = try await RuntimeAPIServer.start(group: group, pool: pool, worker: worker)
        var environment = Self.environment(of: service, inherited: inherited, dataDirectory: dataDirectory)
        if collectsSpans { environment = SpanIngest.workerEnvironment(gateway: urls.gateway, inherited: environment) }
        environment["AWS_LAMBDA_RUNTIME_API"] = "127.0.0.1:\(server.port)"
        environment["_HANDLER"] = function.name
        environment["AWS_LAMBDA_FUNCTION_NAME"] = function.name
        environment["AWS_LAMBDA_FUNCTION_VERSION"] = "$LATEST"
        environment["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] = "\(function.memoryMB)"
        environment["AWS_LAMBDA_FUNCTION_TIMEOUT"] = "\(function.timeout.milliseconds / 1000)"
        if environment["AWS_REGION"] == nil { environment["AWS_REGION"] = "local" }
        environment["BLYTZ_WEBSOCKET_ENDPOINT"] = urls.gateway
        if environment["BLYTZ_OBJECTS_ENDPOINT"] == nil { environment["BLYTZ_OBJECTS_ENDPOINT"] = urls.gateway + LocalObjects.pathPrefix }
        // A service this runner does not host is reached through the gateway (`BLYTZ_GATEWAY_URL`, the
        // reverse proxy in front of served services) unless its own URL is configured.
        for other in manifest.services where environment["BLYTZ_SERVICE_URL_\(other.name.uppercased())"] == nil {
            environment["BLYTZ_SERVICE_URL_\(other.name.uppercased())"] = urls.services[other.name] ?? inherited["BLYTZ_GATEWAY_URL"].map { $0 + "/api" }
        }
        environment.merge(function.environment) { $1 }
        do {
            let process = try await spawner.spawn(
                command, environment: environment, directory: lookup.manifestDirectory,
                logPath: "\(dataDirectory)/logs/\(function.name).log"
            )
            return Launched(process: process, server: server)
        } catch {
            await server.close()
            throw error
        }
    }
}
