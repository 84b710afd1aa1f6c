import Blytz
import BlytzData
import BlytzEvents
import BlytzServices
import BlytzTesting
import Foundation
import HTTPTypes
import Testing

@testable import Payments

/// `POST /payments/webhooks/{provider}`: Stripe's signature scheme, checked as Stripe documents it.
@Suite struct WebhookTests {
    static let secret = SimulatedProvider.defaultWebhookSecret

    static func event(_ id: String, _ type: String, intent: String, status: String) -> Data {
        Data(#"{"id":"\#(id)","type":"\#(type)","created":1800000000,"data":{"object":{"id":"\#(intent)","object":"payment_intent","status":"\#(status)"}}}"#.utf8)
    }

    func deliver(_ payments: ServiceHarness<Payments>, _ body: Data, signature: String?, provider: String = "simulated") async throws -> HandlerTester.Response {
        var headers: HTTPFields = [.contentType: "application/json"]
        if let signature { headers[HTTPField.Name("Stripe-Signature")!] = signature }
        return try await payments.http("payments-webhooks", HandlerTester.Request(method: .post, path: "/payments/webhooks/\(provider)", pathParameters: ["provider": provider], headers: headers, body: body))
    }

    func sign(_ body: Data, _ payments: ServiceHarness<Payments>, secret: String = secret, age: TimeInterval = 0) -> String {
        WebhookSignature.sign(body, secret: secret, timestamp: Int(payments.time.now.timeIntervalSince1970 - age))
    }

    @Test(arguments: [ServiceDatabase.Engine.sqlite, .postgres])
    func signaturesTimestampsReplaysAndOrder(engine: ServiceDatabase.Engine) async throws {
        try await ServiceHarness<Payments>.with(engine) { payments in
            let (company, va) = (newId(), newId())
            let waiting = try await payments.pay(company, va, cents: 5_000, method: "pm_card_3ds", milestone: true)
            let intent = try #require(waiting.providerRef)
            let succeeded = Self.event("evt_1", "payment_intent.succeeded", intent: intent, status: "succeeded")

            // Refused, recording nothing: no signature, a wrong secret, a stale timestamp, a tampered body.
            for signature in [nil, sign(succeeded, payments, secret: "whsec_wrong"), sign(succeeded, payments, age: 301), "t=1800000000"] {
                let refused = try await deliver(payments, succeeded, signature: signature)
                #expect(refused.status == .badRequest && refused.problemFields == ["Stripe-Signature"])
            }
            let tampered = Self.event("evt_1", "payment_intent.succeeded", intent: intent, status: "succeeded") + Data(" ".utf8)
            #expect(try await deliver(payments, tampered, signature: sign(succeeded, payments)).status == .badRequest)
            #expect(try await payments.count("webhook_events") == 0)
            #expect(try await payments.payment(waiting.id).status == .requiresAction)
            #expect(try await deliver(payments, succeeded, signature: sign(succeeded, payments), provider: "paypal").status == .notFound)
            #expect(try await deliver(payments, succeeded, signature: sign(succeeded, payments), provider: "stripe").status == .notFound)

            // A valid one applies, once; its replay is a duplicate; a late `processing` cannot move it back.
            let applied = try await deliver(payments, succeeded, signature: sign(succeeded, payments, age: 299))
            #expect(try applied.json(WebhookReceipt.self).outcome == .applied)
            #expect(try await payments.payment(waiting.id).status == .succeeded)
            #expect(try await deliver(payments, succeeded, signature: sign(succeeded, payments)).json(WebhookReceipt.self).outcome == .duplicate)
            let late = Self.event("evt_0", "payment_intent.processing", intent: intent, status: "processing")
            #expect(try await deliver(payments, late, signature: sign(late, payments)).json(WebhookReceipt.self).outcome == .ignored)
            let failed = Self.event("evt_2", "payment_intent.payment_failed", intent: intent, status: "requires_payment_method")
            #expect(try await deliver(payments, failed, signature: sign(failed, payments)).json(WebhookReceipt.self).outcome == .ignored)
            #expect(try await payments.payment(waiting.id).status == .succeeded)
            #expect(try await payments.published(PaymentCompleted.self).count == 1)
            let unknown = Self.event("evt_3", "payment_intent.succeeded", intent: "spi_nobody", status: "succeeded")
            #expect(try await deliver(payments, unknown, signature: sign(unknown, payments)).json(WebhookReceipt.self).outcome == .unmatched)
            #expect(try await payments.unbalancedTransactions().isEmpty)
        }
    }

    @Test func aRolledSecretAcceptsEitherSignature() throws {
        let body = Data(#"{"id":"evt_9"}"#.utf8)
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        let old = WebhookSignature.sign(body, secret: "whsec_old", timestamp: 1_800_000_000)
        let new = WebhookSignature.sign(body, secret: "whsec_new", timestamp: 1_800_000_000)
        let both = old + "," + new.split(separator: ",")[1]
        try WebhookSignature(secrets: ["whsec_new"]).verify(both, body: body, now: now)
        try WebhookSignature(secrets: ["whsec_old"]).verify(both, body: body, now: now)
        try WebhookSignature(secrets: ["whsec_new", "whsec_old"]).verify(old, body: body, now: now)
        #expect(throws: WebhookRejection.self) { try WebhookSignature(secrets: ["whsec_other"]).verify(both, body: body, now: now) }
        #expect(throws: WebhookRejection.self) { try WebhookSignature(secrets: ["whsec_new"]).verify(new, body: body, now: now.addingTimeInterval(301)) }
        // A known answer, computed independently (Python's hmac) for `t=1492774577` over a fixed payload and secret.
        let payload = Data("{\n  \"id\": \"evt_test_webhook\",\n  \"object\": \"event\"\n}".utf8)
        let header = WebhookSignature.sign(payload, secret: "whsec_test_secret", timestamp: 1_492_774_577)
        #expect(header == "t=1492774577,v1=c2f890decbc5ede7c5060bb9a6d31e0626a4342bacb9aeae2adb1bcea72f9812")
        try WebhookSignature(secrets: ["whsec_test_secret"]).verify(header, body: payload, now: Date(timeIntervalSince1970: 1_492_774_600))
    }
}
