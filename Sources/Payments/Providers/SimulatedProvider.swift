import Blytz
import BlytzData
import BlytzEvents
import Crypto
import Foundation
import SQLKit

/// The default provider, so a laptop needs no account: deterministic, keeping its own book in
/// `payments_db` (`simulated_intents`), and sending the same asynchronous status updates a real provider
/// does — Stripe-shaped `payment_intent.*` events, signed as Stripe signs them, delivered to
/// `POST /payments/webhooks/simulated` by the `payments-reconcile` schedule a few seconds later.
///
/// Test payment methods:
/// - `pm_card_visa` (or `pm_card_mastercard`): succeeds at once;
/// - `pm_card_declined`: declined;
/// - `pm_card_3ds`: `requires_action` (`confirm_payment`); `POST /payments/{id}/confirm` completes it;
/// - `pm_card_network_error`: the first attempt fails as a lost connection would (nothing is charged), the
///   retry with the same idempotency key succeeds;
/// - `pm_bank_debit`: `processing`; it settles (succeeds) by webhook five seconds later.
///
/// Anything else is declined as an unknown test method. The processor's fee is 2.9% (+ 30 minor units
/// in two-decimal currencies).
struct SimulatedProvider: PaymentProvider {
    static let methods = ["pm_card_visa", "pm_card_mastercard", "pm_card_declined", "pm_card_3ds", "pm_card_network_error", "pm_bank_debit"]
    static let defaultWebhookSecret = "whsec_simulated_local"
    static let settleDelay: Duration = .seconds(5)

    var name: ProviderName { .simulated }
    var webhookSecret: String

    struct Intent: Codable, Sendable {
        var id: String
        var idempotencyKey: String
        var amountCents: Int
        var currency: String
        var paymentMethod: String
        var status: String
        var attempts: Int
        var refundedCents: Int
        var createdAt: String
        static let table = "simulated_intents"
    }

    func charge(_ request: ChargeRequest, context: FunctionContext) async throws -> ChargeUpdate {
        let now = context.now
        let intent = try await context.database.transaction { sql -> Intent in
            if var kept = try await sql.select().column("*").from(Intent.table).where("idempotency_key", .equal, SQLBind(request.idempotencyKey))
                .first(decoding: Intent.self, keyDecodingStrategy: .snakeCase) {
                if kept.status == "unreachable" {
                    kept.status = "succeeded"
                    kept.attempts += 1
                    try await Self.save(kept, on: sql)
                    try await Self.send(kept, now: now, on: sql)
                }
                return kept
            }
            let status = switch request.paymentMethod {
            case "pm_card_visa", "pm_card_mastercard": "succeeded"
            case "pm_card_3ds": "requires_action"
            case "pm_card_network_error": "unreachable"
            case "pm_bank_debit": "processing"
            default: "requires_payment_method"
            }
            let intent = Intent(
                id: "spi_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: ""), idempotencyKey: request.idempotencyKey,
                amountCents: request.amountCents, currency: request.currency, paymentMethod: request.paymentMethod, status: status, attempts: 1,
                refundedCents: 0, createdAt: now.iso
            )
            try await sql.insert(into: Intent.table).model(intent, keyEncodingStrategy: .snakeCase).run()
            try await Self.send(intent, now: now, on: sql)
            return intent
        }
        guard intent.status != "unreachable" else { throw ProviderUnavailable(reason: "the simulated network dropped the connection") }
        return update(intent)
    }

    func confirm(_ providerRef: String, context: FunctionContext) async throws -> ChargeUpdate {
        let now = context.now
        return try await context.database.transaction { sql in
            guard var intent = try await Self.find(providerRef, on: sql) else { throw ProviderRefusal(reason: "There is no simulated charge \(providerRef).") }
            if intent.status == "requires_action" {
                intent.status = "succeeded"
                try await Self.save(intent, on: sql)
                try await Self.send(intent, now: now, on: sql)
            }
            return update(intent)
        }
    }

    func refund(_ providerRef: String, amountCents: Int, currency: String, idempotencyKey: String, context: FunctionContext) async throws -> String {
        let id = Self.derivedId("sre_", idempotencyKey)
        try await context.database.transaction { sql in
            struct Done: Decodable { var id: String }
            let keyed = "refund:" + idempotencyKey
            if try await sql.select().column("id").from(Intent.table).where("idempotency_key", .equal, SQLBind(keyed)).first(decoding: Done.self) != nil { return }
            guard var intent = try await Self.find(providerRef, on: sql), intent.status == "succeeded" else { throw ProviderRefusal(reason: "The charge cannot be refunded.") }
            guard intent.refundedCents + amountCents <= intent.amountCents else { throw ProviderRefusal(reason: "The refund exceeds what is left of the charge.") }
            intent.refundedCents += amountCents
            try await Self.save(intent, on: sql)
            // The refund's own row keeps the key, so a repeat refunds nothing more.
            let record = Intent(id: id, idempotencyKey: keyed, amountCents: amountCents, currency: currency, paymentMethod: "refund", status: "succeeded",
                                attempts: 1, refundedCents: 0, createdAt: context.now.iso)
            try await sql.insert(into: Intent.table).model(record, keyEncodingStrategy: .snakeCase).run()
        }
        return id
    }

    func transfer(to account: String, amountCents: Int, currency: String, idempotencyKey: String, context: FunctionContext) async throws -> String {
        guard isPayoutAccount(account) else { throw ProviderRefusal(reason: "\(account) is not a payout account.") }
        return Self.derivedId("str_", idempotencyKey)
    }

    func verifyWebhook(headers: [String: String], body: Data, now: Date) throws(WebhookRejection) -> ProviderEvent {
        try WebhookSignature(secrets: [webhookSecret]).verify(headers[WebhookSignature.header], body: body, now: now)
        return try StripeIntent.event(body)
    }

    func processorFee(of providerRef: String, context: FunctionContext) async throws -> Int? {
        guard let intent = try await context.database.withConnection({ sql in try await Self.find(providerRef, on: sql) }), intent.status == "succeeded" else { return nil }
        return update(intent).processorFeeCents
    }

    func isPayoutAccount(_ account: String) -> Bool {
        account.hasPrefix("acct_") && (6...64).contains(account.count) && account.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }
    }

    func update(_ intent: Intent) -> ChargeUpdate {
        let digits = Currency.minorDigits(intent.currency) ?? 2
        let fee = intent.status == "succeeded" ? Fee.share(intent.amountCents, basisPoints: 290) + (digits == 2 ? 30 : 0) : 0
        let status: ChargeUpdate.Status = switch intent.status {
        case "succeeded": .succeeded
        case "requires_action": .requiresAction(.confirmPayment, clientSecret: nil)
        case "processing", "settling": .processing
        default: .failed(Self.methods.contains(intent.paymentMethod) ? "Your card was declined." : "\(intent.paymentMethod) is not a test payment method of the simulated provider.")
        }
        return ChargeUpdate(status: status, providerRef: intent.id, processorFeeCents: min(fee, intent.amountCents))
    }

    /// Queues the webhook a real provider would send about `intent`, for the schedule to deliver (a
    /// processing debit's settlement only after `settleDelay`).
    static func send(_ intent: Intent, now: Date, on sql: any SQLDatabase) async throws {
        let type: String
        var status = intent.status
        var delay: Duration = .seconds(1)
        switch intent.status {
        case "succeeded": type = "payment_intent.succeeded"
        case "requires_action": type = "payment_intent.requires_action"
        case "processing":
            // The debit settles later: the update it sends then says succeeded.
            (type, status, delay) = ("payment_intent.succeeded", "succeeded", settleDelay)
            try await sql.update(Intent.table).set("status", to: SQLBind("settling")).where("id", .equal, SQLBind(intent.id)).run()
        case "requires_payment_method": type = "payment_intent.payment_failed"
        default: return
        }
        let failure = status == "requires_payment_method" ? StripeIntent.Failure(message: "Your card was declined.", code: "card_declined") : nil
        let event = StripeEvent(
            id: "sevt_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: ""), type: type, created: Int(now.timeIntervalSince1970),
            data: .init(object: StripeIntent(id: intent.id, object: "payment_intent", status: status, clientSecret: nil, lastPaymentError: failure, metadata: nil))
        )
        try await sql.insert(into: "simulated_webhooks").columns("id", "body", "deliver_at")
            .values(SQLBind(event.id), SQLBind(jsonText(event)), SQLBind(now.adding(delay).iso)).run()
    }

    /// Delivers the due webhooks through the webhook route's own verification and handling; answers how many.
    func deliverDue(context: FunctionContext) async throws -> Int {
        struct Due: Decodable { var id: String; var body: String }
        let now = context.now
        let due = try await context.database.withConnection { sql in
            try await sql.select().columns("id", "body").from("simulated_webhooks").where("delivered_at", .is, SQLLiteral.null)
                .where("deliver_at", .lessThanOrEqual, SQLBind(now.iso)).orderBy("deliver_at").limit(100).all(decoding: Due.self)
        }
        for webhook in due {
            let body = Data(webhook.body.utf8)
            let headers = [WebhookSignature.header: WebhookSignature.sign(body, secret: webhookSecret, timestamp: Int(now.timeIntervalSince1970))]
            // A settling debit's intent is final once its update is sent.
            if let event = try? JSON.decoder().decode(StripeEvent.self, from: body), event.data.object.status == "succeeded" {
                try await context.database.transaction { sql in
                    try await sql.update(Intent.table).set("status", to: SQLBind("succeeded")).where("id", .equal, SQLBind(event.data.object.id))
                        .where("status", .equal, SQLBind("settling")).run()
                }
            }
            _ = try await Webhooks.receive(.simulated, headers: headers, body: body, context: context)
            try await context.database.transaction { sql in
                try await sql.update("simulated_webhooks").set("delivered_at", to: SQLBind(now.iso)).where("id", .equal, SQLBind(webhook.id)).run()
            }
        }
        return due.count
    }

    static func find(_ id: String, on sql: any SQLDatabase) async throws -> Intent? {
        try await sql.select().column("*").from(Intent.table).where("id", .equal, SQLBind(id)).first(decoding: Intent.self, keyDecodingStrategy: .snakeCase)
    }

    static func save(_ intent: Intent, on sql: any SQLDatabase) async throws {
        try await sql.update(Intent.table).set(model: intent, keyEncodingStrategy: .snakeCase).where("id", .equal, SQLBind(intent.id)).run()
    }

    /// An id that is the same for the same idempotency key.
    static func derivedId(_ prefix: String, _ key: String) -> String {
        prefix + SHA256.hash(data: Data(key.utf8)).prefix(12).map { String(format: "%02x", $0) }.joined()
    }
}
