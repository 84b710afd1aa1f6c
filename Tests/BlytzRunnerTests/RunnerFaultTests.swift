import BlytzData
import BlytzTesting
import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Logging
import NIOHTTP1
import SQLKit
import Synchronization
import Testing

/// The event path on PostgreSQL through faults of the server: restarts (fast and immediate) and killed
/// backends while events are being published and delivered. Every published event is delivered once,
/// nothing that answered 200 is lost, delivery resumes within seconds, and SIGTERM still stops the runner.
@Suite(.serialized, .timeLimit(.minutes(8))) struct RunnerFaultTests {
    enum Fault: String, CaseIterable, Sendable {
        case fastRestart, immediateRestart, terminatedBackends
    }

    struct Counts: Decodable { var count: Int }

    /// What the publishing clients were answered: the request ids of the 200s, and how many were not.
    final class Answers: Sendable {
        let state = Mutex<(ok: [String], failed: Int)>(([], 0))
    }

    /// Four clients publish a hit each, one request after another, for `duration`.
    func publish(through runner: LocalRunner, for duration: Duration, into answers: Answers) async {
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<4 {
                group.addTask {
                    let end = ContinuousClock.now + duration
                    while ContinuousClock.now < end {
                        let reply = try? await runner.request(.POST, "/api/fx/hits", timeout: .seconds(20))
                        answers.state.withLock { answered in
                            if let reply, reply.status == 200 { answered.ok.append(reply.header("x-request-id") ?? "") } else { answered.failed += 1 }
                        }
                    }
                }
            }
        }
    }

    @Test(arguments: Fault.allCases)
    func eventsSurviveAPostgresFault(fault: Fault) async throws {
        try await PostgresServer.with { server in
            let environment = [
                "FIXTURES_DATABASE_URL": server.url(database: "fixtures_db"),
                "BLYTZ_QUEUE_URL": server.url(database: "events"),
            ]
            let runner = try await LocalRunner.start(manifest: fixturesManifest, environment: environment)
            let database = try ServiceDatabase.open(.postgres(url: server.url(database: "fixtures_db")), logger: Logger(label: "t"))
            try await using((runner, database), cleanup: { _ = await $0.0.stop(signal: SIGKILL); await $0.1.shutdown() }) { runner, database in
                @Sendable func count(_ query: SQLQueryString) async throws -> Int {
                    try await database.withConnection { sql in try await sql.raw(query).first(decoding: Counts.self)?.count ?? -1 }
                }
                @Sendable func consumed() async -> Int {
                    (try? await count("SELECT count(*)::int AS count FROM _blytz_inbox WHERE consumer = 'fx-on-hit'")) ?? -1
                }
                // A backlog of 2,000 events is being delivered when the fault strikes.
                let burst = try await runner.request(.POST, "/api/fx/burst?n=2000", timeout: .seconds(60))
                #expect(burst.status == 200, "\(burst.text)")
                let answers = Answers()
                // Publishing goes on for four seconds; the fault strikes after the first.
                async let publishing: Void = publish(through: runner, for: .seconds(4), into: answers)
                try await Task.sleep(for: .seconds(1))
                let struck = ContinuousClock.now
                switch fault {
                case .fastRestart: try await server.restart(.fast)
                case .immediateRestart: try await server.restart(.immediate)
                case .terminatedBackends: try await server.terminateBackends()
                }
                // How long after the fault the backlog moves again.
                let recovered = ContinuousClock.now
                let before = await consumed()
                let resumed = await eventually(within: .seconds(20)) { await consumed() > before }
                let resumedAfter = ContinuousClock.now - recovered
                #expect(resumed && resumedAfter < .seconds(5), "delivery resumed \(resumedAfter) after the fault")
                let stalled = ContinuousClock.now - struck
                await publishing
                let (ok, failed) = answers.state.withLock { ($0.ok, $0.failed) }
                #expect(ok.count > 20, "publishing went on around the fault (\(ok.count) answered 200, \(failed) did not)")

                // Every hit that answered 200 was committed with its event.
                let committed = try await count("SELECT count(*)::int AS count FROM hits WHERE id IN (\(binds: ok))")
                #expect(committed == ok.count)
                let published = try await count("SELECT count(*)::int AS count FROM _blytz_outbox WHERE type = 'HitRecorded'")
                #expect(published >= ok.count)
                // Every published event reaches the consumer, once: delivery goes on until it has, never
                // standing still for long (how fast depends on the machine's load).
                var consumedCount = await consumed()
                var progressed = ContinuousClock.now
                while consumedCount < published, ContinuousClock.now - progressed < .seconds(15) {
                    try await Task.sleep(for: .milliseconds(250))
                    let now = await consumed()
                    if now > consumedCount { progressed = .now }
                    consumedCount = now
                }
                #expect(consumedCount == published, "\(consumedCount) of \(published) published events delivered; none for 15 s")
                #expect(try await count("SELECT count(DISTINCT event_id)::int AS count FROM latencies") == published)
                #expect(try await count("SELECT count(*)::int AS count FROM latencies") == published)
                print("postgres fault \(fault.rawValue): delivery stalled \(stalled.formatted(.units(allowed: [.milliseconds]))) from the fault's start (\((recovered - struck).formatted(.units(allowed: [.milliseconds]))) of it the fault itself); \(ok.count) publishes answered 200, \(failed) did not; \(consumedCount) of \(published) events delivered once")

                // The runner still stops on SIGTERM, within its drain timeout.
                let stopping = ContinuousClock.now
                let status = await runner.stop(signal: SIGTERM, timeout: .seconds(20))
                #expect(ContinuousClock.now - stopping < .seconds(15))
                #expect(status != SIGKILL + 128 && status != SIGKILL)
            }
        }
    }
}
