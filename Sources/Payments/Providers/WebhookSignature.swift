import Blytz
import BlytzEvents
import Crypto
import Foundation

/// Stripe's webhook signature, which the simulated provider uses too: `Stripe-Signature: t=<unix time>,v1=<hex>`,
/// the HMAC-SHA256 of `<t>.<body>` under the endpoint's secret. Several `v1` values may come while a secret
/// is rolled, and several secrets may be configured; one match is enough. A timestamp more than `tolerance`
/// from now is refused, so a captured request cannot be replayed later.
struct WebhookSignature: Sendable {
    static let header = "stripe-signature"

    var secrets: [String]
    var tolerance: TimeInterval = 300

    func verify(_ header: String?, body: Data, now: Date) throws(WebhookRejection) {
        guard let header, !header.isEmpty else { throw WebhookRejection(detail: "The Stripe-Signature header is missing.") }
        var timestamp: Int?
        var signatures: [Data] = []
        for part in header.split(separator: ",") {
            let pair = part.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard pair.count == 2 else { continue }
            switch pair[0] {
            case "t": timestamp = Int(pair[1])
            case "v1": if let bytes = Self.bytes(hex: pair[1]) { signatures.append(bytes) }
            default: continue
            }
        }
        guard let timestamp else { throw WebhookRejection(detail: "The Stripe-Signature header has no timestamp.") }
        guard !signatures.isEmpty else { throw WebhookRejection(detail: "The Stripe-Signature header has no v1 signature.") }
        guard abs(now.timeIntervalSince1970 - TimeInterval(timestamp)) <= tolerance else {
            throw WebhookRejection(detail: "The webhook's timestamp is outside the \(Int(tolerance)) s tolerance.")
        }
        let signed = Data("\(timestamp).".utf8) + body
        for secret in secrets where !secret.isEmpty {
            let key = SymmetricKey(data: Data(secret.utf8))
            if signatures.contains(where: { HMAC<SHA256>.isValidAuthenticationCode($0, authenticating: signed, using: key) }) { return }
        }
        throw WebhookRejection(detail: "No signature matches the webhook's secret.")
    }

    /// The header for `body` signed with `secret` at `timestamp`.
    static func sign(_ body: Data, secret: String, timestamp: Int) -> String {
        let mac = HMAC<SHA256>.authenticationCode(for: Data("\(timestamp).".utf8) + body, using: SymmetricKey(data: Data(secret.utf8)))
        return "t=\(timestamp),v1=\(Data(mac).map { String(format: "%02x", $0) }.joined())"
    }

    static func bytes(hex: String) -> Data? {
        guard hex.count % 2 == 0 else { return nil }
        var data = Data(capacity: hex.count / 2)
        var index = hex.startIndex
        while index < hex.endIndex {
            let next = hex.index(index, offsetBy: 2)
            guard let byte = UInt8(hex[index..<next], radix: 16) else { return nil }
            data.append(byte)
            index = next
        }
        return data
    }
}

/// The parts of a Stripe event (and of a PaymentIntent) that payments reads; the simulated provider sends
/// the same shape.
struct StripeEvent: Codable, Sendable {
    struct Payload: Codable, Sendable { var object: StripeIntent }
    var id: String
    var type: String
    var created: Int?
    var data: Payload
}

struct StripeIntent: Codable, Sendable {
    struct Failure: Codable, Sendable { var message: String?; var code: String? }

    /// What Stripe kept of a charge: its balance transaction's `fee`, in the balance's `currency`.
    struct BalanceTransaction: Codable, Sendable { var fee: Int; var currency: String }

    /// The intent's `latest_charge`: an id, or (expanded) the charge with its balance transaction, itself an
    /// id until expanded too.
    struct LatestCharge: Codable, Sendable {
        var balanceTransaction: BalanceTransaction?

        enum CodingKeys: String, CodingKey { case balanceTransaction = "balance_transaction" }

        init(from decoder: any Decoder) throws {
            guard let object = try? decoder.container(keyedBy: CodingKeys.self) else { return }
            balanceTransaction = try? object.decodeIfPresent(BalanceTransaction.self, forKey: .balanceTransaction)
        }
    }

    var id: String
    var object: String?
    var status: String?
    var currency: String?
    var clientSecret: String?
    var lastPaymentError: Failure?
    var metadata: [String: String]?
    var latestCharge: LatestCharge?

    enum CodingKeys: String, CodingKey {
        case id, object, status, metadata, currency
        case clientSecret = "client_secret"
        case lastPaymentError = "last_payment_error"
        case latestCharge = "latest_charge"
    }

    /// Stripe's fee for the charge, when the intent came with its balance transaction in the charge's own
    /// currency (a balance settled in another currency cannot be posted beside the charge).
    var processorFeeCents: Int? {
        guard let transaction = latestCharge?.balanceTransaction, transaction.currency.lowercased() == currency?.lowercased() else { return nil }
        return transaction.fee
    }

    /// The charge update its status means; nil for states that say nothing new (`requires_confirmation`).
    var update: ChargeUpdate? {
        let status: ChargeUpdate.Status
        switch self.status {
        case "succeeded": status = .succeeded
        case "processing": status = .processing
        case "requires_action": status = .requiresAction(.useStripeSDK, clientSecret: clientSecret)
        case "requires_payment_method", "canceled": status = .failed(lastPaymentError?.message ?? "The payment method was not accepted.")
        default: return nil
        }
        return ChargeUpdate(status: status, providerRef: id, processorFeeCents: processorFeeCents ?? 0)
    }

    /// Reads a verified webhook body.
    static func event(_ body: Data) throws(WebhookRejection) -> ProviderEvent {
        guard let event = try? JSON.decoder().decode(StripeEvent.self, from: body) else {
            throw WebhookRejection(detail: "The body is not a provider event.")
        }
        let intent = event.data.object
        let update: ChargeUpdate? = switch event.type {
        case "payment_intent.succeeded", "payment_intent.processing", "payment_intent.requires_action", "payment_intent.canceled": intent.update
        case "payment_intent.payment_failed": ChargeUpdate(status: .failed(intent.lastPaymentError?.message ?? "The payment failed."), providerRef: intent.id)
        default: nil
        }
        return ProviderEvent(id: event.id, type: event.type, paymentId: intent.metadata?["payment_id"], providerRef: intent.object == "payment_intent" || intent.object == nil ? intent.id : nil, update: update)
    }
}
