import BlytzEvents
import BlytzData
import BlytzTesting
import Foundation
import Logging
import NIOHTTP1
import SQLKit
import Testing
import Users

/// Databases through the real runner: migrations at start, a worker's database in its context,
/// on SQLite (the default) and on PostgreSQL (by configuration).
@Suite(.serialized, .timeLimit(.minutes(2))) struct RunnerDataTests {
    struct Hits: Decodable { var hits: Int; var engine: String }

    @Test(arguments: [ServiceDatabase.Engine.sqlite, .postgres])
    func workersReachTheirServiceDatabaseMigratedAtStart(engine: ServiceDatabase.Engine) async throws {
        let postgresURL = engine == .postgres ? try TestDatabase.unusedPostgresURL() : nil
        let environment = postgresURL.map { ["FIXTURES_DATABASE_URL": $0] } ?? [:]
        try await withRunner(environment: environment) { runner in
            var counts: [Int] = []
            for _ in 0..<3 {
                let reply = try await runner.request(.POST, "/api/fx/hits")
                #expect(reply.status == 200)
                let hits = try reply.json(Hits.self)
                #expect(hits.engine == engine.rawValue)
                counts.append(hits.hits)
            }
            #expect(counts == [1, 2, 3])
            // Each hit's event was committed with it, to the service's outbox (the relay may have sent it already).
            let location = postgresURL.map { DatabaseLocation.postgres(url: $0) } ?? .sqlite(path: runner.dataDirectory + "/fixtures_db.sqlite")
            let published = try await using(try ServiceDatabase.open(location, logger: Logger(label: "t")), cleanup: { await $0.shutdown() }) { database in
                try await database.withConnection { sql in
                    struct Count: Decodable { var count: Int }
                    return try await sql.raw("SELECT COUNT(*) AS count FROM _blytz_outbox WHERE type = 'HitRecorded'").first(decoding: Count.self)?.count
                }
            }
            #expect(published == 3)
        }
    }

    @Test func blytzMigrateCreatesAndMigratesEveryServiceDatabaseOnPostgres() async throws {
        guard let server = ProcessInfo.processInfo.environment["BLYTZ_TEST_POSTGRES_URL"] else {
            throw TestSetupError(description: "BLYTZ_TEST_POSTGRES_URL is not set: run the tests with ./local/test")
        }
        let directory = NSTemporaryDirectory() + "blytz-migrate-" + UUID().uuidString
        let process = Process()
        process.executableURL = URL(fileURLWithPath: LocalRunner.buildDirectory + "/blytz")
        process.arguments = ["migrate", "--data-dir", directory]
        process.environment = ProcessInfo.processInfo.environment.merging(["BLYTZ_DATABASE_URL": server]) { $1 }
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        #expect(output.split(separator: "\n").count == 6)
        var components = URLComponents(string: server)!
        components.path = "/users_db"
        try await using(try ServiceDatabase.open(.postgres(url: components.string!), logger: Logger(label: "t")), cleanup: { await $0.shutdown() }) { database in
            let history = try await Migrator(service: "users", migrations: []).history(database)
            #expect(history.map(\.version) == Users.migrations.map(\.version))
        }
    }
}
