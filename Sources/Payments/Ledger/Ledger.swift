import Blytz
import Foundation
import SQLKit

/// An account of the double-entry ledger. Money moves between accounts only in transactions whose entries
/// sum to zero per currency; every balance is the sum of an account's entries.
///
/// - `payer(user)`: what a payer put in (negative: charged, less what came back to them);
/// - `escrow`: money charged and held until released or refunded (entries name their payment, contract and milestone);
/// - `payable(user)`: a payee's released earnings not yet paid out;
/// - `inTransit(user)`: earnings on their way to the payee's payout account;
/// - `paidOut(user)`: what reached their payout account;
/// - `platformFees`: the platform's fees, less the processor's fees it bears;
/// - `processorFees`: what the payment processor kept.
enum LedgerAccount: Sendable, Hashable {
    case payer(String), escrow, payable(String), inTransit(String), paidOut(String), platformFees, processorFees

    var name: String {
        switch self {
        case .payer: "payer"
        case .escrow: "escrow"
        case .payable: "payable"
        case .inTransit: "in_transit"
        case .paidOut: "paid_out"
        case .platformFees: "platform_fees"
        case .processorFees: "processor_fees"
        }
    }

    var userId: String? {
        switch self {
        case .payer(let user), .payable(let user), .inTransit(let user), .paidOut(let user): user
        case .escrow, .platformFees, .processorFees: nil
        }
    }
}

/// What moved money: one ledger transaction per kind and subject (its `key`), never twice.
enum LedgerKind: String, Codable, Sendable, CaseIterable {
    case charge, processorFee = "processor_fee", release, refund, transfer, transferPaid = "transfer_paid", transferFailed = "transfer_failed"
}

/// A transaction whose entries do not sum to zero: a bug, refused before anything is written.
struct LedgerImbalance: Error, CustomStringConvertible {
    var kind: LedgerKind
    var sum: Int
    var description: String { "a \(kind.rawValue) ledger transaction sums to \(sum), not zero" }
}

enum Ledger {
    static let transactions = "ledger_transactions"
    static let entries = "ledger_entries"

    /// What an entry is about, recorded on it so balances can be taken per payment, contract or milestone.
    struct Subject: Sendable {
        var paymentId: String?
        var contractId: String?
        var milestoneId: String?
        var refundId: String?
        var transferId: String?
    }

    /// Posts one transaction of `kind` once per `key` (a repeat posts nothing and answers false), in
    /// `currency`, with `entries` that must sum to zero; zero amounts are left out.
    @discardableResult
    static func post(
        _ kind: LedgerKind, key: String, currency: String, subject: Subject, entries: [(LedgerAccount, Int)], now: Date, on sql: any SQLDatabase
    ) async throws -> Bool {
        let sum = entries.reduce(0) { $0 + $1.1 }
        guard sum == 0 else { throw LedgerImbalance(kind: kind, sum: sum) }
        struct Found: Decodable { var id: String }
        if try await sql.select().column("id").from(transactions).where("key", .equal, SQLBind(key)).first(decoding: Found.self) != nil { return false }
        let id = UUID().uuidString.lowercased()
        try await sql.insert(into: transactions).columns("id", "key", "kind", "payment_id", "refund_id", "transfer_id", "created_at")
            .values(SQLBind(id), SQLBind(key), SQLBind(kind.rawValue), SQLBind(subject.paymentId), SQLBind(subject.refundId), SQLBind(subject.transferId), SQLBind(now.iso))
            .run()
        for (account, amount) in entries where amount != 0 {
            try await sql.insert(into: self.entries)
                .columns("id", "transaction_id", "account", "user_id", "payment_id", "contract_id", "milestone_id", "amount_cents", "currency", "created_at")
                .values(SQLBind(UUID().uuidString.lowercased()), SQLBind(id), SQLBind(account.name), SQLBind(account.userId), SQLBind(subject.paymentId),
                        SQLBind(subject.contractId), SQLBind(subject.milestoneId), SQLBind(amount), SQLBind(currency), SQLBind(now.iso))
                .run()
        }
        return true
    }

    /// The balance of `account` per currency, optionally only of entries about one payment.
    static func balances(_ account: LedgerAccount, paymentId: String? = nil, on sql: any SQLDatabase) async throws -> [String: Int] {
        struct Row: Decodable { var currency: String; var total: Int }
        var query = sql.select().column("currency").column(SQLRaw("CAST(SUM(amount_cents) AS BIGINT)"), as: "total").from(entries)
            .where("account", .equal, SQLBind(account.name))
        if let user = account.userId { query = query.where("user_id", .equal, SQLBind(user)) }
        if let paymentId { query = query.where("payment_id", .equal, SQLBind(paymentId)) }
        let rows = try await query.groupBy("currency").all(decoding: Row.self)
        return Dictionary(uniqueKeysWithValues: rows.map { ($0.currency, $0.total) })
    }

    /// What is held in escrow for `paymentId`.
    static func held(_ paymentId: String, currency: String, on sql: any SQLDatabase) async throws -> Int {
        try await balances(.escrow, paymentId: paymentId, on: sql)[currency] ?? 0
    }
}
