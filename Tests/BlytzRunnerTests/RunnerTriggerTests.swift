#if canImport(Glibc)
import BlytzEvents
import Glibc
#endif
import Blytz
import BlytzTesting
import Foundation
import NIOHTTP1
import HummingbirdWSClient
import Logging
import NIOCore
import Testing

@testable import BlytzRunner

/// Schedules, direct invocation, WebSockets, hot reload and the CLI, through real processes.
@Suite(.serialized, .timeLimit(.minutes(2))) struct RunnerTriggerTests {
    @Test func schedulesFireOnTheirCron() async throws {
        try await withRunner { runner in
            let fired = await runner.waitForLine(timeout: .seconds(5)) { $0.contains(#""function":"fx-tick""#) && $0.contains(#""trigger":"schedule""#) }
            #expect(fired?.contains(#""status":200"#) == true)
            #expect(await eventually { FileManager.default.fileExists(atPath: runner.dataDirectory + "/ticks") })
        }
    }

    @Test func scheduleSlotsFireOnceAcrossARestartAndMissedOnesAreCaughtUp() async throws {
        let dataDirectory = NSTemporaryDirectory() + "blytz-schedule-" + UUID().uuidString
        let ticks = dataDirectory + "/ticks"
        func fired() -> [String] {
            ((try? String(contentsOfFile: ticks, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
        }
        try await withRunner(dataDirectory: dataDirectory) { _ in
            #expect(await eventually(within: .seconds(5)) { fired().count >= 2 })
        }
        let beforeRestart = fired()
        // Stopped across at least two slots (the schedule fires every second).
        try await Task.sleep(for: .milliseconds(2500))
        try await withRunner(dataDirectory: dataDirectory) { runner in
            #expect(await eventually(within: .seconds(5)) { fired().count >= beforeRestart.count + 2 })
            // The restarted runner said how many slots it missed, and fired the latest of them once.
            let log = (try? String(contentsOfFile: runner.dataDirectory + "/runner.log", encoding: .utf8)) ?? ""
            let missed = log.split(separator: "\n").first { $0.contains("schedule slots missed") && $0.contains("fx-tick") }
            let count = missed.flatMap { try? JSONDecoder().decode([String: String].self, from: Data($0.utf8))["missed"] }.flatMap(Int.init)
            #expect((count ?? 0) >= 2, "\(missed ?? "no missed-slots line")")
        }
        let all = fired()
        #expect(Set(all).count == all.count, "a slot fired twice: \(all)")
        // Every slot after the restart is later than every slot before it.
        let last = beforeRestart.compactMap { try? Date($0, strategy: .iso8601) }.max() ?? .distantPast
        #expect(all.dropFirst(beforeRestart.count).compactMap { try? Date($0, strategy: .iso8601) }.allSatisfy { $0 > last })
    }

    @Test func blytzInvokeSendsARawEventAndPrintsTheResult() async throws {
        try await withRunner { runner in
            func envelope(_ id: String, _ data: String) -> String {
                #"{"id":"\#(id)","type":"ThingHappened","source":"test","time":"2026-11-24T00:00:00Z","data":\#(data)}"#
            }
            let batch = SQSEvent(records: [
                .init(messageId: "ok-1", body: envelope("ok-1", #"{"n":1}"#), queue: "fx-queue"),
                .init(messageId: "bad-2", body: envelope("bad-2", #"{"n":2,"fail":true}"#), queue: "fx-queue"),
            ])
            let event = String(decoding: try JSONEncoder().encode(batch), as: UTF8.self)
            let (status, output) = try blytz(["invoke", "fx-queue", "--event", event, "--gateway", runner.urls.gateway])
            #expect(status == 0)
            let response = try JSONDecoder().decode(SQSBatchResponse.self, from: Data(output.utf8))
            #expect(response.batchItemFailures.map(\.itemIdentifier) == ["bad-2"])

            let (scheduleStatus, _) = try blytz(["invoke", "fx-tick", "--gateway", runner.urls.gateway])
            #expect(scheduleStatus == 0)
            let (connectStatus, connectOutput) = try blytz(["invoke", "fx-ws-connect", "--gateway", runner.urls.gateway])
            #expect(connectStatus == 0 && connectOutput.contains("401"))
            let (unknownStatus, _) = try blytz(["invoke", "no-such-function", "--gateway", runner.urls.gateway])
            #expect(unknownStatus == 1)
        }
    }

    @Test func webSocketsFollowTheAPIGatewayModel() async throws {
        try await withRunner { runner in
            let wsBase = runner.urls.gateway.replacingOccurrences(of: "http://", with: "ws://")
            let logger = Logger(label: "ws-test")

            // $connect refuses: no upgrade, and the client gets $connect's status with a problem document.
            await #expect(throws: (any Error).self) {
                try await WebSocketClient.connect(url: "\(wsBase)/api/socket?token=bad", logger: logger) { _, _, _ in }
            }
            let upgrade = ["Connection": "Upgrade", "Upgrade": "websocket", "Sec-WebSocket-Version": "13", "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ=="]
            let refused = try await runner.get("/api/socket?token=bad", headers: upgrade)
            #expect(refused.status == 401)
            #expect(try refused.json(Problem.self).detail == "a valid token is required")
            let direct = try await runner.get("/socket?token=bad", base: runner.urls.services["fixtures"], headers: upgrade)
            #expect(direct.status == 401)
            // A plain GET of the WebSocket path is not routed to any HTTP function.
            #expect(try await runner.get("/api/socket").status == 404)

            let received = try await WebSocketClient.connect(url: "\(wsBase)/api/socket?token=good", logger: logger) { inbound, outbound, _ in
                var messages: [String] = []
                try await outbound.write(.text("hello"))
                var iterator = inbound.messages(maxSize: 1 << 16).makeAsyncIterator()
                for _ in 0..<2 {
                    if case .text(let text) = try await iterator.next() { messages.append(text) }
                }
                try await outbound.write(.text(#"{"action":"shout","say":"hey"}"#))
                if case .text(let text) = try await iterator.next() { messages.append(text) }
                try await outbound.write(.text("close me"))
                while let message = try await iterator.next() {
                    if case .text(let text) = message { messages.append(text) }
                }
                #expect(messages.contains("pushed:hello") && messages.contains("echo:hello"))
                #expect(messages.contains(#"{"ACTION":"SHOUT","SAY":"HEY"}"#))
            }
            _ = received
            #expect(await eventually { FileManager.default.fileExists(atPath: runner.dataDirectory + "/disconnects") })
            let gone = try await runner.request(.POST, "/@connections/doesnotexist", body: Data("x".utf8))
            #expect(gone.status == 410)
        }
    }

    @Test func watchRebuildsAndReplacesWorkersWithoutDroppingInFlightRequests() async throws {
        let directory = NSTemporaryDirectory() + "blytz-watch-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: directory + "/src", withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: "Tests/Fixtures/python_worker.py", toPath: directory + "/worker.py")
        try "v1".write(toFile: directory + "/src/version.txt", atomically: true, encoding: .utf8)
        try "v1".write(toFile: directory + "/version.txt", atomically: true, encoding: .utf8)
        let manifest = """
            version: 1
            services:
              live: { port: 4201, executable: blytz-fixtures, database: live_db, sources: [src], build: [/bin/cp, src/version.txt, version.txt] }
            functions:
              live-hello: { service: live, http: GET /live/hello, command: [python3, worker.py], scaling: { min: 1, max: 2 } }
            """
        try manifest.write(toFile: directory + "/functions.yaml", atomically: true, encoding: .utf8)
        try await withRunner(manifest: directory + "/functions.yaml", arguments: ["--watch"]) { runner in
            struct Hello: Decodable { var version: String; var pid: Int32 }
            #expect(try await runner.get("/api/live/hello").json(Hello.self).version == "v1")
            async let inFlight = runner.get("/api/live/hello?ms=1500")
            #expect(await eventually { (try? await runner.pool("live-hello").workers.busy) == 1 })
            try "v2".write(toFile: directory + "/src/version.txt", atomically: true, encoding: .utf8)
            #expect(await eventually(within: .seconds(10)) { (try? await runner.get("/api/live/hello").json(Hello.self).version) == "v2" })
            let old = try await inFlight
            #expect(old.status == 200)
            #expect(try old.json(Hello.self).version == "v1")
        }
    }

    @Test func stoppingTheRunnerStopsABuildUnderWay() async throws {
        let directory = NSTemporaryDirectory() + "blytz-watch-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: directory + "/src", withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: "Tests/Fixtures/python_worker.py", toPath: directory + "/worker.py")
        try "v1".write(toFile: directory + "/src/version.txt", atomically: true, encoding: .utf8)
        try """
            version: 1
            services:
              live: { port: 4201, executable: blytz-fixtures, database: live_db, sources: [src], build: [/bin/sh, -c, "echo $$ > building.pid; exec sleep 60"] }
            functions:
              live-hello: { service: live, http: GET /live/hello, command: [python3, worker.py] }
            """.write(toFile: directory + "/functions.yaml", atomically: true, encoding: .utf8)
        let runner = try await LocalRunner.start(manifest: directory + "/functions.yaml", arguments: ["--watch"])
        try "v2".write(toFile: directory + "/src/version.txt", atomically: true, encoding: .utf8)
        #expect(await eventually(within: .seconds(10)) { FileManager.default.fileExists(atPath: directory + "/building.pid") })
        let build = try #require(Int32(try String(contentsOfFile: directory + "/building.pid", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)))
        #expect(isAlive(build))
        let start = ContinuousClock.now
        #expect(await runner.stop() == 0)
        #expect(ContinuousClock.now - start < .seconds(10))
        #expect(await eventually(within: .seconds(5)) { !isAlive(build) })
    }

    @Test func validateRefusesABadManifestWithFileLineAndStatus1() throws {
        let path = NSTemporaryDirectory() + "bad-\(UUID().uuidString).yaml"
        try """
            version: 1
            services:
              users: { port: 3001, executable: users, database: users_db }
            functions:
              a: { service: users, http: GET /users/a }
              b: { service: users, http: GET /users/a, colour: red }
            """.write(toFile: path, atomically: true, encoding: .utf8)
        let (status, output) = try blytz(["validate", path])
        #expect(status == 1)
        #expect(output.contains("\(path):6: unknown key 'colour'"))
        #expect(output.contains("\(path):6: function 'b' (GET /users/a) is ambiguous with 'a'") == false || output.contains(":6:"))

        let (goodStatus, goodOutput) = try blytz(["validate", "functions.yaml"])
        #expect(goodStatus == 0 && goodOutput.contains("6 services"))

        let (routesStatus, routes) = try blytz(["routes", "functions.yaml"])
        #expect(routesStatus == 0 && routes.contains("users-register") && routes.contains("/api/auth/register"))
    }
}
