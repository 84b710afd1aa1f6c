import BlytzData
import Foundation
import Logging
import SQLKit

/// The durable event queue: one delivery per event and subscribing function, leased while a consumer
/// holds it, retried with backoff, dead-lettered after its retries. It lives in its own database —
/// the SQLite file `<data>/events.sqlite` by default, or PostgreSQL (`BLYTZ_QUEUE_URL`) so that runners on
/// several machines share it; there, claims use `FOR UPDATE SKIP LOCKED`.
public final class EventQueue: Sendable {
    /// One delivery of one event to one function.
    public struct Delivery: Sendable, Decodable, Equatable {
        public var seq: Int
        public var function: String
        public var event_id: String
        public var type: String
        public var envelope: String
        public var attempts: Int
        public var state: String
        public var last_error: String?
        public var created_at: Int64
    }

    /// An event to enqueue: its id, type and envelope JSON.
    public struct Event: Sendable {
        public var id: String
        public var type: String
        public var envelope: String

        public init(id: String, type: String, envelope: String) {
            self.id = id
            self.type = type
            self.envelope = envelope
        }
    }

    public let database: ServiceDatabase

    public init(database: ServiceDatabase) {
        self.database = database
    }

    /// The queue's location from configuration.
    public static func location(environment: [String: String], dataDirectory: String) throws -> DatabaseLocation {
        if let url = environment["BLYTZ_QUEUE_URL"], !url.isEmpty { return try DatabaseLocation.parse(url) }
        return .sqlite(path: "\(dataDirectory)/events.sqlite")
    }

    /// Opens the queue at `location`, creating its table when missing.
    public static func open(_ location: DatabaseLocation, logger: Logger) async throws -> EventQueue {
        try await ServiceDatabase.createIfMissing(location, logger: logger)
        let database = try ServiceDatabase.open(location, maxConnections: 4, logger: logger)
        do {
            try await database.transaction(serialisedBy: "_blytz_deliveries") { sql in
                try await sql.create(table: "_blytz_deliveries").ifNotExists()
                    .column("seq", type: .bigint, .primaryKey(autoIncrement: true))
                    .column("function", type: .text, .notNull)
                    .column("event_id", type: .text, .notNull)
                    .column("type", type: .text, .notNull)
                    .column("envelope", type: .text, .notNull)
                    .column("attempts", type: .bigint, .notNull)
                    .column("available_at", type: .bigint, .notNull)
                    .column("claimed_until", type: .bigint, .notNull)
                    .column("state", type: .text, .notNull)
                    .column("last_error", type: .text)
                    .column("created_at", type: .bigint, .notNull)
                    .unique("function", "event_id")
                    .run()
                try await sql.raw("CREATE INDEX IF NOT EXISTS _blytz_deliveries_ready ON _blytz_deliveries (function, state, available_at)").run()
            }
        } catch {
            await database.shutdown()
            throw error
        }
        return EventQueue(database: database)
    }

    public func shutdown() async {
        await database.shutdown()
    }

    /// Adds a delivery of each event for each function `subscribers` names for its type; an event already
    /// queued for a function (a relay repeating itself after a crash) is not queued twice.
    @discardableResult
    public func enqueue(_ events: [Event], subscribers: @Sendable (String) -> [String], now: Int64) async throws -> Int {
        let rows = events.flatMap { event in subscribers(event.type).map { (event, $0) } }
        guard !rows.isEmpty else { return 0 }
        try await database.transaction { sql in
            for chunk in stride(from: 0, to: rows.count, by: 200).map({ Array(rows[$0..<min($0 + 200, rows.count)]) }) {
                var insert = sql.insert(into: "_blytz_deliveries")
                    .columns("function", "event_id", "type", "envelope", "attempts", "available_at", "claimed_until", "state", "created_at")
                for (event, function) in chunk {
                    insert = insert.values(
                        SQLBind(function), SQLBind(event.id), SQLBind(event.type), SQLBind(event.envelope), SQLBind(0), SQLBind(now),
                        SQLBind(0), SQLBind("ready"), SQLBind(now)
                    )
                }
                try await insert.ignoringConflicts(with: ["function", "event_id"]).run()
            }
            try await self.notify(Set(rows.map(\.1)), on: sql)
        }
        return rows.count
    }

    /// The channel on which a PostgreSQL queue announces new deliveries (the payload names the function).
    public static let channel = "blytz_events"

    /// On PostgreSQL, tells every listening runner which functions have new deliveries, when the
    /// surrounding transaction commits.
    private func notify(_ functions: Set<String>, on sql: any SQLDatabase) async throws {
        guard database.engine == .postgres else { return }
        for function in functions.sorted() {
            try await sql.raw("SELECT pg_notify(\(bind: Self.channel), \(bind: function))").run()
        }
    }

    /// Calls `wake` with a function's name whenever any runner queues deliveries for it (PostgreSQL only;
    /// returns at once for SQLite, whose queue has a single runner). Reconnects until cancelled.
    public func listen(logger: Logger, wake: @escaping @Sendable (String) -> Void) async {
        await PostgresNotifications.listen(to: database.location, channel: Self.channel, logger: logger, heard: wake)
    }

    /// Leases up to `limit` ready deliveries of `function` until `now + lease`, counting an attempt each.
    public func claim(function: String, limit: Int, now: Int64, lease: Int64) async throws -> [Delivery] {
        let postgres = database.engine == .postgres
        return try await database.transaction { sql in
            var select = sql.select().columns("seq", "function", "event_id", "type", "envelope", "attempts", "state", "last_error", "created_at")
                .from("_blytz_deliveries")
                .where("function", .equal, SQLBind(function)).where("state", .equal, SQLBind("ready"))
                .where("available_at", .lessThanOrEqual, SQLBind(now)).where("claimed_until", .lessThan, SQLBind(now))
                .orderBy("seq").limit(limit)
            // Several runners may claim from one PostgreSQL queue; SQLite's BEGIN IMMEDIATE already serialises.
            if postgres { select = select.lockingClause(SQLRaw("FOR UPDATE SKIP LOCKED")) }
            var claimed = try await select.all(decoding: Delivery.self)
            guard !claimed.isEmpty else { return [] }
            try await sql.update("_blytz_deliveries")
                .set("claimed_until", to: SQLBind(now + lease))
                .set(SQLIdentifier("attempts"), to: SQLRaw("attempts + 1"))
                .where("seq", .in, SQLBind.group(claimed.map(\.seq)))
                .run()
            for index in claimed.indices { claimed[index].attempts += 1 }
            return claimed
        }
    }

    /// Removes delivered deliveries.
    public func acknowledge(_ seqs: [Int]) async throws {
        guard !seqs.isEmpty else { return }
        try await database.transaction { sql in
            try await sql.delete(from: "_blytz_deliveries").where("seq", .in, SQLBind.group(seqs)).run()
        }
    }

    /// Schedules a failed delivery again at `retryAt`, or moves it to the dead-letter store when nil.
    public func fail(_ seq: Int, error: String, retryAt: Int64?) async throws {
        try await database.transaction { sql in
            var update = sql.update("_blytz_deliveries").set("claimed_until", to: SQLBind(0)).set("last_error", to: SQLBind(String(error.prefix(2000))))
            if let retryAt {
                update = update.set("available_at", to: SQLBind(retryAt))
            } else {
                update = update.set("state", to: SQLBind("dead"))
            }
            try await update.where("seq", .equal, SQLBind(seq)).run()
        }
    }

    /// When the next delivery of `function` becomes available, if any is waiting.
    public func nextAvailable(function: String) async throws -> Int64? {
        struct Next: Decodable { var available_at: Int64; var claimed_until: Int64 }
        let next = try await database.withConnection { sql in
            try await sql.select().columns("available_at", "claimed_until").from("_blytz_deliveries")
                .where("function", .equal, SQLBind(function)).where("state", .equal, SQLBind("ready"))
                .orderBy("available_at").limit(1).first(decoding: Next.self)
        }
        return next.map { max($0.available_at, $0.claimed_until) }
    }

    /// Each function's deliveries by state, for the metrics: waiting, in flight, dead, and the age of the oldest not yet delivered.
    func statistics(now: Int64) async throws -> [QueueStatistics] {
        struct Row: Decodable { var function: String; var ready: Int; var in_flight: Int; var dead: Int; var oldest: Int64? }
        let rows = try await database.withConnection { sql in
            try await sql.raw("""
                SELECT function,
                    SUM(CASE WHEN state = 'ready' AND claimed_until < \(bind: now) THEN 1 ELSE 0 END) AS ready,
                    SUM(CASE WHEN state = 'ready' AND claimed_until >= \(bind: now) THEN 1 ELSE 0 END) AS in_flight,
                    SUM(CASE WHEN state = 'dead' THEN 1 ELSE 0 END) AS dead,
                    MIN(CASE WHEN state = 'ready' THEN created_at END) AS oldest
                FROM _blytz_deliveries GROUP BY function
                """).all(decoding: Row.self)
        }
        return rows.map { row in
            QueueStatistics(
                function: row.function, ready: row.ready, inFlight: row.in_flight, dead: row.dead,
                oldestAgeSeconds: row.oldest.map { Double(max(0, now - $0)) / 1000 } ?? 0
            )
        }
    }

    /// The dead-letter store, optionally of one function.
    public func dead(function: String? = nil) async throws -> [Delivery] {
        try await database.withConnection { sql in
            var select = sql.select().columns("seq", "function", "event_id", "type", "envelope", "attempts", "state", "last_error", "created_at")
                .from("_blytz_deliveries").where("state", .equal, SQLBind("dead"))
            if let function { select = select.where("function", .equal, SQLBind(function)) }
            return try await select.orderBy("seq").all(decoding: Delivery.self)
        }
    }

    /// Puts dead deliveries back in the queue with fresh attempts; returns how many.
    @discardableResult
    public func replay(function: String? = nil, seqs: [Int]? = nil, now: Int64) async throws -> Int {
        let selected = try await dead(function: function).filter { seqs?.contains($0.seq) ?? true }
        guard !selected.isEmpty else { return 0 }
        let targets = selected.map(\.seq)
        let functions = Set(selected.map(\.function))
        try await database.transaction { sql in
            try await sql.update("_blytz_deliveries")
                .set("state", to: SQLBind("ready")).set("attempts", to: SQLBind(0)).set("available_at", to: SQLBind(now))
                .set("claimed_until", to: SQLBind(0))
                .where("seq", .in, SQLBind.group(targets)).run()
            try await self.notify(functions, on: sql)
        }
        return targets.count
    }

    /// Deletes dead deliveries; returns how many.
    @discardableResult
    public func purge(function: String? = nil, seqs: [Int]? = nil) async throws -> Int {
        let targets = try await dead(function: function).filter { seqs?.contains($0.seq) ?? true }.map(\.seq)
        try await acknowledge(targets)
        return targets.count
    }
}
