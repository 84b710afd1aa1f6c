import Blytz
import BlytzData
import BlytzEvents
import Foundation
import SQLKit
import Synchronization

/// Charging a recorded payment through the provider, and applying what the provider says — at once, on a
/// confirm, or by webhook — shared by the routes, the webhook route and the `payments-reconcile` schedule.
///
/// A payment is recorded `pending` with the intent to charge it (`charge-<id>`) in one transaction; the
/// charge is then made with that key as the provider's idempotency key, by one holder of the intent's
/// lease at a time, so repeats and retries never charge twice. When the provider cannot be reached the
/// payment stays `pending` and the schedule retries it.
enum Charging {
    static let kind = "charge"

    struct Job: Codable, Sendable {
        var paymentId: String
    }

    static func key(_ paymentId: String) -> String { "charge-\(paymentId)" }

    /// Charges the payment now unless another attempt holds it; a failure is left for the schedule.
    static func attempt(_ paymentId: String, context: FunctionContext) async throws {
        guard let intent = try await intentId(key(paymentId), in: try context.database) else { return }
        try await Reconciler.attempt(intent, as: Job.self, in: try context.database, now: context.now, logger: context.logger) { intent in
            try await charge(intent.payload.paymentId, context: context)
        }
    }

    /// Makes the first attempt of the charge of `payment`, just recorded with its claimed `intent`
    /// (`Reconciler.recordClaimed`); a failure is left for the schedule. Answers the payment as it then stands.
    static func attempt(_ intent: Reconciler.Intent<Job>, of payment: PaymentRecord, context: FunctionContext) async throws -> PaymentRecord {
        let latest = Mutex(payment)
        try await Reconciler.attempt(intent, in: try context.database, now: context.now, logger: context.logger) { _ in
            let applied = try await charge(payment, context: context)
            if let charged = applied.payment { latest.withLock { $0 = charged } }
            return applied.completed
        }
        return latest.withLock { $0 }
    }

    /// The id of the recorded intent with `key`.
    static func intentId(_ key: String, in database: ServiceDatabase) async throws -> String? {
        struct Row: Decodable { var id: String }
        return try await database.withConnection { sql in
            try await sql.select().column("id").from(Reconciler.table).where("key", .equal, SQLBind(key)).first(decoding: Row.self)?.id
        }
    }

    /// Makes the provider's charge of the pending payment `paymentId` and applies its answer.
    static func charge(_ paymentId: String, context: FunctionContext) async throws {
        guard let payment = try await context.database.withConnection({ sql in try await PaymentRecord.find(paymentId, on: sql) }), payment.status == .pending else { return }
        try await charge(payment, context: context)
    }

    /// Makes the provider's charge of the pending `payment` and applies its answer; answers the payment
    /// as it then stands and the intent's completion (nil when the answer changed nothing).
    @discardableResult
    static func charge(_ payment: PaymentRecord, context: FunctionContext) async throws -> Applied {
        let request = ChargeRequest(
            paymentId: payment.id, amountCents: payment.amountCents, currency: payment.currency, paymentMethod: payment.paymentMethod ?? "",
            description: payment.description, idempotencyKey: key(payment.id)
        )
        let update = try await context.provider.charge(request, context: context)
        return try await apply(update, to: payment.id, context: context)
    }

    /// What applying a provider's answer did: the payment as it then stands, and the charge intent marked
    /// done in the same transaction (nil when the answer would have moved the payment backwards).
    struct Applied {
        var payment: PaymentRecord?
        var completed: Reconciler.Completed?
    }

    /// Applies `update` to the payment `id` in its own transaction, then starts what it made due.
    @discardableResult
    static func apply(_ update: ChargeUpdate, to id: String, context: FunctionContext) async throws -> Applied {
        let (applied, payouts) = try await context.database.transaction { sql -> (Applied, [String]) in
            guard var payment = try await PaymentRecord.find(id, on: sql, forUpdate: true) else { return (Applied(), []) }
            guard let done = try await apply(update, to: &payment, context: context, on: sql) else { return (Applied(payment: payment), []) }
            return (Applied(payment: payment, completed: done.completed), done.payouts)
        }
        try await Payouts.attempt(payouts, context: context)
        return applied
    }

    /// Applies `update` to the locked `payment` on `sql`: the new status, and on success the charge into
    /// escrow on the ledger, the processor's fee, `PaymentCompleted` (and at once the release of a payment
    /// that is not held for a milestone), or `PaymentFailed`. Nil when the update would move the payment
    /// backwards or sideways (a late or repeated webhook): nothing changes. Otherwise the payout intents to
    /// start after the commit, and the charge intent marked done.
    static func apply(
        _ update: ChargeUpdate, to payment: inout PaymentRecord, context: FunctionContext, on sql: any SQLDatabase
    ) async throws -> (payouts: [String], completed: Reconciler.Completed)? {
        guard let next = try? payment.status.after(update.change) else { return nil }
        let now = context.now
        payment.status = next
        if let ref = update.providerRef { payment.providerRef = ref }
        payment.updatedAt = now.iso
        var payouts: [String] = []
        switch update.status {
        case .requiresAction(let action, let secret):
            (payment.nextAction, payment.clientSecret) = (action, secret)
        case .processing:
            (payment.nextAction, payment.clientSecret) = (nil, nil)
        case .succeeded:
            (payment.nextAction, payment.clientSecret) = (nil, nil)
            payment.processorFeeCents = update.processorFeeCents
            let charged = [
                Ledger.Posting(kind: .charge, key: "charge:\(payment.id)", currency: payment.currency, subject: payment.subject, entries: [
                    (.payer(payment.payerUserId), -payment.amountCents), (.escrow, payment.amountCents),
                ]),
                Ledger.Posting(kind: .processorFee, key: "processor_fee:\(payment.id)", currency: payment.currency, subject: payment.subject, entries: [
                    (.platformFees, -update.processorFeeCents), (.processorFees, update.processorFeeCents),
                ]),
            ]
            // Held for a milestone: posted now. Otherwise posted with its release, in the same statements.
            if payment.escrow { try await Ledger.post(charged, now: now, on: sql) }
            try await context.publish(PaymentCompleted(
                paymentId: payment.id, payerUserId: payment.payerUserId, payeeUserId: payment.payeeUserId, contractId: payment.contractId,
                milestoneId: payment.milestoneId, invoiceId: payment.invoiceId, amountCents: payment.amountCents, currency: payment.currency, escrow: payment.escrow
            ), on: sql)
            if !payment.escrow { payouts = try await Release.release(&payment, after: charged, context: context, on: sql).payouts }
        case .failed(let reason):
            (payment.nextAction, payment.clientSecret) = (nil, nil)
            payment.failureReason = String(reason.prefix(500))
            try await context.publish(PaymentFailed(
                paymentId: payment.id, payerUserId: payment.payerUserId, payeeUserId: payment.payeeUserId, contractId: payment.contractId,
                milestoneId: payment.milestoneId, invoiceId: payment.invoiceId, amountCents: payment.amountCents, currency: payment.currency, reason: payment.failureReason
            ), on: sql)
        }
        try await payment.update(on: sql)
        // The provider has answered: the charge itself needs no more attempts.
        return (payouts, try await Reconciler.complete(key: key(payment.id), now: now, on: sql))
    }
}

/// Releasing held escrow to the payee, less the platform's fee.
enum Release {
    /// Releases what is held for the locked `payment` on `sql`: escrow to the payee's payable earnings
    /// and the platform's fee (`PAYMENTS_PLATFORM_FEE_BPS` of it, rounded half up), `EscrowReleased`, and a
    /// transfer to the payee's payout account if they registered one. Answers what moved and the payout
    /// intents to start after the commit. `amount` releases only that much (a dispute's split; the rest
    /// stays held for its refund). `charged` are the postings of a charge into escrow made in the same
    /// transaction, posted with the release (nothing else is then held).
    static func release(
        _ payment: inout PaymentRecord, amount: Int? = nil, after charged: [Ledger.Posting] = [], context: FunctionContext, on sql: any SQLDatabase
    ) async throws -> (summary: ReleaseSummary, payouts: [String]) {
        let now = context.now
        let held = charged.isEmpty ? try await Ledger.held(payment.id, currency: payment.currency, on: sql) : charged.reduce(0) { $0 + $1.escrowed }
        let gross = min(amount ?? held, held)
        guard gross > 0 else { throw HTTPError(409, detail: "Nothing of the payment is held to release.", errors: [.init(field: "status", message: "is \(payment.status.rawValue) with nothing held")]) }
        let fee = Fee.share(gross, basisPoints: Settings(context.configuration).platformFeeBasisPoints)
        try await Ledger.post(charged + [
            Ledger.Posting(kind: .release, key: "release:\(payment.id)", currency: payment.currency, subject: payment.subject, entries: [
                (.escrow, -gross), (.payable(payment.payeeUserId), gross - fee), (.platformFees, fee),
            ]),
        ], now: now, on: sql)
        payment.platformFeeCents = fee
        payment.releasedCents = gross
        payment.releasedAt = now.iso
        payment.updatedAt = now.iso
        try await context.publish(EscrowReleased(
            paymentId: payment.id, contractId: payment.contractId, milestoneId: payment.milestoneId, payerUserId: payment.payerUserId,
            payeeUserId: payment.payeeUserId, grossCents: gross, feeCents: fee, netCents: gross - fee, currency: payment.currency
        ), on: sql)
        let payouts = try await Payouts.schedule(payment.payeeUserId, context: context, on: sql)
        return (ReleaseSummary(paymentId: payment.id, grossCents: gross, feeCents: fee, netCents: gross - fee, currency: payment.currency), payouts)
    }
}
