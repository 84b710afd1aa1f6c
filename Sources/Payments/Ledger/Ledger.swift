import Blytz
import Foundation
import BlytzData
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

    /// One transaction to post: of `kind`, once per `key`, in `currency`, with entries that must sum to
    /// zero (zero amounts are left out).
    struct Posting: Sendable {
        var kind: LedgerKind
        var key: String
        var currency: String
        var subject: Subject
        var entries: [(LedgerAccount, Int)]
        /// When it happened, where that is not when it is posted (an imported payment's history).
        var time: Date?

        /// What the posting puts into escrow.
        var escrowed: Int { entries.filter { $0.0 == .escrow }.reduce(0) { $0 + $1.1 } }
    }

    /// Posts one transaction of `kind` once per `key` (a repeat posts nothing and answers false), in
    /// `currency`, with `entries` that must sum to zero; zero amounts are left out.
    @discardableResult
    static func post(
        _ kind: LedgerKind, key: String, currency: String, subject: Subject, entries: [(LedgerAccount, Int)], now: Date, on sql: any SQLDatabase
    ) async throws -> Bool {
        try await post([Posting(kind: kind, key: key, currency: currency, subject: subject, entries: entries)], now: now, on: sql).contains(key)
    }

    /// Posts `postings` together, each once per key, in two statements; answers the keys posted now (a
    /// key posted before is left as it was).
    @discardableResult
    static func post(_ postings: [Posting], now: Date, on sql: any SQLDatabase) async throws -> Set<String> {
        for posting in postings {
            let sum = posting.entries.reduce(0) { $0 + $1.1 }
            guard sum == 0 else { throw LedgerImbalance(kind: posting.kind, sum: sum) }
        }
        guard !postings.isEmpty else { return [] }
        struct Posted: Decodable { var key: String }
        let ids = postings.map { _ in UUID().uuidString.lowercased() }
        // In pieces that stay within the engines' limit on bound values.
        var posted = Set<String>()
        let columns = ["id", "key", "kind", "payment_id", "refund_id", "transfer_id", "created_at"]
        for piece in boundPieces(Array(zip(ids, postings)), columns: columns.count) {
            var transaction = sql.insert(into: transactions).columns(columns)
            for (id, posting) in piece {
                let subject = posting.subject
                transaction = transaction.values(SQLBind(id), SQLBind(posting.key), SQLBind(posting.kind.rawValue), SQLBind(subject.paymentId), SQLBind(subject.refundId),
                                                 SQLBind(subject.transferId), SQLBind((posting.time ?? now).iso))
            }
            posted.formUnion(try await transaction.ignoringConflicts(with: ["key"]).returning("key").all(decoding: Posted.self).map(\.key))
        }
        var rows: [[any SQLExpression]] = []
        for (id, posting) in zip(ids, postings) where posted.contains(posting.key) {
            let subject = posting.subject
            for (account, amount) in posting.entries where amount != 0 {
                rows.append([SQLBind(UUID().uuidString.lowercased()), SQLBind(id), SQLBind(account.name), SQLBind(account.userId), SQLBind(subject.paymentId),
                             SQLBind(subject.contractId), SQLBind(subject.milestoneId), SQLBind(amount), SQLBind(posting.currency), SQLBind((posting.time ?? now).iso)])
            }
        }
        try await sql.insert(
            into: self.entries, columns: ["id", "transaction_id", "account", "user_id", "payment_id", "contract_id", "milestone_id", "amount_cents", "currency", "created_at"],
            rows: rows
        )
        return posted
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
