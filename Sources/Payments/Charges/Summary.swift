import Blytz
import BlytzData
import BlytzServices
import SQLKit

/// `GET /payments/summary` (signed in; an admin may pass `?userId=`, or leave it out for the platform's
/// totals): totals per currency from the ledger — never added across currencies. For a person: `sentCents`
/// (charged from them, less refunds), `receivedCents` (credited to them net of fees, less what refunds took
/// back), `feesCents` (the platform's fees on what they received), `heldCents` (in escrow on payments they
/// pay or receive), and their `payableCents`, `inTransitCents` and `paidOutCents`. For the platform:
/// `feesCents` (fees less processor fees), `processorFeesCents`, `heldCents` and `payableCents` of everyone.
struct PaymentsSummary: HTTPFunction {
    static let access = Access.signedIn

    struct Query: QueryParameters {
        var userId: String?
        init(_ reader: inout QueryReader) throws(HTTPError) {
            userId = reader.uuid("userId")
            try reader.check()
        }
    }

    struct Totals: Codable, Sendable, Equatable {
        var currency: String
        var sentCents: Int
        var receivedCents: Int
        var feesCents: Int
        var heldCents: Int
        var payableCents: Int
        var inTransitCents: Int
        var paidOutCents: Int
        var processorFeesCents: Int
    }

    struct Summary: Codable, Sendable, Equatable, ResponseBody {
        /// Whose totals; nil for the platform's.
        var userId: String?
        var currencies: [Totals]
    }

    func handle(_ request: FunctionRequest<Empty>, caller: Caller, context: FunctionContext) async throws -> FunctionResponse<Summary> {
        let query = try request.read(Query.self)
        let user = caller.isAdmin ? query.userId : (query.userId ?? caller.userId)
        if let user { try caller.requireSelfOrAdmin(user) }
        return .ok(try await context.database.withConnection { sql in
            guard let user else { return try await platform(on: sql) }
            let sent = try await Ledger.balances(.payer(user), on: sql)
            let payable = try await Ledger.balances(.payable(user), on: sql)
            let transit = try await Ledger.balances(.inTransit(user), on: sql)
            let paid = try await Ledger.balances(.paidOut(user), on: sql)
            let fees = try await sums(account: .platformFees, kinds: [.release, .refund], paymentsWhere: "payee_user_id", is: user, on: sql)
            let held = try await sums(account: .escrow, paymentsWhere: nil, is: user, on: sql)
            let currencies = Set(sent.keys).union(payable.keys).union(transit.keys).union(paid.keys).union(fees.keys).union(held.keys).sorted()
            return Summary(userId: user, currencies: currencies.map { code in
                let received = (payable[code] ?? 0) + (transit[code] ?? 0) + (paid[code] ?? 0)
                return Totals(currency: code, sentCents: -(sent[code] ?? 0), receivedCents: received, feesCents: fees[code] ?? 0, heldCents: held[code] ?? 0,
                              payableCents: payable[code] ?? 0, inTransitCents: transit[code] ?? 0, paidOutCents: paid[code] ?? 0, processorFeesCents: 0)
            })
        })
    }

    /// The sums per currency of `account`'s entries (of transactions of `kinds`, or all) on payments where
    /// `column` is `user` (payer or payee when nil).
    func sums(account: LedgerAccount, kinds: [LedgerKind]? = nil, paymentsWhere column: String?, is user: String, on sql: any SQLDatabase) async throws -> [String: Int] {
        struct Row: Decodable { var currency: String; var total: Int }
        let payments = SQLSubquery.select { query in
            let base = query.column("id").from(PaymentRecord.table)
            return column.map { base.where(SQLColumn($0), .equal, SQLBind(user)) }
                ?? base.where { $0.where("payer_user_id", .equal, SQLBind(user)).orWhere("payee_user_id", .equal, SQLBind(user)) }
        }
        var query = sql.select().column("currency").column(SQLRaw("CAST(SUM(amount_cents) AS BIGINT)"), as: "total").from(Ledger.entries)
            .where("account", .equal, SQLBind(account.name)).where(SQLColumn("payment_id"), .in, payments)
        if let kinds {
            query = query.where(SQLColumn("transaction_id"), .in, SQLSubquery.select { $0.column("id").from(Ledger.transactions).where("kind", .in, kinds.map(\.rawValue)) })
        }
        let rows = try await query.groupBy("currency").all(decoding: Row.self)
        return Dictionary(uniqueKeysWithValues: rows.map { ($0.currency, $0.total) })
    }

    func platform(on sql: any SQLDatabase) async throws -> Summary {
        struct Row: Decodable { var account: String; var currency: String; var total: Int }
        let rows = try await sql.select().column("account").column("currency").column(SQLRaw("CAST(SUM(amount_cents) AS BIGINT)"), as: "total").from(Ledger.entries)
            .groupBy("account").groupBy("currency").all(decoding: Row.self)
        var totals: [String: Totals] = [:]
        for row in rows {
            var entry = totals[row.currency] ?? Totals(currency: row.currency, sentCents: 0, receivedCents: 0, feesCents: 0, heldCents: 0, payableCents: 0, inTransitCents: 0, paidOutCents: 0, processorFeesCents: 0)
            switch row.account {
            case LedgerAccount.payer("").name: entry.sentCents = -row.total
            case LedgerAccount.escrow.name: entry.heldCents = row.total
            case LedgerAccount.payable("").name: entry.payableCents = row.total
            case LedgerAccount.inTransit("").name: entry.inTransitCents = row.total
            case LedgerAccount.paidOut("").name: entry.paidOutCents = row.total
            case LedgerAccount.platformFees.name: entry.feesCents = row.total
            case LedgerAccount.processorFees.name: entry.processorFeesCents = row.total
            default: break
            }
            entry.receivedCents = entry.payableCents + entry.inTransitCents + entry.paidOutCents
            totals[row.currency] = entry
        }
        return Summary(userId: nil, currencies: totals.values.sorted { $0.currency < $1.currency })
    }
}
