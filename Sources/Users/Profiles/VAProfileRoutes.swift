import Foundation
import Blytz
import BlytzEvents
import BlytzData
import BlytzServices
import SQLKit

/// `POST /profiles/va`: a VA creates their one profile; emits `ProfileUpdated`.
struct CreateVAProfile: HTTPFunction {
    static let access = Access.people(.va, detail: "Only VAs have VA profiles.")

    func handle(_ request: FunctionRequest<VAProfileInput>, caller: Caller, context: FunctionContext) async throws -> FunctionResponse<VAProfileView> {
        let problems = try request.input.problems(creating: true)
        guard problems.isEmpty else { throw HTTPError.unprocessable(problems) }
        let now = context.now.iso
        var record = VAProfileRecord(
            userId: caller.userId, name: "", bio: "", country: "", hourlyRateCents: 0, currency: "USD", skills: "[]", languages: "[]",
            availability: "full-time", available: true, workExperience: "[]", education: "[]", averageRating: 0, ratingSum: 0,
            totalReviews: 0, completedJobs: 0, earnedCents: 0, profileViews: 0, verificationLevel: "none", visible: true,
            createdAt: now, updatedAt: now
        )
        try record.apply(request.input)
        let created = record
        let made = try await context.database.transaction { sql -> Bool in
            guard try await VAProfileRecord.find(caller.userId, on: sql) == nil else { return false }
            try await created.save(on: sql, inserting: true)
            try await context.profileChanged(
                ProfileUpdated(userId: caller.userId, kind: .va, deleted: false, vaProfile: created.snapshot),
                displayName: created.name, avatarFileId: created.avatarFileId, on: sql
            )
            return true
        }
        guard made else { throw HTTPError.conflict("You already have a VA profile; change it with PATCH /profiles/va/me.") }
        return .created(created.view(for: .owner), location: "/profiles/va/\(caller.userId)")
    }
}

/// `GET /profiles/va/me`: the caller's own VA profile, earnings included.
struct GetOwnVAProfile: HTTPFunction {
    static let access = Access.people(.va, detail: "Only VAs have VA profiles.")

    func handle(_ request: FunctionRequest<Empty>, caller: Caller, context: FunctionContext) async throws -> FunctionResponse<VAProfileView> {
        guard let record = try await context.database.withConnection({ sql in try await VAProfileRecord.find(caller.userId, on: sql) }) else {
            throw HTTPError.notFound("You have no VA profile yet; create one with POST /profiles/va.")
        }
        return .ok(record.view(for: .owner))
    }
}

/// `PATCH /profiles/va/me`: changes the fields given; emits `ProfileUpdated`.
struct UpdateVAProfile: HTTPFunction {
    static let access = Access.people(.va, detail: "Only VAs have VA profiles.")

    func handle(_ request: FunctionRequest<VAProfileInput>, caller: Caller, context: FunctionContext) async throws -> FunctionResponse<VAProfileView> {
        let problems = try request.input.problems(creating: false)
        guard problems.isEmpty else { throw HTTPError.unprocessable(problems) }
        let updated = try await context.database.transaction { sql -> VAProfileRecord? in
            guard var record = try await VAProfileRecord.find(caller.userId, on: sql) else { return nil }
            try record.apply(request.input)
            record.updatedAt = context.now.iso
            try await record.save(on: sql, inserting: false)
            try await context.profileChanged(
                ProfileUpdated(userId: caller.userId, kind: .va, deleted: false, vaProfile: record.snapshot),
                displayName: record.name, avatarFileId: record.avatarFileId, on: sql
            )
            return record
        }
        guard let updated else { throw HTTPError.notFound("You have no VA profile yet; create one with POST /profiles/va.") }
        return .ok(updated.view(for: .owner))
    }
}

/// `DELETE /profiles/va/me`: removes the caller's VA profile; emits `ProfileUpdated` with `deleted`.
struct DeleteVAProfile: HTTPFunction {
    static let access = Access.people(.va, detail: "Only VAs have VA profiles.")

    func handle(_ request: FunctionRequest<Empty>, caller: Caller, context: FunctionContext) async throws -> FunctionResponse<Empty> {
        let deleted = try await context.database.transaction { sql -> Bool in
            guard try await VAProfileRecord.find(caller.userId, on: sql) != nil else { return false }
            try await ProfileTerms.replace(kind: "va", userId: caller.userId, terms: [], on: sql)
            try await sql.delete(from: VAProfileRecord.table).where("user_id", .equal, SQLBind(caller.userId)).run()
            try await context.profileChanged(
                ProfileUpdated(userId: caller.userId, kind: .va, deleted: true), displayName: nil, avatarFileId: nil, on: sql
            )
            return true
        }
        guard deleted else { throw HTTPError.notFound("You have no VA profile.") }
        return .noContent
    }
}

/// `GET /profiles/va/{id}`: a VA's public profile; a view by anyone but its owner is counted.
struct GetVAProfile: HTTPFunction {
    static let access = Access.signedIn

    func handle(_ request: FunctionRequest<Empty>, caller: Caller, context: FunctionContext) async throws -> FunctionResponse<VAProfileView> {
        let id = try userId(request)
        let record = try await context.database.withConnection { sql -> VAProfileRecord? in
            guard var record = try await VAProfileRecord.find(id, on: sql), record.visible || caller.isAdmin else { return nil }
            if caller.userId != id {
                try await sql.update(VAProfileRecord.table).set("profile_views", to: SQLRaw("profile_views + 1")).where("user_id", .equal, SQLBind(id)).run()
                record.profileViews += 1
            }
            return record
        }
        guard let record else { throw HTTPError.notFound("There is no VA profile for user \(id).") }
        return .ok(record.view(for: caller.audience(of: id)))
    }
}

extension Caller {
    /// How much of `userId`'s profile this caller sees.
    func audience(of userId: String) -> Audience {
        if self.userId == userId || isAdmin { return .owner }
        return role == .company ? .company : .other
    }
}
