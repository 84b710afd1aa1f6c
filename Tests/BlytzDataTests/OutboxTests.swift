import Blytz
import BlytzEvents
import BlytzData
import BlytzTesting
import Foundation
import HTTPTypes
import Logging
import SQLKit
import Synchronization
import Testing

@Suite struct OutboxTests {
    struct Posted: Event, Equatable {
        static let type: EventType = "JobPosted"
        var id: String
        var title: String
        var budgetCents: Int
        var subject: String { id }
    }
    struct Count: Decodable { var n: Int }

    static let schema = [
        Migration(1, "create jobs") { sql in
            try await sql.create(table: "jobs").column("id", type: .text, .primaryKey(autoIncrement: false)).run()
        },
        Migration(2, "create tallies") { sql in
            try await sql.create(table: "tallies").column("id", type: .text, .primaryKey(autoIncrement: false)).column("n", type: .bigint, .notNull).run()
        },
    ]

    @Test(arguments: [ServiceDatabase.Engine.sqlite, .postgres])
    func eventsCommitAndRollBackWithTheirTransaction(engine: ServiceDatabase.Engine) async throws {
        try await TestDatabase.with(engine) { database in
            try await Migrator(service: "marketplace", migrations: Self.schema).migrate(database, logger: Logger(label: "t"))
            let context = TestContext.make(configuration: ["BLYTZ_SERVICE": "marketplace"])
            let id = try await database.transaction { sql in
                try await sql.insert(into: "jobs").columns("id").values(SQLBind("j1")).run()
                return try await context.publish(Posted(id: "j1", title: "VA", budgetCents: 5000), on: sql)
            }
            struct Rollback: Error {}
            await #expect(throws: Rollback.self) {
                try await database.transaction { sql in
                    try await sql.insert(into: "jobs").columns("id").values(SQLBind("j2")).run()
                    try await context.publish(Posted(id: "j2", title: "gone", budgetCents: 1), on: sql)
                    throw Rollback()
                }
            }
            let pending = try await Outbox.pending(database)
            #expect(pending.map(\.id) == [id])
            let envelope = try JSON.decoder().decode(EventEnvelope<Posted>.self, from: Data(pending[0].envelope.utf8))
            #expect(envelope.type == "JobPosted" && envelope.source == "marketplace" && envelope.subject == "j1")
            #expect(envelope.data == Posted(id: "j1", title: "VA", budgetCents: 5000))
            #expect(envelope.traceparent == context.traceparent)
            try await Outbox.markSent([id], in: database)
            #expect(try await Outbox.pending(database).isEmpty)
        }
    }

    @Test(arguments: [ServiceDatabase.Engine.sqlite, .postgres])
    func aRedeliveredEventHasItsEffectsOnce(engine: ServiceDatabase.Engine) async throws {
        try await TestDatabase.with(engine) { database in
            try await Migrator(service: "users", migrations: Self.schema).migrate(database, logger: Logger(label: "t"))
            try await database.transaction { sql in try await sql.insert(into: "tallies").columns("id", "n").values(SQLBind("t"), SQLBind(0)).run() }
            let increment: @Sendable (any SQLDatabase) async throws -> Void = { sql in
                try await sql.raw("UPDATE tallies SET n = n + 1 WHERE id = 't'").run()
            }
            let first = try await database.once(event: "e1", consumer: "ratings", increment)
            let again = try await database.once(event: "e1", consumer: "ratings", increment)
            let otherConsumer = try await database.once(event: "e1", consumer: "totals", increment)
            #expect(first && !again && otherConsumer)
            // Concurrent redeliveries: one runs the effects; the others skip, or fail and would be redelivered.
            let outcomes = await withTaskGroup(of: Bool?.self) { group in
                for _ in 0..<6 { group.addTask { try? await database.once(event: "e2", consumer: "ratings", increment) } }
                return await group.reduce(into: [Bool?]()) { $0.append($1) }
            }
            #expect(outcomes.filter { $0 == true }.count == 1)
            let n = try await database.withConnection { sql in try await sql.raw("SELECT n FROM tallies WHERE id = 't'").first(decoding: Count.self)?.n }
            #expect(n == 3)
            // The batch form records only the new ids and hands the effects just those.
            let fresh = try await database.once(events: ["e1", "e4", "e5", "e4"], consumer: "ratings") { sql, ids in
                #expect(ids == ["e4", "e5"])
                try await increment(sql)
            }
            #expect(fresh == ["e4", "e5"])
            let none = try await database.once(events: ["e4", "e5"], consumer: "ratings") { _, _ in Issue.record("ran twice") }
            #expect(none.isEmpty)
            let afterBatch = try await database.withConnection { sql in try await sql.raw("SELECT n FROM tallies WHERE id = 't'").first(decoding: Count.self)?.n }
            #expect(afterBatch == 4)
            // A failing effect leaves no record, so the redelivery runs it.
            struct Failing: Error {}
            await #expect(throws: Failing.self) { try await database.once(event: "e3", consumer: "ratings") { _ in throw Failing() } }
            #expect(try await database.once(event: "e3", consumer: "ratings", increment))
        }
    }
}
