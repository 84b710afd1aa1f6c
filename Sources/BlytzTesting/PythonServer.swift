import Foundation
import NIOCore
import NIOPosix

/// A third-party test server from PyPI (localstripe, moto's server), started for as long as a test runs:
/// `python -m <module> <arguments>` with `{port}` replaced by a free loopback port, from the interpreter
/// `./local/test` installs them into (`BLYTZ_TEST_PYTHON`). Ready once it accepts connections; stopped
/// (SIGTERM, then SIGKILL) when `body` ends.
///
/// ```
/// try await PythonServer.with(module: "localstripe", arguments: ["--port", "{port}", "--from-scratch"]) { port in … }
/// ```
public enum PythonServer {
    public static func with<T>(module: String, arguments: [String], environment: [String: String] = [:], _ body: (Int) async throws -> T) async throws -> T {
        guard let python = ProcessInfo.processInfo.environment["BLYTZ_TEST_PYTHON"] else {
            throw TestSetupError(description: "BLYTZ_TEST_PYTHON is not set: run the tests with ./local/test, which installs the Python test servers")
        }
        let port = try freePort()
        let directory = NSTemporaryDirectory() + "blytz-\(module)-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = ["-m", module] + arguments.map { $0.replacingOccurrences(of: "{port}", with: String(port)) }
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let log = FileHandle(forWritingAtPath: "/dev/null")
        process.standardOutput = log
        process.standardError = log
        try process.run()
        defer {
            process.terminate(within: 3)
            try? FileManager.default.removeItem(atPath: directory)
        }
        let ready = try await eventually(within: .seconds(30)) {
            guard process.exitStatus == nil else { return false }
            return (try? await accepts(port)) == true
        }
        guard ready else { throw TestSetupError(description: "\(module) did not start on port \(port)") }
        return try await body(port)
    }

    /// A loopback port nobody listens on now.
    public static func freePort() throws -> Int {
        let channel = try ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton).bind(host: "127.0.0.1", port: 0).wait()
        defer { try? channel.close().wait() }
        return channel.localAddress?.port ?? 0
    }

    static func accepts(_ port: Int) async throws -> Bool {
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton).connect(host: "127.0.0.1", port: port).get()
        try await channel.close()
        return true
    }
}
