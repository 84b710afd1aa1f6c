import Foundation
import HTTPTypes
import AsyncHTTPClient
import Blytz
import Tracing
import BlytzEvents
import Logging
import NIOCore
import NIOHTTP1
import Synchronization

/// Who a call to another service is made as.
public enum CallIdentity: Sendable {
    /// The person (or service) whose request is being handled: their token is passed on.
    case caller(Caller)
    /// This service on its own (consumers, schedules, reconcilers).
    case service
    /// This service acting for the person `userId` (a reconciler finishing what they started).
    case actingFor(String)
}

/// Typed HTTP calls to another service, for handlers:
///
/// ```
/// let page = try await context.services.call(ListProposalsCall(vaUserId: id, limit: 20, cursor: nil), context: context, as: .caller(caller))
/// ```
/// The base URL comes from `BLYTZ_SERVICE_URL_<SERVICE>` (the runner sets it to the service's port)
/// or the service's default port. Every call has a timeout; idempotent methods are retried on
/// connection failures and 502/503/504; a circuit breaker per service refuses calls at once while the
/// service is failing. The request id, `traceparent` and the caller's token are passed on. Failures
/// surface as 503 (unreachable, unavailable or circuit open), 504 (too slow) and 502 (failed) problems.
public struct ServiceClient: Sendable {
    public struct Options: Sendable, Equatable {
        /// The whole budget of one call, retries included.
        public var timeout: Duration
        /// Extra attempts for idempotent methods.
        public var retries: Int
        public var breaker: BreakerState<ContinuousClock.Instant>.Thresholds

        public init(timeout: Duration = .seconds(2), retries: Int = 1, breaker: BreakerState<ContinuousClock.Instant>.Thresholds = .init()) {
            self.timeout = timeout
            self.retries = retries
            self.breaker = breaker
        }

        /// From `BLYTZ_CALL_TIMEOUT_MS`, `BLYTZ_CALL_RETRIES`, `BLYTZ_BREAKER_FAILURES`, `BLYTZ_BREAKER_OPEN_MS`
        /// and `BLYTZ_BREAKER_PROBES`; anything unset keeps its default.
        public init(_ configuration: Configuration) {
            let defaults = Options()
            self.init(
                timeout: configuration.int("BLYTZ_CALL_TIMEOUT_MS").map { .milliseconds($0) } ?? defaults.timeout,
                retries: configuration.int("BLYTZ_CALL_RETRIES") ?? defaults.retries,
                breaker: .init(
                    failureThreshold: configuration.int("BLYTZ_BREAKER_FAILURES") ?? defaults.breaker.failureThreshold,
                    openDuration: configuration.int("BLYTZ_BREAKER_OPEN_MS").map { .milliseconds($0) } ?? defaults.breaker.openDuration,
                    halfOpenProbes: configuration.int("BLYTZ_BREAKER_PROBES") ?? defaults.breaker.halfOpenProbes
                )
            )
        }
    }

    /// The services' ports when nothing configures their URLs (API.md).
    public static let defaultPorts = ["users": 3001, "marketplace": 3002, "contracts": 3003, "payments": 3004, "communication": 3005, "files": 3006]

    public let http: HTTPClient
    public let configuration: Configuration
    public let options: Options
    public let breakers: CircuitBreakers

    /// Service tokens this worker holds, by the person they act for ("" for none), until shortly before they expire.
    let tokens = HeldTokens()

    public init(http: HTTPClient, configuration: Configuration, options: Options? = nil) {
        self.http = http
        self.configuration = configuration
        self.options = options ?? Options(configuration)
        breakers = CircuitBreakers(thresholds: self.options.breaker)
    }

    /// Makes `call` on its service as `identity` and decodes its answer.
    public func call<Call: ServiceCall>(_ call: Call, context: FunctionContext, as identity: CallIdentity) async throws(ServiceCallError) -> Call.Answer {
        let caller = try await self.caller(identity, context: context)
        var body: Data?
        if let payload = call.body {
            do { body = try JSON.encoder().encode(payload) } catch { throw ServiceCallError(status: 500, detail: "The request to the \(Call.service.rawValue) service could not be encoded.") }
        }
        let service = Call.service.rawValue
        let (status, answer) = try await send(HTTPMethod(rawValue: call.method), service, call.path, body: body, idempotencyKey: call.idempotencyKey, context: context, caller: caller)
        return try Self.decode(Call.Answer.self, from: answer, service: service, status: status)
    }

    /// The token a call as `identity` carries: the caller's own, or a service token from the user service.
    func caller(_ identity: CallIdentity, context: FunctionContext) async throws(ServiceCallError) -> Caller {
        let person: String?
        switch identity {
        case .caller(let caller): return caller
        case .service: person = nil
        case .actingFor(let userId): person = userId
        }
        let key = person ?? ""
        if let held = tokens.state.withLock({ $0[key] }), held.renewAt > .now {
            return Caller(userId: person ?? "", role: .service, token: held.token)
        }
        guard let name = configuration["BLYTZ_SERVICE"].flatMap(ServiceName.init(rawValue:)), let secret = ServiceSecret.own(configuration) else {
            throw ServiceCallError(status: 503, detail: "This service has no identity configured (BLYTZ_SERVICE_KEY or BLYTZ_SERVICE_SECRET).")
        }
        let requested = ServiceTokenRequest(service: name, secret: secret, actingFor: person)
        let issued = try await send(.POST, "users", "/auth/service-token", json: requested, as: ServiceToken.self, context: context, caller: nil)
        let renewAt = ContinuousClock.now + .seconds(max(1, issued.expiresIn - 30))
        tokens.state.withLock { $0[key] = (issued.accessToken, renewAt) }
        return Caller(userId: person ?? "", role: .service, token: issued.accessToken)
    }

    /// The base URL of `service`.
    public func baseURL(_ service: String) -> String? {
        configuration.serviceURL(service) ?? Self.defaultPorts[service].map { "http://127.0.0.1:\($0)" }
    }

    /// `method path` on `service` with a JSON body, decoded as `Output`. `idempotencyKey` makes an unsafe
    /// method safe to retry (the callee must honour `Idempotency-Key`).
    func send<Body: Encodable, Output: Decodable>(
        _ method: HTTPMethod, _ service: String, _ path: String, json: Body, as: Output.Type = Output.self,
        idempotencyKey: String? = nil, context: FunctionContext, caller: Caller?
    ) async throws(ServiceCallError) -> Output {
        let data: Data
        do { data = try JSON.encoder().encode(json) } catch { throw ServiceCallError(status: 500, detail: "The request to the \(service) service could not be encoded.") }
        let (status, body) = try await send(method, service, path, body: data, idempotencyKey: idempotencyKey, context: context, caller: caller)
        return try Self.decode(Output.self, from: body, service: service, status: status)
    }

    /// The raw form: status and body of a 2xx answer; a 4xx answer is rethrown as the callee's problem.
    public func send(
        _ method: HTTPMethod, _ service: String, _ path: String, body: Data?, idempotencyKey: String? = nil,
        context: FunctionContext, caller: Caller?
    ) async throws(ServiceCallError) -> (status: Int, body: Data) {
        guard let base = baseURL(service) else { throw ServiceCallError(status: 503, detail: "No URL is configured for the \(service) service.") }
        var request = HTTPClientRequest(url: base + path)
        request.method = method
        request.headers.add(name: "accept", value: "application/json")
        request.headers.add(name: "x-request-id", value: context.requestId)
        let traced = Traces.start("\(method.rawValue) \(service)", kind: .client, attributes: ["server.address": service, "url.path": path, "http.request.method": method.rawValue])
        defer { traced?.span.end() }
        if let traceparent = traced?.traceparent ?? context.traceparent { request.headers.add(name: "traceparent", value: traceparent) }
        if let caller { request.headers.add(name: "authorization", value: "Bearer \(caller.token)") }
        if let idempotencyKey { request.headers.add(name: "idempotency-key", value: idempotencyKey) }
        if let body {
            request.headers.add(name: "content-type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: body))
        }
        let retryable = idempotencyKey != nil || [.GET, .HEAD, .PUT, .DELETE, .OPTIONS].contains(method)
        let attempts = retryable ? 1 + max(0, options.retries) : 1
        let deadline = ContinuousClock.now + min(options.timeout, context.remainingTime)
        var lastError = ServiceCallError(status: 503, detail: "The \(service) service did not answer.")
        for attempt in 1...attempts {
            if case .reject(let retryAfter) = breakers.acquire(service) {
                throw ServiceCallError(
                    status: 503, detail: "The \(service) service is failing; calls to it are paused.",
                    headers: [.retryAfter: "\(max(1, Int((retryAfter / .seconds(1)).rounded(.up))))"]
                )
            }
            let left = ContinuousClock.now.duration(to: deadline)
            guard left > .zero else { break }
            let outcome = await perform(request, service: service, timeout: left, logger: context.logger)
            switch outcome {
            case .answered(let status, let data) where status < 500:
                breakers.record(service, success: true)
                guard (200..<300).contains(status) else { throw ServiceCallError.relayed(status: status, body: data, service: service) }
                return (status, data)
            case .answered(let status, _):
                breakers.record(service, success: false)
                // An unavailable or timed-out callee is passed on as such; any other failure is a bad gateway.
                lastError = switch status {
                case 503: ServiceCallError(status: 503, detail: "The \(service) service is unavailable.", headers: [.retryAfter: "1"])
                case 504: ServiceCallError(status: 504, detail: "The \(service) service did not answer in time.")
                default: ServiceCallError(status: 502, detail: "The \(service) service failed (HTTP \(status)).")
                }
                guard [502, 503, 504].contains(status) else { throw lastError }
            case .timedOut:
                breakers.record(service, success: false)
                throw ServiceCallError(status: 504, detail: "The \(service) service did not answer in time.")
            case .unreachable(let reason):
                breakers.record(service, success: false)
                lastError = ServiceCallError(status: 503, detail: "The \(service) service is unreachable (\(reason)).", headers: [.retryAfter: "1"])
            }
            if attempt < attempts { try? await Task.sleep(for: .milliseconds(25 * attempt)) }
        }
        throw lastError
    }

    enum Outcome {
        case answered(Int, Data)
        case timedOut
        case unreachable(String)
    }

    private func perform(_ request: HTTPClientRequest, service: String, timeout: Duration, logger: Logger) async -> Outcome {
        let started = ContinuousClock.now
        do {
            let response = try await http.execute(request, timeout: .nanoseconds(Int64(timeout / .nanoseconds(1))))
            let body = try await response.body.collect(upTo: 8 << 20)
            return .answered(Int(response.status.code), Data(buffer: body))
        } catch {
            logger.warning("service call failed", metadata: ["call.service": "\(service)", "error": "\(error)"])
            if let error = error as? HTTPClientError, error == .deadlineExceeded || error == .readTimeout || error == .connectTimeout {
                return .timedOut
            }
            if started.duration(to: .now) >= timeout { return .timedOut }
            return .unreachable("\(error)")
        }
    }

    static func decode<Output: Decodable>(_ type: Output.Type, from body: Data, service: String, status: Int) throws(ServiceCallError) -> Output {
        do {
            return try JSON.decoder().decode(Output.self, from: body)
        } catch {
            throw ServiceCallError(status: 502, detail: "The \(service) service answered HTTP \(status) with a body that does not decode.")
        }
    }
}

/// The service tokens one worker holds, shared by every copy of its client.
final class HeldTokens: Sendable {
    let state = Mutex<[String: (token: String, renewAt: ContinuousClock.Instant)]>([:])
}

/// A failed call to another service, answered as a problem: 503/504 when it is down or slow, 502 when it
/// failed, or the callee's own 4xx problem passed on.
public struct ServiceCallError: HTTPResponseError, Sendable, Equatable {
    public var problem: Problem
    public var headers: HTTPFields

    public init(status: Int, detail: String, headers: HTTPFields = [:]) {
        problem = Problem(status: status, detail: detail)
        self.headers = headers
    }

    static func relayed(status: Int, body: Data, service: String) -> ServiceCallError {
        if var problem = try? JSON.decoder().decode(Problem.self, from: body) {
            problem.status = status
            return ServiceCallError(problem: problem)
        }
        return ServiceCallError(status: status, detail: "The \(service) service refused the call (HTTP \(status)).")
    }

    init(problem: Problem) {
        self.problem = problem
        headers = [:]
    }
}

/// The key under which a worker's service client sits in its dependencies.
public enum ServiceClientKey: DependencyKey {
    public typealias Value = ServiceClient
}

extension FunctionContext {
    /// The client for calls to other services.
    public var services: ServiceClient {
        get throws {
            try dependencies.require(ServiceClientKey.self, "The service client")
        }
    }
}
