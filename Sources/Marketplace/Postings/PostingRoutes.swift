import Blytz
import BlytzData
import BlytzEvents
import BlytzServices
import Foundation
import SQLKit

/// `POST /jobs` (company): a new posting, a draft unless `status` is `open`; publishing emits `JobPosted`.
struct CreatePosting: HTTPFunction {
    static let access = Access.people(.company, detail: "Only companies post jobs.")

    func handle(_ request: FunctionRequest<PostingInput>, caller: Caller, context: FunctionContext) async throws -> FunctionResponse<PostingView> {
        let input = try request.input
        let now = context.now.iso
        var record = PostingRecord(
            id: UUID().uuidString.lowercased(), companyUserId: caller.userId, title: "", description: "",
            jobType: input.jobType ?? .fixed, currency: "USD", remote: true, status: .draft, views: 0, proposalCount: 0, createdAt: now, updatedAt: now
        )
        record.apply(input)
        let problems = input.missingOnCreate + record.termProblems
        guard problems.isEmpty else { throw HTTPError.unprocessable(problems) }
        if input.status == .open {
            record.status = try record.status.after(.publish)
            record.publishedAt = now
        }
        let created = record
        let view = try await context.database.transaction { sql in
            try await created.insert(on: sql)
            try await CategoryCounts.moved(from: nil, to: created, on: sql)
            try await PostingTerms.apply(input, to: created.id, on: sql)
            let view = try await PostingTerms.view(created, on: sql)
            try await PostingTerms.index(view, on: sql)
            if created.status == .open { try await context.publish(created.jobPosted(skills: view.skillsRequired), on: sql) }
            return view
        }
        return .created(view, location: "/jobs/\(created.id)")
    }
}

/// `PATCH /jobs/{id}` (its company, or an admin): edits a draft or open posting; `status: open` publishes a
/// draft (emitting `JobPosted`). Closing is `POST /jobs/{id}/close`.
struct UpdatePosting: HTTPFunction {
    static let access = Access.people(.company, .admin)

    func handle(_ request: FunctionRequest<PostingInput>, caller: Caller, context: FunctionContext) async throws -> FunctionResponse<PostingView> {
        let id = try request.parameter("id")
        let updated = try await context.database.transaction { sql -> PostingView in
            var record = try await Postings.owned(id, by: caller, on: sql)
            let input = try request.input
            if let status = input.status, status != .open {
                throw HTTPError.unprocessable([.init(field: "status", message: "may only be set to open (close with POST /jobs/{id}/close)")])
            }
            let before = record
            record.status = try record.status.after(.edit)
            record.apply(input)
            guard record.termProblems.isEmpty else { throw HTTPError.unprocessable(record.termProblems) }
            let publishing = input.status == .open && record.status == .draft
            if publishing {
                record.status = try record.status.after(.publish)
                record.publishedAt = context.now.iso
            }
            record.updatedAt = context.now.iso
            try await record.update(on: sql)
            try await CategoryCounts.moved(from: before, to: record, on: sql)
            try await PostingTerms.apply(input, to: record.id, on: sql)
            let view = try await PostingTerms.view(record, on: sql)
            try await PostingTerms.index(view, on: sql)
            if publishing { try await context.publish(record.jobPosted(skills: view.skillsRequired), on: sql) }
            return view
        }
        return .ok(updated)
    }
}

/// `POST /jobs/{id}/close` (its company, or an admin): no more proposals.
struct ClosePosting: HTTPFunction {
    static let access = Access.people(.company, .admin)

    func handle(_ request: FunctionRequest<Empty>, caller: Caller, context: FunctionContext) async throws -> FunctionResponse<PostingView> {
        let id = try request.parameter("id")
        let closed = try await context.database.transaction { sql -> PostingView in
            var record = try await Postings.owned(id, by: caller, on: sql)
            let before = record
            record.status = try record.status.after(.close)
            record.updatedAt = context.now.iso
            try await record.update(on: sql)
            try await CategoryCounts.moved(from: before, to: record, on: sql)
            return try await PostingTerms.view(record, on: sql)
        }
        return .ok(closed)
    }
}

/// `GET /jobs/{id}` (signed in): a posting, counting the view. A draft is its company's and admins' only.
struct GetPosting: HTTPFunction {
    static let access = Access.signedIn

    func handle(_ request: FunctionRequest<Empty>, caller: Caller, context: FunctionContext) async throws -> FunctionResponse<PostingView> {
        let id = try request.parameter("id")
        let view = try await context.database.transaction { sql -> PostingView? in
            guard var record = try await PostingRecord.find(id, on: sql), Postings.visible(record, to: caller) else { return nil }
            if record.companyUserId != caller.userId {
                // One statement, so concurrent views are all counted.
                try await sql.update(PostingRecord.table).set(SQLIdentifier("views"), to: SQLRaw("views + 1")).where("id", .equal, SQLBind(record.id)).run()
                record.views += 1
            }
            return try await PostingTerms.view(record, on: sql)
        }
        guard let view else { throw HTTPError.notFound("There is no job posting \(id).") }
        return .ok(view)
    }
}

/// `GET /jobs/mine` (company): the caller's postings, newest first, any status (`?status=` filters).
struct ListOwnPostings: HTTPFunction {
    static let access = Access.people(.company, detail: "Only companies have postings.")

    typealias Query = NewestFirst<PostingStatus>

    func handle(_ request: FunctionRequest<Empty>, caller: Caller, context: FunctionContext) async throws -> FunctionResponse<Page<PostingView>> {
        let filters = try request.read(Query.self)
        let keyset = Keyset(column: "created_at", idColumn: "id", descending: true)
        let (rows, terms) = try await context.database.withConnection { sql -> ([PostingRecord], [String: PostingTerms]) in
            var query = sql.select().column("*").from(PostingRecord.table).where("company_user_id", .equal, SQLBind(caller.userId))
            if let status = filters.status { query = query.where("status", .equal, SQLBind(status)) }
            let rows = try await keyset.select(query, page: filters.page).all(decoding: PostingRecord.self, keyDecodingStrategy: .snakeCase)
            return (rows, try await PostingTerms.of(rows.map(\.id), on: sql))
        }
        return .ok(filters.page.page(rows, { PostingView($0, terms: terms[$0.id] ?? PostingTerms()) }) { ($0.createdAt, $0.id) })
    }
}


/// Who may see and change a posting.
enum Postings {
    /// Closes every draft and open posting of `userId` (whose account was deleted). The rows are locked
    /// first, before the version counter each write takes (`MatchVersions`), as every other writer does.
    static func closeAll(of userId: String, now: Date, on sql: any SQLDatabase) async throws {
        let postings = try await sql.select().column("*").from(PostingRecord.table).where("company_user_id", .equal, SQLBind(userId))
            .where("status", .in, SQLBind.group([PostingStatus.draft.rawValue, PostingStatus.open.rawValue])).orderBy("id").for(.update)
            .all(decoding: PostingRecord.self, keyDecodingStrategy: .snakeCase)
        for before in postings {
            var after = before
            after.status = try after.status.after(.close)
            after.updatedAt = now.iso
            try await after.update(on: sql)
            try await CategoryCounts.moved(from: before, to: after, on: sql)
        }
    }

    /// Open, closed and filled postings are public to signed-in callers; a draft only to its company and admins.
    static func visible(_ record: PostingRecord, to caller: Caller) -> Bool {
        record.status != .draft || record.companyUserId == caller.userId || caller.isAdmin
    }

    /// The posting `id`, for its company or an admin to change: 404 when the caller may not see it, 403 when
    /// they may see but not change it.
    static func owned(_ id: String, by caller: Caller, on sql: any SQLDatabase) async throws -> PostingRecord {
        guard let record = try await PostingRecord.find(id, on: sql), visible(record, to: caller) else { throw HTTPError.notFound("There is no job posting \(id).") }
        guard record.companyUserId == caller.userId || caller.isAdmin else { throw HTTPError.forbidden("Only the company that posted this job may change it.") }
        return record
    }
}
