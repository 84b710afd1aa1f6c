import AsyncHTTPClient
import Blytz
import BlytzEvents
import Foundation
import NIOCore
import NIOHTTP1

/// Stripe's HTTP API as Stripe documents it: form-encoded requests with the secret key as a bearer token,
/// an `Idempotency-Key` on every unsafe request, PaymentIntents confirmed at creation (`confirm=true`)
/// carrying our payment's id in `metadata[payment_id]`, refunds of a PaymentIntent, and transfers to a
/// connected account (`acct_…`) that a VA registers as their payout account. A PaymentIntent comes back
/// with `latest_charge.balance_transaction` expanded, whose `fee` is Stripe's processing fee, posted to
/// the ledger with the charge. `STRIPE_API_BASE` points it at Stripe (`https://api.stripe.com`) or at a
/// compatible server.
struct StripeProvider: PaymentProvider {
    var name: ProviderName { .stripe }
    var baseURL: String
    var secretKey: String
    var webhookSecrets: [String]
    var http: HTTPClient
    var timeout: TimeAmount = .seconds(10)

    struct Failure: Decodable {
        struct Detail: Decodable {
            var type: String?
            var code: String?
            var message: String?
            var paymentIntent: StripeIntent?
            enum CodingKeys: String, CodingKey { case type, code, message, paymentIntent = "payment_intent" }
        }
        var error: Detail
    }

    struct Created: Decodable { var id: String; var status: String? }

    /// What a PaymentIntent is asked to come with: its charge's balance transaction, which holds the fee.
    static let feeExpansion = "latest_charge.balance_transaction"

    func charge(_ request: ChargeRequest, context: FunctionContext) async throws -> ChargeUpdate {
        var form = [
            ("amount", String(request.amountCents)), ("currency", request.currency.lowercased()), ("payment_method", request.paymentMethod),
            ("confirm", "true"), ("metadata[payment_id]", request.paymentId), ("expand[]", Self.feeExpansion),
        ]
        if let description = request.description { form.append(("description", description)) }
        let (status, body) = try await send(.POST, "/v1/payment_intents", form: form, idempotencyKey: request.idempotencyKey)
        if status == 402 || status == 400, let failure = try? JSON.decoder().decode(Failure.self, from: body) {
            // A decline (card_error) or a payment method Stripe will not charge: failed for good.
            return ChargeUpdate(status: .failed(failure.error.message ?? "The payment was declined."), providerRef: failure.error.paymentIntent?.id)
        }
        let intent = try decode(StripeIntent.self, status: status, body: body)
        return intent.update ?? ChargeUpdate(status: .processing, providerRef: intent.id)
    }

    func confirm(_ providerRef: String, context: FunctionContext) async throws -> ChargeUpdate {
        let intent = try await retrieve(providerRef)
        return intent.update ?? ChargeUpdate(status: .processing, providerRef: intent.id)
    }

    /// The intent as it stands, with its charge's balance transaction (and so the fee).
    func retrieve(_ providerRef: String) async throws -> StripeIntent {
        let (status, body) = try await send(.GET, "/v1/payment_intents/\(providerRef)?" + Self.encode([("expand[]", Self.feeExpansion)]), form: [], idempotencyKey: nil)
        return try decode(StripeIntent.self, status: status, body: body)
    }

    func refund(_ providerRef: String, amountCents: Int, currency: String, idempotencyKey: String, context: FunctionContext) async throws -> String {
        let (status, body) = try await send(.POST, "/v1/refunds", form: [("payment_intent", providerRef), ("amount", String(amountCents))], idempotencyKey: idempotencyKey)
        return try decode(Created.self, status: status, body: body).id
    }

    func transfer(to account: String, amountCents: Int, currency: String, idempotencyKey: String, context: FunctionContext) async throws -> String {
        let form = [("amount", String(amountCents)), ("currency", currency.lowercased()), ("destination", account), ("metadata[transfer_key]", idempotencyKey)]
        let (status, body) = try await send(.POST, "/v1/transfers", form: form, idempotencyKey: idempotencyKey)
        return try decode(Created.self, status: status, body: body).id
    }

    func verifyWebhook(headers: [String: String], body: Data, now: Date) throws(WebhookRejection) -> ProviderEvent {
        try WebhookSignature(secrets: webhookSecrets).verify(headers[WebhookSignature.header], body: body, now: now)
        return try StripeIntent.event(body)
    }

    func processorFee(of providerRef: String, context: FunctionContext) async throws -> Int? {
        let intent = try await retrieve(providerRef)
        return intent.status == "succeeded" ? intent.processorFeeCents : nil
    }

    func isPayoutAccount(_ account: String) -> Bool {
        account.hasPrefix("acct_") && (6...64).contains(account.count) && account.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }
    }

    /// A 2xx body decoded; a 4xx is the provider's refusal (not retried), anything else unavailability.
    func decode<T: Decodable>(_ type: T.Type, status: Int, body: Data) throws -> T {
        switch status {
        case 200..<300:
            guard let value = try? JSON.decoder().decode(T.self, from: body) else { throw ProviderUnavailable(reason: "Stripe answered a body that could not be read") }
            return value
        case 400, 402, 404:
            let message = (try? JSON.decoder().decode(Failure.self, from: body))?.error.message
            throw ProviderRefusal(reason: message ?? "Stripe refused the request (\(status)).")
        default:
            throw ProviderUnavailable(reason: "Stripe answered \(status)")
        }
    }

    /// One request; a lost connection or timeout is `ProviderUnavailable`.
    func send(_ method: HTTPMethod, _ path: String, form: [(String, String)], idempotencyKey: String?) async throws -> (Int, Data) {
        var request = HTTPClientRequest(url: baseURL + path)
        request.method = method
        request.headers.add(name: "Authorization", value: "Bearer \(secretKey)")
        request.headers.add(name: "Stripe-Version", value: "2024-06-20")
        if let idempotencyKey { request.headers.add(name: "Idempotency-Key", value: idempotencyKey) }
        if method == .POST {
            request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
            request.body = .bytes(ByteBuffer(string: Self.encode(form)))
        }
        do {
            let response = try await http.execute(request, timeout: timeout)
            let body = try await response.body.collect(upTo: 1 << 20)
            return (Int(response.status.code), Data(body.readableBytesView))
        } catch {
            throw ProviderUnavailable(reason: "Stripe could not be reached: \(error)")
        }
    }

    /// `application/x-www-form-urlencoded`, as Stripe reads it (brackets for nested keys, kept in order).
    static func encode(_ form: [(String, String)]) -> String {
        var allowed = CharacterSet.alphanumerics.intersection(CharacterSet(charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"))
        allowed.insert(charactersIn: "-._~")
        func escape(_ text: String) -> String { text.addingPercentEncoding(withAllowedCharacters: allowed) ?? text }
        return form.map { "\(escape($0.0))=\(escape($0.1))" }.joined(separator: "&")
    }
}
