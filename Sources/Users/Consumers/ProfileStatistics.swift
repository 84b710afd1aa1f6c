import Foundation
import Blytz
import BlytzData
import BlytzEvents
import Logging
import SQLKit

/// `ReviewPosted` → the reviewed VA's rating: sum, count and average, once per event; the profile is
/// republished (`ProfileUpdated`) since copies elsewhere rank by it.
struct RecordReview: EventConsumer {
    func handle(_ event: EventEnvelope<ReviewPosted>, context: FunctionContext) async throws {
        let review = event.data
        guard (1...5).contains(review.rating) else {
            context.logger.warning("review with a rating out of range ignored", metadata: ["event.id": "\(event.id)", "rating": "\(review.rating)"])
            return
        }
        let target = review.targetUserId.lowercased()
        try await context.database.once(event: event.id, consumer: context.functionName) { sql in
            try await sql.update(VAProfileRecord.table)
                .set("rating_sum", to: SQLRaw("rating_sum + \(review.rating)"))
                .set("total_reviews", to: SQLRaw("total_reviews + 1"))
                .set("average_rating", to: SQLRaw("CAST(rating_sum + \(review.rating) AS DOUBLE PRECISION) / (total_reviews + 1)"))
                .where("user_id", .equal, SQLBind(target)).run()
            try await context.profileAggregatesChanged(target, on: sql)
        }
    }
}

/// `PaymentCompleted` → the payer's spending, per currency (and a company's `totalSpentCents` in USD).
/// Nobody is credited here: money for a milestone sits in escrow until `EscrowReleased`.
struct RecordPayment: EventConsumer {
    func handle(_ event: EventEnvelope<PaymentCompleted>, context: FunctionContext) async throws {
        let payment = event.data
        guard payment.amountCents > 0 else { return }
        try await context.database.once(event: event.id, consumer: context.functionName) { sql in
            try await UserTotals.add(payment.payerUserId, currency: payment.currency, spent: payment.amountCents, on: sql)
        }
    }
}

/// `EscrowReleased` → the payee's earnings, net of the platform's fee, per currency (and the VA profile's
/// `earnedCents` in the profile's currency). The only event that credits a payee.
struct RecordRelease: EventConsumer {
    func handle(_ event: EventEnvelope<EscrowReleased>, context: FunctionContext) async throws {
        let release = event.data
        guard release.netCents > 0 else { return }
        try await context.database.once(event: event.id, consumer: context.functionName) { sql in
            try await UserTotals.add(release.payeeUserId, currency: release.currency, earned: release.netCents, on: sql)
        }
    }
}

/// `RefundIssued` → takes the refund back: the payer's spending falls by what returned to them, the payee's
/// earnings by what the refund took from them (nothing when it came out of unreleased escrow).
struct RecordRefund: EventConsumer {
    func handle(_ event: EventEnvelope<RefundIssued>, context: FunctionContext) async throws {
        let refund = event.data
        try await context.database.once(event: event.id, consumer: context.functionName) { sql in
            try await UserTotals.add(refund.payerUserId, currency: refund.currency, spent: -refund.amountCents, on: sql)
            if let payee = refund.payeeUserId, refund.payeeDebitCents > 0 {
                try await UserTotals.add(payee, currency: refund.currency, earned: -refund.payeeDebitCents, on: sql)
            }
        }
    }
}

/// `ContractCompleted` → the VA's completed jobs, once per event; the profile is republished.
struct RecordCompletedContract: EventConsumer {
    func handle(_ event: EventEnvelope<ContractCompleted>, context: FunctionContext) async throws {
        let va = event.data.vaUserId.lowercased()
        try await context.database.once(event: event.id, consumer: context.functionName) { sql in
            try await sql.update(VAProfileRecord.table).set("completed_jobs", to: SQLRaw("completed_jobs + 1"))
                .where("user_id", .equal, SQLBind(va)).run()
            try await context.profileAggregatesChanged(va, on: sql)
        }
    }
}

/// `user_totals`: money earned and spent per user and currency; the profile figures follow it (a VA's
/// `earnedCents` in the profile's currency, a company's `totalSpentCents` in USD).
enum UserTotals {
    static let table = "user_totals"

    static func add(_ user: String, currency: String, earned: Int = 0, spent: Int = 0, on sql: any SQLDatabase) async throws {
        let userId = user.lowercased()
        let currency = currency.uppercased()
        try await sql.insert(into: table).columns("user_id", "currency", "earned_cents", "spent_cents")
            .values(SQLBind(userId), SQLBind(currency), SQLBind(0), SQLBind(0))
            .ignoringConflicts(with: ["user_id", "currency"]).run()
        try await sql.update(table)
            .set("earned_cents", to: SQLRaw("earned_cents + \(earned)")).set("spent_cents", to: SQLRaw("spent_cents + \(spent)"))
            .where("user_id", .equal, SQLBind(userId)).where("currency", .equal, SQLBind(currency)).run()
        if earned != 0 {
            try await sql.update(VAProfileRecord.table).set("earned_cents", to: SQLRaw("earned_cents + \(earned)"))
                .where("user_id", .equal, SQLBind(userId)).where("currency", .equal, SQLBind(currency)).run()
        }
        if spent != 0, currency == "USD" {
            try await sql.update(CompanyRecord.table).set("total_spent_cents", to: SQLRaw("total_spent_cents + \(spent)"))
                .where("user_id", .equal, SQLBind(userId)).run()
        }
    }
}
