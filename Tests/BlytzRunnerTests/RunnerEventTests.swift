import BlytzEvents
import BlytzData
import BlytzTesting
import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Logging
import NIOHTTP1
import Testing

@testable import BlytzRunner

/// Events end to end through the real runner: outbox → relay → queue → subscribed queue functions,
/// on SQLite and on PostgreSQL; retries and the dead-letter store.
@Suite(.serialized, .timeLimit(.minutes(2))) struct RunnerEventTests {
    struct Seen: Decodable { var seen: Int }

    func seen(_ runner: LocalRunner, _ consumer: String) async -> Int {
        (try? await runner.get("/api/fx/seen?consumer=\(consumer)").json(Seen.self).seen) ?? -1
    }

    /// The service database and the queue on `engine`: SQLite files by default, fresh PostgreSQL databases otherwise.
    func environment(_ engine: ServiceDatabase.Engine) throws -> [String: String] {
        guard engine == .postgres else { return [:] }
        return [
            "FIXTURES_DATABASE_URL": try TestDatabase.unusedPostgresURL(),
            "BLYTZ_QUEUE_URL": try TestDatabase.unusedPostgresURL(),
        ]
    }

    @Test(arguments: [ServiceDatabase.Engine.sqlite, .postgres])
    func eventsCommittedWithTheirWritesReachTheirConsumerOnce(engine: ServiceDatabase.Engine) async throws {
        try await withRunner(environment: try environment(engine)) { runner in
            for _ in 0..<5 {
                let hit = try await runner.request(.POST, "/api/fx/hits")
                #expect(hit.status == 200)
            }
            #expect(await eventually(within: .seconds(10)) { await seen(runner, "fx-on-hit") == 5 })
            let delivered = await runner.waitForLine { $0.contains(#""function":"fx-on-hit""#) && $0.contains(#""status":200"#) }
            #expect(delivered != nil)
        }
    }

    @Test(arguments: [ServiceDatabase.Engine.sqlite, .postgres])
    func aQueueFunctionWorksOnUpToItsMaxBatchesAtOnce(engine: ServiceDatabase.Engine) async throws {
        try await withRunner(environment: try environment(engine)) { runner in
            // fx-slow-4: scaling.max 4, batches of 2, 10 ms per event.
            var published: [String] = []
            for index in 0..<16 {
                struct Published: Decodable { var id: String }
                published.append(try await runner.post("/_local/events", json: #"{"type":"SlowThing","data":{"n":"\#(index)"}}"#).json(Published.self).id)
            }
            #expect(await eventually(within: .seconds(20)) { Set(runner.deliveredEvents(to: "fx-slow-4")) == Set(published) })
            #expect(await seen(runner, "fx-slow-4") == 16)
            // Batches overlapped in time, and never more than four at once.
            struct Logged: Decodable { var function: String; var time: String; var durationMs: Double }
            let format = Date.ISO8601FormatStyle(includingFractionalSeconds: true)
            let intervals = runner.lines.compactMap { try? JSONDecoder().decode(Logged.self, from: Data($0.utf8)) }.filter { $0.function == "fx-slow-4" }.compactMap { line in
                (try? Date(line.time, strategy: format)).map { end in (start: end.addingTimeInterval(-line.durationMs / 1000), end: end) }
            }
            // The most batches running at one moment (times are logged to the millisecond: each end is taken 1 ms early).
            let edges = intervals.flatMap { [($0.start, 1), ($0.end.addingTimeInterval(-0.001), -1)] }.sorted { ($0.0, $0.1) < ($1.0, $1.1) }
            var running = 0
            let most = edges.map { edge in running += edge.1; return running }.max() ?? 0
            #expect(most > 1 && most <= 4, "\(intervals)")
            let report = try await runner.pool("fx-slow-4")
            #expect(report.workersStarted <= 4)
        }
    }

    @Test func aPoisonEventIsDeadLetteredWithoutHoldingOthersUp() async throws {
        try await withRunner { runner in
            let poison = try blytz(["events", "publish", "ThingHappened", #"{"n":1,"fail":true}"#, "--gateway", runner.urls.gateway])
            #expect(poison.status == 0 && poison.output.contains("fx-queue"))
            let good = try blytz(["events", "publish", "ThingHappened", #"{"n":2}"#, "--gateway", runner.urls.gateway])
            #expect(good.status == 0)
            #expect(await eventually(within: .seconds(10)) { await seen(runner, "fx-queue") == 1 })

            // Three attempts (the first and two retries), then the dead-letter store.
            let dead = await eventually(within: .seconds(10)) {
                ((try? blytz(["events", "dlq", "list", "--data-dir", runner.dataDirectory]).output) ?? "").contains("ThingHappened")
            }
            #expect(dead)
            let listed = try blytz(["events", "dlq", "list", "--data-dir", runner.dataDirectory]).output
            #expect(listed.contains("attempts 3") && listed.contains("fx-queue"))
            let replayed = try blytz(["events", "dlq", "replay", "--function", "fx-queue", "--data-dir", runner.dataDirectory])
            #expect(replayed.output.contains("replayed 1"))
            #expect(await eventually(within: .seconds(10)) {
                ((try? blytz(["events", "dlq", "list", "--data-dir", runner.dataDirectory]).output) ?? "").contains("attempts 3")
            })
            let purged = try blytz(["events", "dlq", "purge", "--data-dir", runner.dataDirectory])
            #expect(purged.output.contains("purged 1"))
            let empty = try blytz(["events", "dlq", "list", "--data-dir", runner.dataDirectory]).output
            #expect(empty.isEmpty)
            #expect(await seen(runner, "fx-queue") == 1)
        }
    }

    @Test(arguments: [ServiceDatabase.Engine.sqlite, .postgres])
    func aConsumerKilledMidBatchLosesNothingAndRepeatsNoEffect(engine: ServiceDatabase.Engine) async throws {
        try await withRunner(environment: try environment(engine)) { runner in
            // One batch of three (the window gathers them): the worker commits the first event's effects,
            // then dies before the batch is acknowledged; all three are redelivered.
            for data in [#"{"die":true}"#, "{}", "{}"] {
                #expect(try blytz(["events", "publish", "Fragile", data, "--gateway", runner.urls.gateway]).status == 0)
            }
            #expect(await eventually(within: .seconds(15)) { await seen(runner, "fx-fragile") == 3 })
            let report = try await runner.pool("fx-fragile")
            #expect(report.crashes == 1)
            // Settled: the queue holds nothing more for it, and no effect was repeated.
            #expect(await eventually(within: .seconds(30)) { (try? await runner.queueIsDrained(for: "fx-fragile")) == true })
            #expect(await seen(runner, "fx-fragile") == 3)
        }
    }

    @Test(arguments: [ServiceDatabase.Engine.sqlite, .postgres])
    func aKilledRunnerDeliversEverythingOnceAfterARestart(engine: ServiceDatabase.Engine) async throws {
        let dataDirectory = NSTemporaryDirectory() + "blytz-restart-" + UUID().uuidString
        let environment = try environment(engine)
        let first = try await LocalRunner.start(manifest: fixturesManifest, environment: environment, dataDirectory: dataDirectory)
        for _ in 0..<20 {
            _ = try await first.request(.POST, "/api/fx/hits")
        }
        // Killed with events committed: some relayed, some delivered, some leased to a batch in flight.
        await first.stop(signal: SIGKILL)
        try await withRunner(environment: environment, dataDirectory: dataDirectory) { second in
            // Deliveries leased by the killed runner return when their lease (timeout + 5 s) ends.
            #expect(await eventually(within: .seconds(20)) { await seen(second, "fx-on-hit") == 20 })
            // Deliveries the killed runner had leased come back when their lease ends, and are acknowledged as repeats.
            #expect(await eventually(within: .seconds(30)) { (try? await second.queueIsDrained(for: "fx-on-hit")) == true })
            #expect(await seen(second, "fx-on-hit") == 20)
        }
    }
}
