import Blytz
import BlytzData
import BlytzEvents
import BlytzServices
import Foundation
import SQLKit

/// Disputes: what they freeze, the money they are about, and how a resolution moves it.
enum Disputes {
    /// Refuses to move `payment`'s money while a dispute about it is open (its contract's escrow is frozen
    /// until an admin resolves it, which moves the money itself).
    static func refuseWhileOpen(_ payment: PaymentRecord, on sql: any SQLDatabase) async throws {
        guard let contract = payment.contractId else { return }
        let open = try await sql.select().column("*").from(DisputeRecord.table).where("contract_id", .equal, SQLBind(contract))
            .where("status", .notEqual, SQLBind(DisputeStatus.resolved.rawValue))
            .all(decoding: DisputeRecord.self, keyDecodingStrategy: .snakeCase)
        if let dispute = open.first(where: { $0.paymentId == nil || $0.paymentId == payment.id }) {
            throw HTTPError(409, detail: "The contract is in dispute (\(dispute.id)); its escrow is frozen until an admin resolves it.",
                            errors: [.init(field: "contractId", message: "is in dispute")])
        }
    }

    /// The contract's escrow payments (only `paymentId` when given) that hold money, locked, oldest first,
    /// with what each holds.
    static func held(contract: String, payment: String?, on sql: any SQLDatabase) async throws -> [(payment: PaymentRecord, held: Int)] {
        var query = sql.select().column("*").from(PaymentRecord.table).where("contract_id", .equal, SQLBind(contract)).where("escrow", .equal, SQLBind(true))
        if let payment { query = query.where("id", .equal, SQLBind(payment.lowercased())) }
        let payments = try await query.orderBy("created_at").orderBy("id").for(.update).all(decoding: PaymentRecord.self, keyDecodingStrategy: .snakeCase)
        var holding: [(PaymentRecord, Int)] = []
        for payment in payments {
            let held = try await Ledger.held(payment.id, currency: payment.currency, on: sql)
            if held > 0 { holding.append((payment, held)) }
        }
        return holding
    }

    /// Checks that each of `input`'s files is the caller's own, uploaded and private, then lets `other` read
    /// it (through the file service, as the caller). Answers 422 naming `field` for a file that is not.
    static func share(_ input: EvidenceInput?, field: String, with other: String, caller: Caller, context: FunctionContext) async throws {
        for id in Set(input?.fileIds?.map { $0.lowercased() } ?? []) {
            let file: FileSummary
            do {
                file = try await context.services.call(GetFileCall(fileId: id), context: context, as: .caller(caller))
            } catch let error as ServiceCallError where error.problem.status == 404 || error.problem.status == 403 {
                throw HTTPError.unprocessable([.init(field: field, message: "\(id) is not a file of yours")])
            }
            guard file.ownerUserId == caller.userId else { throw HTTPError.unprocessable([.init(field: field, message: "\(id) is not a file of yours")]) }
            guard file.status == "ready" else { throw HTTPError.unprocessable([.init(field: field, message: "\(id) is not uploaded yet")]) }
            guard file.visibility == "private" else {
                throw HTTPError.unprocessable([.init(field: field, message: "\(id) is public; evidence is seen only by the other party and admins, so make it private first")])
            }
            if !file.sharedWith.contains(other) { _ = try await context.services.call(ShareFileCall(fileId: id, with: [other]), context: context, as: .caller(caller)) }
        }
    }

    /// How much of `total` goes to the payee and back to the payer for `input`, or the fields that are wrong.
    static func split(_ input: ResolutionInput, of total: Int) throws(HTTPError) -> (release: Int, refund: Int) {
        let (release, refund): (Int, Int) = switch input.resolution {
        case .release: (input.releaseCents ?? total, input.refundCents ?? 0)
        case .refund: (input.releaseCents ?? 0, input.refundCents ?? total)
        case .split: (input.releaseCents ?? 0, input.refundCents ?? 0)
        }
        if input.resolution == .split && (release <= 0 || refund <= 0) {
            throw HTTPError.unprocessable([.init(field: release <= 0 ? "releaseCents" : "refundCents", message: "must be more than 0 in a split")])
        }
        guard release + refund == total, release >= 0, refund >= 0 else {
            throw HTTPError.unprocessable([.init(field: input.resolution == .refund ? "refundCents" : "releaseCents", message: "releaseCents and refundCents must sum to \(total), what is held")])
        }
        return (release, refund)
    }
}

extension Disputes {
    /// Opens a dispute of the locked, active contract `contractId` (all of its escrow, or `payment`'s) by
    /// the party `userId`, with `evidence`, and publishes `DisputeOpened`; 409 when the contract is not
    /// active, nothing is held, or another dispute of it is open.
    static func open(
        _ contractId: String, payment: String?, by userId: String, reason: String, evidence: EvidenceInput?, context: FunctionContext, on sql: any SQLDatabase
    ) async throws -> DisputeRecord {
        guard let contract = try await ContractCopy.find(contractId, on: sql, forUpdate: true) else { throw HTTPError.notFound("There is no contract \(contractId).") }
        guard contract.status == .active else {
            throw HTTPError(409, detail: "Only an active contract is disputed; this one is \(contract.status.rawValue).", errors: [.init(field: "contractId", message: "is \(contract.status.rawValue)")])
        }
        let holding = try await held(contract: contract.id, payment: payment, on: sql)
        guard let currency = holding.first?.payment.currency else {
            throw HTTPError(409, detail: "Nothing of the contract is held in escrow, so there is no money to dispute.", errors: [.init(field: payment == nil ? "contractId" : "paymentId", message: "holds nothing in escrow")])
        }
        guard holding.allSatisfy({ $0.payment.currency == currency }) else {
            throw HTTPError.unprocessable([.init(field: "paymentId", message: "is required: the contract's escrow is held in more than one currency")])
        }
        let now = context.now.iso
        let dispute = DisputeRecord(
            id: UUID().uuidString.lowercased(), contractId: contract.id, paymentId: payment?.lowercased(), openedBy: userId,
            companyUserId: contract.companyUserId, vaUserId: contract.vaUserId, reason: reason, status: .open,
            heldCents: holding.reduce(0) { $0 + $1.held }, currency: currency, resolution: nil, releasedCents: nil, refundedCents: nil,
            resolutionNote: nil, resolvedBy: nil, resolvedAt: nil, createdAt: now, updatedAt: now
        )
        do {
            try await dispute.insert(on: sql)
        } catch where ServiceDatabase.isUniqueViolation(error) {
            throw HTTPError(409, detail: "A dispute of this contract is already open.", errors: [.init(field: "contractId", message: "is already in dispute")])
        }
        if let evidence { try await Evidence.add(evidence, to: dispute.id, by: userId, now: now, on: sql) }
        try await context.publish(DisputeOpened(
            disputeId: dispute.id, contractId: contract.id, paymentId: dispute.paymentId, openedBy: userId,
            companyUserId: contract.companyUserId, vaUserId: contract.vaUserId, reason: reason
        ), on: sql)
        return dispute
    }
}

/// The body of `POST /disputes`.
struct DisputeInput: Codable, Sendable, Validatable {
    var contractId: String
    var paymentId: String?
    var reason: String
    var evidence: EvidenceInput?

    func validate() -> [Problem.FieldError] {
        var errors: [Problem.FieldError] = []
        if !contractId.isUUID { errors.append(.init(field: "contractId", message: "must be a UUID")) }
        if let paymentId, !paymentId.isUUID { errors.append(.init(field: "paymentId", message: "must be a UUID")) }
        if reason.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty || reason.count > 2000 { errors.append(.init(field: "reason", message: "must be 1 to 2000 characters")) }
        return errors + (evidence?.problems(prefix: "evidence.") ?? [])
    }
}

/// `POST /disputes` (a party of an active contract whose escrow holds money): opens a dispute about all of
/// the contract's escrow, or one payment's, with the reason and evidence; the evidence files are shared with
/// the other party. Publishes `DisputeOpened` (the contracts service marks the contract disputed); while it
/// is open nothing of that escrow is released or refunded. 201; 409 while another dispute of the contract
/// is open, or when nothing is held.
struct OpenDispute: HTTPFunction {
    static let access = Access.people(.company, .va)

    func handle(_ request: FunctionRequest<DisputeInput>, caller: Caller, context: FunctionContext) async throws -> FunctionResponse<DisputeView> {
        let input = try request.input
        let database = try context.database
        let contract = try await database.withConnection { sql in try await ContractCopy.find(input.contractId, on: sql) }
        guard let contract, contract.isParty(caller.userId) else { throw HTTPError.notFound("There is no contract \(input.contractId) of yours.") }
        try await Disputes.share(input.evidence, field: "evidence.fileIds", with: contract.other(than: caller.userId), caller: caller, context: context)
        return try await database.transaction { sql in
            let dispute = try await Disputes.open(contract.id, payment: input.paymentId, by: caller.userId, reason: input.reason, evidence: input.evidence, context: context, on: sql)
            return .created(try await DisputeView.of(dispute, on: sql), location: "/disputes/\(dispute.id)")
        }
    }
}

/// `POST /disputes/{id}/evidence` (either party, until it is resolved): more text or files (shared with the
/// other party). 201 with the dispute.
struct AddEvidence: HTTPFunction {
    static let access = Access.people(.company, .va)

    func handle(_ request: FunctionRequest<EvidenceInput>, caller: Caller, context: FunctionContext) async throws -> FunctionResponse<DisputeView> {
        let id = try request.parameter("id")
        let database = try context.database
        let dispute = try await database.withConnection { sql in try await DisputeRecord.seen(id, by: caller, on: sql) }
        guard dispute.isParty(caller.userId) else { throw HTTPError.forbidden("Evidence comes from the dispute's parties.") }
        _ = try dispute.status.after(.addEvidence)
        try await Disputes.share(request.input, field: "fileIds", with: dispute.other(than: caller.userId), caller: caller, context: context)
        let now = context.now.iso
        return .created(try await database.transaction { sql in
            var dispute = try await DisputeRecord.seen(id, by: caller, on: sql, forUpdate: true)
            dispute.status = try dispute.status.after(.addEvidence)
            dispute.updatedAt = now
            try await dispute.update(on: sql)
            try await Evidence.add(request.input, to: dispute.id, by: caller.userId, now: now, on: sql)
            return try await DisputeView.of(dispute, on: sql)
        }, location: "/disputes/\(dispute.id)")
    }
}

/// `POST /disputes/{id}/review` (an admin): takes an open dispute under review.
struct ReviewDispute: HTTPFunction {
    static let access = Access.people(.admin, detail: "Disputes are reviewed by admins.")

    func handle(_ request: FunctionRequest<Empty>, caller: Caller, context: FunctionContext) async throws -> FunctionResponse<DisputeView> {
        let id = try request.parameter("id")
        let now = context.now.iso
        return .ok(try await context.database.transaction { sql in
            var dispute = try await DisputeRecord.seen(id, by: caller, on: sql, forUpdate: true)
            dispute.status = try dispute.status.after(.review)
            dispute.updatedAt = now
            try await dispute.update(on: sql)
            return try await DisputeView.of(dispute, on: sql)
        })
    }
}

/// The body of `POST /disputes/{id}/resolve`: `release` (all held goes to the payee), `refund` (all back to
/// the payer) or `split` (`releaseCents` and `refundCents`, both more than 0, summing to what is held).
struct ResolutionInput: Codable, Sendable, Validatable {
    var resolution: DisputeResolution
    var releaseCents: Int?
    var refundCents: Int?
    var note: String?

    func validate() -> [Problem.FieldError] {
        var errors: [Problem.FieldError] = []
        for (field, cents) in [("releaseCents", releaseCents), ("refundCents", refundCents)] {
            if let cents, !(0...PaymentInput.maxCents).contains(cents) { errors.append(.init(field: field, message: "must be 0 to \(PaymentInput.maxCents) minor units")) }
        }
        if resolution == .split && (releaseCents == nil || refundCents == nil) {
            errors.append(.init(field: releaseCents == nil ? "releaseCents" : "refundCents", message: "is required in a split"))
        }
        if let note, note.count > 2000 { errors.append(.init(field: "note", message: "must be at most 2000 characters")) }
        return errors
    }
}

/// `POST /disputes/{id}/resolve` (an admin): settles an open or reviewed dispute through the ledger. What is
/// held goes, payment by payment (oldest first), back to the payer up to `refundCents` (a refund through the
/// provider) and the rest to the payee (a release, less the platform's fee, with `EscrowReleased`).
/// Publishes `DisputeResolved`; the contracts service moves the contract on (release: active again;
/// refund: cancelled; split: completed). A second resolution is a 409.
struct ResolveDispute: HTTPFunction {
    static let access = Access.people(.admin, detail: "Disputes are resolved by admins.")

    func handle(_ request: FunctionRequest<ResolutionInput>, caller: Caller, context: FunctionContext) async throws -> FunctionResponse<DisputeView> {
        let id = try request.parameter("id")
        let input = try request.input
        let now = context.now
        let (startedRefunds, startedPayouts) = (PayoutList(), PayoutList())
        let resolved = try await context.database.transaction { sql in
            var dispute = try await DisputeRecord.seen(id, by: caller, on: sql, forUpdate: true)
            dispute.status = try dispute.status.after(.resolve)
            let holding = try await Disputes.held(contract: dispute.contractId, payment: dispute.paymentId, on: sql).filter { $0.payment.currency == dispute.currency }
            let total = holding.reduce(0) { $0 + $1.held }
            let (release, refund) = try Disputes.split(input, of: total)
            var refundLeft = refund
            var refunds: [String] = []
            var payouts: [String] = []
            for (held, var payment) in holding.map({ ($0.held, $0.payment) }) {
                let back = min(refundLeft, held)
                refundLeft -= back
                if held - back > 0 { payouts += try await Release.release(&payment, amount: held - back, context: context, on: sql).payouts }
                if back > 0 {
                    refunds.append(try await Refunds.record(back, of: &payment, by: caller.userId, reason: "Resolution of dispute \(dispute.id)", now: now, on: sql).id)
                }
                try await payment.update(on: sql)
            }
            dispute.resolution = input.resolution
            (dispute.releasedCents, dispute.refundedCents) = (release, refund)
            (dispute.resolutionNote, dispute.resolvedBy, dispute.resolvedAt, dispute.updatedAt) = (input.note, caller.userId, now.iso, now.iso)
            try await dispute.update(on: sql)
            try await context.publish(DisputeResolved(
                disputeId: dispute.id, contractId: dispute.contractId, resolution: input.resolution, releasedCents: release, refundedCents: refund,
                currency: dispute.currency, companyUserId: dispute.companyUserId, vaUserId: dispute.vaUserId
            ), on: sql)
            startedRefunds.set(refunds)
            startedPayouts.set(payouts)
            return try await DisputeView.of(dispute, on: sql)
        }
        for refund in startedRefunds.value { try await Refunds.start(refund, context: context) }
        try await Payouts.attempt(startedPayouts.value, context: context)
        return .ok(resolved)
    }
}

/// `GET /disputes/{id}` (its parties, admins).
struct GetDispute: HTTPFunction {
    static let access = Access.signedIn

    func handle(_ request: FunctionRequest<Empty>, caller: Caller, context: FunctionContext) async throws -> FunctionResponse<DisputeView> {
        let id = try request.parameter("id")
        return .ok(try await context.database.withConnection { sql in try await DisputeView.of(try DisputeRecord.seen(id, by: caller, on: sql), on: sql) })
    }
}

/// `GET /disputes` (signed in): the caller's disputes (an admin's: all), newest first; `?status=` and
/// `?contractId=` filter.
struct ListDisputes: HTTPFunction {
    static let access = Access.signedIn

    struct Query: QueryParameters {
        var status: String?
        var contractId: String?
        var page: PageRequest

        init(_ reader: inout QueryReader) throws(HTTPError) {
            status = reader.choice("status", DisputeStatus.allCases.map(\.rawValue))
            contractId = reader.uuid("contractId")
            try reader.check()
            page = try PageRequest(&reader, sort: "newest")
        }
    }

    func handle(_ request: FunctionRequest<Empty>, caller: Caller, context: FunctionContext) async throws -> FunctionResponse<Page<DisputeRecord>> {
        let filters = try request.read(Query.self)
        let rows = try await context.database.withConnection { sql in
            var query = sql.select().column("*").from(DisputeRecord.table)
            if !caller.isAdmin {
                query = query.where { $0.where("company_user_id", .equal, SQLBind(caller.userId)).orWhere("va_user_id", .equal, SQLBind(caller.userId)) }
            }
            if let status = filters.status { query = query.where("status", .equal, SQLBind(status)) }
            if let contract = filters.contractId { query = query.where("contract_id", .equal, SQLBind(contract.lowercased())) }
            return try await Keyset.newestFirst.select(query, page: filters.page).all(decoding: DisputeRecord.self, keyDecodingStrategy: .snakeCase)
        }
        return .ok(filters.page.page(rows, { $0 }) { ($0.createdAt, $0.id) })
    }
}
