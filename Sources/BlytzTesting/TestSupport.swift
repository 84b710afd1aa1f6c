#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// A test could not set up what it needs (a server, a database, an account).
public struct TestSetupError: Error, CustomStringConvertible {
    public var description: String

    public init(description: String) {
        self.description = description
    }
}

/// The runner's fixtures manifest (crash, hang, slow, queue, schedule, WebSocket handlers).
public let fixturesManifest = "Tests/Fixtures/fixtures.yaml"

/// Starts a runner on `manifest`, runs `body`, and always stops it.
public func withRunner<T>(
    manifest: String = fixturesManifest, arguments: [String] = [], environment: [String: String] = [:], dataDirectory: String? = nil,
    _ body: (LocalRunner) async throws -> T
) async throws -> T {
    let runner = try await LocalRunner.start(manifest: manifest, arguments: arguments, environment: environment, dataDirectory: dataDirectory)
    return try await using(runner, cleanup: { await $0.stop() }, body)
}

/// Runs `body` with `resource`, then `cleanup`, whether `body` returns or throws.
public func using<Resource, T>(_ resource: Resource, cleanup: (Resource) async -> Void, _ body: (Resource) async throws -> T) async throws -> T {
    do {
        let value = try await body(resource)
        await cleanup(resource)
        return value
    } catch {
        await cleanup(resource)
        throw error
    }
}

/// Whether a process with this pid exists (and is not a zombie).
public func isAlive(_ pid: Int32) -> Bool {
    guard kill(pid, 0) == 0 else { return false }
    let status = (try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)) ?? ""
    return !status.contains(") Z ")
}

/// Waits (bounded) until `condition` holds, checking every few milliseconds; for state another process changes.
public func eventually(within limit: Duration = .seconds(5), _ condition: () async throws -> Bool) async rethrows -> Bool {
    let deadline = ContinuousClock.now + limit
    while ContinuousClock.now < deadline {
        if try await condition() { return true }
        try? await Task.sleep(for: .milliseconds(20))
    }
    return try await condition()
}

/// Runs the built `blytz arguments…` to completion; returns its status and its output (stdout and stderr).
public func blytz(_ arguments: [String], environment: [String: String] = [:]) throws -> (status: Int32, output: String) {
    try runProcess(LocalRunner.buildDirectory + "/blytz", arguments, environment: environment)
}

/// Runs `executable arguments…` to completion with `environment` added (in `directory`, by default the
/// current one); returns its status and its output (stdout and stderr).
public func runProcess(_ executable: String, _ arguments: [String], environment: [String: String] = [:], directory: String? = nil) throws -> (status: Int32, output: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
    if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
    // A file, not a pipe: a pipe's end inherited by a process another test starts at the same moment (a
    // database server that daemonises) would keep a read waiting for its end long after this one exited.
    let path = NSTemporaryDirectory() + "blytz-run-\(UUID().uuidString).out"
    FileManager.default.createFile(atPath: path, contents: nil)
    defer { try? FileManager.default.removeItem(atPath: path) }
    guard let file = FileHandle(forWritingAtPath: path) else { throw TestSetupError(description: "cannot write \(path)") }
    process.standardOutput = file
    process.standardError = file
    try process.run()
    let status = process.waitForExit()
    try? file.close()
    let output = (try? Data(contentsOf: URL(fileURLWithPath: path))) ?? Data()
    return (status, String(decoding: output, as: UTF8.self))
}

/// The pids of the worker processes serving `function` for the runner using `dataDirectory`.
public func workerPIDs(function: String, dataDirectory: String) -> [Int32] {
    let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
    return entries.compactMap(Int32.init).filter { pid in
        guard let environment = FileManager.default.contents(atPath: "/proc/\(pid)/environ") else { return false }
        let variables = environment.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
        return variables.contains("_HANDLER=\(function)") && variables.contains("BLYTZ_DATA_DIR=\(dataDirectory)")
    }
}

/// Runs `command` in `directory` to completion; returns its output, or throws it when it fails.
@discardableResult
public func runSucceeding(_ command: [String], in directory: String) throws -> String {
    let (status, output) = try runProcess(command[0], Array(command.dropFirst()), directory: directory)
    guard status == 0 else { throw TestSetupError(description: "\(command.joined(separator: " ")) failed (\(status)): \(output)") }
    return output
}
