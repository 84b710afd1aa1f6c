import Blytz
import BlytzData
import BlytzEvents
import BlytzServices
import Foundation
import HTTPTypes
import SQLKit
import Synchronization

/// The body of `POST /payments`.
struct PaymentInput: Codable, Sendable, Validatable {
    var payerUserId: String?
    var payeeUserId: String?
    var amountCents: Int?
    var currency: String?
    var contractId: String?
    var milestoneId: String?
    var invoiceId: String?
    var paymentMethod: String?
    var description: String?

    static let maxCents = 100_000_000_00

    func validate() -> [Problem.FieldError] {
        var errors: [Problem.FieldError] = []
        func check(_ failed: Bool, _ field: String, _ message: String) { if failed { errors.append(.init(field: field, message: message)) } }
        for (field, id) in [("payerUserId", payerUserId), ("payeeUserId", payeeUserId), ("contractId", contractId), ("milestoneId", milestoneId), ("invoiceId", invoiceId)] {
            if let id { check(!id.isUUID, field, "must be a UUID") }
        }
        check(payeeUserId == nil, "payeeUserId", "is required")
        if let amountCents { check(!(1...Self.maxCents).contains(amountCents), "amountCents", "must be 1 to \(Self.maxCents) minor units") } else { check(true, "amountCents", "is required") }
        if let currency { if let problem = Currency.problem(currency) { errors.append(problem) } } else { check(true, "currency", "is required") }
        if let paymentMethod {
            check(!(3...100).contains(paymentMethod.count) || !paymentMethod.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }),
                  "paymentMethod", "must be a provider's payment method id such as pm_card_visa")
        }
        if let description { check(description.count > 500, "description", "must be at most 500 characters") }
        if let payer = payerUserId, let payee = payeeUserId { check(payer.lowercased() == payee.lowercased(), "payeeUserId", "must not be the payer") }
        return errors
    }
}

/// `POST /payments` (a company paying for itself, or the contracts service acting for the company — only
/// it links a milestone or invoice): records the payment `pending` with the intent to charge it, honouring
/// `Idempotency-Key` (a repeat gets the same payment; concurrent repeats make one), then charges it through
/// the provider. A milestone's money is held in escrow until released; any other payment is released to
/// the payee as soon as it succeeds. Answers 201 with the payment as it then stands: `succeeded`, `failed`
/// (with `failureReason`), `requires_action` (with `nextAction`), `processing`, or `pending` when the
/// provider could not be reached (the `payments-reconcile` schedule retries it).
struct CreatePayment: HTTPFunction {
    static let access = Access.people(.company, detail: "Payments are made by companies.").or(.services(.contracts))

    func handle(_ request: FunctionRequest<PaymentInput>, caller: Caller, context: FunctionContext) async throws -> FunctionResponse<PaymentRecord> {
        let input = try request.input
        if input.milestoneId != nil || input.invoiceId != nil {
            try caller.requireService(.contracts, detail: "Only the contracts service pays for a milestone or an invoice.")
        }
        let payer = (input.payerUserId ?? caller.userId).lowercased()
        guard payer == caller.userId else { throw HTTPError.unprocessable([.init(field: "payerUserId", message: "must be the caller's own account")]) }
        guard let payee = input.payeeUserId?.lowercased(), let amount = input.amountCents, let currency = input.currency else { throw HTTPError.unprocessable([]) }
        let settings = Settings(context.configuration)
        let method = input.paymentMethod ?? (settings.provider == .simulated ? "pm_card_visa" : nil)
        guard let method else { throw HTTPError.unprocessable([.init(field: "paymentMethod", message: "is required")]) }
        let now = context.now.iso
        let claimed = ClaimedCharge()
        let recorded = try await context.idempotent(request, scope: caller.userId) { sql in
            let payment = PaymentRecord(
                id: UUID().uuidString.lowercased(), payerUserId: payer, payeeUserId: payee, contractId: input.contractId?.lowercased(),
                milestoneId: input.milestoneId?.lowercased(), invoiceId: input.invoiceId?.lowercased(), description: input.description,
                amountCents: amount, currency: currency, escrow: input.milestoneId != nil,
                platformFeeCents: Fee.share(amount, basisPoints: settings.platformFeeBasisPoints), processorFeeCents: 0, refundedCents: 0, releasedCents: 0,
                status: .pending, provider: settings.provider, providerRef: nil, paymentMethod: method, nextAction: nil, clientSecret: nil, failureReason: nil, releasedAt: nil,
                createdAt: now, updatedAt: now
            )
            try await payment.insert(on: sql)
            let intent = try await Reconciler.recordClaimed(kind: Charging.kind, key: Charging.key(payment.id), payload: Charging.Job(paymentId: payment.id), now: context.now, on: sql)
            claimed.intent.withLock { $0 = intent }
            return .created(payment, location: "/payments/\(payment.id)")
        }
        guard let recordedPayment = recorded.body else { return recorded }
        let payment: PaymentRecord?
        if recorded.headers[IdempotencyStore.replayedHeader] == nil, let intent = claimed.intent.withLock({ $0 }) {
            payment = try await Charging.attempt(intent, of: recordedPayment, context: context)
        } else {
            // A repeat: the first request charges it; this one helps only if that attempt was lost.
            try await Charging.attempt(recordedPayment.id, context: context)
            payment = try await context.database.withConnection { sql in try await PaymentRecord.find(recordedPayment.id, on: sql) }
        }
        return FunctionResponse(status: recorded.status, headers: recorded.headers, body: payment ?? recordedPayment)
    }

    /// The charge intent the recording transaction claimed, read after its commit (a replayed response
    /// claimed none).
    private final class ClaimedCharge: Sendable {
        let intent = Mutex<Reconciler.Intent<Charging.Job>?>(nil)
    }
}

/// `POST /payments/{id}/confirm` (the payer, or an admin): after the payer finished the extra step of a
/// `requires_action` payment, asks the provider how it stands and applies it (a webhook would bring the
/// same; whichever comes first counts once).
struct ConfirmPayment: HTTPFunction {
    static let access = Access.people(.company, .admin)

    func handle(_ request: FunctionRequest<Empty>, caller: Caller, context: FunctionContext) async throws -> FunctionResponse<PaymentRecord> {
        let id = try request.parameter("id")
        let database = try context.database
        let payment = try await database.withConnection { sql in try await PaymentRecord.seen(id, by: caller, on: sql) }
        guard payment.payerUserId == caller.userId || caller.isAdmin else { throw HTTPError.forbidden("Only the payer confirms a payment.") }
        guard payment.status == .requiresAction, let ref = payment.providerRef else {
            throw IllegalTransition(what: "payment", state: payment.status.rawValue, action: "confirmed")
        }
        let update: ChargeUpdate
        do {
            update = try await context.provider.confirm(ref, context: context)
        } catch let unavailable as ProviderUnavailable {
            throw HTTPError(503, detail: "The payment provider could not be reached (\(unavailable.reason)); try again.", headers: [.retryAfter: "5"])
        } catch let refusal as ProviderRefusal {
            throw HTTPError(409, detail: refusal.reason)
        }
        try await Charging.apply(update, to: payment.id, context: context)
        return .ok(try await database.withConnection { sql in try await PaymentRecord.seen(id, by: caller, on: sql) })
    }
}

/// `GET /payments/{id}` (its payer, its payee, an admin, the contracts service).
struct GetPayment: HTTPFunction {
    static let access = Access.signedIn

    func handle(_ request: FunctionRequest<Empty>, caller: Caller, context: FunctionContext) async throws -> FunctionResponse<PaymentRecord> {
        let id = try request.parameter("id")
        return .ok(try await context.database.withConnection { sql in try await PaymentRecord.seen(id, by: caller, on: sql) })
    }
}

/// `GET /payments` (signed in): the caller's payments, as payer or payee (an admin's: everyone's), newest
/// first; `?status=`, `?contractId=`, `?role=payer|payee` filter.
struct ListPayments: HTTPFunction {
    static let access = Access.signedIn

    struct Query: QueryParameters {
        var status: String?
        var contractId: String?
        var role: String?
        var page: PageRequest

        init(_ reader: inout QueryReader) throws(HTTPError) {
            status = reader.choice("status", PaymentStatus.allCases.map(\.rawValue))
            contractId = reader.uuid("contractId")
            role = reader.choice("role", ["payer", "payee"])
            try reader.check()
            page = try PageRequest(&reader, sort: "newest")
        }
    }

    func handle(_ request: FunctionRequest<Empty>, caller: Caller, context: FunctionContext) async throws -> FunctionResponse<Page<PaymentRecord>> {
        let filters = try request.read(Query.self)
        let rows = try await context.database.withConnection { sql in
            var query = sql.select().column("*").from(PaymentRecord.table)
            if !caller.isAdmin {
                switch filters.role {
                case "payer": query = query.where("payer_user_id", .equal, SQLBind(caller.userId))
                case "payee": query = query.where("payee_user_id", .equal, SQLBind(caller.userId))
                default: query = query.where { $0.where("payer_user_id", .equal, SQLBind(caller.userId)).orWhere("payee_user_id", .equal, SQLBind(caller.userId)) }
                }
            }
            if let status = filters.status { query = query.where("status", .equal, SQLBind(status)) }
            if let contract = filters.contractId { query = query.where("contract_id", .equal, SQLBind(contract)) }
            return try await NewestFirst<PaymentStatus>.keyset.select(query, page: filters.page)
                .all(decoding: PaymentRecord.self, keyDecodingStrategy: .snakeCase)
        }
        return .ok(filters.page.page(rows, { $0 }) { ($0.createdAt, $0.id) })
    }
}

/// `POST /payments/{id}/release` (the contracts service when a milestone is approved, or an admin):
/// releases what is held of the payment to the payee, less the platform's fee, once; publishes
/// `EscrowReleased`. Honours `Idempotency-Key`; a second release of the same payment answers 409.
struct ReleasePayment: HTTPFunction {
    static let access = Access.services(.contracts, detail: "Escrow is released by the contracts service or an admin.").or(.people(.admin))

    func handle(_ request: FunctionRequest<Empty>, caller: Caller, context: FunctionContext) async throws -> FunctionResponse<ReleaseSummary> {
        let id = try request.parameter("id")
        let payouts = PayoutList()
        let released = try await context.idempotent(request, scope: caller.userId) { sql in
            var payment = try await PaymentRecord.seen(id, by: caller, on: sql, forUpdate: true)
            guard payment.escrow else { throw HTTPError(409, detail: "The payment is not held in escrow; it was released when it succeeded.") }
            guard payment.releasedAt == nil else { throw HTTPError(409, detail: "The payment's escrow was already released.", errors: [.init(field: "released", message: "is true")]) }
            guard payment.status.charged else { throw IllegalTransition(what: "payment", state: payment.status.rawValue, action: "released") }
            try await Disputes.refuseWhileOpen(payment, on: sql)
            let (summary, intents) = try await Release.release(&payment, context: context, on: sql)
            try await payment.update(on: sql)
            payouts.set(intents)
            return .ok(summary)
        }
        try await Payouts.attempt(payouts.value, context: context)
        return released
    }
}

/// Ids a transaction made (payouts, refunds to start after its commit), handed out of its closure.
final class PayoutList: Sendable {
    private let list = Mutex<[String]>([])
    func set(_ intents: [String]) { list.withLock { $0 = intents } }
    var value: [String] { list.withLock { $0 } }
}
