#if canImport(Glibc)
import Glibc
#endif
import BlytzData
import Foundation
import Logging
import NIOPosix
import SQLKit

/// A PostgreSQL server of a test's own (`local/postgres` in a temporary directory), for tests that restart
/// it or cut its connections without disturbing the suite's shared server. Stopped when `body` ends.
///
/// ```
/// try await PostgresServer.with { server in
///     let url = server.url(database: "queue")
///     try await server.restart(.immediate)
/// }
/// ```
public struct PostgresServer: Sendable {
    /// How a restart stops the server: `fast` ends sessions cleanly (FATAL 57P01), `immediate` drops them.
    public enum Shutdown: String, Sendable {
        case fast
        case immediate
    }

    public let directory: String
    /// The server's URL, on its `postgres` database.
    public let url: String

    public static func with<T>(_ body: (PostgresServer) async throws -> T) async throws -> T {
        let directory = NSTemporaryDirectory() + "blytz-pg-\(UUID().uuidString.prefix(8))"
        let started = try await control("start", directory)
        guard started.status == 0, let url = started.output.split(separator: "\n").last.map(String.init), url.hasPrefix("postgres://") else {
            throw TestSetupError(description: "local/postgres did not start: \(started.output)")
        }
        let server = PostgresServer(directory: directory, url: url)
        return try await using(server, cleanup: { server in
            _ = try? await control("stop", server.directory)
            try? FileManager.default.removeItem(atPath: server.directory)
        }, body)
    }

    /// The URL of `database` on this server.
    public func url(database: String) -> String {
        var components = URLComponents(string: url)!
        components.path = "/\(database)"
        return components.string!
    }

    /// Restarts the server on the same port; returns once it accepts connections again.
    public func restart(_ mode: Shutdown) async throws {
        let restarted = try await Self.control("restart", directory, mode.rawValue)
        guard restarted.status == 0 else { throw TestSetupError(description: "local/postgres restart failed: \(restarted.output)") }
    }

    /// Stops the server (fast), for a test that keeps it down a while.
    public func stop() async throws {
        _ = try await Self.control("stop", directory)
    }

    /// Starts it again on the same port.
    public func start() async throws {
        let started = try await Self.control("start", directory)
        guard started.status == 0 else { throw TestSetupError(description: "local/postgres start failed: \(started.output)") }
    }

    /// Terminates every backend but the one asking (`pg_terminate_backend`), as an operator or a failover
    /// would; returns how many it ended.
    @discardableResult
    public func terminateBackends() async throws -> Int {
        let admin = try ServiceDatabase.open(.postgres(url: url), maxConnections: 1, logger: Logger(label: "pg-admin"))
        return try await using(admin, cleanup: { await $0.shutdown() }) { admin in
            struct Ended: Decodable { var ended: Int }
            return try await admin.withConnection { sql in
                try await sql.raw("""
                    SELECT count(pg_terminate_backend(pid))::int AS ended FROM pg_stat_activity
                    WHERE pid <> pg_backend_pid() AND backend_type = 'client backend'
                    """).first(decoding: Ended.self)?.ended ?? 0
            }
        }
    }

    /// Runs `local/postgres arguments…` on a thread of its own. (Foundation's `Process` can miss the exit of
    /// a script whose server daemonises, and would then wait forever.)
    static func control(_ arguments: String...) async throws -> (status: Int32, output: String) {
        let output = NSTemporaryDirectory() + "blytz-pg-\(UUID().uuidString).log"
        defer { try? FileManager.default.removeItem(atPath: output) }
        let command = (["bash", "local/postgres"] + arguments).map { "'\($0)'" }.joined(separator: " ") + " >'\(output)' 2>&1"
        let status = try await NIOThreadPool.singleton.runIfActive { system(command) }
        // `system` answers a wait status: the exit code is its second byte.
        return (status == 0 ? 0 : max(status >> 8, 1), (try? String(contentsOfFile: output, encoding: .utf8)) ?? "")
    }
}
