import Blytz
import BlytzData
import BlytzEvents
import BlytzServices
import Foundation
import Logging
import SQLKit

/// A hire's state: its contract is being created, then it runs under that contract.
enum JobStatus: String, Codable, Sendable, CaseIterable {
    case contracting, active
}

/// A row of `jobs`: the hire an accepted proposal made, and the contract the contracts service created for it.
struct JobRecord: Codable, Sendable, ResponseBody {
    var id: String
    var jobPostingId: String
    var proposalId: String
    var companyUserId: String
    var vaUserId: String
    var title: String
    var status: JobStatus
    var contractId: String?
    var createdAt: String
    var updatedAt: String

    static let table = "jobs"

    static func find(proposal: String, on sql: any SQLDatabase, forUpdate: Bool = false) async throws -> JobRecord? {
        var query = sql.select().column("*").from(table).where("proposal_id", .equal, SQLBind(proposal))
        if forUpdate { query = query.for(.update) }
        return try await query.first(decoding: JobRecord.self, keyDecodingStrategy: .snakeCase)
    }
}

/// The body of `POST /proposals/{id}/accept`, which may be left out; all optional: `fill` marks the posting filled (its other
/// pending proposals are rejected); `terms` and `startDate` go to the contract.
struct AcceptInput: Codable, Sendable, Validatable, OptionalBody {
    var fill: Bool?
    var terms: String?
    var startDate: String?

    func validate() -> [Problem.FieldError] {
        var errors: [Problem.FieldError] = []
        if let terms, terms.count > 20_000 { errors.append(.init(field: "terms", message: "must be at most 20000 characters")) }
        if let startDate, startDate.count != 10 || Date(iso: startDate + "T00:00:00Z") == nil {
            errors.append(.init(field: "startDate", message: "must be a date such as 2027-01-31"))
        }
        return errors
    }
}

/// `POST /proposals/{id}/accept` (the posting's company or an admin): accepts a pending proposal on an open
/// posting, records the hire (a Job) and, in the same transaction, the intent to create its contract. Right
/// after the commit the contract is created by `POST /contracts` on the contracts service, as this service
/// acting for the company, with an idempotency key derived from the proposal; its id is then kept on the
/// Job and `ProposalAccepted` published. When the contracts service fails, the client gets its error
/// (503 at once when it is down) and the hire stays `contracting`: repeating the accept, or the
/// `marketplace-reconcile-accepts` schedule, finishes it with the same key, so there is never more than one
/// contract per proposal. Answers 201 with the Job when it finished now, 200 when it had already.
struct AcceptProposal: HTTPFunction {
    static let access = Access.people(.company, .admin)

    func handle(_ request: FunctionRequest<AcceptInput>, caller: Caller, context: FunctionContext) async throws -> FunctionResponse<JobRecord> {
        let id = try request.parameter("id")
        let now = context.now
        let database = try context.database
        let (job, intent) = try await database.transaction { sql -> (JobRecord, String?) in
            // Concurrent accepts of one posting's proposals queue on its row.
            if let found = try await ProposalRecord.find(id, on: sql) {
                try await sql.select().column("id").from(PostingRecord.table).where("id", .equal, SQLBind(found.jobPostingId)).for(.update).run()
            }
            var (proposal, posting) = try await Proposals.seen(id, by: caller, on: sql)
            guard posting.companyUserId == caller.userId || caller.isAdmin else { throw HTTPError.forbidden("Only the company that posted the job may accept proposals.") }
            let input = try request.input
            if proposal.status == .accepted, let job = try await JobRecord.find(proposal: proposal.id, on: sql) {
                return (job, job.contractId == nil ? try await Hires.intent(for: job, on: sql) : nil)
            }
            proposal.status = try proposal.status.after(.accept)
            guard posting.status == .open else { throw IllegalTransition(what: "posting", state: posting.status.rawValue, action: "hired for") }
            guard let va = try await PersonRecord.find(proposal.vaUserId, on: sql), va.isActiveVA else {
                throw HTTPError(409, detail: "The VA who sent this proposal can no longer be hired (their account or profile is gone).")
            }
            proposal.updatedAt = now.iso
            try await proposal.update(on: sql)
            if input.fill == true {
                let before = posting
                posting.status = try posting.status.after(.fill)
                posting.updatedAt = now.iso
                try await posting.update(on: sql)
                try await CategoryCounts.moved(from: before, to: posting, on: sql)
                try await Proposals.rejectPending(on: posting.id, except: proposal.id, now: now, on: sql)
            }
            let job = JobRecord(
                id: UUID().uuidString.lowercased(), jobPostingId: posting.id, proposalId: proposal.id, companyUserId: posting.companyUserId,
                vaUserId: proposal.vaUserId, title: posting.title, status: .contracting, createdAt: now.iso, updatedAt: now.iso
            )
            try await sql.insert(into: JobRecord.table).model(job, keyEncodingStrategy: .snakeCase).run()
            let contract = CreateContractBody(
                title: posting.title, companyUserId: posting.companyUserId, vaUserId: proposal.vaUserId, type: proposal.bidType.rawValue,
                amountCents: proposal.bidType == .fixed ? proposal.bidCents : nil, hourlyRateCents: proposal.bidType == .hourly ? proposal.hourlyRateCents : nil,
                currency: proposal.currency, terms: input.terms, startDate: input.startDate, proposalId: proposal.id, jobId: job.id, jobPostingId: posting.id
            )
            let intent = try await Reconciler.record(
                kind: Hires.kind, key: Hires.key(proposal: proposal.id), payload: Hires.Intent(jobId: job.id, contract: contract), now: now, on: sql
            )
            return (job, intent)
        }
        guard let intent else { return .ok(job) }
        try await Reconciler.attemptNow(intent, as: Hires.Intent.self, context: context, done: "The hire is recorded, but its contract could not be created yet") { intent in
            try await Hires.createContract(intent, context: context)
        }
        let finished = try await database.withConnection { sql in try await JobRecord.find(proposal: job.proposalId, on: sql) } ?? job
        return .created(finished, location: "/jobs/hires")
    }
}

/// `GET /jobs/hires` (company or VA): the caller's hires, newest first.
struct ListHires: HTTPFunction {
    static let access = Access.person

    struct Query: QueryParameters {
        var page: PageRequest

        init(_ reader: inout QueryReader) throws(HTTPError) {
            page = try PageRequest(&reader, sort: "newest")
        }
    }

    func handle(_ request: FunctionRequest<Empty>, caller: Caller, context: FunctionContext) async throws -> FunctionResponse<Page<JobRecord>> {
        let column: String
        switch caller.role {
        case .company: column = "company_user_id"
        case .va: column = "va_user_id"
        default: throw HTTPError.forbidden("Hires belong to companies and VAs.")
        }
        let page = try request.read(Query.self).page
        let keyset = Keyset(column: "created_at", idColumn: "id", descending: true)
        let rows = try await context.database.withConnection { sql in
            try await keyset.select(sql.select().column("*").from(JobRecord.table).where(column, .equal, SQLBind(caller.userId)), page: page)
                .all(decoding: JobRecord.self, keyDecodingStrategy: .snakeCase)
        }
        return .ok(page.page(rows, { $0 }) { ($0.createdAt, $0.id) })
    }
}

/// `marketplace-reconcile-accepts` (every minute): finishes accepts whose contract was not created, with
/// the same idempotency key; what fails every attempt is reported by `blytz marketplace stuck`.
struct ReconcileAccepts: ScheduleFunction {
    func handle(_ event: ScheduledEvent, context: FunctionContext) async throws {
        let sweep = try await Reconciler.sweep(kind: Hires.kind, as: Hires.Intent.self, in: context.database, now: context.now, logger: context.logger) { intent in
            try await Hires.createContract(intent, context: context)
        }
        if sweep != .init() { context.logger.info("accepts reconciled", metadata: ["done": "\(sweep.done)", "retried": "\(sweep.retried)", "stuck": "\(sweep.stuck)"]) }
    }
}

/// Creating a hire's contract, shared by the accept and its reconciler.
enum Hires {
    static let kind = "create-contract"

    struct Intent: Codable, Sendable {
        var jobId: String
        var contract: CreateContractBody
    }

    /// The idempotency key of the contract of `proposal`: the same on every attempt.
    static func key(proposal: String) -> String { "accept-\(proposal)" }

    /// The pending intent of an unfinished hire (recorded anew if it was lost or stuck, so a repeat retries it).
    static func intent(for job: JobRecord, on sql: any SQLDatabase) async throws -> String? {
        struct Row: Decodable { var id: String; var state: String }
        let row = try await sql.select().columns("id", "state").from(Reconciler.table).where("key", .equal, SQLBind(key(proposal: job.proposalId)))
            .first(decoding: Row.self)
        guard let row else { return nil }
        if row.state != Reconciler.State.pending.rawValue {
            try await sql.update(Reconciler.table).set("state", to: SQLBind(Reconciler.State.pending.rawValue)).set("attempts", to: SQLBind(0))
                .where("id", .equal, SQLBind(row.id)).run()
        }
        return row.id
    }

    /// Calls `POST /contracts` for the intent, then keeps the contract on the Job and publishes `ProposalAccepted`.
    static func createContract(_ intent: Reconciler.Intent<Intent>, context: FunctionContext) async throws {
        let contract = intent.payload.contract
        let created = try await context.services.call(
            CreateContractCall(contract, idempotencyKey: intent.key), context: context, as: .actingFor(contract.companyUserId)
        )
        try await context.database.transaction { sql in
            guard var job = try await JobRecord.find(proposal: contract.proposalId ?? "", on: sql, forUpdate: true), job.contractId == nil else { return }
            job.contractId = created.id
            job.status = .active
            job.updatedAt = context.now.iso
            try await sql.update(JobRecord.table).set("contract_id", to: SQLBind(created.id)).set("status", to: SQLBind(job.status.rawValue))
                .set("updated_at", to: SQLBind(job.updatedAt)).where("id", .equal, SQLBind(job.id)).run()
            try await context.publish(
                ProposalAccepted(
                    proposalId: job.proposalId, jobPostingId: job.jobPostingId, jobId: job.id, jobTitle: job.title, contractId: created.id,
                    companyUserId: job.companyUserId, vaUserId: job.vaUserId
                ),
                on: sql
            )
        }
    }
}
