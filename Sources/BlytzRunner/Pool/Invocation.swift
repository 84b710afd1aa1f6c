#if canImport(Glibc)
import Glibc
#endif
import NIOCore

/// One call of a function, from arrival until a worker answers, it times out, or its worker dies.
final class Invocation: Sendable {
    let id: String
    let payload: ByteBuffer
    let traceparent: String?
    let arrivedAt: NIODeadline
    let deadline: NIODeadline
    /// The deadline as the Runtime API states it: milliseconds since 1970.
    let deadlineEpochMilliseconds: Int64
    let promise: EventLoopPromise<InvocationResult>

    init(id: String, payload: ByteBuffer, traceparent: String?, timeout: TimeAmount, eventLoop: any EventLoop, now: NIODeadline = .now()) {
        self.id = id
        self.payload = payload
        self.traceparent = traceparent
        self.arrivedAt = now
        self.deadline = arrivedAt + timeout
        self.deadlineEpochMilliseconds = wallClockMilliseconds() + timeout.nanoseconds / 1_000_000
        self.promise = eventLoop.makePromise()
    }
}

/// How an invocation ended.
enum InvocationResult: Sendable {
    /// The worker's response (`/response`).
    case response(ByteBuffer, coldStart: Bool)
    /// The worker reported an error (`/error`).
    case functionError(ByteBuffer, coldStart: Bool)
    /// The runner ended it.
    case failed(InvocationFailure)
}

/// Why the runner ended an invocation, each with its HTTP answer.
enum InvocationFailure: Sendable, Equatable {
    case timedOut
    case workerCrashed(exitCode: Int32)
    case startFailed(String)
    case backlogFull
    case shuttingDown

    var status: Int {
        switch self {
        case .timedOut: 504
        case .workerCrashed, .startFailed: 502
        case .backlogFull, .shuttingDown: 503
        }
    }

    var detail: String {
        switch self {
        case .timedOut: "The function did not answer within its timeout; its worker was stopped."
        case .workerCrashed(let code): "The function's worker exited (code \(code)) before answering."
        case .startFailed(let reason): "The function's worker failed to start: \(reason)"
        case .backlogFull: "All workers are busy and the backlog is full; retry shortly."
        case .shuttingDown: "The runner is shutting down."
        }
    }
}

/// What a worker receives from `GET /runtime/invocation/next`.
struct NextInvocation: Sendable {
    var id: String
    var payload: ByteBuffer
    var deadlineEpochMilliseconds: Int64
    var traceparent: String?
}

extension TimeAmount {
    init(_ duration: Duration) {
        let (seconds, attoseconds) = duration.components
        self = .nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }
}

/// Milliseconds since 1970 by the wall clock.
func wallClockMilliseconds() -> Int64 {
    var spec = timespec()
    clock_gettime(CLOCK_REALTIME, &spec)
    return Int64(spec.tv_sec) * 1000 + Int64(spec.tv_nsec) / 1_000_000
}
