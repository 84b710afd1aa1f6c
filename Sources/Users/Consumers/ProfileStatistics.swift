import Foundation
import Blytz
import BlytzData
import Logging
import SQLKit

/// `ReviewPosted` → the reviewed VA's rating: sum, count and average, once per event.
struct RecordReview: QueueFunction {
    struct Review: Codable, Sendable {
        var revieweeUserId: String
        /// 1 to 5.
        var rating: Int
    }

    func handle(_ message: EventEnvelope<Review>, metadata: QueueMessageMetadata, context: FunctionContext) async throws {
        let review = message.data
        guard (1...5).contains(review.rating) else {
            context.logger.warning("review with a rating out of range ignored", metadata: ["event.id": "\(message.id)", "rating": "\(review.rating)"])
            return
        }
        try await context.database.once(event: message.id, consumer: context.functionName) { sql in
            try await sql.update(VAProfileRecord.table)
                .set("rating_sum", to: SQLRaw("rating_sum + \(review.rating)"))
                .set("total_reviews", to: SQLRaw("total_reviews + 1"))
                .set("average_rating", to: SQLRaw("CAST(rating_sum + \(review.rating) AS DOUBLE PRECISION) / (total_reviews + 1)"))
                .where("user_id", .equal, SQLBind(review.revieweeUserId.lowercased())).run()
        }
    }
}

/// `PaymentCompleted` → the payee's earnings and the payer's spending, per currency; the profile
/// figures count payments in the VA's profile currency and, for companies, in USD. Once per event.
struct RecordPayment: QueueFunction {
    struct Payment: Codable, Sendable {
        var payerUserId: String
        var payeeUserId: String
        var amountCents: Int
        var currency: String
    }

    func handle(_ message: EventEnvelope<Payment>, metadata: QueueMessageMetadata, context: FunctionContext) async throws {
        let payment = message.data
        guard payment.amountCents > 0 else { return }
        let currency = payment.currency.uppercased()
        try await context.database.once(event: message.id, consumer: context.functionName) { sql in
            for (userId, earned, spent) in [(payment.payeeUserId.lowercased(), payment.amountCents, 0), (payment.payerUserId.lowercased(), 0, payment.amountCents)] {
                try await sql.insert(into: "user_totals").columns("user_id", "currency", "earned_cents", "spent_cents")
                    .values(SQLBind(userId), SQLBind(currency), SQLBind(0), SQLBind(0))
                    .ignoringConflicts(with: ["user_id", "currency"]).run()
                try await sql.update("user_totals")
                    .set("earned_cents", to: SQLRaw("earned_cents + \(earned)")).set("spent_cents", to: SQLRaw("spent_cents + \(spent)"))
                    .where("user_id", .equal, SQLBind(userId)).where("currency", .equal, SQLBind(currency)).run()
            }
            try await sql.update(VAProfileRecord.table).set("earned_cents", to: SQLRaw("earned_cents + \(payment.amountCents)"))
                .where("user_id", .equal, SQLBind(payment.payeeUserId.lowercased())).where("currency", .equal, SQLBind(currency)).run()
            if currency == "USD" {
                try await sql.update(CompanyRecord.table).set("total_spent_cents", to: SQLRaw("total_spent_cents + \(payment.amountCents)"))
                    .where("user_id", .equal, SQLBind(payment.payerUserId.lowercased())).run()
            }
        }
    }
}

/// `ContractCompleted` → the VA's completed jobs, once per event.
struct RecordCompletedContract: QueueFunction {
    struct Contract: Codable, Sendable {
        var vaUserId: String
    }

    func handle(_ message: EventEnvelope<Contract>, metadata: QueueMessageMetadata, context: FunctionContext) async throws {
        try await context.database.once(event: message.id, consumer: context.functionName) { sql in
            try await sql.update(VAProfileRecord.table).set("completed_jobs", to: SQLRaw("completed_jobs + 1"))
                .where("user_id", .equal, SQLBind(message.data.vaUserId.lowercased())).run()
        }
    }
}
