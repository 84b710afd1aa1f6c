import Foundation
import Blytz
import BlytzEvents
import BlytzData
import BlytzServices
import SQLKit

/// The data of `UserUpdated`: which fields changed, and the user's role and status after the change.

/// `GET /users` (admin): users, newest first, filtered by `role` and `status`.
struct ListUsers: HTTPFunction {
    static let access = Access.people(.admin, detail: "Only admins may list users.")

    struct Query: QueryParameters {
        var role: String?
        var status: String?
        var page: PageRequest

        init(_ reader: inout QueryReader) throws(HTTPError) {
            role = reader.choice("role", Caller.Role.allCases.map(\.rawValue))
            status = reader.choice("status", UserRecord.Status.allCases.map(\.rawValue))
            try reader.check()
            page = try PageRequest(&reader, sort: "created")
        }
    }

    func handle(_ request: FunctionRequest<Empty>, caller: Caller, context: FunctionContext) async throws -> FunctionResponse<Page<UserView>> {
        let filters = try request.read(Query.self)
        let (role, status, page) = (filters.role, filters.status, filters.page)
        let keyset = Keyset(column: "created_at", idColumn: "id", descending: true)
        let rows = try await context.database.withConnection { sql in
            var query = sql.select().column("*").from(UserRecord.table)
            if let role { query = query.where("role", .equal, SQLBind(role)) }
            if let status { query = query.where("status", .equal, SQLBind(status)) }
            return try await keyset.select(query, page: page).all(decoding: UserRecord.self, keyDecodingStrategy: .snakeCase)
        }
        return .ok(page.page(rows, \.view) { ($0.createdAt, $0.id) })
    }
}

/// `GET /users/{id}`: the full user to themself and admins, the public view to everyone else.
struct GetUser: HTTPFunction {
    static let access = Access.signedIn

    struct Output: ResponseBody, SchemaDescribing {
        var full: UserView?
        var publicView: PublicUserView?

        static func jsonSchema(_ schemas: SchemaCollector) -> JSONValue {
            ["anyOf": [schemas.schema(for: UserView.self), schemas.schema(for: PublicUserView.self)]]
        }

        func encodedBody() throws -> (data: Data, contentType: String)? {
            if let full { return try full.encodedBody() }
            return try publicView?.encodedBody()
        }
    }

    func handle(_ request: FunctionRequest<Empty>, caller: Caller, context: FunctionContext) async throws -> FunctionResponse<Output> {
        let id = try userId(request)
        let user = try await context.database.withConnection { sql in try await UserRecord.find(id, on: sql) }
        guard let user, user.status != .deleted || caller.isAdmin else { throw HTTPError.notFound("There is no user \(id).") }
        if caller.userId == id || caller.isAdmin { return .ok(Output(full: user.view)) }
        return .ok(Output(publicView: user.publicView))
    }
}

/// `PATCH /users/{id}`: the user changes their `preferences`; an admin may also change `role` and
/// `status` (suspending ends every session). Emits `UserUpdated`.
struct UpdateUser: HTTPFunction {
    static let access = Access.signedIn

    struct Input: Codable, Sendable {
        var preferences: [String: JSONValue]?
        var role: String?
        var status: String?
    }

    func handle(_ request: FunctionRequest<Input>, caller: Caller, context: FunctionContext) async throws -> FunctionResponse<UserView> {
        let id = try userId(request)
        try caller.requireSelfOrAdmin(id)
        let input = try request.input
        var errors: [Problem.FieldError] = []
        if !caller.isAdmin {
            if input.role != nil { errors.append(.init(field: "role", message: "may only be changed by an admin")) }
            if input.status != nil { errors.append(.init(field: "status", message: "may only be changed by an admin")) }
            if !errors.isEmpty { throw HTTPError(403, detail: "Only an admin may change a user's role or status.", errors: errors) }
        }
        let role = input.role.flatMap(Role.init(rawValue:)).flatMap { Role.people.contains($0) ? $0 : nil }
        if input.role != nil && role == nil { errors.append(.init(field: "role", message: "must be va, company or admin")) }
        let status = input.status.flatMap(UserRecord.Status.init(rawValue:))
        if input.status != nil && (status == nil || status == .deleted) { errors.append(.init(field: "status", message: "must be active or suspended")) }
        if caller.userId == id && (role != nil || status != nil) { errors.append(.init(field: role != nil ? "role" : "status", message: "an admin may not change their own")) }
        if let preferences = input.preferences, jsonText(preferences).utf8.count > 8_192 || preferences.count > 100 {
            errors.append(.init(field: "preferences", message: "must be at most 100 keys and 8 KB"))
        }
        if input.preferences == nil && input.role == nil && input.status == nil { errors.append(.init(field: "body", message: "must set preferences, role or status")) }
        guard errors.isEmpty else { throw HTTPError.unprocessable(errors) }

        let updated = try await context.database.transaction { sql -> UserRecord? in
            guard var user = try await UserRecord.find(id, on: sql), user.status != .deleted else { return nil }
            var fields: [String] = []
            if let preferences = input.preferences { user.preferences = jsonText(preferences); fields.append("preferences") }
            if let role, role != user.role { user.role = role; fields.append("role") }
            if let status, status != user.status { user.status = status; fields.append("status") }
            guard !fields.isEmpty else { return user }
            user.updatedAt = context.now.iso
            try await sql.update(UserRecord.table).set("preferences", to: SQLBind(user.preferences)).set("role", to: SQLBind(user.role.rawValue))
                .set("status", to: SQLBind(user.status.rawValue)).set("updated_at", to: SQLBind(user.updatedAt))
                .where("id", .equal, SQLBind(id)).run()
            if fields.contains("status") || fields.contains("role") {
                // A new role or a suspension must not ride on old sessions.
                try await Sessions.revokeAll(userId: id, reason: fields.contains("status") ? "status-\(user.status.rawValue)" : "role-change", on: sql)
                try await ProfileVisibility.set(userId: id, visible: user.status == .active, on: sql)
            }
            try await context.publish(UserUpdated(userId: id, fields: fields, role: user.role, status: user.status), on: sql)
            return user
        }
        guard let updated else { throw HTTPError.notFound("There is no user \(id).") }
        return .ok(updated.view)
    }
}

/// `DELETE /users/{id}` (the user or an admin): deactivates the account — sessions end, the email is
/// released and anonymised, profiles are hidden — and emits `UserDeleted` so other services clean up.
struct DeleteUser: HTTPFunction {
    static let access = Access.signedIn

    func handle(_ request: FunctionRequest<Empty>, caller: Caller, context: FunctionContext) async throws -> FunctionResponse<Empty> {
        let id = try userId(request)
        try caller.requireSelfOrAdmin(id)
        let deleted = try await context.database.transaction { sql -> Bool in
            guard let user = try await UserRecord.find(id, on: sql), user.status != .deleted else { return false }
            try await sql.update(UserRecord.table).set("status", to: SQLBind(UserRecord.Status.deleted.rawValue))
                .set("email", to: SQLBind("deleted+\(id)@users.invalid")).set("password_hash", to: SQLBind("!"))
                .set("display_name", to: SQLBind("Deleted user")).set("avatar_file_id", to: SQLBind(String?.none))
                .set("preferences", to: SQLBind("{}")).set("updated_at", to: SQLBind(context.now.iso))
                .where("id", .equal, SQLBind(id)).run()
            try await Sessions.revokeAll(userId: id, reason: "deleted", on: sql)
            try await ProfileVisibility.set(userId: id, visible: false, on: sql)
            try await context.publish(UserDeleted(userId: id, role: user.role), on: sql)
            return true
        }
        guard deleted else { throw HTTPError.notFound("There is no user \(id).") }
        return .noContent
    }
}

/// Hides a user's profiles from search and lookups (suspension, deletion) or shows them again.
enum ProfileVisibility {
    static func set(userId: String, visible: Bool, on sql: any SQLDatabase) async throws {
        try await sql.update(VAProfileRecord.table).set("visible", to: SQLBind(visible)).where("user_id", .equal, SQLBind(userId)).run()
        try await sql.update(CompanyRecord.table).set("visible", to: SQLBind(visible)).where("user_id", .equal, SQLBind(userId)).run()
        // Read back after the update, so the words follow the new visibility.
        if let va = try await VAProfileRecord.find(userId, on: sql) {
            try await ProfileTerms.replace(kind: "va", userId: userId, terms: va.searchWords, on: sql)
        }
        if let company = try await CompanyRecord.find(userId, on: sql) {
            try await ProfileTerms.replace(kind: "company", userId: userId, terms: company.searchWords, on: sql)
        }
    }
}

/// `GET /users/{id}/basic`: what chat and notifications show of a user — id, role, display name, avatar.
struct GetBasicUser: HTTPFunction {
    static let access = Access.signedIn

    func handle(_ request: FunctionRequest<Empty>, caller: Caller, context: FunctionContext) async throws -> FunctionResponse<BasicUser> {
        let id = try userId(request)
        guard let user = try await context.database.withConnection({ sql in try await UserRecord.find(id, on: sql) }) else {
            throw HTTPError.notFound("There is no user \(id).")
        }
        return .ok(BasicUser(id: user.id, role: user.role, displayName: user.displayName ?? "BlytzWork user", avatarFileId: user.avatarFileId, status: user.status))
    }
}

/// `GET /users/{id}/applications` (the VA themself, or an admin): the VA's proposals, from the
/// marketplace service (`GET /proposals?vaUserId=`), passed through page by page.
struct GetApplications: HTTPFunction {
    static let access = Access.people(.va, .admin)

    struct Query: QueryParameters {
        var limit: Int
        var cursor: String?

        init(_ reader: inout QueryReader) throws(HTTPError) {
            limit = reader.int("limit", in: 1...100) ?? 20
            cursor = reader.text("cursor")
            try reader.check()
        }
    }

    func handle(_ request: FunctionRequest<Empty>, caller: Caller, context: FunctionContext) async throws -> FunctionResponse<Page<ProposalSummary>> {
        let id = try userId(request)
        try caller.requireSelfOrAdmin(id)
        let page = try request.read(Query.self)
        guard let user = try await context.database.withConnection({ sql in try await UserRecord.find(id, on: sql) }), user.status != .deleted else {
            throw HTTPError.notFound("There is no user \(id).")
        }
        guard user.role == .va else { throw HTTPError.notFound("User \(id) is not a VA and has no applications.") }
        do {
            return .ok(try await context.services.call(ListProposalsCall(vaUserId: id, limit: page.limit, cursor: page.cursor), context: context, as: .caller(caller)))
        } catch let error as ServiceCallError where error.problem.status == 404 {
            // The VA exists here, so a 404 means the marketplace has no such listing to offer.
            throw HTTPError(502, detail: "The marketplace service could not list proposals (it answered 404 to GET /proposals).")
        }
    }
}
