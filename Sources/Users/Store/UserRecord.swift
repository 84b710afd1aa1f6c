import Blytz
import BlytzData
import BlytzEvents
import BlytzServices
import Foundation
import SQLKit

/// A row of `users`.
struct UserRecord: Codable, Sendable {
    typealias Status = AccountState

    var id: String
    var email: String
    var passwordHash: String
    var role: Caller.Role
    var status: Status
    var emailVerified: Bool
    var preferences: String
    var displayName: String?
    var avatarFileId: String?
    var lastSeenAt: String?
    var createdAt: String
    var updatedAt: String

    static let table = "users"

    static func find(_ id: String, on sql: any SQLDatabase) async throws -> UserRecord? {
        try await sql.select().column("*").from(table).where("id", .equal, SQLBind(id)).first(decoding: UserRecord.self, keyDecodingStrategy: .snakeCase)
    }

    static func find(email: String, on sql: any SQLDatabase) async throws -> UserRecord? {
        try await sql.select().column("*").from(table).where("email", .equal, SQLBind(email.normalizedEmail)).first(decoding: UserRecord.self, keyDecodingStrategy: .snakeCase)
    }

    func insert(on sql: any SQLDatabase) async throws {
        try await sql.insert(into: Self.table).model(self, keyEncodingStrategy: .snakeCase).run()
    }

    /// The user as they themself (or an admin) see it.
    var view: UserView {
        UserView(
            id: id, email: email, role: role, status: status, emailVerified: emailVerified,
            preferences: fromJSONText(preferences, fallback: [:]), displayName: displayName, avatarFileId: avatarFileId,
            lastSeenAt: lastSeenAt, createdAt: createdAt, updatedAt: updatedAt
        )
    }

    /// What anyone signed in may see.
    var publicView: PublicUserView {
        PublicUserView(id: id, role: role, status: status == .active ? "active" : "inactive", displayName: displayName, avatarFileId: avatarFileId, createdAt: createdAt)
    }
}

/// A user as they themself and admins see it.
struct UserView: Codable, Sendable, ResponseBody {
    var id: String
    var email: String
    var role: Caller.Role
    var status: UserRecord.Status
    var emailVerified: Bool
    var preferences: [String: JSONValue]
    var displayName: String?
    var avatarFileId: String?
    var lastSeenAt: String?
    var createdAt: String
    var updatedAt: String
}

/// A user as other signed-in users see it.
struct PublicUserView: Codable, Sendable, ResponseBody {
    var id: String
    var role: Caller.Role
    var status: String
    var displayName: String?
    var avatarFileId: String?
    var createdAt: String
}

extension String {
    /// Emails compare trimmed and lower-cased.
    var normalizedEmail: String { trimmingCharacters(in: .whitespacesAndNewlines).lowercased() }

    /// Whether this looks like an email address: one `@`, a non-empty local part, a dotted domain.
    var isPlausibleEmail: Bool {
        let parts = split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, parts[1].contains("."), !parts[1].hasPrefix("."), !parts[1].hasSuffix("."), count <= 254 else { return false }
        return !contains(where: \.isWhitespace)
    }

}

/// The id in a route's `{id}`: a 404 (not a 500) when it is not a UUID.
func userId<Input>(_ request: FunctionRequest<Input>, _ name: String = "id") throws -> String {
    let id = try request.parameter(name).lowercased()
    guard id.isUUID else { throw HTTPError.notFound("There is no user \(id).") }
    return id
}
