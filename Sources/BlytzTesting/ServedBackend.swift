#if canImport(Glibc)
import Glibc
#endif
import Foundation
import NIOHTTP1
import Synchronization

/// Services self-hosted the way production runs them, on one machine: replicas of each service as
/// `blytz serve` processes, behind a real reverse proxy (HAProxy) configured with the routing of the
/// Traefik labels `blytz compose` writes for the manifest. Replicas of a service share its data directory
/// (as containers share the data volume); everything shares the event queue the environment names.
///
/// ```
/// let backend = try await ServedBackend.start(replicas: ["users": 2], environment: settings)
/// let reply = try await backend.request(.GET, "/api/auth/jwks")
/// await backend.kill("users", 0); try await backend.restart("users", 0)
/// ```
public final class ServedBackend: Sendable {
    /// The proxy's base URL (`…/api/<segment>/…` reaches the owning service).
    public let proxy: String
    public let directory: String
    public let manifest: String
    let environment: [String: String]
    let ports: [String: [Int]]
    let haproxy: Process
    /// Every replica started (also those killed or replaced), by service and index.
    private let replicas: Mutex<[String: [[LocalRunner]]]>

    private init(proxy: String, directory: String, manifest: String, environment: [String: String], ports: [String: [Int]], haproxy: Process, replicas: [String: [[LocalRunner]]]) {
        self.proxy = proxy
        self.directory = directory
        self.manifest = manifest
        self.environment = environment
        self.ports = ports
        self.haproxy = haproxy
        self.replicas = Mutex(replicas)
    }

    /// Writes the compose file for `manifest`, reads its routing back into an HAProxy configuration, and
    /// starts `replicas[service]` replicas of each service and the proxy.
    public static func start(manifest: String = "functions.yaml", replicas counts: [String: Int], environment: [String: String]) async throws -> ServedBackend {
        guard let python = ProcessInfo.processInfo.environment["BLYTZ_TEST_PYTHON"] else {
            throw TestSetupError(description: "BLYTZ_TEST_PYTHON is not set: run the tests with ./local/test")
        }
        let directory = NSTemporaryDirectory() + "blytz-served-" + UUID().uuidString
        let manifestPath = URL(fileURLWithPath: manifest).standardizedFileURL.path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: manifestPath, toPath: directory + "/functions.yaml")
        try runSucceeding([LocalRunner.buildDirectory + "/blytz", "compose", "--manifest", "functions.yaml", "--directory", "deploy"], in: directory)
        try "POSTGRES_PASSWORD=unused\n".write(toFile: directory + "/deploy/.env", atomically: true, encoding: .utf8)

        let proxyPort = try PythonServer.freePort()
        var ports: [String: [Int]] = [:]
        for (service, count) in counts { ports[service] = try (0..<count).map { _ in try PythonServer.freePort() } }
        let backends = ports.sorted { $0.key < $1.key }.map { "\($0.key)=" + $0.value.map { "127.0.0.1:\($0)" }.joined(separator: ",") }
        let configuration = try runSucceeding(
            [python, "local/tools/compose_routes.py", "haproxy", directory + "/deploy/compose.yaml", "\(proxyPort)"] + backends, in: FileManager.default.currentDirectoryPath
        )
        try configuration.write(toFile: directory + "/haproxy.cfg", atomically: true, encoding: .utf8)

        let proxy = "http://127.0.0.1:\(proxyPort)"
        let settings = environment.merging(["BLYTZ_GATEWAY_URL": proxy]) { $1 }
        var started: [String: [[LocalRunner]]] = [:]
        for (service, servicePorts) in ports.sorted(by: { $0.key < $1.key }) {
            for port in servicePorts {
                let runner = try await LocalRunner.serve(service, manifest: manifestPath, port: port, environment: settings, dataDirectory: "\(directory)/\(service)")
                started[service, default: []].append([runner])
            }
        }
        let haproxy = Process()
        haproxy.executableURL = URL(fileURLWithPath: "/usr/sbin/haproxy")
        haproxy.arguments = ["-db", "-f", directory + "/haproxy.cfg"]
        let log = FileHandle(forWritingAtPath: "/dev/null")
        haproxy.standardOutput = log
        haproxy.standardError = log
        try haproxy.run()
        let backend = ServedBackend(proxy: proxy, directory: directory, manifest: manifestPath, environment: settings, ports: ports, haproxy: haproxy, replicas: started)
        guard try await eventually(within: .seconds(10), { (try? await PythonServer.accepts(proxyPort)) == true }) else {
            await backend.stop()
            throw TestSetupError(description: "HAProxy did not start on \(proxyPort)")
        }
        return backend
    }

    /// The current process of replica `index` of `service`.
    public func replica(_ service: String, _ index: Int) -> LocalRunner {
        replicas.withLock { $0[service]![index].last! }
    }

    /// Every process each replica of `service` has had, oldest first.
    public func history(_ service: String) -> [LocalRunner] {
        replicas.withLock { ($0[service] ?? []).flatMap { $0 } }
    }

    /// SIGKILLs replica `index` of `service`.
    public func kill(_ service: String, _ index: Int) async {
        await replica(service, index).stop(signal: SIGKILL)
    }

    /// Starts replica `index` of `service` again, on its port.
    public func restart(_ service: String, _ index: Int) async throws {
        let port = ports[service]![index]
        let runner = try await LocalRunner.serve(service, manifest: manifest, port: port, environment: environment, dataDirectory: "\(directory)/\(service)")
        replicas.withLock { $0[service]![index].append(runner) }
    }

    /// Stops the proxy and every replica (SIGTERM).
    public func stop() async {
        haproxy.terminate(within: 10)
        for runner in replicas.withLock({ $0.values.flatMap { $0.compactMap(\.last) } }) {
            await runner.stop()
        }
    }

    /// A request through the proxy.
    public func request(_ method: HTTPMethod, _ path: String, headers: [String: String] = [:], body: Data? = nil, timeout: Duration = .seconds(15)) async throws -> LocalRunner.Reply {
        try await replica(ports.keys.sorted()[0], 0).request(method, path, base: proxy, headers: headers, body: body, timeout: timeout)
    }
}
