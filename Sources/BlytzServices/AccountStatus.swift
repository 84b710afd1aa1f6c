import Blytz
import BlytzData
import Foundation
import SQLKit

/// What a service knows of accounts that are not active: the user service's `UserUpdated` (a status
/// change) and `UserDeleted` events, kept in the service's own `_blytz_account_status`, so a suspended or
/// deleted user's unexpired access token is refused by every service, not only by the user service.
///
/// ```
/// // functions.yaml
/// marketplace-on-account-status: { service: marketplace, handler: BlytzServices.AccountStatusConsumer,
///                                  queue: { events: [UserUpdated, UserDeleted] } }
/// ```
public struct AccountStatusConsumer: QueueFunction {
    public struct Change: Codable, Sendable {
        public var userId: String
        /// The status after a `UserUpdated`; absent in `UserDeleted`.
        public var status: String?

        public init(userId: String, status: String?) {
            self.userId = userId
            self.status = status
        }
    }

    public init() {}

    public func handle(_ message: EventEnvelope<Change>, metadata: QueueMessageMetadata, context: FunctionContext) async throws {
        let status: String
        switch message.type {
        case "UserDeleted": status = "deleted"
        case "UserUpdated":
            guard let changed = message.data.status else { return }
            status = changed
        default: return
        }
        try await AccountStatus.record(userId: message.data.userId.lowercased(), status: status, at: message.time, in: try context.database)
    }
}

/// The `_blytz_account_status` table of a service database.
public enum AccountStatus {
    /// Records `status` as of `time`; an older event delivered late does not undo a newer one.
    public static func record(userId: String, status: String, at time: String, in database: ServiceDatabase) async throws {
        try await database.transaction { sql in
            struct Row: Decodable { var changed_at: String }
            let known = try await sql.select().column("changed_at").from("_blytz_account_status").where("user_id", .equal, SQLBind(userId))
                .for(.update).first(decoding: Row.self)
            if let known {
                guard known.changed_at < time else { return }
                try await sql.update("_blytz_account_status").set("status", to: SQLBind(status)).set("changed_at", to: SQLBind(time))
                    .where("user_id", .equal, SQLBind(userId)).run()
            } else {
                try await sql.insert(into: "_blytz_account_status").columns("user_id", "status", "changed_at")
                    .values(SQLBind(userId), SQLBind(status), SQLBind(time)).ignoringConflicts(with: ["user_id"]).run()
            }
        }
    }

    /// Whether `userId` may act: yes unless the user service last said otherwise.
    public static func isActive(_ userId: String, in database: ServiceDatabase) async throws -> Bool {
        struct Row: Decodable { var status: String }
        let row = try await database.withConnection { sql in
            try await sql.select().column("status").from("_blytz_account_status").where("user_id", .equal, SQLBind(userId)).first(decoding: Row.self)
        }
        return row.map { $0.status == "active" } ?? true
    }
}
