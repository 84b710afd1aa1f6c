import Blytz
import BlytzData
import BlytzServices
import Foundation
import HTTPTypes
import Logging
import SQLKit

/// What became of a verified webhook.
enum WebhookOutcome: String, Codable, Sendable, CaseIterable {
    /// It moved a payment on.
    case applied
    /// Its event id was seen before: nothing was done again.
    case duplicate
    /// It would have moved a payment backwards or sideways (it came late, or says nothing new): kept, not applied.
    case ignored
    /// No payment of ours has its charge, or it is of a type payments does not act on.
    case unmatched
}

/// The answer to a provider's webhook.
struct WebhookReceipt: Codable, Sendable, Equatable, ResponseBody {
    var eventId: String
    var type: String
    var outcome: WebhookOutcome
}

/// The parts of a provider event the route's schema declares (the body is read as the provider signed it).
struct WebhookBody: Codable, Sendable, OptionalBody {
    var id: String?
    var type: String?
    var created: Int?
}

/// `POST /payments/webhooks/{provider}` (the provider; no bearer token — the signature is the proof):
/// verifies the signature (`Stripe-Signature` for `stripe` and `simulated`) and its timestamp (300 s
/// tolerance), refusing a bad or stale one with 400 and recording nothing; then, once per provider event
/// id, applies the status update to the payment whose charge it names, never moving a payment backwards
/// (an out-of-order `processing` after `succeeded` is kept as `ignored`).
struct ProviderWebhook: HTTPFunction {
    static let access = Open()

    func handle(_ request: FunctionRequest<WebhookBody>, caller _: Anyone, context: FunctionContext) async throws -> FunctionResponse<WebhookReceipt> {
        let provider = try request.parameter("provider")
        guard let name = ProviderName(rawValue: provider) else { throw HTTPError.notFound("There is no payment provider \(provider).") }
        var headers: [String: String] = [:]
        for field in request.headers { headers[field.name.canonicalName] = field.value }
        return .ok(try await Webhooks.receive(name, headers: headers, body: request.body, context: context))
    }
}

enum Webhooks {
    /// `event`, with the processor's fee read from the provider when it reports that the charge of a payment
    /// still waiting for it succeeded (after an extra step): a webhook's PaymentIntent does not carry its
    /// balance transaction. Nothing is asked for a payment already charged (the charge brought its fee) or
    /// unknown here. A fee that cannot be read stays 0, logged.
    static func withProcessorFee(_ event: ProviderEvent, from provider: any PaymentProvider, context: FunctionContext) async throws -> ProviderEvent {
        guard var update = event.update, case .succeeded = update.status, update.processorFeeCents == 0, let ref = event.providerRef else { return event }
        let waiting = try await context.database.withConnection { sql in
            try await payment(for: event, provider: provider.name, on: sql).map { [.pending, .processing, .requiresAction].contains($0.status) } ?? false
        }
        guard waiting else { return event }
        var event = event
        do {
            update.processorFeeCents = try await provider.processorFee(of: ref, context: context) ?? 0
            event.update = update
        } catch {
            context.logger.warning("processor fee unknown", metadata: ["provider.ref": "\(ref)", "error": "\(error)"])
        }
        return event
    }

    /// Verifies and applies one webhook; see `ProviderWebhook`.
    static func receive(_ name: ProviderName, headers: [String: String], body: Data, context: FunctionContext) async throws -> WebhookReceipt {
        let provider = try context.provider
        guard provider.name == name else { throw HTTPError.notFound("The \(name.rawValue) provider is not the one configured here.") }
        let verified: ProviderEvent
        do {
            verified = try provider.verifyWebhook(headers: headers, body: body, now: context.now)
        } catch let rejection as WebhookRejection {
            throw HTTPError(400, detail: rejection.detail, errors: [.init(field: WebhookSignature.header.capitalized, message: rejection.detail)])
        }
        let event = try await withProcessorFee(verified, from: provider, context: context)
        let now = context.now
        do {
            let (outcome, payouts) = try await context.database.transaction { sql -> (WebhookOutcome, [String]) in
                struct Seen: Decodable { var outcome: String }
                if try await sql.select().column("outcome").from("webhook_events").where("provider", .equal, SQLBind(name.rawValue))
                    .where("event_id", .equal, SQLBind(event.id)).first(decoding: Seen.self) != nil {
                    return (.duplicate, [])
                }
                var outcome = WebhookOutcome.unmatched
                var payouts: [String] = []
                var payment = try await payment(for: event, provider: name, on: sql)
                if var found = payment, let update = event.update {
                    if let due = try await Charging.apply(update, to: &found, context: context, on: sql) {
                        (outcome, payouts) = (.applied, due.payouts)
                    } else {
                        outcome = .ignored
                    }
                    payment = found
                }
                try await sql.insert(into: "webhook_events").columns("provider", "event_id", "type", "payment_id", "outcome", "received_at")
                    .values(SQLBind(name.rawValue), SQLBind(event.id), SQLBind(event.type), SQLBind(payment?.id), SQLBind(outcome.rawValue), SQLBind(now.iso)).run()
                return (outcome, payouts)
            }
            try await Payouts.attempt(payouts, context: context)
            return WebhookReceipt(eventId: event.id, type: event.type, outcome: outcome)
        } catch where ServiceDatabase.isUniqueViolation(error) {
            // The same event delivered twice at once: the other delivery recorded it.
            return WebhookReceipt(eventId: event.id, type: event.type, outcome: .duplicate)
        }
    }

    /// The payment an event is about, locked: by our id in the provider's metadata, else by its charge.
    static func payment(for event: ProviderEvent, provider: ProviderName, on sql: any SQLDatabase) async throws -> PaymentRecord? {
        if let id = event.paymentId, let payment = try await PaymentRecord.find(id, on: sql, forUpdate: true), payment.provider == provider { return payment }
        guard let ref = event.providerRef else { return nil }
        struct Row: Decodable { var id: String }
        guard let row = try await sql.select().column("id").from(PaymentRecord.table).where("provider", .equal, SQLBind(provider.rawValue))
            .where("provider_ref", .equal, SQLBind(ref)).first(decoding: Row.self) else { return nil }
        return try await PaymentRecord.find(row.id, on: sql, forUpdate: true)
    }
}
