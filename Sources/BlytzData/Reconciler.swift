import Blytz
import Foundation
import Logging
import Metrics
import SQLKit

/// Work that spans two services, finished even across crashes: a handler records the intended call in its
/// own transaction (`record`), tries it right after the commit (`attempt`), and a schedule retries what is
/// left (`sweep`) with the same idempotency key, so the callee does it once. What fails `maxAttempts` times
/// is `stuck`: counted in the `blytz_reconciler_stuck` gauge and listed by `blytz <service> stuck`.
///
/// ```
/// let intent = try await database.transaction { sql in
///     try await sql.update(ProposalRecord.table)…run()
///     return try await Reconciler.record(kind: "create-contract", key: "accept-\(proposal.id)", payload: body, now: context.now, on: sql)
/// }
/// try await Reconciler.attempt(intent, in: database, now: context.now) { intent in try await createContract(intent.payload) }
/// ```
public enum Reconciler {
    public static let table = "_blytz_intents"

    public enum State: String, Codable, Sendable {
        case pending, done, stuck
    }

    /// One intended call.
    public struct Intent<Payload: Codable & Sendable>: Sendable {
        public var id: String
        public var kind: String
        /// The idempotency key the call carries: the same on every attempt.
        public var key: String
        public var payload: Payload
        public var attempts: Int
    }

    struct IntentId: Decodable { var id: String }

    /// A row of the intents table.
    public struct Row: Codable, Sendable, Equatable {
        public var id: String
        public var kind: String
        public var key: String
        public var payload: String
        public var state: String
        public var attempts: Int
        public var nextAttemptAt: String
        public var leaseUntil: String?
        public var lastError: String?
        public var createdAt: String
        public var updatedAt: String
    }

    /// What a sweep did.
    public struct Sweep: Sendable, Equatable, Codable {
        public var done: Int
        public var retried: Int
        public var stuck: Int

        public init(done: Int = 0, retried: Int = 0, stuck: Int = 0) {
            self.done = done
            self.retried = retried
            self.stuck = stuck
        }
    }

    /// Records the intended call on `sql` (inside the caller's transaction); an intent with the same key
    /// already recorded is kept. Returns the intent's id.
    @discardableResult
    public static func record<Payload: Codable & Sendable>(kind: String, key: String, payload: Payload, now: Date, on sql: any SQLDatabase) async throws -> String {
        let id = UUID().uuidString.lowercased()
        if try await insert(id: id, kind: kind, key: key, payload: payload, now: now, lease: nil, on: sql) { return id }
        return try await sql.select().column("id").from(table).where("key", .equal, SQLBind(key)).first(decoding: IntentId.self)?.id ?? id
    }

    /// Records the intended call on `sql` already claimed by the recorder for its first attempt (run it
    /// with `attempt(_:in:now:policy:logger:_:)` after the commit): the same as `record` followed by a
    /// claim, without a transaction of its own. Nil when an intent with the same key was recorded before
    /// (`record` and `attempt` it by id instead).
    public static func recordClaimed<Payload: Codable & Sendable>(
        kind: String, key: String, payload: Payload, now: Date, lease: Duration = Policy().lease, on sql: any SQLDatabase
    ) async throws -> Intent<Payload>? {
        let id = UUID().uuidString.lowercased()
        guard try await insert(id: id, kind: kind, key: key, payload: payload, now: now, lease: lease, on: sql) else { return nil }
        return Intent(id: id, kind: kind, key: key, payload: payload, attempts: 1)
    }

    /// Inserts a pending intent unless one with `key` exists; whether it did.
    private static func insert<Payload: Codable & Sendable>(id: String, kind: String, key: String, payload: Payload, now: Date, lease: Duration?, on sql: any SQLDatabase) async throws -> Bool {
        let inserted = try await sql.insert(into: table)
            .columns("id", "kind", "key", "payload", "state", "attempts", "next_attempt_at", "lease_until", "created_at", "updated_at")
            .values(SQLBind(id), SQLBind(kind), SQLBind(key), SQLBind(jsonText(payload)), SQLBind(State.pending.rawValue), SQLBind(lease == nil ? 0 : 1),
                    SQLBind(now.iso), SQLBind(lease.map { now.adding($0).iso }), SQLBind(now.iso), SQLBind(now.iso))
            .ignoringConflicts(with: ["key"]).returning("id").all(decoding: IntentId.self)
        return !inserted.isEmpty
    }

    /// Proof that a call marked its own intent done in its own transaction (`complete(key:now:on:)` on
    /// the transaction that applied its outcome), so the attempt writes nothing more.
    public struct Completed: Sendable {
        fileprivate init() {}
    }

    /// Marks the intent with `key` done on `sql`, as when the callee's event reports the work finished.
    @discardableResult
    public static func complete(key: String, now: Date, on sql: any SQLDatabase) async throws -> Completed {
        try await sql.update(table).set("state", to: SQLBind(State.done.rawValue)).set("lease_until", to: SQLBind(String?.none))
            .set("updated_at", to: SQLBind(now.iso)).where("key", .equal, SQLBind(key)).run()
        return Completed()
    }

    /// Tries the intent `id` now (right after the transaction that recorded it); a failure is left for the
    /// sweep. Returns whether it is done.
    @discardableResult
    public static func attempt<Payload: Codable & Sendable>(
        _ id: String, as: Payload.Type = Payload.self, in database: ServiceDatabase, now: Date, policy: Policy = Policy(), logger: Logger? = nil,
        _ call: @Sendable (Intent<Payload>) async throws -> Void
    ) async throws -> Bool {
        guard let intent: Intent<Payload> = try await claim(id: id, in: database, now: now, lease: policy.lease) else { return false }
        return try await finish(intent, in: database, now: now, policy: policy, logger: logger) { intent in try await call(intent); return nil } == .done
    }

    /// Runs the first attempt of an intent its recorder claimed (`recordClaimed`); a failure is left for
    /// the sweep. A call that answers `Completed` recorded the intent done itself. Returns whether it is done.
    @discardableResult
    public static func attempt<Payload: Codable & Sendable>(
        _ intent: Intent<Payload>, in database: ServiceDatabase, now: Date, policy: Policy = Policy(), logger: Logger? = nil,
        _ call: @Sendable (Intent<Payload>) async throws -> Completed?
    ) async throws -> Bool {
        try await finish(intent, in: database, now: now, policy: policy, logger: logger, call) == .done
    }

    /// Retries every due intent of `kind`, one claim at a time (concurrent sweeps never run one twice).
    public static func sweep<Payload: Codable & Sendable>(
        kind: String, as: Payload.Type = Payload.self, in database: ServiceDatabase, now: Date, policy: Policy = Policy(), limit: Int = 100,
        logger: Logger? = nil, _ call: @Sendable (Intent<Payload>) async throws -> Void
    ) async throws -> Sweep {
        let due = try await database.withConnection { sql in
            try await sql.select().column("id").from(table).where("kind", .equal, SQLBind(kind))
                .where("state", .equal, SQLBind(State.pending.rawValue)).where("next_attempt_at", .lessThanOrEqual, SQLBind(now.iso))
                .orderBy("next_attempt_at").limit(limit).all(decoding: IntentId.self)
        }
        var sweep = Sweep()
        for row in due {
            guard let intent: Intent<Payload> = try await claim(id: row.id, in: database, now: now, lease: policy.lease) else { continue }
            switch try await finish(intent, in: database, now: now, policy: policy, logger: logger, { intent in try await call(intent); return nil }) {
            case .done: sweep.done += 1
            case .pending: sweep.retried += 1
            case .stuck: sweep.stuck += 1
            }
        }
        let stuck = try await self.stuck(kind: kind, in: database).count
        Gauge(label: "blytz_reconciler_stuck", dimensions: [("kind", kind)]).record(stuck)
        if stuck > 0 { logger?.warning("work left stuck", metadata: ["reconciler.kind": "\(kind)", "reconciler.stuck": "\(stuck)"]) }
        return sweep
    }

    /// Intents that failed every attempt, oldest first.
    public static func stuck(kind: String? = nil, in database: ServiceDatabase) async throws -> [Row] {
        try await database.withConnection { sql in
            var query = sql.select().column("*").from(table).where("state", .equal, SQLBind(State.stuck.rawValue))
            if let kind { query = query.where("kind", .equal, SQLBind(kind)) }
            return try await query.orderBy("created_at").all(decoding: Row.self, keyDecodingStrategy: .snakeCase)
        }
    }

    /// Puts stuck intents back to be tried again (after the cause was fixed); returns how many.
    public static func retryStuck(kind: String? = nil, in database: ServiceDatabase, now: Date) async throws -> Int {
        try await database.transaction { sql in
            var query = sql.update(table).set("state", to: SQLBind(State.pending.rawValue)).set("attempts", to: SQLBind(0))
                .set("next_attempt_at", to: SQLBind(now.iso)).set("updated_at", to: SQLBind(now.iso))
                .where("state", .equal, SQLBind(State.stuck.rawValue))
            if let kind { query = query.where("kind", .equal, SQLBind(kind)) }
            return try await query.returning("id").all(decoding: IntentId.self).count
        }
    }

    /// How often and how long to retry.
    public struct Policy: Sendable {
        public var maxAttempts: Int
        public var initialBackoff: Duration
        public var maxBackoff: Duration
        /// How long one attempt holds its intent before another sweep may take it.
        public var lease: Duration

        public init(maxAttempts: Int = 8, initialBackoff: Duration = .seconds(5), maxBackoff: Duration = .seconds(600), lease: Duration = .seconds(60)) {
            self.maxAttempts = maxAttempts
            self.initialBackoff = initialBackoff
            self.maxBackoff = maxBackoff
            self.lease = lease
        }

        /// The wait after failed attempt `attempt` (1-based): doubling from `initialBackoff` up to `maxBackoff`.
        public func backoff(after attempt: Int) -> Duration {
            let factor = Double(1 << min(max(0, attempt - 1), 20))
            return min(maxBackoff, initialBackoff * factor)
        }
    }

    /// Takes the lease of a pending intent not leased by anyone else; nil when another holds it or it is not pending.
    static func claim<Payload: Codable & Sendable>(id: String, in database: ServiceDatabase, now: Date, lease: Duration) async throws -> Intent<Payload>? {
        let claimed = try await database.transaction { sql -> Row? in
            try await sql.update(table).set("lease_until", to: SQLBind(now.adding(lease).iso)).set("attempts", to: SQLRaw("attempts + 1"))
                .set("updated_at", to: SQLBind(now.iso))
                .where("id", .equal, SQLBind(id)).where("state", .equal, SQLBind(State.pending.rawValue))
                .where { $0.where("lease_until", .is, SQLLiteral.null).orWhere("lease_until", .lessThan, SQLBind(now.iso)) }
                .returning(SQLLiteral.all).first(decoding: Row.self, keyDecodingStrategy: .snakeCase)
        }
        guard let claimed else { return nil }
        return Intent(id: claimed.id, kind: claimed.kind, key: claimed.key, payload: try JSON.decoder().decode(Payload.self, from: Data(claimed.payload.utf8)), attempts: claimed.attempts)
    }

    /// Runs the call for a claimed intent and records the outcome (unless the call did: `Completed`).
    static func finish<Payload: Codable & Sendable>(
        _ intent: Intent<Payload>, in database: ServiceDatabase, now: Date, policy: Policy, logger: Logger?, _ call: @Sendable (Intent<Payload>) async throws -> Completed?
    ) async throws -> State {
        do {
            if try await call(intent) == nil {
                try await database.transaction { sql in try await complete(key: intent.key, now: now, on: sql) }
            }
            return .done
        } catch {
            let stuck = intent.attempts >= policy.maxAttempts
            logger?.warning("reconciled call failed", metadata: [
                "reconciler.kind": "\(intent.kind)", "reconciler.key": "\(intent.key)", "reconciler.attempts": "\(intent.attempts)", "error": "\(error)",
            ])
            let state: State = stuck ? .stuck : .pending
            try await database.transaction { sql in
                try await sql.update(table).set("state", to: SQLBind(state.rawValue)).set("lease_until", to: SQLBind(String?.none))
                    .set("last_error", to: SQLBind(String(describing: error).prefix(2_000).description))
                    .set("next_attempt_at", to: SQLBind(now.adding(policy.backoff(after: intent.attempts)).iso)).set("updated_at", to: SQLBind(now.iso))
                    .where("id", .equal, SQLBind(intent.id)).run()
            }
            return state
        }
    }
}
