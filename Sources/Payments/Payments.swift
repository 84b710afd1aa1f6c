import AsyncHTTPClient
import Blytz
import BlytzData
import BlytzEvents
import BlytzServices
import Foundation
import Logging
import SQLKit

/// The payments service: charges through the configured provider, escrow on a double-entry ledger,
/// releases, refunds, payouts, provider webhooks, reviews and disputes. Each function's name is its `functions.yaml` key.
public enum Payments: BlytzService {
    public static let name = ServiceName.payments

    public static let functions: [String: any FunctionHandler] = [
        "payments-create": CreatePayment(),
        "payments-list": ListPayments(),
        "payments-get": GetPayment(),
        "payments-confirm": ConfirmPayment(),
        "payments-release": ReleasePayment(),
        "payments-summary": PaymentsSummary(),
        "payments-webhooks": ProviderWebhook(),
        "payments-reconcile": ReconcilePayments(),

        "payments-refunds-create": CreateRefund(),
        "payments-refunds-list": ListRefunds(),
        "payments-refunds-get": GetRefund(),

        "payments-reviews-create": PostReview(),
        "payments-reviews-list": ListReviews(),
        "payments-reviews-get": GetReview(),

        "payments-disputes-create": OpenDispute(),
        "payments-disputes-list": ListDisputes(),
        "payments-disputes-get": GetDispute(),
        "payments-disputes-evidence": AddEvidence(),
        "payments-disputes-review": ReviewDispute(),
        "payments-disputes-resolve": ResolveDispute(),

        "payments-payout-account-get": GetPayoutAccount(),
        "payments-payout-account-set": SetPayoutAccount(),

        "payments-on-users": UserEvents(),
        "payments-on-contracts": ContractEvents(),
        "payments-on-account-status": AccountStatusConsumer(),
    ]

    /// `blytz payments seed` (run by `blytz seed`): demo reviews and a dispute.
    public static var commands: [ServiceCommand] { Commands.all }

    /// The versioned schema of `payments_db`, applied in order.
    public static let migrations: [Migration] = Schema.migrations

    /// The kit's parts, and the configured provider (`PAYMENTS_PROVIDER`; see `Settings`).
    public static func setup(_ configuration: Configuration, _ logger: Logger, _ dependencies: inout Dependencies) async throws {
        try await ServiceParts.setup(configuration, logger, &dependencies)
        let settings = Settings(configuration)
        switch settings.provider {
        case .simulated:
            dependencies[PaymentProviderKey.self] = SimulatedProvider(webhookSecret: settings.simulatedWebhookSecret)
        case .stripe:
            guard let key = settings.stripeKey, !key.isEmpty else { throw ConfigurationMissing(setting: "STRIPE_SECRET_KEY") }
            let http = HTTPClient(eventLoopGroupProvider: .singleton)
            dependencies.onShutdown { try? await http.shutdown() }
            dependencies[PaymentProviderKey.self] = StripeProvider(baseURL: settings.stripeBase, secretKey: key, webhookSecrets: settings.stripeWebhookSecrets, http: http)
        }
    }
}

/// `payments-reconcile` (every 30 s): charges the provider could not be reached for, refunds and payouts
/// left unfinished, with their own idempotency keys; and the simulated provider's due webhooks. What fails
/// every attempt is listed by `blytz payments stuck`.
struct ReconcilePayments: ScheduleFunction {
    func handle(_ event: ScheduledEvent, context: FunctionContext) async throws {
        let database = try context.database
        let now = context.now
        let charged = try await Reconciler.sweep(kind: Charging.kind, as: Charging.Job.self, in: database, now: now, logger: context.logger) { intent in
            try await Charging.charge(intent.payload.paymentId, context: context)
        }
        let refunded = try await Reconciler.sweep(kind: Refunds.kind, as: Refunds.Job.self, in: database, now: now, logger: context.logger) { intent in
            try await Refunds.send(intent.payload.refundId, context: context)
        }
        let paid = try await Reconciler.sweep(kind: Payouts.kind, as: Payouts.Job.self, in: database, now: now, logger: context.logger) { intent in
            try await Payouts.send(intent.payload.transferId, context: context)
        }
        for (kind, sweep) in [("charges", charged), ("refunds", refunded), ("payouts", paid)] where sweep != .init() {
            context.logger.info("payments reconciled", metadata: ["kind": "\(kind)", "done": "\(sweep.done)", "retried": "\(sweep.retried)", "stuck": "\(sweep.stuck)"])
        }
        if let simulated = try context.provider as? SimulatedProvider {
            let delivered = try await simulated.deliverDue(context: context)
            if delivered > 0 { context.logger.info("simulated webhooks delivered", metadata: ["count": "\(delivered)"]) }
        }
    }
}

/// `UserDeleted`: a deleted user's payments, refunds and ledger entries are kept (they are financial
/// records, and name people only by opaque ids); their payout account, the one thing of theirs held here,
/// is removed, and what is payable to them stays on the ledger. Idempotent (the kit's inbox).
struct UserEvents: EventConsumer {
    func handle(_ event: EventEnvelope<UserDeleted>, context: FunctionContext) async throws {
        try await context.database.once(event: event.id, consumer: context.functionName) { sql in
            try await sql.delete(from: PayoutAccount.table).where("user_id", .equal, SQLBind(event.data.userId)).run()
        }
    }
}
