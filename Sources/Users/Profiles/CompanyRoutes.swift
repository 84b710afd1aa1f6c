import Foundation
import Blytz
import BlytzEvents
import BlytzData
import BlytzServices
import SQLKit

/// `POST /profiles/company`: a company user creates their one company profile; emits `ProfileUpdated`.
struct CreateCompanyProfile: HTTPFunction {
    static let access = Access.people(.company, detail: "Only company accounts have company profiles.")

    func handle(_ request: FunctionRequest<CompanyInput>, caller: Caller, context: FunctionContext) async throws -> FunctionResponse<CompanyView> {
        let problems = try request.input.problems(creating: true)
        guard problems.isEmpty else { throw HTTPError.unprocessable(problems) }
        let now = context.now.iso
        var record = CompanyRecord(
            userId: caller.userId, name: "", bio: "", country: "", industry: "", verificationLevel: "none", totalSpentCents: 0,
            visible: true, createdAt: now, updatedAt: now
        )
        try record.apply(request.input)
        let created = record
        let made = try await context.database.transaction { sql -> Bool in
            guard try await CompanyRecord.find(caller.userId, on: sql) == nil else { return false }
            try await created.save(on: sql, inserting: true)
            try await context.profileChanged(
                ProfileUpdated(userId: caller.userId, kind: .company, deleted: false, companyProfile: created.snapshot),
                displayName: created.name, avatarFileId: created.logoFileId, on: sql
            )
            return true
        }
        guard made else { throw HTTPError.conflict("You already have a company profile; change it with PATCH /profiles/company/me.") }
        return .created(created.view(for: .owner), location: "/profiles/company/\(caller.userId)")
    }
}

/// `GET /profiles/company/me`: the caller's own company profile.
struct GetOwnCompanyProfile: HTTPFunction {
    static let access = Access.people(.company, detail: "Only company accounts have company profiles.")

    func handle(_ request: FunctionRequest<Empty>, caller: Caller, context: FunctionContext) async throws -> FunctionResponse<CompanyView> {
        guard let record = try await context.database.withConnection({ sql in try await CompanyRecord.find(caller.userId, on: sql) }) else {
            throw HTTPError.notFound("You have no company profile yet; create one with POST /profiles/company.")
        }
        return .ok(record.view(for: .owner))
    }
}

/// `PATCH /profiles/company/me`: changes the fields given; emits `ProfileUpdated`.
struct UpdateCompanyProfile: HTTPFunction {
    static let access = Access.people(.company, detail: "Only company accounts have company profiles.")

    func handle(_ request: FunctionRequest<CompanyInput>, caller: Caller, context: FunctionContext) async throws -> FunctionResponse<CompanyView> {
        let problems = try request.input.problems(creating: false)
        guard problems.isEmpty else { throw HTTPError.unprocessable(problems) }
        let updated = try await context.database.transaction { sql -> CompanyRecord? in
            guard var record = try await CompanyRecord.find(caller.userId, on: sql) else { return nil }
            try record.apply(request.input)
            record.updatedAt = context.now.iso
            try await record.save(on: sql, inserting: false)
            try await context.profileChanged(
                ProfileUpdated(userId: caller.userId, kind: .company, deleted: false, companyProfile: record.snapshot),
                displayName: record.name, avatarFileId: record.logoFileId, on: sql
            )
            return record
        }
        guard let updated else { throw HTTPError.notFound("You have no company profile yet; create one with POST /profiles/company.") }
        return .ok(updated.view(for: .owner))
    }
}

/// `DELETE /profiles/company/me`: removes the caller's company profile; emits `ProfileUpdated` with `deleted`.
struct DeleteCompanyProfile: HTTPFunction {
    static let access = Access.people(.company, detail: "Only company accounts have company profiles.")

    func handle(_ request: FunctionRequest<Empty>, caller: Caller, context: FunctionContext) async throws -> FunctionResponse<Empty> {
        let deleted = try await context.database.transaction { sql -> Bool in
            guard try await CompanyRecord.find(caller.userId, on: sql) != nil else { return false }
            try await ProfileTerms.replace(kind: "company", userId: caller.userId, terms: [], on: sql)
            try await sql.delete(from: CompanyRecord.table).where("user_id", .equal, SQLBind(caller.userId)).run()
            try await context.profileChanged(
                ProfileUpdated(userId: caller.userId, kind: .company, deleted: true), displayName: nil, avatarFileId: nil, on: sql
            )
            return true
        }
        guard deleted else { throw HTTPError.notFound("You have no company profile.") }
        return .noContent
    }
}

/// `GET /profiles/company/{id}`: a company's public profile.
struct GetCompanyProfile: HTTPFunction {
    static let access = Access.signedIn

    func handle(_ request: FunctionRequest<Empty>, caller: Caller, context: FunctionContext) async throws -> FunctionResponse<CompanyView> {
        let id = try userId(request)
        let record = try await context.database.withConnection { sql in try await CompanyRecord.find(id, on: sql) }
        guard let record, record.visible || caller.isAdmin else { throw HTTPError.notFound("There is no company profile for user \(id).") }
        return .ok(record.view(for: caller.audience(of: id)))
    }
}
