import Foundation
import Synchronization

/// The circuit-breaker state machine of calls to one service, pure: time is passed in.
///
/// Closed: calls go through; `failureThreshold` failures in a row open it. Open: calls are refused at
/// once until `openDuration` has passed, then it is half-open. Half-open: up to `halfOpenProbes` calls
/// go through; a success closes it, a failure opens it again.
public struct BreakerState<Instant: InstantProtocol>: Sendable where Instant.Duration == Duration {
    public struct Thresholds: Sendable, Equatable {
        public var failureThreshold: Int
        public var openDuration: Duration
        public var halfOpenProbes: Int

        public init(failureThreshold: Int = 5, openDuration: Duration = .seconds(10), halfOpenProbes: Int = 1) {
            self.failureThreshold = max(1, failureThreshold)
            self.openDuration = openDuration
            self.halfOpenProbes = max(1, halfOpenProbes)
        }
    }

    public enum Phase: Sendable, Equatable {
        case closed(failures: Int)
        case open(until: Instant)
        case halfOpen(probes: Int)
    }

    public enum Decision: Sendable, Equatable {
        case allow
        /// Refused; the circuit may let a call through again after this long.
        case reject(retryAfter: Duration)
    }

    public let thresholds: Thresholds
    public private(set) var phase: Phase = .closed(failures: 0)

    public init(thresholds: Thresholds) {
        self.thresholds = thresholds
    }

    /// Whether a call may start now; an allowed half-open call counts as a probe.
    public mutating func acquire(now: Instant) -> Decision {
        switch phase {
        case .closed:
            return .allow
        case .open(let until):
            guard now >= until else { return .reject(retryAfter: now.duration(to: until)) }
            phase = .halfOpen(probes: 1)
            return .allow
        case .halfOpen(let probes):
            guard probes < thresholds.halfOpenProbes else { return .reject(retryAfter: .seconds(1)) }
            phase = .halfOpen(probes: probes + 1)
            return .allow
        }
    }

    /// Records how an allowed call ended.
    public mutating func record(success: Bool, now: Instant) {
        switch (phase, success) {
        case (_, true):
            phase = .closed(failures: 0)
        case (.closed(let failures), false):
            phase = failures + 1 >= thresholds.failureThreshold ? .open(until: now.advanced(by: thresholds.openDuration)) : .closed(failures: failures + 1)
        case (.halfOpen, false), (.open, false):
            phase = .open(until: now.advanced(by: thresholds.openDuration))
        }
    }
}

/// One breaker per called service, shared by the invocations of a worker.
public final class CircuitBreakers: Sendable {
    public let thresholds: BreakerState<ContinuousClock.Instant>.Thresholds
    private let states = Mutex<[String: BreakerState<ContinuousClock.Instant>]>([:])

    public init(thresholds: BreakerState<ContinuousClock.Instant>.Thresholds) {
        self.thresholds = thresholds
    }

    func acquire(_ service: String) -> BreakerState<ContinuousClock.Instant>.Decision {
        states.withLock { states in
            var state = states[service] ?? BreakerState(thresholds: thresholds)
            defer { states[service] = state }
            return state.acquire(now: .now)
        }
    }

    func record(_ service: String, success: Bool) {
        states.withLock { states in
            var state = states[service] ?? BreakerState(thresholds: thresholds)
            state.record(success: success, now: .now)
            states[service] = state
        }
    }

    /// The phase of the breaker for `service`, for logs and tests.
    public func phase(_ service: String) -> BreakerState<ContinuousClock.Instant>.Phase {
        states.withLock { $0[service]?.phase ?? .closed(failures: 0) }
    }
}
