import Blytz
import BlytzData
import BlytzEvents
import BlytzServices
import Foundation
import Logging
import SQLKit
import Synchronization

/// The body of `POST /milestones/{id}/fund`, which may be left out: the payment method to charge (the
/// payments service's provider documents its test methods).
struct FundInput: Codable, Sendable, Validatable, OptionalBody {
    var paymentMethod: String?

    func validate() -> [Problem.FieldError] {
        (paymentMethod?.count ?? 0) > 200 ? [.init(field: "paymentMethod", message: "must be at most 200 characters")] : []
    }
}

/// A milestone with the payment that funds it, as funding answers it.
struct FundingView: Codable, Sendable, ResponseBody {
    var milestone: MilestoneRecord
    var payment: PaymentSummary?
}

/// `POST /milestones/{id}/fund` (the company, or an admin, on an active contract): moves a pending
/// milestone to `funding` and records the charge in the same transaction; right after the commit it is
/// made by `POST /payments` on the payments service, acting for the company, with an idempotency key of
/// the milestone and its funding attempt (`fund-<id>-<n>`), so a retry never charges twice. A succeeded
/// charge makes the milestone `funded` at once; one that needs an extra step (`requires_action`, with what
/// the client must do) or is still processing stays `funding` until `PaymentCompleted` or `PaymentFailed`;
/// a declined one returns it to `pending` (402). When the payments service fails, the client gets its
/// error (503 at once when it is down) and the milestone stays `funding`: repeating the fund, or the
/// `contracts-reconcile` schedule, finishes it with the same key.
struct FundMilestone: HTTPFunction {
    static let access = Access.people(.company, .admin)

    func handle(_ request: FunctionRequest<FundInput>, caller: Caller, context: FunctionContext) async throws -> FunctionResponse<FundingView> {
        let id = try request.parameter("id")
        let now = context.now
        let database = try context.database
        let intent = try await database.transaction { sql -> String in
            var (milestone, contract) = try await MilestoneRecord.seen(id, "milestone", by: caller, on: sql)
            guard contract.companyUserId == caller.userId || caller.isAdmin else { throw HTTPError.forbidden("Only the company funds milestones.") }
            let method = try request.input.paymentMethod
            if milestone.status == .funding, let pending = try await Escrow.pendingIntent(Escrow.fundKey(milestone), on: sql) { return pending }
            guard contract.status == .active else { throw IllegalTransition(what: "contract", state: contract.status.rawValue, action: "funded") }
            milestone.status = try milestone.status.after(.fund)
            milestone.fundings += 1
            milestone.updatedAt = now.iso
            try await milestone.save(on: sql)
            let body = CreatePaymentBody(
                payerUserId: contract.companyUserId, payeeUserId: contract.vaUserId, amountCents: milestone.amountCents, currency: contract.currency,
                contractId: contract.id, milestoneId: milestone.id, paymentMethod: method
            )
            return try await Reconciler.record(kind: Escrow.fundKind, key: Escrow.fundKey(milestone), payload: body, now: now, on: sql)
        }
        let answer = Mutex<PaymentSummary?>(nil)
        try await Reconciler.attemptNow(intent, as: CreatePaymentBody.self, context: context, done: "The milestone is being funded, but the payments service could not charge it yet") { intent in
            answer.withLock { $0 = nil }
            let payment = try await Escrow.fund(intent, context: context)
            answer.withLock { $0 = payment }
        }
        let payment = answer.withLock { $0 }
        let milestone = try await database.withConnection { sql in try await MilestoneRecord.find(id, on: sql) }
        guard let milestone else { throw HTTPError.notFound("There is no milestone \(id).") }
        if payment?.status == "failed" {
            throw HTTPError(402, detail: "The payment was declined; the milestone is pending again.", errors: [.init(field: "paymentMethod", message: "was declined")])
        }
        return .ok(FundingView(milestone: milestone, payment: payment))
    }
}

/// `POST /milestones/{id}/approve` (the company, or an admin): approves submitted work, publishes
/// `MilestoneApproved` and records the release of its escrow in the same transaction; right after the
/// commit `POST /payments/{id}/release` releases it (key `release-<id>`), and the milestone is `paid`,
/// its gross added to the contract's `totalPaidCents` — then, or when `EscrowReleased` arrives, whichever
/// comes first, once. When the payments service fails, the milestone stays `approved` and the release is
/// retried by a repeat of the approve or by `contracts-reconcile`.
struct ApproveMilestone: HTTPFunction {
    static let access = Access.people(.company, .admin)

    func handle(_ request: FunctionRequest<Empty>, caller: Caller, context: FunctionContext) async throws -> FunctionResponse<MilestoneRecord> {
        let id = try request.parameter("id")
        let now = context.now
        let database = try context.database
        let intent = try await database.transaction { sql -> String in
            var (milestone, contract) = try await MilestoneRecord.seen(id, "milestone", by: caller, on: sql)
            guard contract.companyUserId == caller.userId || caller.isAdmin else { throw HTTPError.forbidden("Only the company approves work.") }
            if milestone.status == .approved, let pending = try await Escrow.pendingIntent(Escrow.releaseKey(milestone), on: sql) { return pending }
            guard contract.status == .active else { throw IllegalTransition(what: "contract", state: contract.status.rawValue, action: "paid out") }
            milestone.status = try milestone.status.after(.approve)
            guard let payment = milestone.paymentId else { throw HTTPError(409, detail: "The milestone has no payment to release.") }
            milestone.approvedAt = now.iso
            milestone.updatedAt = now.iso
            try await milestone.save(on: sql)
            try await context.publish(MilestoneApproved(
                contractId: contract.id, milestoneId: milestone.id, title: milestone.title, amountCents: milestone.amountCents, currency: contract.currency,
                companyUserId: contract.companyUserId, vaUserId: contract.vaUserId
            ), on: sql)
            return try await Reconciler.record(kind: Escrow.releaseKind, key: Escrow.releaseKey(milestone), payload: Escrow.Release(paymentId: payment, milestoneId: milestone.id), now: now, on: sql)
        }
        try await Reconciler.attemptNow(intent, as: Escrow.Release.self, context: context, done: "The work is approved, but the payments service could not release its escrow yet") { intent in
            try await Escrow.release(intent, context: context)
        }
        let milestone = try await database.withConnection { sql in try await MilestoneRecord.find(id, on: sql) }
        guard let milestone else { throw HTTPError.notFound("There is no milestone \(id).") }
        return .ok(milestone)
    }
}

/// `contracts-reconcile` (every minute): finishes fundings, releases and refunds whose call to the payments service
/// failed, with the same idempotency keys; what fails every attempt is reported by `blytz contracts stuck`.
struct ReconcileEscrow: ScheduleFunction {
    func handle(_ event: ScheduledEvent, context: FunctionContext) async throws {
        let database = try context.database
        let funded = try await Reconciler.sweep(kind: Escrow.fundKind, as: CreatePaymentBody.self, in: database, now: context.now, logger: context.logger) { intent in
            _ = try await Escrow.fund(intent, context: context)
        }
        let released = try await Reconciler.sweep(kind: Escrow.releaseKind, as: Escrow.Release.self, in: database, now: context.now, logger: context.logger) { intent in
            try await Escrow.release(intent, context: context)
        }
        let refunded = try await Reconciler.sweep(kind: Escrow.refundKind, as: Escrow.Refund.self, in: database, now: context.now, logger: context.logger) { intent in
            try await Escrow.refund(intent, context: context)
        }
        for (kind, sweep) in [("fundings", funded), ("releases", released), ("refunds", refunded)] where sweep != .init() {
            context.logger.info("escrow reconciled", metadata: ["kind": "\(kind)", "done": "\(sweep.done)", "retried": "\(sweep.retried)", "stuck": "\(sweep.stuck)"])
        }
    }
}

/// What the payments service reports about milestone money: `PaymentCompleted` funds a milestone that is
/// `funding` (or pays an invoice), `PaymentFailed` returns it to `pending`, `EscrowReleased` marks it
/// `paid`. Each applies once (the kit's inbox) and only to the state it moves from, so a late or repeated
/// event changes nothing.
struct PaymentEvents: EventConsumer {
    enum Change: EventChoice {
        case completed(PaymentCompleted)
        case failed(PaymentFailed)
        case released(EscrowReleased)

        static let choices: [any Event.Type] = [PaymentCompleted.self, PaymentFailed.self, EscrowReleased.self]

        init(_ event: any Event) throws {
            switch event {
            case let event as PaymentCompleted: self = .completed(event)
            case let event as PaymentFailed: self = .failed(event)
            case let event as EscrowReleased: self = .released(event)
            default: throw UnexpectedEventType(type: type(of: event).type, expected: Self.choices.map { $0.type })
            }
        }
    }

    func handle(_ event: EventEnvelope<Change>, context: FunctionContext) async throws {
        let now = context.now
        try await context.database.once(event: event.id, consumer: context.functionName) { sql in
            switch event.data {
            case .completed(let paid):
                if let milestone = paid.milestoneId { try await Escrow.charged(milestone, payment: paid.paymentId, succeeded: true, now: now, on: sql) }
                if let invoice = paid.invoiceId { try await Invoices.paid(invoice, payment: paid.paymentId, now: now, on: sql) }
            case .failed(let failed):
                if let milestone = failed.milestoneId { try await Escrow.charged(milestone, payment: failed.paymentId, succeeded: false, now: now, on: sql) }
            case .released(let released):
                if let milestone = released.milestoneId { try await Escrow.released(milestone, grossCents: released.grossCents, now: now, on: sql) }
            }
        }
    }
}

/// Milestone money through the payments service, shared by the routes, the reconciler and the consumer.
enum Escrow {
    static let fundKind = "fund-milestone"
    static let releaseKind = "release-milestone"
    static let refundKind = "refund-milestone"

    struct Refund: Codable, Sendable {
        var paymentId: String
        var milestoneId: String
        var companyUserId: String
    }

    static func refundKey(_ milestone: String) -> String { "refund-\(milestone)" }

    /// Records the refund of every milestone of `contract` whose escrow is held (funded, submitted or rejected).
    static func recordRefunds(of contract: ContractRecord, now: Date, on sql: any SQLDatabase) async throws -> [String] {
        var intents: [String] = []
        for milestone in try await refundable(of: contract.id, on: sql) {
            guard let payment = milestone.paymentId else { continue }
            let refund = Refund(paymentId: payment, milestoneId: milestone.id, companyUserId: contract.companyUserId)
            intents.append(try await Reconciler.record(kind: refundKind, key: refundKey(milestone.id), payload: refund, now: now, on: sql))
        }
        return intents
    }

    /// The refunds of a cancelled contract's milestones not finished yet.
    static func unfinishedRefunds(of contract: String, on sql: any SQLDatabase) async throws -> [String] {
        var intents: [String] = []
        for milestone in try await refundable(of: contract, on: sql) {
            if let intent = try await pendingIntent(refundKey(milestone.id), on: sql) { intents.append(intent) }
        }
        return intents
    }

    static func refundable(of contract: String, on sql: any SQLDatabase) async throws -> [MilestoneRecord] {
        try await sql.select().column("*").from(MilestoneRecord.table).where("contract_id", .equal, SQLBind(contract))
            .where("status", .in, SQLBind.group([MilestoneStatus.funded, .submitted, .rejected].map(\.rawValue)))
            .all(decoding: MilestoneRecord.self, keyDecodingStrategy: .snakeCase)
    }

    /// Refunds the intent's escrow to the company and marks the milestone refunded.
    static func refund(_ intent: Reconciler.Intent<Refund>, context: FunctionContext) async throws {
        let body = CreateRefundBody(paymentId: intent.payload.paymentId, reason: "The contract was cancelled.")
        _ = try await context.services.call(CreateRefundCall(body, idempotencyKey: intent.key), context: context, as: .actingFor(intent.payload.companyUserId))
        let now = context.now
        try await context.database.transaction { sql in
            guard var (milestone, _) = try await MilestoneRecord.locked(intent.payload.milestoneId, on: sql), let next = try? milestone.status.after(.refund) else { return }
            milestone.status = next
            milestone.updatedAt = now.iso
            try await milestone.save(on: sql)
        }
    }

    struct Release: Codable, Sendable {
        var paymentId: String
        var milestoneId: String
    }

    static func fundKey(_ milestone: MilestoneRecord) -> String { "fund-\(milestone.id)-\(milestone.fundings)" }
    static func releaseKey(_ milestone: MilestoneRecord) -> String { "release-\(milestone.id)" }

    /// The intent with `key` if it is unfinished (put back to pending if it was stuck, so a repeat retries it).
    static func pendingIntent(_ key: String, on sql: any SQLDatabase) async throws -> String? {
        struct Row: Decodable { var id: String; var state: String }
        guard let row = try await sql.select().columns("id", "state").from(Reconciler.table).where("key", .equal, SQLBind(key)).first(decoding: Row.self),
              row.state != Reconciler.State.done.rawValue else { return nil }
        if row.state == Reconciler.State.stuck.rawValue {
            try await sql.update(Reconciler.table).set("state", to: SQLBind(Reconciler.State.pending.rawValue)).set("attempts", to: SQLBind(0))
                .where("id", .equal, SQLBind(row.id)).run()
        }
        return row.id
    }

    /// Charges the intent's payment and applies what the answer already says.
    static func fund(_ intent: Reconciler.Intent<CreatePaymentBody>, context: FunctionContext) async throws -> PaymentSummary {
        let body = intent.payload
        let payment = try await context.services.call(CreatePaymentCall(body, idempotencyKey: intent.key), context: context, as: .actingFor(body.payerUserId))
        guard let milestone = body.milestoneId else { return payment }
        let now = context.now
        try await context.database.transaction { sql in
            switch payment.status {
            case "succeeded": try await charged(milestone, payment: payment.id, succeeded: true, now: now, on: sql)
            case "failed": try await charged(milestone, payment: payment.id, succeeded: false, now: now, on: sql)
            default: try await sql.update(MilestoneRecord.table).set("payment_id", to: SQLBind(payment.id)).where("id", .equal, SQLBind(milestone)).run()
            }
        }
        return payment
    }

    /// Releases the intent's escrow and marks the milestone paid.
    static func release(_ intent: Reconciler.Intent<Release>, context: FunctionContext) async throws {
        let released = try await context.services.call(ReleasePaymentCall(paymentId: intent.payload.paymentId, idempotencyKey: intent.key), context: context, as: .service)
        let now = context.now
        try await context.database.transaction { sql in try await Self.released(intent.payload.milestoneId, grossCents: released.grossCents, now: now, on: sql) }
    }

    /// A charge for `milestone` succeeded or failed: `funding` → `funded` (keeping the payment) or `pending`.
    static func charged(_ id: String, payment: String, succeeded: Bool, now: Date, on sql: any SQLDatabase) async throws {
        guard var (milestone, _) = try await MilestoneRecord.locked(id, on: sql), milestone.status == .funding else { return }
        milestone.status = try milestone.status.after(succeeded ? .charged : .chargeFailed)
        milestone.paymentId = succeeded ? payment : nil
        milestone.updatedAt = now.iso
        try await milestone.save(on: sql)
    }

    /// `milestone`'s escrow went to the VA: `approved` → `paid`, its gross added to the contract's total.
    static func released(_ id: String, grossCents: Int, now: Date, on sql: any SQLDatabase) async throws {
        guard var (milestone, contract) = try await MilestoneRecord.locked(id, on: sql), milestone.status == .approved else { return }
        milestone.status = try milestone.status.after(.release)
        milestone.paidAt = now.iso
        milestone.updatedAt = now.iso
        try await milestone.save(on: sql)
        contract.totalPaidCents += grossCents
        contract.updatedAt = now.iso
        try await contract.update(on: sql)
    }
}
