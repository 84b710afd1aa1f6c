import Blytz
import BlytzData
import BlytzEvents
import BlytzServices
import Foundation
import Logging
import SQLKit

/// `payments import --from postgres://…`: the monolith's payments (with their refunds) entered into the
/// ledger as balanced transactions, its copy of contracts, and its reviews. Amounts that look 100× too
/// large against their milestone or contract are flagged, never changed. The README's table ("Moving the
/// data") is the mapping.
enum Import {
    static let command = LegacyImport.command(service: "payments") { session in
        try await contracts(session)
        try await payments(session)
        try await reviews(session)
    }

    static let time = LegacyImport.time

    // MARK: contracts

    struct ContractRow: Decodable, Sendable {
        var legacyId: String
        var companyLegacyUserId: String?
        var vaLegacyUserId: String?
        var title: String?
        var status: String
        var updatedAt: String
    }

    static func contracts(_ session: LegacyImport.Session) async throws {
        try await session.copy("contracts", into: "contracts", columns: [
            Monolith.companyOwner, Monolith.vaOwner, #"(SELECT j.title FROM {schema}.job_postings j WHERE j.id = t."jobPostingId") AS title"#, "t.status AS status",
            "\(time("updatedAt")) AS updated_at",
        ], as: ContractRow.self) { rows, sql, _ in
            var copies: [ContractCopy] = []
            let outcomes = rows.map { row -> LegacyImport.Outcome in
                guard let company = row.companyLegacyUserId, let va = row.vaLegacyUserId else { return .skipped("orphan: a party's profile is gone") }
                let state: ContractState
                switch row.status {
                case "active", "paused": state = .active
                case "completed", "paid": state = .completed
                case "cancelled": state = .cancelled
                default: return .skipped("unknown status '\(row.status)'")
                }
                copies.append(ContractCopy(
                    id: LegacyImport.id("contracts", row.legacyId), companyUserId: Monolith.userId(company), vaUserId: Monolith.userId(va), title: row.title,
                    status: state, updatedAt: row.updatedAt
                ))
                return .written
            }
            try await LegacyImport.upsert(copies, in: ContractCopy.table, on: sql)
            return outcomes
        }
    }

    // MARK: payments

    struct PaymentRow: Decodable, Sendable {
        var legacyId: String
        var contractLegacyId: String?
        var milestoneLegacyId: String?
        var milestoneExists: Bool
        var milestoneStatus: String?
        var matchLegacyId: String?
        var payerLegacyId: String
        var payeeLegacyId: String
        var intent: String
        var amount: Int
        var status: String
        var stripeFee: Int?
        var platformFee: Int?
        var method: String
        var type: String
        var refundAmount: Int?
        var refundReason: String?
        var disputeReason: String?
        var refundedAt: String?
        var processedAt: String?
        var createdAt: String
        var updatedAt: String
        /// What the milestone, else the contract (fixed price), is worth in cents: what a payment of it should be near.
        var expectedCents: Int?
    }

    static func payments(_ session: LegacyImport.Session) async throws {
        try await session.copy("payments", into: "payments", columns: [
            "t.\"contractId\" AS contract_legacy_id", "t.\"milestoneId\" AS milestone_legacy_id",
            #"EXISTS (SELECT 1 FROM {schema}.milestones m WHERE m.id = t."milestoneId") AS milestone_exists"#,
            #"(SELECT m.status FROM {schema}.milestones m WHERE m.id = t."milestoneId") AS milestone_status"#,
            "t.\"matchId\" AS match_legacy_id", "t.\"userId\" AS payer_legacy_id", "t.\"receiverId\" AS payee_legacy_id", "t.\"stripePaymentIntentId\" AS intent",
            "t.amount AS amount", "t.status AS status", "t.\"stripeFee\" AS stripe_fee", "t.\"platformFee\" AS platform_fee", "t.method AS method", "t.type AS type",
            "t.\"refundAmount\" AS refund_amount", "t.metadata ->> 'refundReason' AS refund_reason", "t.metadata ->> 'disputeReason' AS dispute_reason",
            "\(time("refundedAt")) AS refunded_at", "\(time("processedAt")) AS processed_at", "\(time("createdAt")) AS created_at", "\(time("updatedAt")) AS updated_at",
            #"coalesce((SELECT round(m.amount::numeric * 100)::bigint FROM {schema}.milestones m WHERE m.id = t."milestoneId"), (SELECT round(c.amount::numeric * 100)::bigint FROM {schema}.contracts c WHERE c.id = t."contractId" AND c."contractType" = 'fixed')) AS expected_cents"#,
        ], batch: 5000, as: PaymentRow.self) { rows, sql, report in
            // Each payment's row is written with the batch's; its ledger history keeps the payment's own time.
            var records: [PaymentRecord] = []
            var histories: [(PaymentRecord, held: Bool, row: PaymentRow)] = []
            let outcomes = rows.map { row -> LegacyImport.Outcome in
                guard row.type == "payment" else { return .skipped("a '\(row.type)' row (its payment carries it)") }
                let refunded = max(0, row.refundAmount ?? 0)
                let status: PaymentStatus
                var failure: String?
                switch row.status {
                case "succeeded": status = refunded == 0 ? .succeeded : refunded >= row.amount ? .refunded : .partiallyRefunded
                case "refunded": status = refunded > 0 && refunded < row.amount ? .partiallyRefunded : .refunded
                case "failed": status = .failed
                case "pending", "processing":
                    // Confirmation in the monolith always succeeded at once: one never confirmed was abandoned.
                    status = .failed
                    failure = "never confirmed in the monolith"
                default: return .skipped("unknown status '\(row.status)'")
                }
                if status.rawValue != row.status { report.map("status '\(row.status)' → \(status.rawValue)") }
                // Some amounts were multiplied by 100 twice (MONOLITH.md): flagged for a person to decide, kept as they are.
                if let expected = row.expectedCents, expected > 0, row.amount == expected * 100 { report.flag("amount 100× its milestone's or contract's (\(row.legacyId))") }
                if row.milestoneLegacyId != nil && !row.milestoneExists { report.flag("names a deleted milestone") }
                if row.matchLegacyId != nil && row.contractLegacyId == nil { report.flag("a match-unlock payment, kept without a contract") }
                if row.disputeReason != nil { report.flag("a dispute reason in its metadata (disputes were only logged)") }
                let id = LegacyImport.id("payments", row.legacyId)
                let succeeded = status == .succeeded || status == .partiallyRefunded || status == .refunded
                // Escrow still held: a payment for a milestone not yet approved; everything else was paid out.
                let held = succeeded && row.milestoneExists && row.milestoneStatus != "approved"
                let payment = PaymentRecord(
                    id: id, payerUserId: Monolith.userId(row.payerLegacyId), payeeUserId: Monolith.userId(row.payeeLegacyId),
                    contractId: row.contractLegacyId.map { LegacyImport.id("contracts", $0) },
                    milestoneId: row.milestoneExists ? row.milestoneLegacyId.map { LegacyImport.id("milestones", $0) } : nil, invoiceId: nil,
                    description: row.matchLegacyId != nil && row.contractLegacyId == nil ? "Match unlock (\(row.matchLegacyId!))" : nil,
                    amountCents: row.amount, currency: "USD", escrow: row.milestoneExists, platformFeeCents: succeeded && !held ? row.platformFee ?? 0 : 0,
                    processorFeeCents: succeeded ? row.stripeFee ?? 0 : 0, refundedCents: succeeded ? min(refunded, row.amount) : 0,
                    releasedCents: succeeded && !held ? row.amount : 0, status: status, provider: .stripe, providerRef: row.intent, paymentMethod: row.method,
                    nextAction: nil, clientSecret: nil, failureReason: failure, releasedAt: succeeded && !held ? row.processedAt ?? row.createdAt : nil,
                    createdAt: row.createdAt, updatedAt: row.updatedAt
                )
                report.money(read: Double(row.amount), written: row.amount, rounded: false)
                records.append(payment)
                if succeeded { histories.append((payment, held, row)) }
                return .written
            }
            try await LegacyImport.upsert(records, in: PaymentRecord.table, on: sql)
            let made = histories.map { history($0.0, held: $0.held, reason: $0.row.refundReason, at: $0.row) }
            try await LegacyImport.upsert(made.compactMap(\.refund), in: RefundRecord.table, on: sql)
            try await Ledger.post(made.flatMap(\.postings), now: Date(), on: sql)
            return outcomes
        }
    }

    /// The payment's history as ledger transactions (each posted once per key, so a re-run posts nothing
    /// twice), at the payment's own times: the charge into escrow and the processor's fee; unless still held,
    /// the release to the payee less the platform's fee; and its refund, if any, back to the payer, from
    /// escrow or from the payee's earnings and the platform's fee in proportion.
    static func history(_ payment: PaymentRecord, held: Bool, reason: String?, at row: PaymentRow) -> (postings: [Ledger.Posting], refund: RefundRecord?) {
        let time = Date(iso: row.processedAt ?? row.createdAt) ?? Date()
        var postings = [
            Ledger.Posting(kind: .charge, key: "charge:\(payment.id)", currency: payment.currency, subject: payment.subject, entries: [
                (.payer(payment.payerUserId), -payment.amountCents), (.escrow, payment.amountCents),
            ], time: time),
            Ledger.Posting(kind: .processorFee, key: "processor_fee:\(payment.id)", currency: payment.currency, subject: payment.subject, entries: [
                (.platformFees, -payment.processorFeeCents), (.processorFees, payment.processorFeeCents),
            ], time: time),
        ]
        if !held {
            postings.append(Ledger.Posting(kind: .release, key: "release:\(payment.id)", currency: payment.currency, subject: payment.subject, entries: [
                (.escrow, -payment.amountCents), (.payable(payment.payeeUserId), payment.amountCents - payment.platformFeeCents), (.platformFees, payment.platformFeeCents),
            ], time: time))
        }
        let refunded = payment.refundedCents
        guard refunded > 0 else { return (postings, nil) }
        let refund = RefundRecord(
            id: LegacyImport.id("refunds", row.legacyId), paymentId: payment.id, requestedBy: payment.payerUserId, amountCents: refunded, currency: payment.currency,
            reason: reason, status: .succeeded, providerRef: nil, failureReason: nil, createdAt: row.refundedAt ?? row.updatedAt, updatedAt: row.refundedAt ?? row.updatedAt
        )
        var subject = payment.subject
        subject.refundId = refund.id
        let entries: [(LedgerAccount, Int)]
        if held {
            entries = [(.escrow, -refunded), (.payer(payment.payerUserId), refunded)]
        } else {
            let feeBack = Fee.proportion(of: payment.platformFeeCents, gross: payment.amountCents, part: refunded)
            entries = [(.payable(payment.payeeUserId), -(refunded - feeBack)), (.platformFees, -feeBack), (.payer(payment.payerUserId), refunded)]
        }
        postings.append(Ledger.Posting(kind: .refund, key: "refund:\(refund.id)", currency: payment.currency, subject: subject, entries: entries, time: Date(iso: refund.createdAt) ?? time))
        return (postings, refund)
    }

    // MARK: reviews

    struct ReviewRow: Decodable, Sendable {
        var legacyId: String
        var reviewerLegacyId: String
        var targetLegacyUserId: String?
        var contractLegacyId: String?
        var rating: Int
        var comment: String?
        var categories: String?
        var createdAt: String
    }

    static func reviews(_ session: LegacyImport.Session) async throws {
        // The target is a profile id, of whichever profile table holds it (the VA's unless it says company).
        let target = #"coalesce(CASE WHEN t."targetType" = 'company' THEN (SELECT c."userId" FROM {schema}.companies c WHERE c.id = t."targetId") END, (SELECT v."userId" FROM {schema}.va_profiles v WHERE v.id = t."targetId"), (SELECT c."userId" FROM {schema}.companies c WHERE c.id = t."targetId"))"#
        try await session.copy("reviews", into: "reviews", columns: [
            "t.\"reviewerId\" AS reviewer_legacy_id", "\(target) AS target_legacy_user_id",
            // Reviews name no contract: the latest between the two people, if there is one.
            """
            (SELECT c.id FROM {schema}.contracts c JOIN {schema}.va_profiles v ON v.id = c."vaProfileId" JOIN {schema}.companies k ON k.id = c."companyId"
             WHERE (v."userId" = t."reviewerId" AND k."userId" = \(target)) OR (k."userId" = t."reviewerId" AND v."userId" = \(target))
             ORDER BY c."createdAt" DESC, c.id LIMIT 1) AS contract_legacy_id
            """,
            "t.rating AS rating", "t.comment AS comment", "\(LegacyImport.json("categories")) AS categories", "\(time("createdAt")) AS created_at",
        ], as: ReviewRow.self) { row, sql, report in
            guard let targetUser = row.targetLegacyUserId else { return .skipped("orphan: its target profile is gone") }
            guard (1...5).contains(row.rating) else { return .skipped("rating \(row.rating) outside 1–5") }
            let contractId: String
            if let contract = row.contractLegacyId {
                contractId = LegacyImport.id("contracts", contract)
            } else {
                contractId = LegacyImport.id("review-contract", row.legacyId)
                report.flag("no contract between reviewer and target: a placeholder contract id")
            }
            let id = LegacyImport.id("reviews", row.legacyId)
            let categories = row.categories.flatMap { try? JSONDecoder().decode(ReviewCategories.self, from: Data($0.utf8)) } ?? ReviewCategories()
            let review = ReviewRecord(
                id: id, contractId: contractId, reviewerUserId: Monolith.userId(row.reviewerLegacyId), targetUserId: Monolith.userId(targetUser),
                rating: row.rating, categories: categories, comment: row.comment, createdAt: row.createdAt
            )
            try await sql.delete(from: ReviewRecord.table).where("id", .equal, SQLBind(id)).run()
            let taken = try await sql.select().column("id").from(ReviewRecord.table).where("contract_id", .equal, SQLBind(contractId))
                .where("reviewer_user_id", .equal, SQLBind(review.reviewerUserId)).first()
            guard taken == nil else { return .skipped("a second review of one contract by one reviewer") }
            try await review.insert(on: sql)
            return .written
        }
    }
}
