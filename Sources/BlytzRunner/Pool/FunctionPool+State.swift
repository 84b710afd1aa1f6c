#if canImport(Glibc)
import Glibc
#endif
import BlytzManifest
import NIOCore

extension FunctionPool {
    /// Every scaling decision of a pool: a pure state machine over the time it is handed, its effects
    /// returned to the caller.
    struct State {
        let scaling: Scaling
        var workers: [Int: WorkerSlot] = [:]
        var nextWorkerID = 1
        var backlog = CircularBuffer<Invocation>()
        var consecutiveStartFailures = 0
        var lastStartFailure: (at: NIODeadline, reason: String)?
        var shuttingDown = false
        var metrics = PoolMetrics()

        init(scaling: Scaling) {
            self.scaling = scaling
        }

        /// Workers that count toward `max`: not stopping, not retiring.
        var live: Int { workers.values.count { !$0.retiring && !$0.phase.isStopping } }
        /// Live workers still starting.
        var starting: Int { workers.values.count { !$0.retiring && $0.phase.isStarting } }
        /// Workers holding an invocation or about to ask for the next.
        var working: Int { workers.values.count { $0.phase.isWorking } }

        mutating func accept(_ invocation: Invocation, now: NIODeadline) -> [Effect] {
            guard !shuttingDown else { return [.complete(invocation, .failed(.shuttingDown))] }
            metrics.invocations += 1
            if let worker = mostRecentlyIdle(), case .idle(let promise, _) = workers[worker]!.phase {
                return [.deliver(promise, assign(invocation, to: worker))]
            }
            // A function that keeps failing to start answers at once instead of queueing behind it.
            if let failure = lastStartFailure, consecutiveStartFailures > 0, working == 0,
                now - failure.at < TimeAmount(startBackoff)
            {
                return [.complete(invocation, .failed(.startFailed(failure.reason)))]
            }
            // Waiting is bounded: what idle-to-be and startable workers will absorb, plus `backlog` more.
            guard backlog.count < scaling.max - working + scaling.backlog else {
                metrics.throttled += 1
                return [.complete(invocation, .failed(.backlogFull))]
            }
            backlog.append(invocation)
            return scaleUp(now: now)
        }

        /// Starts a worker when queued invocations outnumber the workers already starting.
        mutating func scaleUp(now: NIODeadline) -> [Effect] {
            var effects: [Effect] = []
            while backlog.count > starting, live < scaling.max {
                effects.append(.spawn(worker: newWorker(now: now)))
            }
            return effects
        }

        mutating func ensureMinimum(now: NIODeadline) -> [Effect] {
            var effects: [Effect] = []
            while !shuttingDown, live < scaling.min {
                effects.append(.spawn(worker: newWorker(now: now)))
            }
            return effects
        }

        private mutating func newWorker(now: NIODeadline) -> Int {
            let id = nextWorkerID
            nextWorkerID += 1
            workers[id] = WorkerSlot(id: id, spawnedAt: now)
            metrics.workersStarted += 1
            return id
        }

        private func mostRecentlyIdle() -> Int? {
            var best: (id: Int, since: NIODeadline)?
            for (id, slot) in workers {
                if case .idle(_, let since) = slot.phase, best.map({ since > $0.since }) ?? true { best = (id, since) }
            }
            return best?.id
        }

        private mutating func assign(_ invocation: Invocation, to worker: Int) -> NextInvocation {
            workers[worker]!.phase = .busy(invocation)
            workers[worker]!.served += 1
            return NextInvocation(
                id: invocation.id, payload: invocation.payload,
                deadlineEpochMilliseconds: invocation.deadlineEpochMilliseconds, traceparent: invocation.traceparent
            )
        }

        mutating func next(worker: Int, promise: EventLoopPromise<NextInvocation>, now: NIODeadline) -> [Effect] {
            guard let slot = workers[worker] else { return [.refuse(promise)] }
            if slot.phase.isStarting {
                consecutiveStartFailures = 0
                lastStartFailure = nil
                metrics.record(coldStartMicros: Int((now - slot.spawnedAt).nanoseconds / 1000))
            }
            if slot.retiring || shuttingDown || slot.phase.isStopping {
                workers[worker]!.phase = .stopping
                return [.refuse(promise)] + (slot.pid.map { [.signal(pid: $0, SIGTERM)] } ?? [])
            }
            if let invocation = backlog.popFirst() {
                return [.deliver(promise, assign(invocation, to: worker))]
            }
            workers[worker]!.phase = .idle(promise, since: now)
            return []
        }

        mutating func respond(worker: Int, invocation id: String, body: ByteBuffer, isError: Bool) -> [Effect] {
            guard let slot = workers[worker], case .busy(let invocation) = slot.phase, invocation.id == id else { return [] }
            workers[worker]!.phase = .returning
            let cold = slot.served == 1
            if cold { metrics.coldStarts += 1 }
            if isError { metrics.errors += 1 }
            return [.complete(invocation, isError ? .functionError(body, coldStart: cold) : .response(body, coldStart: cold))]
        }

        mutating func timeOut(_ id: String) -> [Effect] {
            if let index = backlog.firstIndex(where: { $0.id == id }) {
                let invocation = backlog.remove(at: index)
                metrics.timeouts += 1
                return [.complete(invocation, .failed(.timedOut))]
            }
            for (worker, slot) in workers {
                guard case .busy(let invocation) = slot.phase, invocation.id == id else { continue }
                workers[worker]!.phase = .stopping
                metrics.timeouts += 1
                return [.complete(invocation, .failed(.timedOut))] + (slot.pid.map { [.signal(pid: $0, SIGKILL)] } ?? [])
            }
            return []
        }

        mutating func initFailed(worker: Int, reason: String) -> [Effect] {
            workers[worker]?.initFailure = reason
            return []
        }

        /// Records the pid of a spawned worker; false when it should be stopped right away.
        mutating func started(worker: Int, pid: Int32) -> Bool {
            guard workers[worker] != nil else { return false }
            workers[worker]!.pid = pid
            return !shuttingDown && !workers[worker]!.phase.isStopping
        }

        mutating func exited(worker: Int, exitCode: Int32, now: NIODeadline) -> [Effect] {
            guard let slot = workers.removeValue(forKey: worker) else { return [] }
            var effects: [Effect] = []
            switch slot.phase {
            case .busy(let invocation):
                metrics.crashes += 1
                effects.append(.complete(invocation, .failed(.workerCrashed(exitCode: exitCode))))
            case .idle(let promise, _):
                metrics.crashes += 1
                effects.append(.refuse(promise))
            case .starting:
                metrics.crashes += 1
                consecutiveStartFailures += 1
                let reason = slot.initFailure ?? "it exited with code \(exitCode) before asking for work"
                lastStartFailure = (now, reason)
                if working == 0 {
                    while let invocation = backlog.popFirst() {
                        effects.append(.complete(invocation, .failed(.startFailed(reason))))
                    }
                }
            case .returning:
                metrics.crashes += 1
            case .stopping:
                break
            }
            effects.append(.log("worker exited with code \(exitCode)", worker: worker))
            guard !shuttingDown else { return effects }
            return effects + ensureMinimum(now: now) + scaleUp(now: now)
        }

        /// How long to wait before starting a worker, after consecutive failed starts.
        func startDelay() -> Duration? {
            consecutiveStartFailures > 0 ? startBackoff : nil
        }

        var startBackoff: Duration {
            .milliseconds(min(100 << min(consecutiveStartFailures - 1, 6), 5000))
        }

        mutating func stopIdle(now: NIODeadline, idle: Duration) -> [Effect] {
            var effects: [Effect] = []
            let limit = TimeAmount(idle)
            for (worker, slot) in workers.sorted(by: { $0.key < $1.key }) {
                guard live > scaling.min, case .idle(let promise, let since) = slot.phase, now - since >= limit else { continue }
                workers[worker]!.phase = .stopping
                effects.append(.refuse(promise))
                if let pid = slot.pid { effects.append(.signal(pid: pid, SIGTERM)) }
            }
            return effects
        }

        mutating func recycle(now: NIODeadline) -> [Effect] {
            var effects: [Effect] = []
            for (worker, slot) in workers {
                workers[worker]!.retiring = true
                if case .idle(let promise, _) = slot.phase {
                    workers[worker]!.phase = .stopping
                    effects.append(.refuse(promise))
                    if let pid = slot.pid { effects.append(.signal(pid: pid, SIGTERM)) }
                }
            }
            consecutiveStartFailures = 0
            lastStartFailure = nil
            return effects + ensureMinimum(now: now) + scaleUp(now: now)
        }

        /// Stops taking work: queued invocations fail, idle workers are told to stop. Returns the pids to signal.
        mutating func shutdown() -> [Effect] {
            shuttingDown = true
            var effects: [Effect] = []
            while let invocation = backlog.popFirst() {
                effects.append(.complete(invocation, .failed(.shuttingDown)))
            }
            for (worker, slot) in workers {
                if case .idle(let promise, _) = slot.phase {
                    workers[worker]!.phase = .stopping
                    effects.append(.refuse(promise))
                }
            }
            return effects
        }
    }
}

extension WorkerSlot.Phase {
    var isStarting: Bool { if case .starting = self { true } else { false } }
    var isStopping: Bool { if case .stopping = self { true } else { false } }
    var isWorking: Bool {
        switch self {
        case .busy, .returning: true
        default: false
        }
    }
    var isIdle: Bool { if case .idle = self { true } else { false } }
}

/// What `GET /_local/functions` reports of one pool.
public struct PoolSnapshot: Codable, Sendable {
    public struct Workers: Codable, Sendable {
        public var total: Int, starting: Int, idle: Int, busy: Int, stopping: Int
    }

    public struct Latency: Codable, Sendable {
        public var p50: Double?, p90: Double?, p99: Double?
    }

    public var name: String
    public var service: String
    public var trigger: String
    public var workers: Workers
    public var backlog: Int
    public var invocations: Int
    public var errors: Int
    public var timeouts: Int
    public var crashes: Int
    public var throttled: Int
    public var coldStarts: Int
    public var workersStarted: Int
    public var latencyMs: Latency
    public var coldStartMs: Latency

    init(function: FunctionSpec, state: FunctionPool.State) {
        name = function.name
        service = function.service
        trigger = function.trigger.summary
        let phases = state.workers.values.map(\.phase)
        workers = Workers(
            total: phases.count, starting: phases.count(where: \.isStarting), idle: phases.count(where: \.isIdle),
            busy: phases.count(where: \.isWorking), stopping: phases.count(where: \.isStopping)
        )
        backlog = state.backlog.count
        invocations = state.metrics.invocations
        errors = state.metrics.errors
        timeouts = state.metrics.timeouts
        crashes = state.metrics.crashes
        throttled = state.metrics.throttled
        coldStarts = state.metrics.coldStarts
        workersStarted = state.metrics.workersStarted
        latencyMs = Latency(p50: state.metrics.latencyPercentile(50), p90: state.metrics.latencyPercentile(90), p99: state.metrics.latencyPercentile(99))
        coldStartMs = Latency(p50: state.metrics.coldStartPercentile(50), p90: state.metrics.coldStartPercentile(90), p99: state.metrics.coldStartPercentile(99))
    }
}
