#if canImport(Glibc)
import BlytzEvents
import Glibc
#endif
import Blytz
import BlytzTesting
import Foundation
import Testing

@testable import BlytzRunner

/// Worker pools: isolation from crashes and hangs, scaling, backlog, start failures and shutdown.
@Suite(.serialized, .timeLimit(.minutes(2))) struct RunnerWorkerTests {
    @Test func aWorkerThatCrashesMidInvocationAnswers502AndIsReplaced() async throws {
        try await withRunner { runner in
            let start = ContinuousClock.now
            let crashed = try await runner.get("/api/fx/crash")
            #expect(crashed.status == 502)
            #expect(ContinuousClock.now - start < .seconds(2))
            #expect(try await runner.get("/api/fx/slow?ms=1").status == 200)
            #expect(try await runner.get("/api/fx/crash").status == 502)
            let report = try await runner.pool("fx-crash")
            #expect(report.crashes == 2 && report.workersStarted == 2)
        }
    }

    @Test func aWorkerKilledFromOutsideFailsOnlyItsOwnInvocation() async throws {
        try await withRunner { runner in
            let warm = try await runner.get("/api/fx/slow?ms=1").json(SlowReply.self)
            let other = try await runner.get("/api/fx/inspect/1/x")
            #expect(other.status == 200)
            async let victim = runner.get("/api/fx/slow?ms=5000")
            #expect(await eventually { (try? await runner.pool("fx-slow").workers.busy) == 1 })
            let killedAt = ContinuousClock.now
            kill(warm.pid, SIGKILL)
            let reply = try await victim
            #expect(reply.status == 502)
            // At once, not after the 5 s the handler would have taken (with room for a loaded machine).
            #expect(ContinuousClock.now - killedAt < .seconds(3))
            #expect(try await runner.get("/api/fx/inspect/1/x").status == 200)
            #expect(try await runner.get("/api/fx/slow?ms=1").status == 200)
        }
    }

    @Test func aHungWorkerIsKilledAtItsTimeoutAndAnswers504() async throws {
        try await withRunner { runner in
            async let hung = runner.get("/api/fx/hang")
            // While one function spins, others keep answering.
            #expect(try await runner.get("/api/fx/slow?ms=1").status == 200)
            let start = ContinuousClock.now
            let reply = try await hung
            #expect(reply.status == 504)
            // Its timeout is 1 s; the bound leaves room for a loaded machine, far below the 10 s default.
            #expect(ContinuousClock.now - start < .seconds(5))
            #expect(await eventually { (try? await runner.pool("fx-hang").workers.total) == 0 })
            let report = try await runner.pool("fx-hang")
            #expect(report.timeouts == 1)
        }
    }

    @Test func aFullBacklogAnswers503WithRetryAfter() async throws {
        try await withRunner { runner in
            // fx-scaled: at most 3 workers and 2 waiting; 8 concurrent calls leave 3 refused.
            let replies = try await withThrowingTaskGroup(of: LocalRunner.Reply.self) { group in
                for _ in 0..<8 { group.addTask { try await runner.get("/api/fx/scaled?ms=1500") } }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            let refused = replies.filter { $0.status == 503 }
            let served = replies.filter { $0.status == 200 }
            #expect(served.count == 5)
            #expect(refused.count == 3)
            #expect(refused.allSatisfy { $0.header("retry-after") == "1" && $0.header("content-type") == "application/problem+json" })
            let pids = Set(try served.map { try $0.json(SlowReply.self).pid })
            #expect(pids.count == 3)
            let report = try await runner.pool("fx-scaled")
            #expect(report.workersStarted == 3 && report.throttled == 3)
            // Idle workers above min (0) stop after 400ms.
            #expect(await eventually { (try? await runner.pool("fx-scaled").workers.total) == 0 })
        }
    }

    @Test func minWorkersAreKeptWarmAndEachHoldsOneInvocation() async throws {
        try await withRunner { runner in
            #expect(await eventually { (try? await runner.pool("fx-warm").workers.idle) == 2 })
            async let first = runner.get("/api/fx/warm?ms=400")
            async let second = runner.get("/api/fx/warm?ms=400")
            let (a, b) = try await (first.json(SlowReply.self), second.json(SlowReply.self))
            #expect(a.pid != b.pid)
            let report = try await runner.pool("fx-warm")
            #expect(report.workersStarted == 2 && report.coldStarts == 2)
            #expect(report.coldStartMs.p50 != nil)
        }
    }

    @Test func aFunctionThatCannotStartAnswers502QuicklyWithoutRespawningInALoop() async throws {
        try await withRunner { runner in
            let start = ContinuousClock.now
            let first = try await runner.get("/api/fx/exits")
            #expect(first.status == 502)
            #expect(try first.json(Problem.self).detail?.contains("failed to start") == true)
            let second = try await runner.get("/api/fx/exits")
            #expect(second.status == 502)
            // Both answered without waiting for the function's 5 s timeout even once.
            #expect(ContinuousClock.now - start < .seconds(4))
            #expect(try await runner.pool("fx-exits").workersStarted <= 2)

            let missing = try await runner.get("/api/fx/missing")
            #expect(missing.status == 502)
            #expect(try missing.json(Problem.self).detail?.contains("no handler named 'fx-missing'") == true)
        }
    }

    @Test func sigtermDrainsInFlightWorkAndLeavesNoWorkers() async throws {
        let runner = try await LocalRunner.start(manifest: fixturesManifest)
        let warm = try await runner.get("/api/fx/warm?ms=1").json(SlowReply.self)
        async let inFlight = runner.get("/api/fx/slow?ms=800")
        #expect(await eventually { (try? await runner.pool("fx-slow").workers.busy) == 1 })
        let status = await runner.stop(signal: SIGTERM)
        let reply = try await inFlight
        #expect(reply.status == 200)
        #expect(status == 0)
        let slow = try reply.json(SlowReply.self)
        #expect(await eventually(within: .seconds(3)) { !isAlive(slow.pid) && !isAlive(warm.pid) })
    }

    @Test func sigtermClosesAConnectionThatHasNotSentARequestYet() async throws {
        let runner = try await LocalRunner.start(manifest: fixturesManifest)
        let port = try #require(URLComponents(string: runner.urls.gateway)?.port)
        let idle = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(idle) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(idle, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        #expect(connected == 0)
        try await Task.sleep(for: .milliseconds(200))
        let start = ContinuousClock.now
        #expect(await runner.stop(signal: SIGTERM) == 0)
        #expect(ContinuousClock.now - start < .seconds(5))
    }

    @Test func aKilledRunnerTakesItsWorkersWithIt() async throws {
        let runner = try await LocalRunner.start(manifest: fixturesManifest)
        let worker = try await runner.get("/api/fx/slow?ms=1").json(SlowReply.self)
        #expect(isAlive(worker.pid))
        await runner.stop(signal: SIGKILL)
        #expect(await eventually(within: .seconds(3)) { !isAlive(worker.pid) })
    }
}
