import BlytzData
import BlytzTesting
import Foundation
import Logging
import NIOCore
import NIOPosix
import PostgresKit
import SQLKit
import Synchronization
import Testing

/// A service database on a PostgreSQL server that restarts, kills its backends or goes away: every
/// operation ends within a bounded time, and is repeated on a fresh connection where that is safe.
@Suite(.serialized, .timeLimit(.minutes(2))) struct PostgresFaultTests {
    struct Row: Decodable { var n: Int }

    static func count(_ database: ServiceDatabase) async throws -> Int {
        try await database.withConnection { sql in try await sql.raw("SELECT count(*)::int AS n FROM t").first(decoding: Row.self)?.n ?? -1 }
    }

    static func withTable<T>(_ body: (PostgresServer, ServiceDatabase) async throws -> T) async throws -> T {
        try await PostgresServer.with { server in
            let database = try ServiceDatabase.open(.postgres(url: server.url), maxConnections: 2, logger: Logger(label: "t"))
            return try await using(database, cleanup: { await $0.shutdown() }) { database in
                try await database.withConnection { sql in try await sql.raw("CREATE TABLE t (n int)").run() }
                return try await body(server, database)
            }
        }
    }

    /// postgres-nio hands a statement to a connection the server has closed without noticing, and the
    /// statement never completes: the hang `ServiceDatabase` works around. When this test fails,
    /// postgres-nio answers such a statement and the workaround can go.
    @Test func postgresNIOLeavesAStatementOnAConnectionTheServerClosedUnanswered() async throws {
        try await PostgresServer.with { server in
            let configuration = try SQLPostgresConfiguration(url: server.url).coreConfiguration
            let connection = try await PostgresConnection.connect(
                on: MultiThreadedEventLoopGroup.singleton.next(), configuration: configuration, id: 1, logger: Logger(label: "t")
            ).get()
            try await server.terminateBackends()
            #expect(await eventually(within: .seconds(5)) { connection.isClosed })
            let answered = Atomic<Bool>(false)
            let statement = Task {
                _ = try? await connection.query("SELECT 1", logger: Logger(label: "t")).get()
                answered.store(true, ordering: .relaxed)
            }
            try await Task.sleep(for: .seconds(2))
            let wasAnswered = answered.load(ordering: .relaxed)
            #expect(!wasAnswered, "postgres-nio now answers a statement on a closed connection")
            _ = statement
        }
    }

    @Test func aTransactionWhoseBackendIsKilledIsRunAgainOnAFreshConnection() async throws {
        try await Self.withTable { server, database in
            let runs = Atomic<Int>(0)
            let started = ContinuousClock.now
            try await database.transaction { sql in
                try await sql.raw("INSERT INTO t VALUES (1)").run()
                if runs.add(1, ordering: .relaxed).newValue == 1 {
                    try await server.terminateBackends()
                    try await Task.sleep(for: .milliseconds(100))
                }
            }
            let runCount = runs.load(ordering: .relaxed)
            #expect(runCount == 2)
            #expect(ContinuousClock.now - started < .seconds(10))
            // The first run was rolled back with its connection; the second committed once.
            #expect(try await Self.count(database) == 1)
        }
    }

    @Test func aTransactionLostEveryTimeFailsWithinBoundedTimeAndCommitsNothing() async throws {
        try await Self.withTable { server, database in
            let started = ContinuousClock.now
            await #expect(throws: ConnectionLost.self) {
                try await database.transaction { sql in
                    try await sql.raw("INSERT INTO t VALUES (1)").run()
                    try await server.terminateBackends()
                    try await Task.sleep(for: .milliseconds(100))
                }
            }
            #expect(ContinuousClock.now - started < .seconds(15))
            let committed = try await Self.count(database)
            #expect(committed == 0)
        }
    }

    @Test(arguments: [PostgresServer.Shutdown.fast, .immediate])
    func pooledConnectionsARestartClosedAreReplacedUnseen(mode: PostgresServer.Shutdown) async throws {
        try await Self.withTable { server, database in
            // Both pooled connections are open when the server restarts.
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<2 {
                    group.addTask { _ = try await database.withConnection { sql in try await sql.raw("SELECT pg_sleep(0.2)").run() } }
                }
                try await group.waitForAll()
            }
            try await server.restart(mode)
            try await database.transaction { sql in try await sql.raw("INSERT INTO t VALUES (1)").run() }
            #expect(try await Self.count(database) == 1)
        }
    }

    @Test func aServerThatIsDownFailsOperationsWithinSecondsAndTheyWorkWhenItReturns() async throws {
        try await Self.withTable { server, database in
            try await server.stop()
            let started = ContinuousClock.now
            await #expect(throws: ConnectionLost.self) { try await Self.count(database) }
            #expect(ContinuousClock.now - started < .seconds(10))
            try await server.start()
            #expect(try await Self.count(database) == 0)
        }
    }
}
