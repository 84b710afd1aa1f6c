import Blytz
import BlytzData
import BlytzEvents
import BlytzServices
import Foundation
import Logging
import SQLKit

/// What chat and notifications show of a user, as far as this service knows it.
struct KnownUser: Codable, Sendable, Equatable {
    var id: String
    var role: String?
    var displayName: String
    var avatarFileId: String?
    var status: String?
}

/// The user details this service keeps: fetched from the user service (`GET /users/{id}/basic`, through
/// the service client with its timeout and circuit breaker), kept for `ttl`, and refreshed by
/// `UserCreated`/`UserUpdated`/`ProfileUpdated`/`UserDeleted`. When the user service cannot answer, what is
/// kept is used, however old.
struct UserDirectory: Sendable {
    struct Row: Codable, Sendable {
        var userId: String
        var role: String?
        var displayName: String?
        var avatarFileId: String?
        var email: String?
        var status: String?
        var fetchedAt: String
    }

    let ttl: Duration

    static func row(_ userId: String, on sql: any SQLDatabase) async throws -> Row? {
        try await sql.select().column("*").from("user_directory").where("user_id", .equal, SQLBind(userId))
            .first(decoding: Row.self, keyDecodingStrategy: .snakeCase)
    }

    /// `userId`'s details; nil when the user service says there is no such user.
    func user(_ userId: String, context: FunctionContext, caller: Caller?) async throws -> KnownUser? {
        let database = try context.database
        let kept = try await database.withConnection { sql in try await Self.row(userId, on: sql) }
        if let kept, let fetched = Date(iso: kept.fetchedAt), Date().timeIntervalSince(fetched) < ttl / .seconds(1), kept.displayName != nil {
            return kept.basic
        }
        do {
            let fresh = try await context.services.call(GetBasicUserCall(userId: userId), context: context, as: caller.map { .caller($0) } ?? .service)
            let row = try await database.transaction { sql in
                try await Self.upsert(userId: userId, on: sql) { row in
                    row.role = fresh.role.rawValue
                    row.displayName = fresh.displayName
                    row.avatarFileId = fresh.avatarFileId
                    row.status = fresh.status.rawValue
                }
            }
            return row?.basic
        } catch let error as ServiceCallError where error.problem.status == 404 {
            return nil
        } catch let error as ServiceCallError {
            guard let kept else { throw error }
            context.logger.warning("user service unavailable; using kept details", metadata: ["user.id": "\(userId)", "error": "\(error.problem.detail ?? "")"])
            return kept.basic
        }
    }

    /// The kept details of `ids`, without calling anyone (for lists and notifications).
    static func kept(_ ids: [String], on sql: any SQLDatabase) async throws -> [String: KnownUser] {
        guard !ids.isEmpty else { return [:] }
        let rows = try await sql.select().column("*").from("user_directory").where("user_id", .in, SQLBind.group(Array(Set(ids))))
            .all(decoding: Row.self, keyDecodingStrategy: .snakeCase)
        return Dictionary(rows.map { ($0.userId, $0.basic) }) { first, _ in first }
    }

    /// Changes (or creates) `userId`'s row with `change`, stamping it fresh.
    @discardableResult
    static func upsert(userId: String, on sql: any SQLDatabase, _ change: (inout Row) -> Void) async throws -> Row? {
        try await sql.insert(into: "user_directory").columns("user_id", "fetched_at").values(SQLBind(userId), SQLBind(Date().iso))
            .ignoringConflicts(with: ["user_id"]).run()
        guard var row = try await sql.select().column("*").from("user_directory").where("user_id", .equal, SQLBind(userId)).for(.update)
            .first(decoding: Row.self, keyDecodingStrategy: .snakeCase) else { return nil }
        change(&row)
        row.fetchedAt = Date().iso
        try await sql.update("user_directory").set("role", to: SQLBind(row.role)).set("display_name", to: SQLBind(row.displayName))
            .set("avatar_file_id", to: SQLBind(row.avatarFileId)).set("email", to: SQLBind(row.email)).set("status", to: SQLBind(row.status))
            .set("fetched_at", to: SQLBind(row.fetchedAt)).where("user_id", .equal, SQLBind(userId)).run()
        return row
    }
}

extension UserDirectory.Row {
    var basic: KnownUser {
        KnownUser(id: userId, role: role, displayName: displayName ?? "BlytzWork user", avatarFileId: avatarFileId, status: status)
    }
}
