#if canImport(Glibc)
import Glibc
#endif
import BlytzData
import BlytzTesting
import Foundation
import Logging
import NIOHTTP1
import SQLKit
import Testing

/// `blytz serve` and `blytz compose`: replicas of a service sharing the PostgreSQL event queue and the
/// schedule, and the compose file's routing read back from its labels.
@Suite(.serialized, .timeLimit(.minutes(5))) struct ServeTests {
    @Test func theComposeFileRoutesEveryRouteToItsServiceAndNothingElse() async throws {
        let python = try #require(ProcessInfo.processInfo.environment["BLYTZ_TEST_PYTHON"], "run the tests with ./local/test")
        let directory = NSTemporaryDirectory() + "blytz-compose-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try FileManager.default.copyItem(atPath: "functions.yaml", toPath: directory + "/functions.yaml")
        let blytz = LocalRunner.buildDirectory + "/blytz"
        let written = try runSucceeding([blytz, "compose", "--manifest", "functions.yaml", "--scale", "users=3"], in: directory)
        #expect(written.contains("deploy/compose.yaml") && written.contains("deploy/Dockerfile"))
        try "POSTGRES_PASSWORD=secret\n".write(toFile: directory + "/deploy/.env", atomically: true, encoding: .utf8)
        let routes = try runSucceeding([blytz, "routes", "--json", "functions.yaml"], in: directory)
        try routes.write(toFile: directory + "/routes.json", atomically: true, encoding: .utf8)
        let checked = try runSucceeding([python, FileManager.default.currentDirectoryPath + "/local/tools/compose_routes.py", "check", "deploy/compose.yaml", "routes.json"], in: directory)
        #expect(checked.contains("routes reach their service"))

        // docker-compose's reading of the file: replicas, the migration every service waits for, health checks.
        let config = try runSucceeding(["/usr/bin/docker-compose", "-f", "deploy/compose.yaml", "config"], in: directory)
        #expect(config.contains("replicas: 3") && config.contains("replicas: 2"))
        #expect(config.contains("condition: service_completed_successfully"))
        #expect(config.contains("postgres://blytz:secret@postgres:5432/blytz_events"))
        // Without the password the file is refused, rather than run with an empty one.
        try "".write(toFile: directory + "/deploy/.env", atomically: true, encoding: .utf8)
        #expect(throws: (any Error).self) { try runSucceeding(["/usr/bin/docker-compose", "-f", "deploy/compose.yaml", "config"], in: directory) }

        // The image recipe: release executables built in one stage, run by a non-root user in another.
        let dockerfile = try String(contentsOfFile: directory + "/deploy/Dockerfile", encoding: .utf8)
        let stages = dockerfile.split(separator: "\n").filter { $0.hasPrefix("FROM ") }
        #expect(stages.count == 2 && stages[0].contains(" AS build"))
        #expect(dockerfile.contains("swift build -c release --static-swift-stdlib"))
        for executable in ["blytz", "users", "marketplace", "contracts", "payments", "communication", "files"] {
            #expect(dockerfile.contains("\"$bin/\(executable)\""))
        }
        #expect(dockerfile.contains("COPY --from=build /out/ /app/bin/") && dockerfile.contains("\nUSER blytz\n") && dockerfile.contains("HEALTHCHECK"))
        #expect(!dockerfile.contains("USER root"))
        #expect(try String(contentsOfFile: directory + "/deploy/env.example", encoding: .utf8).contains("PAYMENTS_STRIPE_SECRET_KEY="))
    }

    @Test func replicasShareTheEventQueueAndFireEachScheduleSlotOnce() async throws {
        let fixturesURL = try TestDatabase.unusedPostgresURL()
        let environment = ["FIXTURES_DATABASE_URL": fixturesURL, "BLYTZ_QUEUE_URL": try TestDatabase.unusedPostgresURL()]
        let shared = NSTemporaryDirectory() + "blytz-serve-" + UUID().uuidString
        var replicas: [LocalRunner] = []
        for _ in 0..<2 {
            replicas.append(try await LocalRunner.serve("fixtures", manifest: fixturesManifest, port: 0, environment: environment, dataDirectory: shared))
        }
        let database = try ServiceDatabase.open(.postgres(url: fixturesURL), logger: Logger(label: "t"))
        try await using((replicas, database), cleanup: { for replica in $0.0 { await replica.stop() }; await $0.1.shutdown() }) { replicas, database in
            let ticksStarted = Date()
            // 600 events published through one replica; both replicas' consumers compete for them.
            let burst = try await replicas[0].request(.POST, "/fx/burst?n=600", base: replicas[0].urls.services["fixtures"], timeout: .seconds(60))
            #expect(burst.status == 200)
            struct Count: Decodable { var count: Int }
            let consumed = await eventually(within: .seconds(60)) {
                let count = try? await database.withConnection { sql in
                    try await sql.raw("SELECT count(*)::int AS count FROM _blytz_inbox WHERE consumer = 'fx-on-hit'").first(decoding: Count.self)?.count
                }
                return count == 600
            }
            #expect(consumed)
            // Every delivery is logged with its events: each event was handed over once, to one replica.
            _ = await eventually(within: .seconds(2)) {
                replicas.flatMap { $0.deliveredEvents(to: "fx-on-hit") }.count >= 600
            }
            let perReplica = replicas.map { $0.deliveredEvents(to: "fx-on-hit") }
            let all = perReplica.flatMap { $0 }
            #expect(all.count == 600 && Set(all).count == 600, "\(all.count) deliveries of \(Set(all).count) events")
            #expect(perReplica.allSatisfy { !$0.isEmpty }, "both replicas consume: \(perReplica.map(\.count))")

            // `fx-tick` fires every second: each slot once although both replicas schedule it.
            let waited = Date().timeIntervalSince(ticksStarted)
            if waited < 4 { try await Task.sleep(for: .seconds(4 - waited)) }
            let ticks = ((try? String(contentsOfFile: shared + "/ticks", encoding: .utf8)) ?? "").split(separator: "\n")
            #expect(ticks.count >= 3 && Set(ticks).count == ticks.count, "\(ticks.count) firings of \(Set(ticks).count) slots")

            // SIGTERM drains: a request in flight on the replica is answered before it exits, cleanly.
            async let slow = replicas[1].request(.GET, "/fx/slow?ms=1500", base: replicas[1].urls.services["fixtures"])
            try await Task.sleep(for: .milliseconds(300))
            let status = await replicas[1].stop(signal: SIGTERM, timeout: .seconds(20))
            #expect(try await slow.status == 200)
            #expect(status == 0)
        }
    }

    @Test func servingAServiceTheManifestLacksFails() async throws {
        await #expect(throws: LocalRunner.StartFailed.self) {
            _ = try await LocalRunner.serve("nope", manifest: fixturesManifest, port: 0, dataDirectory: NSTemporaryDirectory() + "blytz-serve-" + UUID().uuidString)
        }
    }
}
