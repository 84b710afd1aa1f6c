import Blytz
import Tracing
import Foundation
import SQLKit

/// The tables every service database has beside its own: migration history, the event outbox, the
/// inbox of events its consumers have processed, and the accounts the user service said are not active.
enum PlatformTables {
    static func create(on sql: any SQLDatabase) async throws {
        try await sql.create(table: "_blytz_migrations").ifNotExists()
            .column("version", type: .bigint, .primaryKey(autoIncrement: false))
            .column("name", type: .text, .notNull)
            .column("applied_at", type: .text, .notNull)
            .run()
        try await sql.create(table: "_blytz_outbox").ifNotExists()
            .column("seq", type: .bigint, .primaryKey(autoIncrement: true))
            .column("id", type: .text, .notNull, .unique)
            .column("type", type: .text, .notNull)
            .column("envelope", type: .text, .notNull)
            .column("created_at", type: .text, .notNull)
            .column("sent_at", type: .text)
            .run()
        // Both engines accept this form; SQLKit's index builder has no IF NOT EXISTS.
        try await sql.raw("CREATE INDEX IF NOT EXISTS _blytz_outbox_unsent ON _blytz_outbox (sent_at)").run()
        try await sql.create(table: "_blytz_inbox").ifNotExists()
            .column("consumer", type: .text, .notNull)
            .column("event_id", type: .text, .notNull)
            .column("processed_at", type: .text, .notNull)
            .primaryKey("consumer", "event_id")
            .run()
        try await sql.create(table: IdempotencyStore.table).ifNotExists()
            .column("scope", type: .text, .notNull)
            .column("key", type: .text, .notNull)
            .column("fingerprint", type: .text, .notNull)
            .column("status", type: .int, .notNull)
            .column("headers", type: .text, .notNull)
            .column("body", type: .text)
            .column("created_at", type: .text, .notNull)
            .column("expires_at", type: .text, .notNull)
            .primaryKey("scope", "key")
            .run()
        try await sql.create(table: Reconciler.table).ifNotExists()
            .column("id", type: .text, .primaryKey(autoIncrement: false))
            .column("kind", type: .text, .notNull)
            .column("key", type: .text, .notNull, .unique)
            .column("payload", type: .text, .notNull)
            .column("state", type: .text, .notNull)
            .column("attempts", type: .int, .notNull)
            .column("next_attempt_at", type: .text, .notNull)
            .column("lease_until", type: .text)
            .column("last_error", type: .text)
            .column("created_at", type: .text, .notNull)
            .column("updated_at", type: .text, .notNull)
            .run()
        try await sql.raw("CREATE INDEX IF NOT EXISTS _blytz_intents_due ON _blytz_intents (state, next_attempt_at)").run()
        try await sql.create(table: "_blytz_account_status").ifNotExists()
            .column("user_id", type: .text, .primaryKey(autoIncrement: false))
            .column("status", type: .text, .notNull)
            .column("changed_at", type: .text, .notNull)
            .run()
    }
}

/// One event waiting in (or sent from) a service's outbox.
public struct OutboxEntry: Sendable, Decodable, Equatable {
    public var seq: Int
    public var id: String
    public var type: String
    /// The envelope as JSON, exactly as consumers will receive it.
    public var envelope: String
    public var sent_at: String?
}

extension FunctionContext {
    /// Publishes `event` by writing it to the service's outbox on `sql`. Call it inside the transaction
    /// whose writes the event describes: they commit together, and nothing is published for a rolled-back
    /// transaction. Returns the event's id.
    ///
    /// ```
    /// try await database.transaction { sql in
    ///     try await sql.insert(into: JobRecord.table)…run()
    ///     try await context.publish(JobPosted(jobPostingId: job.id, …), on: sql)
    /// }
    /// ```
    @discardableResult
    public func publish<E: Event>(_ event: E, on sql: any SQLDatabase) async throws -> String {
        // A producer span, which the event carries: its consumers' spans link to it.
        let traced = Traces.start("publish \(E.type)", kind: .producer, attributes: ["messaging.destination.name": "\(E.type)"])
        defer { traced?.span.end() }
        let envelope = EventEnvelope(
            id: UUID().uuidString.lowercased(), type: E.type, version: E.version, source: configuration["BLYTZ_SERVICE"] ?? functionName,
            time: now.iso, subject: event.subject, data: event, traceparent: traced?.traceparent ?? traceparent
        )
        traced?.span.attributes["messaging.message.id"] = envelope.id
        try await Outbox.write(envelope, on: sql)
        effects.markPublished()
        return envelope.id
    }
}

/// The transactional outbox of a service database.
public enum Outbox {
    /// Writes `envelope` to the outbox on `sql` (inside the caller's transaction).
    public static func write<Payload: Encodable>(_ envelope: EventEnvelope<Payload>, on sql: any SQLDatabase) async throws {
        let json = String(decoding: try JSON.encoder().encode(envelope), as: UTF8.self)
        try await sql.insert(into: "_blytz_outbox").columns("id", "type", "envelope", "created_at")
            .values(SQLBind(envelope.id), SQLBind(envelope.type.rawValue), SQLBind(json), SQLBind(envelope.time))
            .run()
    }

    /// Events not yet handed to the event queue, oldest first.
    public static func pending(_ database: ServiceDatabase, limit: Int = 100) async throws -> [OutboxEntry] {
        try await database.withConnection { sql in try await pendingQuery(sql, limit: limit).all(decoding: OutboxEntry.self) }
    }

    /// How many events wait to be relayed.
    public static func waiting(_ database: ServiceDatabase) async throws -> Int {
        struct Row: Decodable { var n: Int }
        return try await database.withConnection { sql in
            try await sql.select().column(SQLFunction("COUNT", args: SQLLiteral.all), as: "n").from("_blytz_outbox").where("sent_at", .is, SQLLiteral.null)
                .first(decoding: Row.self)?.n ?? 0
        }
    }

    private static func pendingQuery(_ sql: any SQLDatabase, limit: Int) -> SQLSelectBuilder {
        sql.select().columns("seq", "id", "type", "envelope", "sent_at").from("_blytz_outbox")
            .where("sent_at", .is, SQLLiteral.null).orderBy("seq").limit(limit)
    }

    private static func markSent(_ ids: [String], on sql: any SQLDatabase) async throws {
        try await sql.update("_blytz_outbox").set("sent_at", to: SQLBind(Date().formatted(.iso8601))).where("id", .in, SQLBind.group(ids)).run()
    }

    /// Hands up to `limit` pending events, oldest first, to `send` and marks them sent, in one transaction
    /// that holds them: on PostgreSQL the relays of several replicas of a service each take different
    /// events (`FOR UPDATE SKIP LOCKED`), so no event is handed over twice while its first hand-over is
    /// under way. Returns how many were sent. `send` may run again for the same events when the
    /// transaction is repeated on a fresh connection; it must tolerate that.
    @discardableResult
    public static func relay(_ database: ServiceDatabase, limit: Int, _ send: @escaping @Sendable ([OutboxEntry]) async throws -> Void) async throws -> Int {
        let postgres = database.engine == .postgres
        return try await database.transaction { sql in
            var select = pendingQuery(sql, limit: limit)
            if postgres { select = select.lockingClause(SQLRaw("FOR UPDATE SKIP LOCKED")) }
            let pending = try await select.all(decoding: OutboxEntry.self)
            guard !pending.isEmpty else { return 0 }
            try await send(pending)
            try await markSent(pending.map(\.id), on: sql)
            return pending.count
        }
    }

    /// Marks events as handed to the event queue.
    public static func markSent(_ ids: [String], in database: ServiceDatabase) async throws {
        guard !ids.isEmpty else { return }
        try await database.transaction { sql in try await markSent(ids, on: sql) }
    }

}

extension ServiceDatabase {
    /// The batch form of `once(event:consumer:)`: in one transaction, records which of `eventIds` `consumer`
    /// has not processed yet and runs `effects` with just those. Returns them.
    @discardableResult
    public func once(events eventIds: [String], consumer: String, _ effects: @escaping @Sendable (any SQLDatabase, [String]) async throws -> Void) async throws -> [String] {
        guard !eventIds.isEmpty else { return [] }
        return try await transaction { sql in
            struct Seen: Decodable { var event_id: String }
            let seen = Set(
                try await sql.select().column("event_id").from("_blytz_inbox")
                    .where("consumer", .equal, SQLBind(consumer)).where("event_id", .in, SQLBind.group(eventIds))
                    .all(decoding: Seen.self).map(\.event_id)
            )
            var fresh: [String] = []
            for id in eventIds where !seen.contains(id) && !fresh.contains(id) { fresh.append(id) }
            guard !fresh.isEmpty else { return [] }
            let now = Date().formatted(.iso8601)
            var insert = sql.insert(into: "_blytz_inbox").columns("consumer", "event_id", "processed_at")
            for id in fresh { insert = insert.values(SQLBind(consumer), SQLBind(id), SQLBind(now)) }
            try await insert.run()
            try await effects(sql, fresh)
            return fresh
        }
    }

    /// Runs `effects` in one transaction with the record that `consumer` processed event `eventId`, unless
    /// it already did: at-least-once delivery, effects exactly once. Returns whether `effects` ran.
    @discardableResult
    public func once(event eventId: String, consumer: String, _ effects: @escaping @Sendable (any SQLDatabase) async throws -> Void) async throws -> Bool {
        try await transaction { sql in
            struct Seen: Decodable { var event_id: String }
            let seen = try await sql.select().column("event_id").from("_blytz_inbox")
                .where("consumer", .equal, SQLBind(consumer)).where("event_id", .equal, SQLBind(eventId))
                .first(decoding: Seen.self)
            guard seen == nil else { return false }
            try await sql.insert(into: "_blytz_inbox").columns("consumer", "event_id", "processed_at")
                .values(SQLBind(consumer), SQLBind(eventId), SQLBind(Date().formatted(.iso8601)))
                .run()
            try await effects(sql)
            return true
        }
    }
}
