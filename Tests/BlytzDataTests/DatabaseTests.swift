import BlytzEvents
import BlytzData
import BlytzTesting
import Foundation
import HTTPTypes
import Logging
import SQLKit
import Testing

@Suite struct DatabaseTests {
    struct Counter: Decodable { var n: Int }

    static let schema = [
        Migration(1, "create counters") { sql in
            try await sql.create(table: "counters")
                .column("id", type: .text, .primaryKey(autoIncrement: false))
                .column("n", type: .bigint, .notNull)
                .run()
        },
        Migration(2, "create notes") { sql in
            try await sql.create(table: "notes")
                .column("id", type: .text, .primaryKey(autoIncrement: false))
                .column("counter_id", type: .text, .notNull, .references("counters", "id"))
                .column("body", type: .text, .notNull)
                .run()
        },
    ]

    @Test(arguments: [ServiceDatabase.Engine.sqlite, .postgres])
    func transactionsCommitOrRollBackAsAWhole(engine: ServiceDatabase.Engine) async throws {
        try await TestDatabase.with(engine) { database in
        try await Migrator(service: "test", migrations: Self.schema).migrate(database, logger: Logger(label: "t"))
        try await database.transaction { sql in
            try await sql.insert(into: "counters").columns("id", "n").values(SQLBind("a"), SQLBind(1)).run()
        }
        struct Boom: Error {}
        await #expect(throws: Boom.self) {
            try await database.transaction { sql in
                try await sql.insert(into: "counters").columns("id", "n").values(SQLBind("b"), SQLBind(1)).run()
                throw Boom()
            }
        }
        let ids = try await database.withConnection { sql in
            try await sql.select().column("id").from("counters").orderBy("id").all().map { try $0.decode(column: "id", as: String.self) }
        }
        #expect(ids == ["a"])
        // Foreign keys are enforced on both engines.
        await #expect(throws: (any Error).self) {
            try await database.transaction { sql in
                try await sql.insert(into: "notes").columns("id", "counter_id", "body").values(SQLBind("n"), SQLBind("missing"), SQLBind("x")).run()
            }
        }
        }
    }

    /// Two pools on one SQLite file, as two worker processes of a service have: their writers take turns
    /// (the writer lock, then SQLite's own), and no update is lost.
    @Test func twoPoolsOnOneSQLiteFileTakeTurns() async throws {
        let path = NSTemporaryDirectory() + "blytz-\(UUID().uuidString).sqlite"
        let first = try ServiceDatabase.open(.sqlite(path: path), logger: Logger(label: "t"))
        let second = try ServiceDatabase.open(.sqlite(path: path), logger: Logger(label: "t"))
        try await Migrator(service: "test", migrations: Self.schema).migrate(first, logger: Logger(label: "t"))
        try await first.transaction { sql in try await sql.insert(into: "counters").columns("id", "n").values(SQLBind("c"), SQLBind(0)).run() }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 0..<40 {
                let database = index % 2 == 0 ? first : second
                group.addTask {
                    try await database.transaction { sql in
                        let current = try await sql.raw("SELECT n FROM counters WHERE id = 'c'").first(decoding: Counter.self)?.n ?? 0
                        try await sql.update("counters").set("n", to: SQLBind(current + 1)).where("id", .equal, SQLBind("c")).run()
                    }
                }
            }
            try await group.waitForAll()
        }
        let final = try await second.withConnection { sql in
            try await sql.select().column("n").from("counters").where("id", .equal, SQLBind("c")).first(decoding: Counter.self)?.n
        }
        #expect(final == 40)
        await first.shutdown()
        await second.shutdown()
    }

    @Test(arguments: [ServiceDatabase.Engine.sqlite, .postgres])
    func concurrentTransactionsDoNotLoseUpdates(engine: ServiceDatabase.Engine) async throws {
        try await TestDatabase.with(engine) { database in
        try await Migrator(service: "test", migrations: Self.schema).migrate(database, logger: Logger(label: "t"))
        try await database.transaction { sql in
            try await sql.insert(into: "counters").columns("id", "n").values(SQLBind("c"), SQLBind(0)).run()
        }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<24 {
                group.addTask {
                    try await database.transaction { sql in
                        // PostgreSQL needs the row lock; SQLite's BEGIN IMMEDIATE already serialises writers.
                        let lock = engine == .postgres ? " FOR UPDATE" : ""
                        let current = try await sql.raw("SELECT n FROM counters WHERE id = 'c'\(unsafeRaw: lock)").first(decoding: Counter.self)?.n ?? 0
                        try await sql.update("counters").set("n", to: SQLBind(current + 1)).where("id", .equal, SQLBind("c")).run()
                    }
                }
            }
            try await group.waitForAll()
        }
        let final = try await database.withConnection { sql in
            try await sql.select().column("n").from("counters").where("id", .equal, SQLBind("c")).first(decoding: Counter.self)?.n
        }
        #expect(final == 24)
        }
    }

    @Test(arguments: [ServiceDatabase.Engine.sqlite, .postgres])
    func migrationsApplyInOrderOnceAndRefuseADivergentHistory(engine: ServiceDatabase.Engine) async throws {
        try await TestDatabase.with(engine) { database in
        let logger = Logger(label: "t")
        let first = try await Migrator(service: "test", migrations: [Self.schema[0]]).migrate(database, logger: logger)
        #expect(first == [1])
        let second = try await Migrator(service: "test", migrations: Self.schema).migrate(database, logger: logger)
        #expect(second == [2])
        let again = try await Migrator(service: "test", migrations: Self.schema).migrate(database, logger: logger)
        #expect(again.isEmpty)
        #expect(try await Migrator(service: "test", migrations: Self.schema).history(database).map(\.version) == [1, 2])

        let renamed = [Migration(1, "something else") { _ in }, Self.schema[1]]
        await #expect(throws: DatabaseError.self) { try await Migrator(service: "test", migrations: renamed).migrate(database, logger: logger) }
        await #expect(throws: DatabaseError.self) { try await Migrator(service: "test", migrations: [Self.schema[0]]).migrate(database, logger: logger) }

        // A failing migration leaves neither its changes nor its record.
        struct Broken: Error {}
        let failing = Self.schema + [Migration(3, "half done") { sql in
            try await sql.create(table: "half").column("id", type: .text).run()
            throw Broken()
        }]
        await #expect(throws: Broken.self) { try await Migrator(service: "test", migrations: failing).migrate(database, logger: logger) }
        #expect(try await Migrator(service: "test", migrations: Self.schema).history(database).map(\.version) == [1, 2])
        let halfExists = try await database.withConnection { sql in
            (try? await sql.select().column("id").from("half").all()) != nil
        }
        #expect(!halfExists)
        }
    }

    @Test func sqliteFilesUseWriteAheadLogging() async throws {
        try await TestDatabase.with(.sqlite) { database in
        struct Mode: Decodable { var journal_mode: String }
        let mode = try await database.withConnection { sql in try await sql.raw("PRAGMA journal_mode").first(decoding: Mode.self)?.journal_mode }
        #expect(mode == "wal")
        }
    }

    @Test func locationsResolveFromConfiguration() throws {
        let data = "/data"
        #expect(try DatabaseLocation.resolve(service: "users", database: "users_db", environment: [:], dataDirectory: data) == .sqlite(path: "/data/users_db.sqlite"))
        #expect(try DatabaseLocation.resolve(service: "users", database: "users_db", environment: ["BLYTZ_DATABASE_URL": "postgres://u:p@db:5432/postgres"], dataDirectory: data) == .postgres(url: "postgres://u:p@db:5432/users_db"))
        #expect(try DatabaseLocation.resolve(service: "users", database: "users_db", environment: ["USERS_DATABASE_URL": "postgres://h/x", "BLYTZ_DATABASE_URL": "postgres://other/y"], dataDirectory: data) == .postgres(url: "postgres://h/x"))
        #expect(throws: DatabaseLocation.Invalid.self) { try DatabaseLocation.resolve(service: "users", database: "users_db", environment: ["USERS_DATABASE_URL": "mysql://h/x"], dataDirectory: data) }
        #expect(DatabaseLocation.postgres(url: "postgres://u:secret@h/x").description == "postgres://u:***@h/x")
    }
}
