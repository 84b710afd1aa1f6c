import Blytz
import BlytzData
import BlytzEvents
import BlytzServices
import Foundation
import SQLKit

/// A row of `milestones`: a part of a contract's work with its price, held in escrow once funded.
/// `fundings` counts funding attempts (each charge's idempotency key names its attempt).
struct MilestoneRecord: Codable, Sendable, Equatable, ResponseBody, ContractItem {
    var id: String
    var contractId: String
    var title: String
    var description: String?
    var amountCents: Int
    var dueDate: String?
    var status: MilestoneStatus
    var fundings: Int
    var paymentId: String?
    var invoiceId: String?
    var submittedAt: String?
    var approvedAt: String?
    var paidAt: String?
    var createdAt: String
    var updatedAt: String

    static let table = "milestones"

    static func find(_ id: String, on sql: any SQLDatabase) async throws -> MilestoneRecord? {
        guard id.isUUID else { return nil }
        return try await sql.select().column("*").from(table).where("id", .equal, SQLBind(id.lowercased()))
            .first(decoding: MilestoneRecord.self, keyDecodingStrategy: .snakeCase)
    }

    func save(on sql: any SQLDatabase) async throws {
        try await sql.update(Self.table).set(model: self, keyEncodingStrategy: .snakeCase, nilEncodingStrategy: .asNil)
            .where("id", .equal, SQLBind(id)).run()
    }

    /// Throws 409 when a milestone of `contract` holds escrow, naming it.
    static func refuseHeldEscrow(
        of contract: String, doing action: String, in states: [MilestoneStatus] = MilestoneStatus.allCases.filter(\.holdsEscrow), on sql: any SQLDatabase
    ) async throws {
        let held = try await sql.select().column("*").from(table).where("contract_id", .equal, SQLBind(contract))
            .where("status", .in, SQLBind.group(states.map(\.rawValue)))
            .first(decoding: MilestoneRecord.self, keyDecodingStrategy: .snakeCase)
        if let held {
            throw HTTPError(409, detail: "The contract cannot be \(action) while milestone \(held.id) (\(held.status.rawValue)) holds escrow; settle it first.",
                            errors: [.init(field: "milestones", message: "\(held.id) is \(held.status.rawValue)")])
        }
    }
}

/// The body of `POST /contracts/{id}/milestones` and `PATCH /milestones/{id}` (every field optional on an edit).
struct MilestoneInput: Codable, Sendable, Validatable {
    var title: String?
    var description: String?
    var amountCents: Int?
    var dueDate: String?

    func validate() -> [Problem.FieldError] {
        var errors: [Problem.FieldError] = []
        if let title, !(3...200).contains(title.trimmingCharacters(in: .whitespacesAndNewlines).count) { errors.append(.init(field: "title", message: "must be 3 to 200 characters")) }
        if let description, description.count > 5_000 { errors.append(.init(field: "description", message: "must be at most 5000 characters")) }
        if let amountCents, !(1...ContractInput.maxCents).contains(amountCents) { errors.append(.init(field: "amountCents", message: "must be 1 to \(ContractInput.maxCents)")) }
        if let dueDate, !Day.isValid(dueDate) { errors.append(.init(field: "dueDate", message: "must be a date such as 2027-01-31")) }
        return errors
    }
}

/// `POST /contracts/{id}/milestones` (its company, or an admin): a pending milestone on a pending or active contract.
struct CreateMilestone: HTTPFunction {
    static let access = Access.people(.company, .admin)

    func handle(_ request: FunctionRequest<MilestoneInput>, caller: Caller, context: FunctionContext) async throws -> FunctionResponse<MilestoneRecord> {
        let id = try request.parameter("id")
        let now = context.now.iso
        return .created(try await context.database.transaction { sql in
            let contract = try await ContractRecord.seen(id, by: caller, on: sql, forUpdate: true)
            guard contract.companyUserId == caller.userId || caller.isAdmin else { throw HTTPError.forbidden("Only the company adds milestones.") }
            let input = try request.input
            var missing: [Problem.FieldError] = []
            if input.title == nil { missing.append(.init(field: "title", message: "is required")) }
            if input.amountCents == nil { missing.append(.init(field: "amountCents", message: "is required")) }
            guard missing.isEmpty, let title = input.title, let amount = input.amountCents else { throw HTTPError.unprocessable(missing) }
            guard [.pending, .active].contains(contract.status) else { throw IllegalTransition(what: "contract", state: contract.status.rawValue, action: "given milestones") }
            let milestone = MilestoneRecord(
                id: UUID().uuidString.lowercased(), contractId: contract.id, title: title.trimmingCharacters(in: .whitespacesAndNewlines),
                description: input.description, amountCents: amount, dueDate: input.dueDate, status: .pending, fundings: 0, createdAt: now, updatedAt: now
            )
            try await sql.insert(into: MilestoneRecord.table).model(milestone, keyEncodingStrategy: .snakeCase, nilEncodingStrategy: .asNil).run()
            return milestone
        })
    }
}

/// `GET /contracts/{id}/milestones` (its parties, admins): in the order they were added.
struct ListMilestones: HTTPFunction {
    static let access = Access.person

    func handle(_ request: FunctionRequest<Empty>, caller: Caller, context: FunctionContext) async throws -> FunctionResponse<Page<MilestoneRecord>> {
        let id = try request.parameter("id")
        let page = try request.read(OldestFirst.self).page
        let rows = try await context.database.withConnection { sql in
            let contract = try await ContractRecord.seen(id, by: caller, on: sql)
            return try await OldestFirst.keyset.select(sql.select().column("*").from(MilestoneRecord.table).where("contract_id", .equal, SQLBind(contract.id)), page: page)
                .all(decoding: MilestoneRecord.self, keyDecodingStrategy: .snakeCase)
        }
        return .ok(page.page(rows, { $0 }) { ($0.createdAt, $0.id) })
    }
}

/// `PATCH /milestones/{id}` (the company, or an admin, while pending).
struct UpdateMilestone: HTTPFunction {
    static let access = Access.people(.company, .admin)

    func handle(_ request: FunctionRequest<MilestoneInput>, caller: Caller, context: FunctionContext) async throws -> FunctionResponse<MilestoneRecord> {
        let id = try request.parameter("id")
        let now = context.now.iso
        return .ok(try await context.database.transaction { sql in
            var (milestone, contract) = try await MilestoneRecord.seen(id, "milestone", by: caller, on: sql)
            guard contract.companyUserId == caller.userId || caller.isAdmin else { throw HTTPError.forbidden("Only the company edits milestones.") }
            let input = try request.input
            milestone.status = try milestone.status.after(.edit)
            if let title = input.title { milestone.title = title.trimmingCharacters(in: .whitespacesAndNewlines) }
            if let description = input.description { milestone.description = description }
            if let amount = input.amountCents { milestone.amountCents = amount }
            if let due = input.dueDate { milestone.dueDate = due }
            milestone.updatedAt = now
            try await milestone.save(on: sql)
            return milestone
        })
    }
}

/// `DELETE /milestones/{id}` (the company, or an admin, while pending).
struct DeleteMilestone: HTTPFunction {
    static let access = Access.people(.company, .admin)

    func handle(_ request: FunctionRequest<Empty>, caller: Caller, context: FunctionContext) async throws -> FunctionResponse<Empty> {
        let id = try request.parameter("id")
        try await context.database.transaction { sql in
            let (milestone, contract) = try await MilestoneRecord.seen(id, "milestone", by: caller, on: sql)
            guard contract.companyUserId == caller.userId || caller.isAdmin else { throw HTTPError.forbidden("Only the company deletes milestones.") }
            _ = try milestone.status.after(.delete)
            try await sql.delete(from: MilestoneRecord.table).where("id", .equal, SQLBind(milestone.id)).run()
        }
        return .noContent
    }
}

/// `POST /milestones/{id}/submit` (the VA): funded (or rejected) work is submitted for approval.
struct SubmitMilestone: HTTPFunction {
    static let access = Access.people(.va)

    func handle(_ request: FunctionRequest<Empty>, caller: Caller, context: FunctionContext) async throws -> FunctionResponse<MilestoneRecord> {
        let id = try request.parameter("id")
        let now = context.now.iso
        return .ok(try await context.database.transaction { sql in
            var (milestone, contract) = try await MilestoneRecord.seen(id, "milestone", by: caller, on: sql)
            guard contract.vaUserId == caller.userId else { throw HTTPError.forbidden("Only the contract's VA submits work.") }
            guard contract.status == .active else { throw IllegalTransition(what: "contract", state: contract.status.rawValue, action: "worked on") }
            milestone.status = try milestone.status.after(.submit)
            milestone.submittedAt = now
            milestone.updatedAt = now
            try await milestone.save(on: sql)
            return milestone
        })
    }
}

/// `POST /milestones/{id}/reject` (the company, or an admin): sends a submission back to the VA.
struct RejectMilestone: HTTPFunction {
    static let access = Access.people(.company, .admin)

    func handle(_ request: FunctionRequest<Empty>, caller: Caller, context: FunctionContext) async throws -> FunctionResponse<MilestoneRecord> {
        let id = try request.parameter("id")
        let now = context.now.iso
        return .ok(try await context.database.transaction { sql in
            var (milestone, contract) = try await MilestoneRecord.seen(id, "milestone", by: caller, on: sql)
            guard contract.companyUserId == caller.userId || caller.isAdmin else { throw HTTPError.forbidden("Only the company reviews submitted work.") }
            milestone.status = try milestone.status.after(.reject)
            milestone.updatedAt = now
            try await milestone.save(on: sql)
            return milestone
        })
    }
}

/// The query of a list oldest first: `limit`, `cursor`.
struct OldestFirst: QueryParameters {
    var page: PageRequest

    static var keyset: Keyset { Keyset(column: "created_at", idColumn: "id", descending: false) }

    init(_ reader: inout QueryReader) throws(HTTPError) {
        try reader.check()
        page = try PageRequest(&reader, sort: "oldest")
    }
}
