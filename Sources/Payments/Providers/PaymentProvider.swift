import Blytz
import BlytzEvents
import Foundation

/// The payment providers a deployment may configure (`PAYMENTS_PROVIDER`).
enum ProviderName: String, Codable, Sendable, CaseIterable {
    case simulated, stripe
}

/// A charge to make: `amountCents` of `currency` from `paymentMethod`, at most once per `idempotencyKey`.
struct ChargeRequest: Sendable {
    var paymentId: String
    var amountCents: Int
    var currency: String
    var paymentMethod: String
    var description: String?
    var idempotencyKey: String
}

/// What the provider says about a charge, now or later (a webhook).
struct ChargeUpdate: Sendable, Equatable {
    enum Status: Sendable, Equatable {
        case requiresAction(PaymentNextAction, clientSecret: String?)
        case processing
        case succeeded
        case failed(String)
    }

    var status: Status
    /// The provider's id of the charge (a PaymentIntent's `pi_…`).
    var providerRef: String?
    /// What the processor kept of the charge, when it says.
    var processorFeeCents: Int = 0

    var change: PaymentStatus.Change {
        switch status {
        case .requiresAction: .requireAction
        case .processing: .process
        case .succeeded: .succeed
        case .failed: .fail
        }
    }
}

/// A provider refused a request for good (a decline, an invalid account): not retried.
struct ProviderRefusal: Error, CustomStringConvertible {
    var reason: String
    var description: String { reason }
}

/// The provider could not be reached or failed on its side: the same request is tried again later with the
/// same idempotency key.
struct ProviderUnavailable: Error, CustomStringConvertible {
    var reason: String
    var description: String { reason }
}

/// A verified webhook: the provider's event id, its type, and the charge it updates.
struct ProviderEvent: Sendable, Equatable {
    var id: String
    var type: String
    /// Our payment's id, when the provider carries it back (Stripe's `metadata[payment_id]`).
    var paymentId: String?
    /// The provider's id of the charge it is about.
    var providerRef: String?
    var update: ChargeUpdate?
}

/// What a webhook's signature check refused.
struct WebhookRejection: Error, Equatable {
    var detail: String
}

/// One payment provider: charge, confirm an extra step, refund, transfer to a payee's payout account, and
/// verify the webhooks it sends. Every unsafe request carries an idempotency key, so a retry after a lost
/// answer never moves money twice.
protocol PaymentProvider: Sendable {
    var name: ProviderName { get }
    /// Charges the payer; throws `ProviderUnavailable` when the outcome is unknown.
    func charge(_ request: ChargeRequest, context: FunctionContext) async throws -> ChargeUpdate
    /// The charge `providerRef` after the payer's extra step (or its current state).
    func confirm(_ providerRef: String, context: FunctionContext) async throws -> ChargeUpdate
    /// Refunds `amountCents` of the charge `providerRef`; answers the refund's provider id.
    func refund(_ providerRef: String, amountCents: Int, currency: String, idempotencyKey: String, context: FunctionContext) async throws -> String
    /// Sends `amountCents` to the payee's payout account; answers the transfer's provider id.
    func transfer(to account: String, amountCents: Int, currency: String, idempotencyKey: String, context: FunctionContext) async throws -> String
    /// Checks a webhook's signature and freshness and reads it; throws `WebhookRejection`.
    func verifyWebhook(headers: [String: String], body: Data, now: Date) throws(WebhookRejection) -> ProviderEvent
    /// Whether `account` looks like one of this provider's payout accounts.
    func isPayoutAccount(_ account: String) -> Bool
    /// What the processor kept of a charge that succeeded, read from the provider where its updates do not
    /// say (a webhook's PaymentIntent); nil when unknown.
    func processorFee(of providerRef: String, context: FunctionContext) async throws -> Int?
}

enum PaymentProviderKey: DependencyKey {
    typealias Value = any PaymentProvider
}

extension FunctionContext {
    /// The configured payment provider.
    var provider: any PaymentProvider {
        get throws(HTTPError) { try dependencies.require(PaymentProviderKey.self, "payment provider") }
    }
}
