import Blytz
import BlytzData
import Foundation
import HTTPTypes
import Synchronization

extension Reconciler {
    /// Tries the recorded intent `id` now, as a route does right after the transaction that recorded it.
    /// When the other service's call fails, the client is told what was kept and that it will be finished:
    /// the call's own 5xx (503 otherwise), with `Retry-After`, and `done` (such as "The hire is recorded,
    /// but its contract could not be created yet") before the reason.
    ///
    /// ```
    /// try await Reconciler.attemptNow(intent, as: Hires.Intent.self, context: context, done: "The hire is recorded, but its contract could not be created yet") { intent in
    ///     try await Hires.createContract(intent, context: context)
    /// }
    /// ```
    public static func attemptNow<Payload: Codable & Sendable>(
        _ id: String, as: Payload.Type, context: FunctionContext, done: String, _ call: @escaping @Sendable (Intent<Payload>) async throws -> Void
    ) async throws {
        let failure = Mutex<ServiceCallError?>(nil)
        let finished = try await attempt(id, as: Payload.self, in: context.database, now: context.now, logger: context.logger) { intent in
            do {
                try await call(intent)
            } catch let error as ServiceCallError {
                failure.withLock { $0 = error }
                throw error
            }
        }
        guard !finished else { return }
        let error = failure.withLock { $0 }
        var headers = error?.headers ?? [:]
        if headers[.retryAfter] == nil { headers[.retryAfter] = "5" }
        throw HTTPError(
            error.map { $0.problem.status >= 500 ? $0.problem.status : 503 } ?? 503,
            detail: "\(done) (\(error?.problem.detail ?? "another attempt is under way")). Repeat the request to finish it; it is also retried in the background.",
            headers: headers
        )
    }
}
