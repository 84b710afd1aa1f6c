import Blytz
import BlytzData
import BlytzEvents
import BlytzServices
import Foundation
import SQLKit

/// A ranked page's cursor: the last item's score and id.
struct RankedQuery: QueryParameters {
    var jobPostingId: String?
    var page: PageRequest

    init(_ reader: inout QueryReader) throws(HTTPError) {
        jobPostingId = reader.text("jobPostingId")
        if let id = jobPostingId, !id.isUUID { reader.errors.append(.init(field: "jobPostingId", message: "must be a UUID")) }
        try reader.check()
        page = try PageRequest(&reader, sort: "score")
    }

    var after: Scored.Cursor? { page.cursor.flatMap { Scored.Cursor(value: $0.value, id: $0.id) } }

    func page<Item>(_ ranked: [Scored], _ item: (Scored) -> Item?) -> Page<Item> {
        page.page(ranked, { item($0) }, cursor: { (Scored.Cursor.value(of: $0), $0.id) }).compacted()
    }
}

extension Page {
    /// The page without the items that could not be shown.
    func compacted<Wrapped>() -> Page<Wrapped> where Item == Wrapped? { Page<Wrapped>(items: items.compactMap { $0 }, nextCursor: nextCursor) }
}

/// A VA recommended for a job: who they are as this service knows them, the score and its parts.
struct Recommendation: Codable, Sendable {
    var vaUserId: String
    var name: String?
    var country: String?
    var timezone: String?
    var hourlyRateCents: Int?
    var currency: String?
    var available: Bool
    var averageRating: Double
    var totalReviews: Int
    var matchedSkills: [String]
    var score: Double
    var breakdown: MatchScore.Breakdown
}

/// `GET /matches/recommendations?jobPostingId=` (the posting's company or an admin): VAs ranked for the
/// job by `MatchScore`, best first, each with the per-factor breakdown that sums to its score.
struct Recommendations: HTTPFunction {
    static let access = Access.people(.company, .admin)

    func handle(_ request: FunctionRequest<Empty>, caller: Caller, context: FunctionContext) async throws -> FunctionResponse<Page<Recommendation>> {
        let query = try request.read(RankedQuery.self)
        guard let postingId = query.jobPostingId else { throw HTTPError.unprocessable([.init(field: "jobPostingId", message: "is required")]) }
        let (ranked, people, skills) = try await context.database.withConnection { sql in
            let posting = try await Postings.owned(postingId, by: caller, on: sql)
            let job = try await PostingTerms.view(posting, on: sql).matched
            let ranked = try await context.matchIndex.vas(for: job, count: query.page.limit + 1, after: query.after, on: sql)
            let ids = ranked.map(\.id)
            let people = try await Candidates.activeVAs(sql).where("user_id", .in, SQLBind.group(ids.isEmpty ? [""] : ids))
                .all(decoding: PersonRecord.self, keyDecodingStrategy: .snakeCase)
            return (ranked, Dictionary(people.map { ($0.userId, $0) }) { first, _ in first }, try await PersonRecord.skills(of: ids, among: job.skills, on: sql))
        }
        return .ok(query.page(ranked) { item in
            people[item.id].map { person in
                Recommendation(
                    vaUserId: person.userId, name: person.name, country: person.country, timezone: person.timezone, hourlyRateCents: person.hourlyRateCents,
                    currency: person.currency, available: person.available, averageRating: person.averageRating, totalReviews: person.totalReviews,
                    matchedSkills: (skills[person.userId] ?? []).sorted(), score: item.score.score, breakdown: item.score.breakdown
                )
            }
        })
    }
}

/// An open job recommended to a VA, with the score and its parts.
struct JobRecommendation: Codable, Sendable {
    var job: PostingView
    var score: Double
    var breakdown: MatchScore.Breakdown
}

/// `GET /matches/jobs` (a VA with a profile): open jobs ranked for the caller by the same score.
struct RecommendedJobs: HTTPFunction {
    static let access = Access.people(.va, detail: "Jobs are recommended to VAs.")

    func handle(_ request: FunctionRequest<Empty>, caller: Caller, context: FunctionContext) async throws -> FunctionResponse<Page<JobRecommendation>> {
        let query = try request.read(RankedQuery.self)
        let (ranked, views) = try await context.database.withConnection { sql -> ([Scored], [String: PostingView]) in
            let person = try await Matches.profile(of: caller.userId, on: sql)
            let ranked = try await context.matchIndex.jobs(for: person, count: query.page.limit + 1, after: query.after, on: sql)
            let ids = ranked.map(\.id)
            let postings = try await sql.select().column("*").from(PostingRecord.table).where("id", .in, SQLBind.group(ids.isEmpty ? [""] : ids))
                .all(decoding: PostingRecord.self, keyDecodingStrategy: .snakeCase)
            let terms = try await PostingTerms.of(ids, on: sql)
            return (ranked, Dictionary(postings.map { ($0.id, PostingView($0, terms: terms[$0.id] ?? PostingTerms())) }) { first, _ in first })
        }
        return .ok(query.page(ranked) { item in views[item.id].map { JobRecommendation(job: $0, score: item.score.score, breakdown: item.score.breakdown) } })
    }
}

enum Vote: String, Codable, Sendable, CaseIterable { case like, pass }

/// The body of `POST /matches/votes`: a company names the VA (`vaUserId`) for its job; a VA votes on a job.
struct VoteInput: Codable, Sendable, Validatable {
    var jobPostingId: String?
    var vaUserId: String?
    var vote: Vote?

    func validate() -> [Problem.FieldError] {
        var errors: [Problem.FieldError] = []
        if jobPostingId == nil { errors.append(.init(field: "jobPostingId", message: "is required")) }
        if let id = jobPostingId, !id.isUUID { errors.append(.init(field: "jobPostingId", message: "must be a UUID")) }
        if let id = vaUserId, !id.isUUID { errors.append(.init(field: "vaUserId", message: "must be a UUID")) }
        if vote == nil { errors.append(.init(field: "vote", message: "is required (like or pass)")) }
        return errors
    }
}

/// Both sides' votes on one (job, VA) pair, and the match they made, if any.
struct VoteState: Codable, Sendable, ResponseBody {
    var jobPostingId: String
    var vaUserId: String
    var companyVote: Vote?
    var vaVote: Vote?
    var match: MatchRecord?
}

/// `POST /matches/votes` (the posting's company, for a VA; or a VA, for an open job): like or pass. The
/// two sides' votes share one row, so concurrent votes meet there: the vote that completes a mutual like
/// creates the Match and publishes `MatchCreated`, exactly once.
struct CastVote: HTTPFunction {
    static let access = Access.people(.company, .va, detail: "Companies and VAs vote.")

    func handle(_ request: FunctionRequest<VoteInput>, caller: Caller, context: FunctionContext) async throws -> FunctionResponse<VoteState> {
        let input = try request.input
        guard let postingId = input.jobPostingId?.lowercased(), let vote = input.vote else { throw HTTPError.unprocessable([]) }
        let side: String
        let vaUserId: String
        switch caller.role {
        case .company:
            guard let named = input.vaUserId?.lowercased() else { throw HTTPError.unprocessable([.init(field: "vaUserId", message: "is required: the VA you vote on")]) }
            (side, vaUserId) = ("company_vote", named)
        case .va:
            guard input.vaUserId.map({ $0.lowercased() == caller.userId }) ?? true else {
                throw HTTPError.unprocessable([.init(field: "vaUserId", message: "must be your own id, or left out")])
            }
            (side, vaUserId) = ("va_vote", caller.userId)
        default:
            throw HTTPError.forbidden("Companies and VAs vote.")
        }
        let now = context.now
        let state = try await context.database.transaction { sql -> VoteState in
            guard let posting = try await PostingRecord.find(postingId, on: sql), Postings.visible(posting, to: caller) else {
                throw HTTPError.notFound("There is no job posting \(postingId).")
            }
            if caller.role == .company, posting.companyUserId != caller.userId { throw HTTPError.forbidden("Only the company that posted the job votes for it.") }
            guard posting.status == .open else { throw IllegalTransition(what: "posting", state: posting.status.rawValue, action: "voted on") }
            guard let va = try await PersonRecord.find(vaUserId, on: sql), va.isActiveVA else {
                throw HTTPError(caller.role == .va ? 403 : 404, detail: caller.role == .va ? "Create your VA profile before voting." : "There is no VA \(vaUserId).")
            }
            struct Votes: Decodable { var company_vote: Vote?; var va_vote: Vote? }
            let votes = try await sql.raw("""
                INSERT INTO match_votes (job_posting_id, va_user_id, \(unsafeRaw: side), updated_at) VALUES (\(bind: posting.id), \(bind: vaUserId), \(bind: vote.rawValue), \(bind: now.iso))
                ON CONFLICT (job_posting_id, va_user_id) DO UPDATE SET \(unsafeRaw: side) = excluded.\(unsafeRaw: side), updated_at = excluded.updated_at
                RETURNING company_vote, va_vote
                """).first(decoding: Votes.self)
            var state = VoteState(jobPostingId: posting.id, vaUserId: vaUserId, companyVote: votes?.company_vote, vaVote: votes?.va_vote)
            if state.companyVote == .like && state.vaVote == .like {
                state.match = try await Matches.create(posting: posting, va: va, now: now, context: context, on: sql)
            }
            return state
        }
        return .ok(state)
    }
}

/// A row of `matches`: both sides liked each other for a job.
struct MatchRecord: Codable, Sendable, ResponseBody {
    var id: String
    var jobPostingId: String
    var vaUserId: String
    var companyUserId: String
    var status: MatchStatus
    var score: Double?
    var createdAt: String
    var updatedAt: String

    static let table = "matches"
}

/// `GET /matches` (a company's or a VA's own; `?status=` filters), newest first.
struct ListMatches: HTTPFunction {
    static let access = Access.person

    typealias Query = NewestFirst<MatchStatus>

    func handle(_ request: FunctionRequest<Empty>, caller: Caller, context: FunctionContext) async throws -> FunctionResponse<Page<MatchRecord>> {
        let column = try Matches.column(for: caller)
        let filters = try request.read(Query.self)
        let keyset = Keyset(column: "created_at", idColumn: "id", descending: true)
        let rows = try await context.database.withConnection { sql in
            var query = sql.select().column("*").from(MatchRecord.table).where(column, .equal, SQLBind(caller.userId))
            if let status = filters.status { query = query.where("status", .equal, SQLBind(status)) }
            return try await keyset.select(query, page: filters.page).all(decoding: MatchRecord.self, keyDecodingStrategy: .snakeCase)
        }
        return .ok(filters.page.page(rows, { $0 }) { ($0.createdAt, $0.id) })
    }
}

/// `GET /matches/{id}` (its two parties, or an admin).
struct GetMatch: HTTPFunction {
    static let access = Access.person

    func handle(_ request: FunctionRequest<Empty>, caller: Caller, context: FunctionContext) async throws -> FunctionResponse<MatchRecord> {
        let id = try request.parameter("id")
        return .ok(try await context.database.withConnection { sql in try await Matches.seen(id, by: caller, on: sql) })
    }
}

/// `POST /matches/{id}/archive` (either party): the match leaves their active list.
struct ArchiveMatch: HTTPFunction {
    static let access = Access.person

    func handle(_ request: FunctionRequest<Empty>, caller: Caller, context: FunctionContext) async throws -> FunctionResponse<MatchRecord> {
        let id = try request.parameter("id")
        let archived = try await context.database.transaction { sql in
            var match = try await Matches.seen(id, by: caller, on: sql, forUpdate: true)
            guard match.vaUserId == caller.userId || match.companyUserId == caller.userId else { throw HTTPError.forbidden("Only the two parties archive a match.") }
            match.status = try match.status.after(.archive)
            match.updatedAt = context.now.iso
            try await sql.update(MatchRecord.table).set("status", to: SQLBind(match.status.rawValue)).set("updated_at", to: SQLBind(match.updatedAt))
                .where("id", .equal, SQLBind(match.id)).run()
            return match
        }
        return .ok(archived)
    }
}

/// Matches: who sees them, and making one.
enum Matches {
    static func column(for caller: Caller) throws(HTTPError) -> String {
        switch caller.role {
        case .company: "company_user_id"
        case .va: "va_user_id"
        default: throw HTTPError.forbidden("Matches belong to companies and VAs.")
        }
    }

    static func seen(_ id: String, by caller: Caller, on sql: any SQLDatabase, forUpdate: Bool = false) async throws -> MatchRecord {
        var query = sql.select().column("*").from(MatchRecord.table).where("id", .equal, SQLBind(id.lowercased()))
        if forUpdate { query = query.for(.update) }
        guard id.isUUID, let match = try await query.first(decoding: MatchRecord.self, keyDecodingStrategy: .snakeCase),
            match.vaUserId == caller.userId || match.companyUserId == caller.userId || caller.isAdmin
        else { throw HTTPError.notFound("There is no match \(id).") }
        return match
    }

    /// The caller's copy as a VA, with skills: what jobs are matched against.
    static func profile(of userId: String, on sql: any SQLDatabase) async throws -> Candidate {
        guard let person = try await PersonRecord.find(userId, on: sql), person.isActiveVA else {
            throw HTTPError.forbidden("Create your VA profile (POST /profiles/va) to get job recommendations.")
        }
        return person.candidate(skills: try await PersonRecord.skills(of: [userId], on: sql)[userId] ?? [])
    }

    /// Inserts the match of a mutual like unless it exists; only the insert that made it publishes `MatchCreated`.
    static func create(posting: PostingRecord, va: PersonRecord, now: Date, context: FunctionContext, on sql: any SQLDatabase) async throws -> MatchRecord? {
        let job = try await PostingTerms.view(posting, on: sql).matched
        let score = MatchScore(va.candidate(skills: try await PersonRecord.skills(of: [va.userId], on: sql)[va.userId] ?? []), for: job).score
        let match = MatchRecord(
            id: UUID().uuidString.lowercased(), jobPostingId: posting.id, vaUserId: va.userId, companyUserId: posting.companyUserId, status: .active,
            score: score, createdAt: now.iso, updatedAt: now.iso
        )
        let inserted = try await sql.insert(into: MatchRecord.table).model(match, keyEncodingStrategy: .snakeCase)
            .ignoringConflicts(with: ["job_posting_id", "va_user_id"]).returning("id").all()
        if !inserted.isEmpty {
            try await context.publish(
                MatchCreated(matchId: match.id, jobPostingId: posting.id, jobTitle: posting.title, companyUserId: posting.companyUserId, vaUserId: va.userId, score: score),
                on: sql
            )
            return match
        }
        return try await sql.select().column("*").from(MatchRecord.table).where("job_posting_id", .equal, SQLBind(posting.id))
            .where("va_user_id", .equal, SQLBind(va.userId)).first(decoding: MatchRecord.self, keyDecodingStrategy: .snakeCase)
    }
}
