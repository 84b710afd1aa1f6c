#if canImport(Glibc)
import Glibc
#endif
import BlytzManifest
import Logging
import NIOCore
import Synchronization

/// The workers of one function: separate processes speaking the Runtime API, one invocation each.
///
/// Scaling follows the manifest: `min` workers kept warm, a new worker started when every worker is
/// busy (up to `max`), idle workers above `min` stopped after `idle`, crashed workers replaced (with
/// backoff when they crash at start), an invocation past its timeout answered 504 and its worker killed,
/// a full backlog answered 503. All decisions happen under one lock; their effects (spawning, signalling,
/// completing promises) run after it is released.
final class FunctionPool: Sendable {
    let function: FunctionSpec
    let launcher: WorkerLauncher
    let logger: Logger
    /// Signalled when an invocation says it published events: they have committed by then.
    let afterPublishing: Wakeup?
    let metrics: RunnerMetrics?
    private let state: Mutex<State>
    private let spawnRequests: AsyncStream<Int>.Continuation
    private let spawnStream: AsyncStream<Int>

    init(function: FunctionSpec, launcher: WorkerLauncher, logger: Logger, afterPublishing: Wakeup? = nil, metrics: RunnerMetrics? = nil) {
        self.function = function
        self.metrics = metrics
        self.launcher = launcher
        self.afterPublishing = afterPublishing
        var logger = logger
        logger[metadataKey: "function"] = "\(function.name)"
        self.logger = logger
        self.state = Mutex(State(scaling: function.scaling))
        (spawnStream, spawnRequests) = AsyncStream.makeStream(of: Int.self)
    }

    // MARK: Invocations

    /// Runs one invocation on a worker and returns how it ended.
    func invoke(id: String, payload: ByteBuffer, traceparent: String?, on eventLoop: any EventLoop) async -> InvocationResult {
        let invocation = Invocation(
            id: id, payload: payload, traceparent: traceparent, timeout: TimeAmount(function.timeout),
            eventLoop: eventLoop
        )
        let effects = state.withLock { $0.accept(invocation, now: .now()) }
        perform(effects)
        let timer = eventLoop.scheduleTask(deadline: invocation.deadline) { [self] in timedOut(invocation.id) }
        let result = (try? await invocation.promise.futureResult.get()) ?? .failed(.shuttingDown)
        timer.cancel()
        let micros = Int((NIODeadline.now() - invocation.arrivedAt).nanoseconds / 1000)
        state.withLock { $0.metrics.record(latencyMicros: micros) }
        return result
    }

    private func timedOut(_ id: String) {
        perform(state.withLock { $0.timeOut(id) })
    }

    // MARK: Runtime API events

    /// A worker asks for its next invocation (`GET /runtime/invocation/next`).
    func next(worker: Int, promise: EventLoopPromise<NextInvocation>) {
        let (effects, started) = state.withLock { ($0.next(worker: worker, promise: promise, now: .now()), $0.metrics.takeColdStarts()) }
        for micros in started { metrics?.started(function: function.name, afterMicroseconds: micros) }
        perform(effects)
    }

    /// A worker answers (`/response` or `/error`); false when the id is not this worker's invocation.
    func respond(worker: Int, invocation id: String, body: ByteBuffer, isError: Bool, published: Bool = false) -> Bool {
        let effects = state.withLock { $0.respond(worker: worker, invocation: id, body: body, isError: isError) }
        if published && !effects.isEmpty { afterPublishing?.signal() }
        perform(effects)
        return !effects.isEmpty
    }

    /// A worker reports it could not initialise (`/runtime/init/error`).
    func initFailed(worker: Int, reason: String) {
        logger.error("worker failed to initialise", metadata: ["worker": "\(worker)", "error": "\(reason)"])
        perform(state.withLock { $0.initFailed(worker: worker, reason: reason) })
    }

    // MARK: Lifecycle

    /// Replaces every worker: idle ones stop now, busy ones after their current invocation; nothing in flight is dropped.
    func recycle() {
        perform(state.withLock { $0.recycle(now: .now()) })
    }

    /// Keeps `min` warm, stops idle workers, and starts the workers the state asks for, until shutdown.
    func run() async {
        perform(state.withLock { $0.ensureMinimum(now: .now()) })
        await withDiscardingTaskGroup { group in
            group.addTask { [self] in
                let interval = min(function.scaling.idle / 4, .milliseconds(500))
                while !Task.isCancelled {
                    try? await Task.sleep(for: interval)
                    perform(state.withLock { $0.stopIdle(now: .now(), idle: function.scaling.idle) })
                }
            }
            for await worker in spawnStream {
                group.addTask { [self] in await start(worker) }
            }
            group.cancelAll()
        }
    }

    /// Fails waiting invocations, stops every worker (SIGTERM, then SIGKILL after `grace`) and waits for them.
    func shutdown(grace: Duration) async {
        perform(state.withLock { $0.shutdown() })
        spawnRequests.finish()
        // In-flight invocations finish first (drain), then every worker is told to stop, then killed.
        let deadline = ContinuousClock.now + grace
        while state.withLock({ $0.working > 0 }), ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(10))
        }
        for pid in state.withLock({ $0.workers.values.compactMap(\.pid) }) { launcher.spawner.kill(pid, SIGTERM) }
        let killAt = ContinuousClock.now + .seconds(2)
        while state.withLock({ !$0.workers.isEmpty }), ContinuousClock.now < killAt {
            try? await Task.sleep(for: .milliseconds(10))
        }
        for pid in state.withLock({ $0.workers.values.compactMap(\.pid) }) { launcher.spawner.kill(pid, SIGKILL) }
    }

    func snapshot() -> PoolSnapshot {
        state.withLock { PoolSnapshot(function: function, state: $0) }
    }

    private func start(_ worker: Int) async {
        if let delay = state.withLock({ $0.startDelay() }) {
            try? await Task.sleep(for: delay)
        }
        do {
            let spawned = try await launcher.launch(function: function, worker: worker, pool: self)
            let keep = state.withLock { $0.started(worker: worker, pid: spawned.process.pid) }
            if !keep { launcher.spawner.kill(spawned.process.pid, SIGTERM) }
            let exitCode = (try? await spawned.process.exit.get()) ?? -1
            await spawned.server.close()
            perform(state.withLock { $0.exited(worker: worker, exitCode: exitCode, now: .now()) })
        } catch {
            logger.error("cannot start worker", metadata: ["error": "\(error)"])
            perform(state.withLock { $0.initFailed(worker: worker, reason: "\(error)") + $0.exited(worker: worker, exitCode: 127, now: .now()) })
        }
    }

    private func perform(_ effects: [Effect]) {
        for effect in effects {
            switch effect {
            case .deliver(let promise, let next):
                promise.succeed(next)
            case .refuse(let promise):
                promise.fail(WorkerStopped())
            case .complete(let invocation, let result):
                invocation.promise.succeed(result)
            case .spawn(let worker):
                spawnRequests.yield(worker)
            case .signal(let pid, let signal):
                launcher.spawner.kill(pid, signal)
            case .log(let message, let worker):
                logger.info("\(message)", metadata: ["worker": "\(worker)"])
            }
        }
    }
}

/// Something to do once the lock is released.
enum Effect {
    case deliver(EventLoopPromise<NextInvocation>, NextInvocation)
    /// Ends a worker's pending `next` without work: it is being stopped.
    case refuse(EventLoopPromise<NextInvocation>)
    case complete(Invocation, InvocationResult)
    case spawn(worker: Int)
    case signal(pid: Int32, Int32)
    case log(String, worker: Int)
}

/// The answer to a `next` of a worker that is being stopped.
struct WorkerStopped: Error {}

/// One worker as the pool tracks it.
struct WorkerSlot {
    enum Phase {
        /// Spawned, not yet asking for work.
        case starting
        /// Waiting in `next` for an invocation.
        case idle(EventLoopPromise<NextInvocation>, since: NIODeadline)
        /// Holding an invocation.
        case busy(Invocation)
        /// Answered, not yet back in `next`.
        case returning
        /// Told to stop.
        case stopping
    }

    let id: Int
    let spawnedAt: NIODeadline
    var pid: Int32?
    var phase: Phase = .starting
    /// Stop instead of taking more work (hot reload).
    var retiring = false
    var served = 0
    var initFailure: String?
}
