import BlytzData
import SQLKit

/// The last slot each schedule fired, kept beside the event queue: a restarted runner neither fires a
/// slot twice nor skips one without saying so, and runners sharing a PostgreSQL queue fire each slot once.
public struct ScheduleState: Sendable {
    public let database: ServiceDatabase

    public init(queue: EventQueue) {
        self.database = queue.database
    }

    /// Creates the table when missing.
    public func prepare() async throws {
        try await database.transaction(serialisedBy: "_blytz_schedules") { sql in
            try await sql.create(table: "_blytz_schedules").ifNotExists()
                .column("function", type: .text, .primaryKey(autoIncrement: false))
                .column("last_due", type: .bigint, .notNull)
                .run()
        }
    }

    /// The last slot `function` fired, in seconds since 1970.
    public func lastDue(_ function: String) async throws -> Int64? {
        struct Row: Decodable { var last_due: Int64 }
        return try await database.withConnection { sql in
            try await sql.select().column("last_due").from("_blytz_schedules").where("function", .equal, SQLBind(function)).first(decoding: Row.self)?.last_due
        }
    }

    /// Records that `function` fires slot `due`; false when that slot (or a later one) has fired already.
    public func claim(_ function: String, due: Int64) async throws -> Bool {
        let postgres = database.engine == .postgres
        return try await database.transaction { sql in
            try await sql.insert(into: "_blytz_schedules").columns("function", "last_due").values(SQLBind(function), SQLBind(Int64(0)))
                .ignoringConflicts(with: ["function"]).run()
            struct Row: Decodable { var last_due: Int64 }
            var select = sql.select().column("last_due").from("_blytz_schedules").where("function", .equal, SQLBind(function))
            if postgres { select = select.lockingClause(SQLRaw("FOR UPDATE")) }
            guard let last = try await select.first(decoding: Row.self)?.last_due, last < due else { return false }
            try await sql.update("_blytz_schedules").set("last_due", to: SQLBind(due)).where("function", .equal, SQLBind(function)).run()
            return true
        }
    }
}
