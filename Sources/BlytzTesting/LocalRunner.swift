#if canImport(Glibc)
import Glibc
#endif
import AsyncHTTPClient
import Blytz
import BlytzData
import BlytzRunner
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import Synchronization

/// The real `blytz local` in a child process on free ports, for integration tests: it is started,
/// waited on through its ready line (no sleeps), talked to over HTTP, and stopped with a signal.
///
/// ```
/// let runner = try await LocalRunner.start(manifest: "Tests/Fixtures/fixtures.yaml")
/// let response = try await runner.get("/api/fx/slow")
/// try await runner.stop()
/// ```
public final class LocalRunner: Sendable {
    /// Where the runner's ready line said it listens.
    public struct URLs: Decodable, Sendable {
        public var gateway: String
        public var services: [String: String]
    }

    /// An HTTP answer.
    public struct Reply: Sendable {
        public var status: Int
        public var headers: [String: String]
        public var body: Data

        public var text: String { String(decoding: body, as: UTF8.self) }

        public func json<T: Decodable>(_ type: T.Type = T.self) throws -> T {
            try JSON.decoder().decode(type, from: body)
        }

        public func header(_ name: String) -> String? { headers[name.lowercased()] }
    }

    public struct StartFailed: Error, CustomStringConvertible {
        public var description: String
    }

    public let process: Process
    public let urls: URLs
    public let dataDirectory: String
    /// The environment the runner was started with.
    public let environment: [String: String]
    private let output: OutputCollector

    private init(process: Process, urls: URLs, dataDirectory: String, environment: [String: String], output: OutputCollector) {
        self.process = process
        self.urls = urls
        self.dataDirectory = dataDirectory
        self.environment = environment
        self.output = output
    }

    /// The folder holding `blytz` and the service executables: the build folder of these tests.
    public static var buildDirectory: String {
        if let directory = ProcessInfo.processInfo.environment["BLYTZ_BIN_DIR"] { return directory }
        var path = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        // On Linux the test binary is `<build>/<package>PackageTests.xctest`; on macOS a bundle inside the build folder.
        while !FileManager.default.isExecutableFile(atPath: path.appendingPathComponent("blytz").path), path.path != "/" {
            path.deleteLastPathComponent()
        }
        return path.path
    }

    /// Starts `blytz local` for `manifest` on ephemeral ports with a fresh data directory.
    public static func start(manifest: String, arguments: [String] = [], environment: [String: String] = [:], dataDirectory: String? = nil) async throws -> LocalRunner {
        let directory = dataDirectory ?? NSTemporaryDirectory() + "blytz-test-" + UUID().uuidString
        return try await launch(["local", "--manifest", manifest, "--ephemeral-ports", "--data-dir", directory, "--bin-dir", buildDirectory] + arguments, environment: environment, directory: directory)
    }

    /// Starts `blytz serve <service>` for `manifest` on `port` (its runner endpoints on a free loopback
    /// port: `urls.gateway`), with its own log in `dataDirectory` (which replicas of one service may share).
    public static func serve(
        _ service: String, manifest: String, port: Int, environment: [String: String] = [:], dataDirectory: String, arguments: [String] = []
    ) async throws -> LocalRunner {
        try await launch(
            ["serve", service, "--manifest", manifest, "--host", "127.0.0.1", "--port", "\(port)", "--data-dir", dataDirectory, "--bin-dir", buildDirectory] + arguments,
            environment: environment, directory: dataDirectory, log: "\(dataDirectory)/serve-\(port).log"
        )
    }

    private static func launch(_ arguments: [String], environment: [String: String], directory: String, log: String? = nil) async throws -> LocalRunner {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let logPath = log ?? directory + "/runner.log"
        let process = Process()
        process.executableURL = URL(fileURLWithPath: buildDirectory + "/blytz")
        process.arguments = arguments
        let environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        process.environment = environment
        let stdout = Pipe()
        FileManager.default.createFile(atPath: logPath, contents: nil)
        guard let stderr = FileHandle(forWritingAtPath: logPath) else { throw StartFailed(description: "cannot write \(logPath)") }
        process.standardOutput = stdout
        process.standardError = stderr
        let output = OutputCollector()
        try process.run()
        // A blocking read on a thread of its own: simpler and sturdier than a dispatch read source.
        let reader = stdout.fileHandleForReading
        Thread.detachNewThread {
            while true {
                let data = reader.availableData
                guard !data.isEmpty else { break }
                output.append(data)
            }
            output.finish()
        }
        guard let line = await output.firstLine(where: { $0.contains(#""event":"ready""#) }),
            let urls = try? JSONDecoder().decode(URLs.self, from: Data(line.utf8))
        else {
            let log = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
            throw StartFailed(description: "blytz \(arguments[0]) did not become ready:\n\(log)")
        }
        return LocalRunner(process: process, urls: urls, dataDirectory: directory, environment: environment, output: output)
    }

    /// Sends `signal` and waits for the runner to exit (killing it after `timeout`); returns its exit status.
    @discardableResult
    public func stop(signal: Int32 = SIGTERM, timeout: Duration = .seconds(15)) async -> Int32 {
        if process.exitStatus == nil { kill(process.processIdentifier, signal) }
        let deadline = ContinuousClock.now + timeout
        while true {
            if let status = process.exitStatus { return status }
            // Past the deadline, or the test's own time is up: SIGKILL, which ends it at once.
            guard ContinuousClock.now < deadline, !Task.isCancelled else { return process.kill() }
            try? await Task.sleep(for: .milliseconds(5))
        }
    }

    /// Lines the runner printed on standard output (ready line, invocation log).
    public var lines: [String] { output.lines }

    /// The ids of the events `function` was handed in invocations that succeeded, from the invocation log.
    public func deliveredEvents(to function: String) -> [String] {
        struct Logged: Decodable { var function: String; var status: Int; var events: [String]? }
        return lines.compactMap { try? JSONDecoder().decode(Logged.self, from: Data($0.utf8)) }
            .filter { $0.function == function && $0.status == 200 }.flatMap { $0.events ?? [] }
    }

    /// Waits until a line satisfying `predicate` has been printed.
    public func waitForLine(timeout: Duration = .seconds(10), where predicate: @escaping @Sendable (String) -> Bool) async -> String? {
        await output.firstLine(timeout: timeout, where: predicate)
    }

    // MARK: HTTP

    public func request(_ method: HTTPMethod, _ path: String, base: String? = nil, headers: [String: String] = [:], body: Data? = nil, timeout: Duration = .seconds(15)) async throws -> Reply {
        var request = HTTPClientRequest(url: (base ?? urls.gateway) + path)
        request.method = method
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let body { request.body = .bytes(ByteBuffer(bytes: body)) }
        let response = try await HTTPClient.shared.execute(request, timeout: .nanoseconds(Int64(timeout.components.seconds) * 1_000_000_000))
        let collected = try await response.body.collect(upTo: 64 * 1024 * 1024)
        var replyHeaders: [String: String] = [:]
        for header in response.headers { replyHeaders[header.name.lowercased()] = header.value }
        return Reply(status: Int(response.status.code), headers: replyHeaders, body: Data(collected.readableBytesView))
    }

    public func get(_ path: String, base: String? = nil, headers: [String: String] = [:]) async throws -> Reply {
        try await request(.GET, path, base: base, headers: headers)
    }

    public func post(_ path: String, json: String, base: String? = nil, headers: [String: String] = [:]) async throws -> Reply {
        try await request(.POST, path, base: base, headers: headers.merging(["Content-Type": "application/json"]) { $1 }, body: Data(json.utf8))
    }

    /// Queues `event` for every function subscribed to its type (`POST /_local/events`), as its service would publish it.
    @discardableResult
    public func publish<E: Event>(_ event: E) async throws -> Reply {
        return try await post("/_local/events", json: String(decoding: try JSON.encoder().encode(PublishedEvent(type: E.type, subject: event.subject, data: event)), as: UTF8.self))
    }
}

/// The body of `POST /_local/events`.
struct PublishedEvent<E: Event>: Encodable {
    var type: EventType
    var subject: String
    var data: E
}

/// Collects a child's standard output line by line and wakes whoever waits for a line.
final class OutputCollector: Sendable {
    private struct State {
        var pending = Data()
        var lines: [String] = []
        var done = false
        var waiters: [(id: Int, predicate: @Sendable (String) -> Bool, continuation: CheckedContinuation<String?, Never>)] = []
        var nextID = 0
    }

    private let state = Mutex(State())

    var lines: [String] { state.withLock { $0.lines } }

    func append(_ data: Data) {
        let resumed = state.withLock { state -> [(CheckedContinuation<String?, Never>, String)] in
            state.pending.append(data)
            var resumed: [(CheckedContinuation<String?, Never>, String)] = []
            while let newline = state.pending.firstIndex(of: UInt8(ascii: "\n")) {
                let line = String(decoding: state.pending[state.pending.startIndex..<newline], as: UTF8.self)
                state.pending.removeSubrange(state.pending.startIndex...newline)
                state.lines.append(line)
                state.waiters.removeAll { waiter in
                    guard waiter.predicate(line) else { return false }
                    resumed.append((waiter.continuation, line))
                    return true
                }
            }
            return resumed
        }
        resumed.forEach { $0.0.resume(returning: $0.1) }
    }

    func finish() {
        let waiters = state.withLock { state in
            state.done = true
            defer { state.waiters = [] }
            return state.waiters.map(\.continuation)
        }
        waiters.forEach { $0.resume(returning: nil) }
    }

    func firstLine(timeout: Duration = .seconds(60), where predicate: @escaping @Sendable (String) -> Bool) async -> String? {
        let id = state.withLock { state -> Int in
            state.nextID += 1
            return state.nextID
        }
        return await withTaskGroup(of: String?.self) { group in
            group.addTask {
                await withCheckedContinuation { continuation in
                    let found = self.state.withLock { state -> String?? in
                        if let line = state.lines.first(where: predicate) { return .some(line) }
                        if state.done { return .some(nil) }
                        state.waiters.append((id, predicate, continuation))
                        return nil
                    }
                    if let found { continuation.resume(returning: found) }
                }
            }
            group.addTask {
                try? await Task.sleep(for: timeout)
                let waiter = self.state.withLock { state -> CheckedContinuation<String?, Never>? in
                    guard let index = state.waiters.firstIndex(where: { $0.id == id }) else { return nil }
                    return state.waiters.remove(at: index).continuation
                }
                waiter?.resume(returning: nil)
                return nil
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first
        }
    }
}

extension LocalRunner {
    /// Whether the runner's event queue holds nothing more for `function`: every delivery acknowledged or
    /// dead-lettered, none ready or leased. Once it holds, no further effect of those events can arrive.
    public func queueIsDrained(for function: String) async throws -> Bool {
        let queue = try await EventQueue.open(try EventQueue.location(environment: environment, dataDirectory: dataDirectory), logger: Logger(label: "test-queue"))
        return try await using(queue, cleanup: { await $0.shutdown() }) { try await $0.nextAvailable(function: function) == nil }
    }

    /// The `/_local/functions` entry of one function.
    public func pool(_ name: String) async throws -> PoolSnapshot {
        struct Listing: Decodable { var functions: [PoolSnapshot] }
        let listing = try await get("/_local/functions").json(Listing.self)
        guard let pool = listing.functions.first(where: { $0.name == name }) else { throw TestSetupError(description: "the runner serves no function \(name)") }
        return pool
    }
}
