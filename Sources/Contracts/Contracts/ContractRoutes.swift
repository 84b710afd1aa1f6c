import Blytz
import BlytzData
import BlytzEvents
import BlytzServices
import Foundation
import SQLKit

/// `POST /contracts` (a company, for itself; or the marketplace service acting for the company when a
/// proposal is accepted — only it may link a proposal, job or posting): both participants are checked with
/// the user service first (they exist, are active, and are a company and a VA), so when it is down the
/// create answers 503 and writes nothing. Honours `Idempotency-Key` (the first contract comes back for a
/// repeat; concurrent repeats make one), and a proposal has at most one contract: creating another for it
/// answers the first (200). Starts `pending`, unsigned.
struct CreateContract: HTTPFunction {
    static let access = Access.people(.company, detail: "Contracts are created by the hiring company.").or(.services(.marketplace))

    func handle(_ request: FunctionRequest<ContractInput>, caller: Caller, context: FunctionContext) async throws -> FunctionResponse<ContractRecord> {
        let input = try request.input
        let linking = input.proposalId != nil || input.jobId != nil || input.jobPostingId != nil
        if linking { try caller.requireService(.marketplace, detail: "Only the marketplace links a contract to a proposal or job.") }
        var missing: [Problem.FieldError] = []
        if input.title == nil { missing.append(.init(field: "title", message: "is required")) }
        if input.vaUserId == nil { missing.append(.init(field: "vaUserId", message: "is required")) }
        if input.type == nil { missing.append(.init(field: "type", message: "is required (fixed or hourly)")) }
        if input.currency == nil { missing.append(.init(field: "currency", message: "is required")) }
        if let type = input.type { missing += ContractInput.priceProblems(type: type, amountCents: input.amountCents, hourlyRateCents: input.hourlyRateCents) }
        let company = (input.companyUserId ?? caller.userId).lowercased()
        if company != caller.userId { missing.append(.init(field: "companyUserId", message: "must be the caller's own account")) }
        guard missing.isEmpty, let title = input.title, let va = input.vaUserId?.lowercased(), let type = input.type, let currency = input.currency else {
            throw HTTPError.unprocessable(missing)
        }
        try await Participants.check(company: company, va: va, context: context)
        let now = context.now.iso
        return try await context.idempotent(request, scope: caller.userId) { sql in
            if let proposal = input.proposalId?.lowercased(),
               let existing = try await sql.select().column("*").from(ContractRecord.table).where("proposal_id", .equal, SQLBind(proposal))
                .first(decoding: ContractRecord.self, keyDecodingStrategy: .snakeCase) {
                return .ok(existing)
            }
            let contract = ContractRecord(
                id: UUID().uuidString.lowercased(), title: title.trimmingCharacters(in: .whitespacesAndNewlines), companyUserId: company, vaUserId: va,
                type: type, amountCents: type == .fixed ? input.amountCents : nil, hourlyRateCents: type == .hourly ? input.hourlyRateCents : nil,
                currency: currency, terms: input.terms, taxRateBasisPoints: input.taxRateBasisPoints ?? 0, discountBasisPoints: input.discountBasisPoints ?? 0,
                paymentDays: input.paymentDays ?? 14, timezone: input.timezone ?? "UTC", startDate: input.startDate, endDate: input.endDate,
                status: .pending, totalPaidCents: 0, proposalId: input.proposalId?.lowercased(), jobId: input.jobId?.lowercased(),
                jobPostingId: input.jobPostingId?.lowercased(), createdAt: now, updatedAt: now
            )
            try await contract.insert(on: sql)
            return .created(contract, location: "/contracts/\(contract.id)")
        }
    }
}

/// The user service's word on a contract's participants, asked when the contract is made.
enum Participants {
    static func check(company: String, va: String, context: FunctionContext) async throws {
        for (field, id, role) in [("companyUserId", company, Role.company), ("vaUserId", va, Role.va)] {
            let user: BasicUser
            do {
                user = try await context.services.call(GetBasicUserCall(userId: id), context: context, as: .service)
            } catch let error as ServiceCallError where error.problem.status == 404 {
                throw HTTPError.unprocessable([.init(field: field, message: "is not a user")])
            }
            guard user.role == role else { throw HTTPError.unprocessable([.init(field: field, message: "must be a \(role.rawValue)")]) }
            guard user.status == .active else { throw HTTPError.unprocessable([.init(field: field, message: "is not an active account")]) }
        }
    }
}

/// `GET /contracts` (signed in): the caller's contracts — a company's or a VA's own, an admin's all —
/// newest first, `?status=` to filter.
struct ListContracts: HTTPFunction {
    static let access = Access.person

    typealias Query = NewestFirst<ContractStatus>

    func handle(_ request: FunctionRequest<Empty>, caller: Caller, context: FunctionContext) async throws -> FunctionResponse<Page<ContractRecord>> {
        let filters = try request.read(Query.self)
        let rows = try await context.database.withConnection { sql in
            var query = sql.select().column("*").from(ContractRecord.table)
            switch caller.role {
            case .company: query = query.where("company_user_id", .equal, SQLBind(caller.userId))
            case .va: query = query.where("va_user_id", .equal, SQLBind(caller.userId))
            case .admin: break
            default: throw HTTPError.forbidden("Contracts belong to companies and VAs.")
            }
            if let status = filters.status { query = query.where("status", .equal, SQLBind(status)) }
            return try await NewestFirst<ContractStatus>.keyset.select(query, page: filters.page)
                .all(decoding: ContractRecord.self, keyDecodingStrategy: .snakeCase)
        }
        return .ok(filters.page.page(rows, { $0 }) { ($0.createdAt, $0.id) })
    }
}

/// `GET /contracts/{id}` (its parties, admins).
struct GetContract: HTTPFunction {
    static let access = Access.signedIn

    func handle(_ request: FunctionRequest<Empty>, caller: Caller, context: FunctionContext) async throws -> FunctionResponse<ContractRecord> {
        let id = try request.parameter("id")
        return .ok(try await context.database.withConnection { sql in try await ContractRecord.seen(id, by: caller, on: sql) })
    }
}

/// `PATCH /contracts/{id}` (its company, or an admin, while pending): title, terms, dates, price, the
/// invoice terms and the timezone. An edit clears both signatures: each party signs what they agree to.
struct UpdateContract: HTTPFunction {
    static let access = Access.people(.company, .admin)

    func handle(_ request: FunctionRequest<ContractInput>, caller: Caller, context: FunctionContext) async throws -> FunctionResponse<ContractRecord> {
        let id = try request.parameter("id")
        let now = context.now.iso
        return .ok(try await context.database.transaction { sql in
            var contract = try await ContractRecord.seen(id, by: caller, on: sql, forUpdate: true)
            guard contract.companyUserId == caller.userId || caller.isAdmin else { throw HTTPError.forbidden("Only the company edits a contract.") }
            let input = try request.input
            for (field, value) in [("companyUserId", input.companyUserId), ("vaUserId", input.vaUserId), ("proposalId", input.proposalId), ("jobId", input.jobId), ("jobPostingId", input.jobPostingId)] where value != nil {
                throw HTTPError.unprocessable([.init(field: field, message: "cannot be changed")])
            }
            contract.status = try contract.status.after(.edit)
            input.apply(to: &contract)
            let problems = ContractInput.priceProblems(type: contract.type, amountCents: contract.amountCents, hourlyRateCents: contract.hourlyRateCents)
            guard problems.isEmpty else { throw HTTPError.unprocessable(problems) }
            if contract.type == .fixed { contract.hourlyRateCents = nil } else { contract.amountCents = nil }
            if let start = contract.startDate, let end = contract.endDate, end < start {
                throw HTTPError.unprocessable([.init(field: "endDate", message: "must not be before startDate")])
            }
            (contract.companySignedAt, contract.vaSignedAt) = (nil, nil)
            contract.updatedAt = now
            try await contract.update(on: sql)
            return contract
        })
    }
}

/// `POST /contracts/{id}/sign` (each party, for themself): signing twice changes nothing; the second
/// party's signature makes the contract `active` and publishes `ContractSigned`.
struct SignContract: HTTPFunction {
    static let access = Access.people(.company, .va)

    func handle(_ request: FunctionRequest<Empty>, caller: Caller, context: FunctionContext) async throws -> FunctionResponse<ContractRecord> {
        let id = try request.parameter("id")
        let now = context.now.iso
        return .ok(try await context.database.transaction { sql in
            var contract = try await ContractRecord.seen(id, by: caller, on: sql, forUpdate: true)
            guard contract.isParty(caller) else { throw HTTPError.forbidden("Only the contract's parties sign it.") }
            let signedAlready = caller.userId == contract.companyUserId ? contract.companySignedAt != nil : contract.vaSignedAt != nil
            if signedAlready && contract.status != .pending { return contract }
            contract.status = try contract.status.after(.sign)
            if signedAlready { return contract }
            if caller.userId == contract.companyUserId { contract.companySignedAt = now } else { contract.vaSignedAt = now }
            if contract.companySignedAt != nil && contract.vaSignedAt != nil {
                contract.status = try contract.status.after(.activate)
                try await context.publish(ContractSigned(
                    contractId: contract.id, title: contract.title, companyUserId: contract.companyUserId, vaUserId: contract.vaUserId,
                    contractType: contract.type.rawValue, amountCents: contract.amountCents, currency: contract.currency
                ), on: sql)
            }
            contract.updatedAt = now
            try await contract.update(on: sql)
            return contract
        })
    }
}

/// `POST /contracts/{id}/complete` (its company, or an admin): an active contract whose milestones hold no
/// escrow (each is unfunded or paid) is completed; publishes `ContractCompleted`.
struct CompleteContract: HTTPFunction {
    static let access = Access.people(.company, .admin)

    func handle(_ request: FunctionRequest<Empty>, caller: Caller, context: FunctionContext) async throws -> FunctionResponse<ContractRecord> {
        let id = try request.parameter("id")
        let now = context.now.iso
        return .ok(try await context.database.transaction { sql in
            var contract = try await ContractRecord.seen(id, by: caller, on: sql, forUpdate: true)
            guard contract.companyUserId == caller.userId || caller.isAdmin else { throw HTTPError.forbidden("Only the company completes a contract.") }
            contract.status = try contract.status.after(.complete)
            try await MilestoneRecord.refuseHeldEscrow(of: contract.id, doing: "completed", on: sql)
            contract.updatedAt = now
            try await contract.update(on: sql)
            try await context.publish(ContractCompleted(
                contractId: contract.id, title: contract.title, companyUserId: contract.companyUserId, vaUserId: contract.vaUserId,
                totalPaidCents: contract.totalPaidCents, currency: contract.currency
            ), on: sql)
            return contract
        })
    }
}

/// The body of `POST /contracts/{id}/cancel`, which may be left out.
struct CancelInput: Codable, Sendable, Validatable, OptionalBody {
    var reason: String?

    func validate() -> [Problem.FieldError] {
        (reason?.count ?? 0) > 2_000 ? [.init(field: "reason", message: "must be at most 2000 characters")] : []
    }
}

/// `POST /contracts/{id}/cancel` (either party, or an admin): a pending or active contract is cancelled,
/// with an optional reason; publishes `ContractCancelled`. The escrow of every funded, submitted or
/// rejected milestone is refunded to the company through `POST /refunds` on the payments service (key
/// `refund-<milestone id>`, recorded with the cancel in one transaction), and the milestone is `refunded`.
/// While money is in flight — a milestone `funding`, or `approved` and not yet released — the cancel is
/// refused (409) until that settles. When the payments service fails, the cancel stands and the client
/// gets its error: repeating the cancel, or the `contracts-reconcile` schedule, finishes the refunds.
struct CancelContract: HTTPFunction {
    static let access = Access.person

    func handle(_ request: FunctionRequest<CancelInput>, caller: Caller, context: FunctionContext) async throws -> FunctionResponse<ContractRecord> {
        let id = try request.parameter("id")
        let now = context.now
        let database = try context.database
        let refunds = try await database.transaction { sql -> [String] in
            var contract = try await ContractRecord.seen(id, by: caller, on: sql, forUpdate: true)
            let reason = try request.input.reason
            if contract.status == .cancelled {
                let unfinished = try await Escrow.unfinishedRefunds(of: contract.id, on: sql)
                if !unfinished.isEmpty { return unfinished }
            }
            contract.status = try contract.status.after(.cancel)
            try await MilestoneRecord.refuseHeldEscrow(of: contract.id, doing: "cancelled", in: [.funding, .approved], on: sql)
            contract.updatedAt = now.iso
            try await contract.update(on: sql)
            try await context.publish(ContractCancelled(
                contractId: contract.id, title: contract.title, companyUserId: contract.companyUserId, vaUserId: contract.vaUserId,
                cancelledBy: caller.userId, reason: reason
            ), on: sql)
            return try await Escrow.recordRefunds(of: contract, now: now, on: sql)
        }
        for refund in refunds {
            try await Reconciler.attemptNow(refund, as: Escrow.Refund.self, context: context, done: "The contract is cancelled, but the payments service could not refund its escrow yet") { intent in
                try await Escrow.refund(intent, context: context)
            }
        }
        guard let contract = try await database.withConnection({ sql in try await ContractRecord.find(id, on: sql) }) else { throw HTTPError.notFound("There is no contract \(id).") }
        return .ok(contract)
    }
}
