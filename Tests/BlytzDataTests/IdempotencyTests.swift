import Blytz
import BlytzData
import BlytzEvents
import BlytzTesting
import Foundation
import HTTPTypes
import Logging
import SQLKit
import Synchronization
import Testing

/// The idempotency-key store and the reconciler, on SQLite and on PostgreSQL.
@Suite struct IdempotencyTests {
    struct Made: Codable, Sendable, ResponseBody, Equatable { var id: String; var n: Int }
    struct Count: Decodable { var n: Int }

    static let schema = [
        Migration(1, "create things") { sql in
            try await sql.create(table: "things").column("id", type: .text, .primaryKey(autoIncrement: false)).column("n", type: .int, .notNull).run()
        },
    ]

    static func things(_ database: ServiceDatabase) async throws -> Int {
        try await database.withConnection { sql in
            try await sql.select().column(SQLFunction("COUNT", args: SQLLiteral.all), as: "n").from("things").first(decoding: Count.self)?.n ?? 0
        }
    }

    /// The route body under test: one row per call.
    static func make(_ n: Int) -> @Sendable (any SQLDatabase) async throws -> FunctionResponse<Made> {
        { sql in
            let id = UUID().uuidString
            try await sql.insert(into: "things").columns("id", "n").values(SQLBind(id), SQLBind(n)).run()
            return .created(Made(id: id, n: n), location: "/things/\(id)")
        }
    }

    @Test(arguments: [ServiceDatabase.Engine.sqlite, .postgres])
    func aRepeatReplaysTheFirstResponseAndAnotherBodyIsRefused(engine: ServiceDatabase.Engine) async throws {
        try await TestDatabase.with(engine) { database in
            try await Migrator(service: "t", migrations: Self.schema).migrate(database, logger: Logger(label: "t"))
            let now = Date(timeIntervalSince1970: 1_800_000_000)
            let print = IdempotencyStore.fingerprint(method: "POST", path: "/things", body: Data(#"{"n":1}"#.utf8))
            let first = try await IdempotencyStore.run(key: "k1", scope: "alice", fingerprint: print, now: now, in: database, Self.make(1))
            let again = try await IdempotencyStore.run(key: "k1", scope: "alice", fingerprint: print, now: now.addingTimeInterval(60), in: database, Self.make(1))
            #expect(first.status == 201 && again.status == 201 && again.body == first.body)
            #expect(again.headers[.location] == first.headers[.location] && again.headers[IdempotencyStore.replayedHeader] == "true")
            #expect(try await Self.things(database) == 1)
            // Another caller's key of the same name is theirs alone.
            _ = try await IdempotencyStore.run(key: "k1", scope: "bob", fingerprint: print, now: now, in: database, Self.make(1))
            #expect(try await Self.things(database) == 2)
            // The same key with another body: 422 naming the header, nothing done.
            let other = IdempotencyStore.fingerprint(method: "POST", path: "/things", body: Data(#"{"n":2}"#.utf8))
            await #expect { try await IdempotencyStore.run(key: "k1", scope: "alice", fingerprint: other, now: now, in: database, Self.make(2)) } throws: { error in
                (error as? HTTPError)?.problem.status == 422 && (error as? HTTPError)?.problem.errors?.first?.field == "Idempotency-Key"
            }
            // After the key expires it is a new request; purge removes what expired.
            _ = try await IdempotencyStore.run(key: "k1", scope: "alice", fingerprint: other, now: now.addingTimeInterval(86_401), in: database, Self.make(2))
            #expect(try await Self.things(database) == 3)
            #expect(try await IdempotencyStore.purge(now: now.addingTimeInterval(2 * 86_401), in: database) == 2)
            // No key: the body runs every time.
            _ = try await IdempotencyStore.run(key: nil, scope: "alice", fingerprint: print, now: now, in: database, Self.make(1))
            _ = try await IdempotencyStore.run(key: nil, scope: "alice", fingerprint: print, now: now, in: database, Self.make(1))
            #expect(try await Self.things(database) == 5)
        }
    }

    @Test(arguments: [ServiceDatabase.Engine.sqlite, .postgres])
    func twentyConcurrentRepeatsHaveOneEffect(engine: ServiceDatabase.Engine) async throws {
        try await TestDatabase.with(engine) { database in
            try await Migrator(service: "t", migrations: Self.schema).migrate(database, logger: Logger(label: "t"))
            let print = IdempotencyStore.fingerprint(method: "POST", path: "/things", body: Data("{}".utf8))
            let bodies = try await withThrowingTaskGroup(of: Made?.self) { group in
                for _ in 0..<20 {
                    group.addTask { try await IdempotencyStore.run(key: "same", scope: "alice", fingerprint: print, now: Date(), in: database, Self.make(7)).body }
                }
                return try await group.reduce(into: [Made?]()) { $0.append($1) }
            }
            #expect(try await Self.things(database) == 1)
            #expect(Set(bodies.compactMap { $0?.id }).count == 1 && bodies.count == 20)
        }
    }

    struct Call: Codable, Sendable { var target: String }

    /// The keys the reconciled call was made with, in order.
    final class Calls: Sendable {
        private let keys = Mutex<[String]>([])
        func add(_ key: String) { keys.withLock { $0.append(key) } }
        var all: [String] { keys.withLock { $0 } }
    }

    @Test(arguments: [ServiceDatabase.Engine.sqlite, .postgres])
    func theReconcilerRetriesWithTheSameKeyAndReportsWhatStaysStuck(engine: ServiceDatabase.Engine) async throws {
        try await TestDatabase.with(engine) { database in
            try await Migrator(service: "t", migrations: Self.schema).migrate(database, logger: Logger(label: "t"))
            let start = Date(timeIntervalSince1970: 1_800_000_000)
            let policy = Reconciler.Policy(maxAttempts: 3, initialBackoff: .seconds(10), maxBackoff: .seconds(60))
            let (ok, flaky, broken) = try await database.transaction { sql in
                (
                    try await Reconciler.record(kind: "call", key: "k-ok", payload: Call(target: "ok"), now: start, on: sql),
                    try await Reconciler.record(kind: "call", key: "k-flaky", payload: Call(target: "flaky"), now: start, on: sql),
                    try await Reconciler.record(kind: "call", key: "k-broken", payload: Call(target: "broken"), now: start, on: sql)
                )
            }
            // Recording the same key again keeps the first intent.
            #expect(try await database.transaction { sql in try await Reconciler.record(kind: "call", key: "k-ok", payload: Call(target: "ok"), now: start, on: sql) } == ok)
            struct Failed: Error {}
            let calls = Calls()
            @Sendable func call(_ intent: Reconciler.Intent<Call>) async throws {
                calls.add(intent.key)
                if intent.payload.target == "broken" || (intent.payload.target == "flaky" && intent.attempts < 2) { throw Failed() }
            }
            #expect(try await Reconciler.attempt(ok, as: Call.self, in: database, now: start, policy: policy, call))
            #expect(try await Reconciler.attempt(flaky, as: Call.self, in: database, now: start, policy: policy, call) == false)
            #expect(try await Reconciler.attempt(broken, as: Call.self, in: database, now: start, policy: policy, call) == false)
            // Not due yet: nothing runs.
            #expect(try await Reconciler.sweep(kind: "call", as: Call.self, in: database, now: start.addingTimeInterval(5), policy: policy, call) == .init())
            let second = try await Reconciler.sweep(kind: "call", as: Call.self, in: database, now: start.addingTimeInterval(11), policy: policy, call)
            #expect(second == .init(done: 1, retried: 1, stuck: 0))
            let third = try await Reconciler.sweep(kind: "call", as: Call.self, in: database, now: start.addingTimeInterval(100), policy: policy, call)
            #expect(third == .init(done: 0, retried: 0, stuck: 1))
            #expect(calls.all == ["k-ok", "k-flaky", "k-broken", "k-flaky", "k-broken", "k-broken"])
            let stuck = try await Reconciler.stuck(kind: "call", in: database)
            #expect(stuck.map(\.key) == ["k-broken"] && stuck[0].attempts == 3 && stuck[0].lastError != nil)
            #expect(try await Reconciler.retryStuck(in: database, now: start.addingTimeInterval(200)) == 1)
            #expect(try await Reconciler.stuck(in: database).isEmpty)
        }
    }

    @Test(arguments: [ServiceDatabase.Engine.sqlite, .postgres])
    func anIntentClaimedWhereItIsRecordedIsLeftToItsRecorderUntilTheLeaseEnds(engine: ServiceDatabase.Engine) async throws {
        try await TestDatabase.with(engine) { database in
            try await Migrator(service: "t", migrations: Self.schema).migrate(database, logger: Logger(label: "t"))
            let start = Date(timeIntervalSince1970: 1_800_000_000)
            let policy = Reconciler.Policy(lease: .seconds(30))
            let (done, lost) = try await database.transaction { sql in
                (
                    try await Reconciler.recordClaimed(kind: "call", key: "k-done", payload: Call(target: "done"), now: start, lease: policy.lease, on: sql),
                    try await Reconciler.recordClaimed(kind: "call", key: "k-lost", payload: Call(target: "lost"), now: start, lease: policy.lease, on: sql)
                )
            }
            let first = try #require(done)
            #expect(first.attempts == 1 && lost?.key == "k-lost")
            // The same key again: already recorded, so nothing is claimed.
            #expect(try await database.transaction { sql in
                try await Reconciler.recordClaimed(kind: "call", key: "k-done", payload: Call(target: "done"), now: start, on: sql)
            } == nil)
            let calls = Calls()
            // A call that records its own completion in its transaction.
            #expect(try await Reconciler.attempt(first, in: database, now: start, policy: policy) { intent in
                calls.add(intent.key)
                return try await database.transaction { sql in try await Reconciler.complete(key: intent.key, now: start, on: sql) }
            })
            // The recorder of "k-lost" never ran it (a crash): the sweep leaves it alone while the lease holds, then runs it.
            #expect(try await Reconciler.sweep(kind: "call", as: Call.self, in: database, now: start.addingTimeInterval(10), policy: policy) { calls.add($0.key) } == .init())
            #expect(try await Reconciler.sweep(kind: "call", as: Call.self, in: database, now: start.addingTimeInterval(31), policy: policy) { calls.add($0.key) } == .init(done: 1))
            #expect(calls.all == ["k-done", "k-lost"])
            let rows = try await database.withConnection { sql in
                try await sql.select().column("*").from(Reconciler.table).orderBy("key").all(decoding: Reconciler.Row.self, keyDecodingStrategy: .convertFromSnakeCase)
            }
            #expect(rows.map(\.state) == ["done", "done"] && rows.map(\.attempts) == [1, 2])
        }
    }

    @Test(arguments: [ServiceDatabase.Engine.sqlite, .postgres])
    func concurrentSweepsRunEachIntentOnce(engine: ServiceDatabase.Engine) async throws {
        try await TestDatabase.with(engine) { database in
            try await Migrator(service: "t", migrations: Self.schema).migrate(database, logger: Logger(label: "t"))
            let now = Date()
            try await database.transaction { sql in
                for index in 0..<20 { try await Reconciler.record(kind: "call", key: "k\(index)", payload: Call(target: "\(index)"), now: now, on: sql) }
            }
            let calls = Calls()
            let sweeps = try await withThrowingTaskGroup(of: Reconciler.Sweep.self) { group in
                for _ in 0..<3 {
                    group.addTask {
                        try await Reconciler.sweep(kind: "call", as: Call.self, in: database, now: now) { intent in calls.add(intent.key) }
                    }
                }
                return try await group.reduce(into: [Reconciler.Sweep]()) { $0.append($1) }
            }
            let keys = calls.all
            #expect(keys.count == 20 && Set(keys).count == 20)
            #expect(sweeps.map(\.done).reduce(0, +) == 20)
        }
    }
}
