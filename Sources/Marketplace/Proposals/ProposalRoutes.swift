import Blytz
import BlytzData
import BlytzEvents
import BlytzServices
import Foundation
import SQLKit

/// `POST /proposals` (VA): a proposal on an open posting, one per VA per posting (the database holds that
/// under concurrent requests); counts on the posting; emits `ProposalSubmitted`.
struct SubmitProposal: HTTPFunction {
    static let access = Access.people(.va, detail: "Only VAs send proposals.")

    func handle(_ request: FunctionRequest<ProposalInput>, caller: Caller, context: FunctionContext) async throws -> FunctionResponse<ProposalView> {
        let input = try request.input
        var missing: [Problem.FieldError] = []
        if input.jobPostingId == nil { missing.append(.init(field: "jobPostingId", message: "is required")) }
        if input.coverLetter == nil { missing.append(.init(field: "coverLetter", message: "is required")) }
        if input.bidType == nil { missing.append(.init(field: "bidType", message: "is required")) }
        guard missing.isEmpty, let postingId = input.jobPostingId else { throw HTTPError.unprocessable(missing) }
        let now = context.now.iso
        let submitted = try await context.database.transaction { sql -> (ProposalRecord, PostingRecord)? in
            guard let posting = try await PostingRecord.find(postingId, on: sql), Postings.visible(posting, to: caller) else {
                throw HTTPError.notFound("There is no job posting \(postingId).")
            }
            guard posting.status == .open else { throw IllegalTransition(what: "posting", state: posting.status.rawValue, action: "sent proposals") }
            guard try await PersonRecord.find(caller.userId, on: sql)?.isActiveVA ?? false else {
                throw HTTPError.forbidden("Create your VA profile (POST /profiles/va) before sending proposals.")
            }
            var record = ProposalRecord(
                id: UUID().uuidString.lowercased(), jobPostingId: posting.id, vaUserId: caller.userId, coverLetter: "", bidType: .fixed,
                currency: posting.currency, status: .pending, createdAt: now, updatedAt: now
            )
            record.apply(input)
            guard record.bidProblems.isEmpty else { throw HTTPError.unprocessable(record.bidProblems) }
            // The unique (posting, VA) pair decides between concurrent submissions: a loser inserts nothing.
            let inserted = try await sql.insert(into: ProposalRecord.table).model(record, keyEncodingStrategy: .snakeCase)
                .ignoringConflicts(with: ["job_posting_id", "va_user_id"]).returning("id").all()
            guard !inserted.isEmpty else { return nil }
            try await sql.update(PostingRecord.table).set(SQLIdentifier("proposal_count"), to: SQLRaw("proposal_count + 1"))
                .where("id", .equal, SQLBind(posting.id)).run()
            try await context.publish(
                ProposalSubmitted(
                    proposalId: record.id, jobPostingId: posting.id, jobTitle: posting.title, companyUserId: posting.companyUserId,
                    vaUserId: caller.userId, bidCents: record.bidCents ?? record.hourlyRateCents, currency: record.currency
                ),
                on: sql
            )
            return (record, posting)
        }
        guard let (proposal, posting) = submitted else {
            throw HTTPError.conflict("You have sent a proposal for this job already; change it with PATCH /proposals/{id}.")
        }
        return .created(proposal.view(jobTitle: posting.title), location: "/proposals/\(proposal.id)")
    }
}

/// `GET /proposals/{id}`: to its VA, the posting's company and admins (404 to anyone else).
struct GetProposal: HTTPFunction {
    static let access = Access.person

    func handle(_ request: FunctionRequest<Empty>, caller: Caller, context: FunctionContext) async throws -> FunctionResponse<ProposalView> {
        let id = try request.parameter("id")
        let (proposal, posting) = try await context.database.withConnection { sql in try await Proposals.seen(id, by: caller, on: sql) }
        return .ok(proposal.view(jobTitle: posting.title))
    }
}

/// `GET /proposals?jobPostingId=` (the posting's company or an admin: its proposals; a VA: their own on it),
/// `GET /proposals?vaUserId=` (that VA, an admin, or the user service acting for them), and `GET /proposals`
/// (a VA's own). Newest first.
struct ListProposals: HTTPFunction {
    static let access = Access.person

    struct Query: QueryParameters {
        var jobPostingId: String?
        var vaUserId: String?
        var status: String?
        var page: PageRequest

        init(_ reader: inout QueryReader) throws(HTTPError) {
            jobPostingId = reader.text("jobPostingId")
            vaUserId = reader.text("vaUserId")
            status = reader.choice("status", ProposalStatus.allCases.map(\.rawValue))
            for (field, value) in [("jobPostingId", jobPostingId), ("vaUserId", vaUserId)] where value.map({ !$0.isUUID }) ?? false {
                reader.errors.append(.init(field: field, message: "must be a UUID"))
            }
            try reader.check()
            page = try PageRequest(&reader, sort: "newest")
        }
    }

    func handle(_ request: FunctionRequest<Empty>, caller: Caller, context: FunctionContext) async throws -> FunctionResponse<Page<ProposalView>> {
        let filters = try request.read(Query.self)
        let keyset = Keyset(column: "created_at", idColumn: "id", descending: true)
        let (rows, titles) = try await context.database.withConnection { sql -> ([ProposalRecord], [String: String]) in
            var query = sql.select().column("*").from(ProposalRecord.table)
            if let postingId = filters.jobPostingId {
                guard let posting = try await PostingRecord.find(postingId, on: sql), Postings.visible(posting, to: caller) else {
                    throw HTTPError.notFound("There is no job posting \(postingId).")
                }
                query = query.where("job_posting_id", .equal, SQLBind(posting.id))
                // The company and admins see every proposal on it; anyone else only their own.
                if posting.companyUserId != caller.userId && !caller.isAdmin { query = query.where("va_user_id", .equal, SQLBind(caller.userId)) }
            } else if let vaUserId = filters.vaUserId?.lowercased() {
                try caller.requireSelfOrAdmin(vaUserId)
                query = query.where("va_user_id", .equal, SQLBind(vaUserId))
            } else {
                try caller.require(.va, detail: "Name the job with ?jobPostingId= (a company sees its jobs' proposals).")
                query = query.where("va_user_id", .equal, SQLBind(caller.userId))
            }
            if let status = filters.status { query = query.where("status", .equal, SQLBind(status)) }
            let rows = try await keyset.select(query, page: filters.page).all(decoding: ProposalRecord.self, keyDecodingStrategy: .snakeCase)
            return (rows, try await Proposals.titles(of: rows, on: sql))
        }
        return .ok(filters.page.page(rows, { $0.view(jobTitle: titles[$0.jobPostingId]) }) { ($0.createdAt, $0.id) })
    }
}

/// `PATCH /proposals/{id}` (its VA, while pending): changes the cover letter or the bid.
struct UpdateProposal: HTTPFunction {
    static let access = Access.people(.va, .admin)

    func handle(_ request: FunctionRequest<ProposalInput>, caller: Caller, context: FunctionContext) async throws -> FunctionResponse<ProposalView> {
        let id = try request.parameter("id")
        let (proposal, posting) = try await Proposals.change(id, by: caller, as: .author, context: context) { proposal in
            let input = try request.input
            if input.jobPostingId != nil { throw HTTPError.unprocessable([.init(field: "jobPostingId", message: "cannot be changed")]) }
            proposal.status = try proposal.status.after(.edit)
            proposal.apply(input)
            guard proposal.bidProblems.isEmpty else { throw HTTPError.unprocessable(proposal.bidProblems) }
        }
        return .ok(proposal.view(jobTitle: posting.title))
    }
}

/// `POST /proposals/{id}/withdraw` (its VA, while pending).
struct WithdrawProposal: HTTPFunction {
    static let access = Access.people(.va, .admin)

    func handle(_ request: FunctionRequest<Empty>, caller: Caller, context: FunctionContext) async throws -> FunctionResponse<ProposalView> {
        let (proposal, posting) = try await Proposals.change(try request.parameter("id"), by: caller, as: .author, context: context) { proposal in
            proposal.status = try proposal.status.after(.withdraw)
        }
        return .ok(proposal.view(jobTitle: posting.title))
    }
}

/// `POST /proposals/{id}/reject` (the posting's company or an admin, while pending).
struct RejectProposal: HTTPFunction {
    static let access = Access.people(.company, .admin)

    func handle(_ request: FunctionRequest<Empty>, caller: Caller, context: FunctionContext) async throws -> FunctionResponse<ProposalView> {
        let (proposal, posting) = try await Proposals.change(try request.parameter("id"), by: caller, as: .owner, context: context) { proposal in
            proposal.status = try proposal.status.after(.reject)
        }
        return .ok(proposal.view(jobTitle: posting.title))
    }
}

/// Who may see and change a proposal.
enum Proposals {
    enum Party { case author, owner }

    /// Withdraws every pending proposal of `userId` (whose account was deleted).
    static func withdrawAll(of userId: String, now: Date, on sql: any SQLDatabase) async throws {
        let pending = try await sql.select().column("*").from(ProposalRecord.table).where("va_user_id", .equal, SQLBind(userId))
            .where("status", .equal, SQLBind(ProposalStatus.pending.rawValue)).all(decoding: ProposalRecord.self, keyDecodingStrategy: .snakeCase)
        for var proposal in pending {
            proposal.status = try proposal.status.after(.withdraw)
            proposal.updatedAt = now.iso
            try await proposal.update(on: sql)
            try await countWithdrawal(on: proposal.jobPostingId, on: sql)
        }
    }

    /// Rejects the pending proposals on a posting that was filled, but `kept`.
    static func rejectPending(on postingId: String, except kept: String, now: Date, on sql: any SQLDatabase) async throws {
        try await sql.update(ProposalRecord.table).set("status", to: SQLBind(ProposalStatus.rejected.rawValue)).set("updated_at", to: SQLBind(now.iso))
            .where("job_posting_id", .equal, SQLBind(postingId)).where("status", .equal, SQLBind(ProposalStatus.pending.rawValue))
            .where("id", .notEqual, SQLBind(kept)).run()
    }

    /// A withdrawn proposal no longer counts on its posting.
    static func countWithdrawal(on postingId: String, on sql: any SQLDatabase) async throws {
        try await sql.update(PostingRecord.table).set(SQLIdentifier("proposal_count"), to: SQLRaw("proposal_count - 1"))
            .where("id", .equal, SQLBind(postingId)).run()
    }

    /// The titles of the postings `proposals` are on, by posting id.
    static func titles(of proposals: [ProposalRecord], on sql: any SQLDatabase) async throws -> [String: String] {
        struct Title: Decodable { var id: String; var title: String }
        let ids = Array(Set(proposals.map(\.jobPostingId)))
        guard !ids.isEmpty else { return [:] }
        let rows = try await sql.select().columns("id", "title").from(PostingRecord.table).where("id", .in, SQLBind.group(ids)).all(decoding: Title.self)
        return Dictionary(rows.map { ($0.id, $0.title) }) { first, _ in first }
    }

    /// The proposal `id` and its posting, when `caller` is its VA, the posting's company or an admin (404 otherwise).
    static func seen(_ id: String, by caller: Caller, on sql: any SQLDatabase) async throws -> (ProposalRecord, PostingRecord) {
        guard let proposal = try await ProposalRecord.find(id, on: sql), let posting = try await PostingRecord.find(proposal.jobPostingId, on: sql),
            proposal.vaUserId == caller.userId || posting.companyUserId == caller.userId || caller.isAdmin
        else { throw HTTPError.notFound("There is no proposal \(id).") }
        return (proposal, posting)
    }

    /// Changes the proposal `id` in one transaction, for its `party` (or an admin): 404 to strangers, 403 to
    /// the other party. The proposal counts on its posting while it is not withdrawn.
    static func change(
        _ id: String, by caller: Caller, as party: Party, context: FunctionContext,
        _ body: @escaping @Sendable (inout ProposalRecord) throws -> Void
    ) async throws -> (ProposalRecord, PostingRecord) {
        try await context.database.transaction { sql in
            var (proposal, posting) = try await seen(id, by: caller, on: sql)
            let allowed = caller.isAdmin || (party == .author ? proposal.vaUserId == caller.userId : posting.companyUserId == caller.userId)
            guard allowed else {
                throw HTTPError.forbidden(party == .author ? "Only the VA who sent this proposal may do this." : "Only the company that posted the job may do this.")
            }
            let before = proposal.status
            try body(&proposal)
            proposal.updatedAt = context.now.iso
            try await proposal.update(on: sql)
            if before != .withdrawn && proposal.status == .withdrawn {
                try await countWithdrawal(on: posting.id, on: sql)
                posting.proposalCount -= 1
            }
            return (proposal, posting)
        }
    }
}
