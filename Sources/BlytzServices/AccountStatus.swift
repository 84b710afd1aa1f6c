import Blytz
import BlytzData
import BlytzEvents
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
public struct AccountStatusConsumer: EventConsumer {
    /// The two events that change whether an account may act.
    public enum Change: EventChoice {
        case updated(UserUpdated)
        case deleted(UserDeleted)

        public static let choices: [any Event.Type] = [UserUpdated.self, UserDeleted.self]

        public init(_ event: any Event) throws {
            switch event {
            case let event as UserUpdated: self = .updated(event)
            case let event as UserDeleted: self = .deleted(event)
            default: throw UnexpectedEventType(type: type(of: event).type, expected: Self.choices.map { $0.type })
            }
        }
    }

    public init() {}

    public func handle(_ event: EventEnvelope<Change>, context: FunctionContext) async throws {
        let userId: String
        let status: AccountState
        switch event.data {
        case .deleted(let deleted):
            userId = deleted.userId
            status = .deleted
        case .updated(let updated):
            guard let changed = updated.status else { return }
            userId = updated.userId
            status = changed
        }
        try await AccountStatus.record(userId: userId.lowercased(), status: status, at: event.time, in: try context.database)
    }
}

/// The `_blytz_account_status` table of a service database.
public enum AccountStatus {
    /// Records `status` as of `time`; an older event delivered late does not undo a newer one.
    public static func record(userId: String, status: AccountState, at time: String, in database: ServiceDatabase) async throws {
        try await database.transaction { sql in
            struct Row: Decodable { var changed_at: String }
            let known = try await sql.select().column("changed_at").from("_blytz_account_status").where("user_id", .equal, SQLBind(userId))
                .for(.update).first(decoding: Row.self)
            if let known {
                guard known.changed_at < time else { return }
                try await sql.update("_blytz_account_status").set("status", to: SQLBind(status.rawValue)).set("changed_at", to: SQLBind(time))
                    .where("user_id", .equal, SQLBind(userId)).run()
            } else {
                try await sql.insert(into: "_blytz_account_status").columns("user_id", "status", "changed_at")
                    .values(SQLBind(userId), SQLBind(status.rawValue), SQLBind(time)).ignoringConflicts(with: ["user_id"]).run()
            }
        }
    }

    /// Whether `userId` may act: yes unless the user service last said otherwise.
    public static func isActive(_ userId: String, in database: ServiceDatabase) async throws -> Bool {
        struct Row: Decodable { var status: String }
        let row = try await database.withConnection { sql in
            try await sql.select().column("status").from("_blytz_account_status").where("user_id", .equal, SQLBind(userId)).first(decoding: Row.self)
        }
        return row.map { $0.status == AccountState.active.rawValue } ?? true
    }
}
