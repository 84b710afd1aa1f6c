import Blytz
import BlytzEvents
import BlytzData
import BlytzServices
import Foundation
import SQLKit

/// Daily: deletes what can no longer be used — refresh tokens expired for a day (a reused one that old
/// could not be told from an unknown one anyway), one-time tokens expired or used a day ago, and login
/// counters whose window and lock have both ended.
struct PurgeExpired: ScheduleFunction {
    func handle(_ event: ScheduledEvent, context: FunctionContext) async throws {
        let settings = try context.users.settings
        try await Self.purge(context.database, now: context.now, lockDuration: settings.lockDuration)
    }

    static func purge(_ database: ServiceDatabase, now: Date, lockDuration: Duration) async throws {
        let dayAgo = now.adding(.seconds(-86_400)).iso
        let windowAgo = now.adding(.zero - lockDuration).iso
        try await database.transaction { sql in
            try await sql.delete(from: "refresh_tokens").where("expires_at", .lessThan, SQLBind(dayAgo)).run()
            try await sql.delete(from: "one_time_tokens").where(group: { $0.where("expires_at", .lessThan, SQLBind(dayAgo)).orWhere("used_at", .lessThan, SQLBind(dayAgo)) }).run()
            try await sql.delete(from: "login_throttle").where("window_started_at", .lessThan, SQLBind(windowAgo))
                .where(group: { $0.where("locked_until", .is, SQLLiteral.null).orWhere("locked_until", .lessThan, SQLBind(now.iso)) }).run()
        }
    }
}
