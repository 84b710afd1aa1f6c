import Blytz
import BlytzData
import BlytzEvents
import BlytzServices
import Foundation
import Logging
import SQLKit

/// A row of `transfers`: earnings on their way to a payee's payout account.
struct TransferRecord: Codable, Sendable, Equatable, ResponseBody {
    var id: String
    var userId: String
    var accountRef: String
    var amountCents: Int
    var currency: String
    var status: TransferStatus
    var providerRef: String?
    var createdAt: String
    var updatedAt: String

    static let table = "transfers"
}

/// A payee's payout account (a Stripe connected account, `acct_…`).
struct PayoutAccount: Codable, Sendable, Equatable {
    var userId: String
    var provider: ProviderName
    var accountRef: String
    var createdAt: String
    var updatedAt: String

    static let table = "payout_accounts"

    static func find(_ userId: String, on sql: any SQLDatabase, forUpdate: Bool = false) async throws -> PayoutAccount? {
        var query = sql.select().column("*").from(table).where("user_id", .equal, SQLBind(userId))
        if forUpdate { query = query.for(.update) }
        return try await query.first(decoding: PayoutAccount.self, keyDecodingStrategy: .snakeCase)
    }
}

/// Paying released earnings out. A payee without a payout account keeps them as a payable balance; once
/// they register one (or when more is released), what is payable moves to `in_transit` on the ledger and a
/// transfer is made through the provider with the transfer's own idempotency key (`payout-<id>`); it ends
/// `paid` (in the payout account) or `failed` (payable again).
enum Payouts {
    static let kind = "payout"

    struct Job: Codable, Sendable {
        var transferId: String
    }

    /// Moves everything payable to `userId` into transfers, if they have a payout account; answers the
    /// intents to start after the commit.
    static func schedule(_ userId: String, context: FunctionContext, on sql: any SQLDatabase) async throws -> [String] {
        // The account's row is locked first, so two releases to one payee never send the same balance twice.
        guard let account = try await PayoutAccount.find(userId, on: sql, forUpdate: true) else { return [] }
        let now = context.now
        var intents: [String] = []
        for (currency, amount) in try await Ledger.balances(.payable(userId), on: sql).sorted(by: { $0.key < $1.key }) where amount > 0 {
            let transfer = TransferRecord(
                id: UUID().uuidString.lowercased(), userId: userId, accountRef: account.accountRef, amountCents: amount, currency: currency,
                status: .pending, providerRef: nil, createdAt: now.iso, updatedAt: now.iso
            )
            try await sql.insert(into: TransferRecord.table).model(transfer, keyEncodingStrategy: .snakeCase, nilEncodingStrategy: .asNil).run()
            try await Ledger.post(.transfer, key: "transfer:\(transfer.id)", currency: currency, subject: .init(transferId: transfer.id), entries: [
                (.payable(userId), -amount), (.inTransit(userId), amount),
            ], now: now, on: sql)
            intents.append(try await Reconciler.record(kind: kind, key: "payout-\(transfer.id)", payload: Job(transferId: transfer.id), now: now, on: sql))
        }
        return intents
    }

    /// Tries the payout intents now; failures are left for the schedule.
    static func attempt(_ intents: [String], context: FunctionContext) async throws {
        for intent in intents {
            try await Reconciler.attempt(intent, as: Job.self, in: try context.database, now: context.now, logger: context.logger) { intent in
                try await send(intent.payload.transferId, context: context)
            }
        }
    }

    /// Makes the provider's transfer and records how it ended; a refusal is final (the money is payable again).
    static func send(_ id: String, context: FunctionContext) async throws {
        let database = try context.database
        guard let transfer = try await database.withConnection({ sql in try await find(id, on: sql) }), transfer.status == .pending else { return }
        let outcome: Result<String, ProviderRefusal>
        do {
            outcome = .success(try await context.provider.transfer(
                to: transfer.accountRef, amountCents: transfer.amountCents, currency: transfer.currency, idempotencyKey: "payout-\(transfer.id)", context: context
            ))
        } catch let refusal as ProviderRefusal {
            outcome = .failure(refusal)
        }
        let now = context.now
        try await database.transaction { sql in
            guard var transfer = try await find(id, on: sql, forUpdate: true), transfer.status == .pending else { return }
            let user = transfer.userId
            switch outcome {
            case .success(let ref):
                transfer.status = try transfer.status.after(.pay)
                transfer.providerRef = ref
                try await Ledger.post(.transferPaid, key: "transfer_paid:\(id)", currency: transfer.currency, subject: .init(transferId: id), entries: [
                    (.inTransit(user), -transfer.amountCents), (.paidOut(user), transfer.amountCents),
                ], now: now, on: sql)
            case .failure(let refusal):
                transfer.status = try transfer.status.after(.fail)
                context.logger.warning("payout refused", metadata: ["transfer": "\(id)", "reason": "\(refusal.reason)"])
                try await Ledger.post(.transferFailed, key: "transfer_failed:\(id)", currency: transfer.currency, subject: .init(transferId: id), entries: [
                    (.inTransit(user), -transfer.amountCents), (.payable(user), transfer.amountCents),
                ], now: now, on: sql)
            }
            transfer.updatedAt = now.iso
            try await sql.update(TransferRecord.table).set(model: transfer, keyEncodingStrategy: .snakeCase, nilEncodingStrategy: .asNil)
                .where("id", .equal, SQLBind(id)).run()
        }
    }

    static func find(_ id: String, on sql: any SQLDatabase, forUpdate: Bool = false) async throws -> TransferRecord? {
        var query = sql.select().column("*").from(TransferRecord.table).where("id", .equal, SQLBind(id))
        if forUpdate { query = query.for(.update) }
        return try await query.first(decoding: TransferRecord.self, keyDecodingStrategy: .snakeCase)
    }
}

/// The body of `PUT /payments/payout-account`.
struct PayoutAccountInput: Codable, Sendable, Validatable {
    var accountId: String

    func validate() -> [Problem.FieldError] {
        (6...64).contains(accountId.count) ? [] : [.init(field: "accountId", message: "must be 6 to 64 characters")]
    }
}

/// A payee's payout account and earnings per currency: payable (released, not yet sent), in transit, paid out.
struct PayoutView: Codable, Sendable, Equatable, ResponseBody {
    struct Balance: Codable, Sendable, Equatable {
        var currency: String
        var payableCents: Int
        var inTransitCents: Int
        var paidOutCents: Int
    }

    var userId: String
    var accountId: String?
    var balances: [Balance]
    var transfers: [TransferRecord]

    static func of(_ userId: String, on sql: any SQLDatabase) async throws -> PayoutView {
        let account = try await PayoutAccount.find(userId, on: sql)
        let payable = try await Ledger.balances(.payable(userId), on: sql)
        let transit = try await Ledger.balances(.inTransit(userId), on: sql)
        let paid = try await Ledger.balances(.paidOut(userId), on: sql)
        let currencies = Set(payable.keys).union(transit.keys).union(paid.keys).sorted()
        let transfers = try await sql.select().column("*").from(TransferRecord.table).where("user_id", .equal, SQLBind(userId))
            .orderBy("created_at", .descending).orderBy("id", .descending).limit(20).all(decoding: TransferRecord.self, keyDecodingStrategy: .snakeCase)
        return PayoutView(
            userId: userId, accountId: account?.accountRef,
            balances: currencies.map { Balance(currency: $0, payableCents: payable[$0] ?? 0, inTransitCents: transit[$0] ?? 0, paidOutCents: paid[$0] ?? 0) },
            transfers: transfers
        )
    }
}

/// `GET /payments/payout-account` (a VA, or an admin with `?userId=`): the payout account and earnings.
struct GetPayoutAccount: HTTPFunction {
    static let access = Access.people(.va, .admin)

    struct Query: QueryParameters {
        var userId: String?
        init(_ reader: inout QueryReader) throws(HTTPError) {
            userId = reader.uuid("userId")
            try reader.check()
        }
    }

    func handle(_ request: FunctionRequest<Empty>, caller: Caller, context: FunctionContext) async throws -> FunctionResponse<PayoutView> {
        let query = try request.read(Query.self)
        let user = query.userId ?? caller.userId
        try caller.requireSelfOrAdmin(user)
        return .ok(try await context.database.withConnection { sql in try await PayoutView.of(user, on: sql) })
    }
}

/// `PUT /payments/payout-account` (a VA): registers or replaces their payout account (the provider's
/// connected account id, such as `acct_1Nv0FG…`); whatever was payable to them is sent to it at once.
struct SetPayoutAccount: HTTPFunction {
    static let access = Access.people(.va, detail: "Payout accounts belong to VAs.")

    func handle(_ request: FunctionRequest<PayoutAccountInput>, caller: Caller, context: FunctionContext) async throws -> FunctionResponse<PayoutView> {
        let provider = try context.provider
        let account = try request.input.accountId
        guard provider.isPayoutAccount(account) else {
            throw HTTPError.unprocessable([.init(field: "accountId", message: "must be a connected account id such as acct_1Nv0FGQ9RKHgCVdK")])
        }
        let now = context.now.iso
        let intents = try await context.database.transaction { sql -> [String] in
            // One account per VA: a registration replaces the last, even when two arrive at once.
            try await sql.insert(into: PayoutAccount.table)
                .model(PayoutAccount(userId: caller.userId, provider: provider.name, accountRef: account, createdAt: now, updatedAt: now), keyEncodingStrategy: .snakeCase)
                .onConflict(with: ["user_id"]) { $0.set(excludedValueOf: "provider").set(excludedValueOf: "account_ref").set(excludedValueOf: "updated_at") }
                .run()
            return try await Payouts.schedule(caller.userId, context: context, on: sql)
        }
        try await Payouts.attempt(intents, context: context)
        return .ok(try await context.database.withConnection { sql in try await PayoutView.of(caller.userId, on: sql) })
    }
}
