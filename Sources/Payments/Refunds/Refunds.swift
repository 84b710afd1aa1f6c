import Blytz
import BlytzData
import BlytzEvents
import BlytzServices
import Foundation
import SQLKit

/// A row of `refunds`: money going back to a payment's payer.
struct RefundRecord: Codable, Sendable, Equatable, ResponseBody {
    var id: String
    var paymentId: String
    var requestedBy: String
    var amountCents: Int
    var currency: String
    var reason: String?
    var status: RefundStatus
    var providerRef: String?
    var failureReason: String?
    var createdAt: String
    var updatedAt: String

    static let table = "refunds"

    static func find(_ id: String, on sql: any SQLDatabase, forUpdate: Bool = false) async throws -> RefundRecord? {
        guard id.isUUID else { return nil }
        var query = sql.select().column("*").from(table).where("id", .equal, SQLBind(id.lowercased()))
        if forUpdate { query = query.for(.update) }
        return try await query.first(decoding: RefundRecord.self, keyDecodingStrategy: .snakeCase)
    }

    func save(on sql: any SQLDatabase) async throws {
        try await sql.update(Self.table).set(model: self, keyEncodingStrategy: .snakeCase, nilEncodingStrategy: .asNil).where("id", .equal, SQLBind(id)).run()
    }
}

/// The body of `POST /refunds`: all that is left of a payment, or `amountCents` of it.
struct RefundInput: Codable, Sendable, Validatable {
    var paymentId: String
    var amountCents: Int?
    var reason: String?

    func validate() -> [Problem.FieldError] {
        var errors: [Problem.FieldError] = []
        if !paymentId.isUUID { errors.append(.init(field: "paymentId", message: "must be a UUID")) }
        if let amountCents, !(1...PaymentInput.maxCents).contains(amountCents) { errors.append(.init(field: "amountCents", message: "must be 1 to \(PaymentInput.maxCents) minor units")) }
        if let reason, reason.count > 500 { errors.append(.init(field: "reason", message: "must be at most 500 characters")) }
        return errors
    }
}

/// Money back to a payer. A refund reserves its amount on the payment when it is recorded (so refunds,
/// also concurrent ones, never exceed what is left), is made through the provider with its own idempotency
/// key (`refund-<id>`), and on success moves the money on the ledger: out of escrow first; out of released
/// money after that, taking back from the payee their share (`payeeDebitCents`) and from the platform its
/// fee's share (in proportion, rounded half up). A provider's refusal fails it and frees the reservation.
enum Refunds {
    static let kind = "refund"

    struct Job: Codable, Sendable {
        var refundId: String
    }

    /// Records a refund of `amount` of the locked `payment` (at most what is left), reserves it on the
    /// payment and records the intent to make it; the caller starts it after the commit (`start`).
    static func record(_ amount: Int, of payment: inout PaymentRecord, by requester: String, reason: String?, now: Date, on sql: any SQLDatabase) async throws -> RefundRecord {
        let refund = RefundRecord(
            id: UUID().uuidString.lowercased(), paymentId: payment.id, requestedBy: requester, amountCents: amount, currency: payment.currency,
            reason: reason, status: .pending, providerRef: nil, failureReason: nil, createdAt: now.iso, updatedAt: now.iso
        )
        try await sql.insert(into: RefundRecord.table).model(refund, keyEncodingStrategy: .snakeCase, nilEncodingStrategy: .asNil).run()
        payment.refundedCents += amount
        payment.updatedAt = now.iso
        try await payment.update(on: sql)
        try await Reconciler.record(kind: kind, key: "refund-\(refund.id)", payload: Job(refundId: refund.id), now: now, on: sql)
        return refund
    }

    /// Makes the recorded refund `id` through the provider now (the schedule retries what this cannot finish).
    static func start(_ id: String, context: FunctionContext) async throws {
        if let intent = try await Charging.intentId("refund-\(id)", in: try context.database) { try await attempt(intent, context: context) }
    }

    static func attempt(_ intent: String, context: FunctionContext) async throws {
        try await Reconciler.attempt(intent, as: Job.self, in: try context.database, now: context.now, logger: context.logger) { intent in
            try await send(intent.payload.refundId, context: context)
        }
    }

    static func send(_ id: String, context: FunctionContext) async throws {
        let database = try context.database
        let found = try await database.withConnection { sql -> (RefundRecord, PaymentRecord)? in
            guard let refund = try await RefundRecord.find(id, on: sql), refund.status == .pending, let payment = try await PaymentRecord.find(refund.paymentId, on: sql) else { return nil }
            return (refund, payment)
        }
        guard let (refund, payment) = found else { return }
        let outcome: Result<String, ProviderRefusal>
        do {
            guard let ref = payment.providerRef else { throw ProviderRefusal(reason: "The payment has no charge at the provider.") }
            outcome = .success(try await context.provider.refund(ref, amountCents: refund.amountCents, currency: refund.currency, idempotencyKey: "refund-\(id)", context: context))
        } catch let refusal as ProviderRefusal {
            outcome = .failure(refusal)
        }
        let now = context.now
        try await database.transaction { sql in
            guard var payment = try await PaymentRecord.find(refund.paymentId, on: sql, forUpdate: true),
                  var refund = try await RefundRecord.find(id, on: sql, forUpdate: true), refund.status == .pending else { return }
            refund.updatedAt = now.iso
            payment.updatedAt = now.iso
            switch outcome {
            case .failure(let refusal):
                refund.status = try refund.status.after(.fail)
                refund.failureReason = String(refusal.reason.prefix(500))
                payment.refundedCents -= refund.amountCents
            case .success(let ref):
                refund.status = try refund.status.after(.succeed)
                refund.providerRef = ref
                let debit = try await move(refund, of: payment, now: now, on: sql)
                let refunded = try await succeededTotal(payment.id, on: sql) + refund.amountCents
                payment.status = try payment.status.after(refunded >= payment.amountCents ? .refundAll : .refundPart)
                try await context.publish(RefundIssued(
                    refundId: refund.id, paymentId: payment.id, contractId: payment.contractId, payerUserId: payment.payerUserId,
                    payeeUserId: payment.payeeUserId, amountCents: refund.amountCents, payeeDebitCents: debit, currency: refund.currency
                ), on: sql)
            }
            try await refund.save(on: sql)
            try await payment.update(on: sql)
        }
    }

    /// The refund's ledger transaction; answers what it took back from the payee.
    static func move(_ refund: RefundRecord, of payment: PaymentRecord, now: Date, on sql: any SQLDatabase) async throws -> Int {
        let held = try await Ledger.held(payment.id, currency: payment.currency, on: sql)
        let fromHeld = min(refund.amountCents, held)
        let fromReleased = refund.amountCents - fromHeld
        let feeBack = Fee.proportion(of: payment.platformFeeCents, gross: payment.releasedCents, part: fromReleased)
        let debit = fromReleased - feeBack
        var subject = payment.subject
        subject.refundId = refund.id
        try await Ledger.post(.refund, key: "refund:\(refund.id)", currency: payment.currency, subject: subject, entries: [
            (.escrow, -fromHeld), (.payable(payment.payeeUserId), -debit), (.platformFees, -feeBack), (.payer(payment.payerUserId), refund.amountCents),
        ], now: now, on: sql)
        return debit
    }

    static func succeededTotal(_ paymentId: String, on sql: any SQLDatabase) async throws -> Int {
        struct Row: Decodable { var total: Int? }
        return try await sql.select().column(SQLRaw("CAST(SUM(amount_cents) AS BIGINT)"), as: "total").from(RefundRecord.table)
            .where("payment_id", .equal, SQLBind(paymentId)).where("status", .equal, SQLBind(RefundStatus.succeeded.rawValue)).first(decoding: Row.self)?.total ?? 0
    }
}

/// `POST /refunds` (the payer, for money still held in escrow; an admin, for anything left, released
/// money included): records the refund and reserves its amount — never more than is left — honouring
/// `Idempotency-Key`, then makes it through the provider. Answers 201 with the refund (`pending` when the
/// provider could not be reached yet; the schedule finishes it).
struct CreateRefund: HTTPFunction {
    static let access = Access.people(.company, .admin)

    func handle(_ request: FunctionRequest<RefundInput>, caller: Caller, context: FunctionContext) async throws -> FunctionResponse<RefundRecord> {
        let input = try request.input
        let now = context.now
        let recorded = try await context.idempotent(request, scope: caller.userId) { sql in
            var payment = try await PaymentRecord.seen(input.paymentId, by: caller, on: sql, forUpdate: true)
            guard payment.payerUserId == caller.userId || caller.isAdmin else { throw HTTPError.forbidden("Only the payer or an admin refunds a payment.") }
            guard payment.status.charged else { throw IllegalTransition(what: "payment", state: payment.status.rawValue, action: "refunded") }
            try await Disputes.refuseWhileOpen(payment, on: sql)
            if !caller.isAdmin && payment.releasedAt != nil {
                throw HTTPError(409, detail: "The payment was released to the payee; only an admin (for example by resolving a dispute) refunds it now.", errors: [.init(field: "paymentId", message: "is released")])
            }
            let left = payment.amountCents - payment.refundedCents
            let amount = input.amountCents ?? left
            guard left > 0 else { throw HTTPError(409, detail: "Nothing is left of the payment to refund.", errors: [.init(field: "amountCents", message: "nothing is left to refund")]) }
            guard amount <= left else { throw HTTPError.unprocessable([.init(field: "amountCents", message: "must be at most \(left), what is left of the payment")]) }
            let refund = try await Refunds.record(amount, of: &payment, by: caller.userId, reason: input.reason, now: now, on: sql)
            return .created(refund, location: "/refunds/\(refund.id)")
        }
        guard let id = recorded.body?.id else { return recorded }
        try await Refunds.start(id, context: context)
        let refund = try await context.database.withConnection { sql in try await RefundRecord.find(id, on: sql) }
        return FunctionResponse(status: recorded.status, headers: recorded.headers, body: refund ?? recorded.body)
    }
}

/// `GET /refunds/{id}` (the payment's payer or payee, an admin).
struct GetRefund: HTTPFunction {
    static let access = Access.signedIn

    func handle(_ request: FunctionRequest<Empty>, caller: Caller, context: FunctionContext) async throws -> FunctionResponse<RefundRecord> {
        let id = try request.parameter("id")
        return .ok(try await context.database.withConnection { sql in
            guard let refund = try await RefundRecord.find(id, on: sql), let payment = try await PaymentRecord.find(refund.paymentId, on: sql), payment.visible(to: caller) else {
                throw HTTPError.notFound("There is no refund \(id).")
            }
            return refund
        })
    }
}

/// `GET /refunds` (signed in): refunds of the caller's payments (as payer or payee; an admin's: all),
/// newest first; `?paymentId=` and `?status=` filter.
struct ListRefunds: HTTPFunction {
    static let access = Access.signedIn

    struct Query: QueryParameters {
        var paymentId: String?
        var status: String?
        var page: PageRequest

        init(_ reader: inout QueryReader) throws(HTTPError) {
            paymentId = reader.uuid("paymentId")
            status = reader.choice("status", RefundStatus.allCases.map(\.rawValue))
            try reader.check()
            page = try PageRequest(&reader, sort: "newest")
        }
    }

    func handle(_ request: FunctionRequest<Empty>, caller: Caller, context: FunctionContext) async throws -> FunctionResponse<Page<RefundRecord>> {
        let filters = try request.read(Query.self)
        let rows = try await context.database.withConnection { sql in
            var query = sql.select().column("*").from(RefundRecord.table)
            if !caller.isAdmin {
                let mine = SQLSubquery.select { $0.column("id").from(PaymentRecord.table)
                    .where { $0.where("payer_user_id", .equal, SQLBind(caller.userId)).orWhere("payee_user_id", .equal, SQLBind(caller.userId)) }
                }
                query = query.where(SQLColumn("payment_id"), .in, mine)
            }
            if let payment = filters.paymentId { query = query.where("payment_id", .equal, SQLBind(payment)) }
            if let status = filters.status { query = query.where("status", .equal, SQLBind(status)) }
            return try await NewestFirst<RefundStatus>.keyset.select(query, page: filters.page)
                .all(decoding: RefundRecord.self, keyDecodingStrategy: .snakeCase)
        }
        return .ok(filters.page.page(rows, { $0 }) { ($0.createdAt, $0.id) })
    }
}
