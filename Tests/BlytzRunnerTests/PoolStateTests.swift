#if canImport(Glibc)
import BlytzEvents
import Glibc
#endif
import BlytzManifest
import NIOCore
import NIOEmbedded
import Testing

@testable import BlytzRunner

/// The pool's scaling decisions, driven directly with a manual clock.
@Suite struct PoolStateTests {
    let loop = EmbeddedEventLoop()
    let start = NIODeadline.uptimeNanoseconds(1_000_000_000_000)

    func makeState(min: Int = 0, max: Int = 2, backlog: Int = 1, idle: Duration = .seconds(60)) -> FunctionPool.State {
        FunctionPool.State(scaling: Scaling(min: min, max: max, idle: idle, backlog: backlog))
    }

    func invocation(_ id: String) -> Invocation {
        Invocation(id: id, payload: ByteBuffer(string: id), traceparent: nil, timeout: .seconds(10), eventLoop: loop, now: start)
    }

    func spawned(_ effects: [Effect]) -> [Int] {
        effects.compactMap { if case .spawn(let worker) = $0 { worker } else { nil } }
    }

    func delivered(_ effects: [Effect]) -> [String] {
        effects.compactMap { if case .deliver(let promise, let next) = $0 { promise.succeed(next); return next.id } else { return nil } }
    }

    func completed(_ effects: [Effect]) -> [(String, InvocationResult)] {
        effects.compactMap { if case .complete(let invocation, let result) = $0 { invocation.promise.succeed(result); return (invocation.id, result) } else { return nil } }
    }

    func failure(_ result: InvocationResult) -> InvocationFailure? {
        if case .failed(let failure) = result { failure } else { nil }
    }

    /// Fulfils whatever the effects left pending, so no promise leaks.
    func settle(_ effects: [Effect]) {
        _ = delivered(effects)
        _ = completed(effects)
        for effect in effects { if case .refuse(let promise) = effect { promise.fail(WorkerStopped()) } }
    }

    @Test func scalesUpToMaxThenQueuesUpToTheBacklogThenRefuses() {
        var state = makeState(max: 2, backlog: 1)
        let first = spawned(state.accept(invocation("a"), now: start))
        let second = spawned(state.accept(invocation("b"), now: start))
        #expect(first == [1] && second == [2])
        let third = state.accept(invocation("c"), now: start)
        #expect(third.isEmpty)
        let fourth = completed(state.accept(invocation("d"), now: start))
        #expect(fourth.count == 1 && failure(fourth[0].1) == .backlogFull)
        #expect(state.metrics.throttled == 1 && state.backlog.count == 3)
        settle(state.shutdown())
    }

    @Test func workersTakeQueuedInvocationsInOrderAndTheFirstIsCold() {
        var state = makeState(max: 1, backlog: 4)
        _ = state.accept(invocation("a"), now: start)
        _ = state.accept(invocation("b"), now: start)
        let started = state.started(worker: 1, pid: 4242)
        #expect(started)
        let firstDelivery = delivered(state.next(worker: 1, promise: loop.makePromise(), now: start + .milliseconds(6)))
        #expect(firstDelivery == ["a"])
        #expect(state.metrics.coldStartPercentile(50) == 6)
        let first = completed(state.respond(worker: 1, invocation: "a", body: ByteBuffer(), isError: false))
        guard case .response(_, let cold) = first.first?.1 else { Issue.record("no response"); return }
        #expect(cold)
        let repeated = state.respond(worker: 1, invocation: "a", body: ByteBuffer(), isError: false)
        #expect(repeated.isEmpty)
        let secondDelivery = delivered(state.next(worker: 1, promise: loop.makePromise(), now: start))
        #expect(secondDelivery == ["b"])
        let second = completed(state.respond(worker: 1, invocation: "b", body: ByteBuffer(), isError: true))
        guard case .functionError(_, let secondCold) = second.first?.1 else { Issue.record("no error"); return }
        #expect(!secondCold && state.metrics.errors == 1)
        settle(state.shutdown())
    }

    @Test func idleWorkersAboveMinStopAfterTheIdleTimeout() {
        var state = makeState(min: 1, max: 3, idle: .seconds(30))
        let warm = spawned(state.ensureMinimum(now: start))
        #expect(warm == [1])
        // Three queued invocations bring the pool from its one warm worker to three.
        var spawns: [Int] = []
        for id in ["a", "b", "c"] { spawns += spawned(state.accept(invocation(id), now: start)) }
        #expect(spawns == [2, 3])
        for (worker, id) in [(1, "a"), (2, "b"), (3, "c")] {
            _ = state.started(worker: worker, pid: Int32(100 + worker))
            settle(state.next(worker: worker, promise: loop.makePromise(), now: start))
            settle(state.respond(worker: worker, invocation: id, body: ByteBuffer(), isError: false))
        }
        for worker in 1...3 { settle(state.next(worker: worker, promise: loop.makePromise(), now: start)) }
        let early = state.stopIdle(now: start + .seconds(29), idle: .seconds(30))
        #expect(early.isEmpty)
        let stopping = state.stopIdle(now: start + .seconds(30), idle: .seconds(30))
        let signals = stopping.compactMap { if case .signal(let pid, let signal) = $0 { (pid, signal) } else { nil } }
        #expect(signals.count == 2 && signals.allSatisfy { $0.1 == SIGTERM })
        #expect(state.live == 1)
        settle(stopping)
        settle(state.shutdown())
    }

    @Test func aWorkerThatDiesAtStartFailsTheQueueAndBacksOff() {
        var state = makeState(max: 2, backlog: 4)
        _ = state.accept(invocation("a"), now: start)
        _ = state.initFailed(worker: 1, reason: "no handler named 'x'")
        let failed = completed(state.exited(worker: 1, exitCode: 1, now: start))
        #expect(failed.map(\.0) == ["a"] && failure(failed[0].1) == .startFailed("no handler named 'x'"))
        #expect(state.startDelay() == .milliseconds(100))
        let during = completed(state.accept(invocation("b"), now: start + .milliseconds(50)))
        #expect(during.count == 1 && failure(during[0].1) == .startFailed("no handler named 'x'"))
        let retried = spawned(state.accept(invocation("c"), now: start + .milliseconds(150)))
        #expect(retried == [2])
        _ = state.exited(worker: 2, exitCode: 1, now: start + .milliseconds(160)).map { settle([$0]) }
        #expect(state.startDelay() == .milliseconds(200))
        settle(state.shutdown())
    }

    @Test func aTimeoutFailsAQueuedInvocationOrKillsItsWorker() {
        var state = makeState(max: 1, backlog: 2)
        _ = state.accept(invocation("a"), now: start)
        _ = state.accept(invocation("b"), now: start)
        _ = state.started(worker: 1, pid: 777)
        settle(state.next(worker: 1, promise: loop.makePromise(), now: start))
        let queued = completed(state.timeOut("b"))
        #expect(queued.count == 1 && failure(queued[0].1) == .timedOut)
        let running = state.timeOut("a")
        #expect(running.contains { if case .signal(777, SIGKILL) = $0 { true } else { false } })
        settle(running)
        #expect(state.metrics.timeouts == 2)
        // The killed worker's exit is expected: no crash is counted, no invocation is failed twice.
        let exit = completed(state.exited(worker: 1, exitCode: 137, now: start))
        #expect(exit.isEmpty)
        #expect(state.metrics.crashes == 0)
        settle(state.shutdown())
    }

    @Test func recycleRetiresBusyWorkersAfterTheirInvocationAndStartsFreshOnes() {
        var state = makeState(min: 1, max: 2)
        _ = state.ensureMinimum(now: start)
        _ = state.accept(invocation("a"), now: start)
        _ = state.started(worker: 1, pid: 900)
        settle(state.next(worker: 1, promise: loop.makePromise(), now: start))
        let recycled = state.recycle(now: start)
        #expect(spawned(recycled) == [2])
        let done = completed(state.respond(worker: 1, invocation: "a", body: ByteBuffer(), isError: false))
        #expect(done.count == 1)
        let after = state.next(worker: 1, promise: loop.makePromise(), now: start)
        #expect(after.contains { if case .signal(900, SIGTERM) = $0 { true } else { false } })
        settle(after)
        settle(state.shutdown())
    }
}
