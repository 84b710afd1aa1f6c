import Blytz
import Foundation

/// The payments service's settings, read from the function's environment; each has a safe default.
struct Settings: Sendable {
    /// `PAYMENTS_PROVIDER`: `simulated` (default) or `stripe`.
    var provider: ProviderName
    /// `PAYMENTS_PLATFORM_FEE_BPS`: the platform's fee on a release, in basis points (1000 = 10%).
    var platformFeeBasisPoints: Int
    /// `STRIPE_API_BASE` (default `https://api.stripe.com`), `STRIPE_SECRET_KEY`, and `STRIPE_WEBHOOK_SECRET`
    /// (several, comma-separated, while a secret is rolled).
    var stripeBase: String
    var stripeKey: String?
    var stripeWebhookSecrets: [String]
    /// `PAYMENTS_SIMULATED_WEBHOOK_SECRET`: what the simulated provider signs its webhooks with.
    var simulatedWebhookSecret: String

    init(_ configuration: Configuration) {
        provider = configuration["PAYMENTS_PROVIDER"].flatMap(ProviderName.init(rawValue:)) ?? .simulated
        platformFeeBasisPoints = min(10_000, max(0, configuration.int("PAYMENTS_PLATFORM_FEE_BPS") ?? 1_000))
        stripeBase = configuration["STRIPE_API_BASE"] ?? "https://api.stripe.com"
        stripeKey = configuration["STRIPE_SECRET_KEY"]
        stripeWebhookSecrets = (configuration["STRIPE_WEBHOOK_SECRET"] ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        simulatedWebhookSecret = configuration["PAYMENTS_SIMULATED_WEBHOOK_SECRET"] ?? SimulatedProvider.defaultWebhookSecret
    }
}
