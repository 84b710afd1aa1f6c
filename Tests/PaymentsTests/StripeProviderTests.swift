import AsyncHTTPClient
import Blytz
import BlytzData
import BlytzEvents
import BlytzServices
import BlytzTesting
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import NIOHTTP1
import Synchronization
import Testing

@testable import Payments

/// The `stripe` provider against a real Stripe-compatible server (localstripe, from PyPI), and its
/// Connect transfers — which localstripe lacks — against a recording server on a real socket.
@Suite(.serialized, .timeLimit(.minutes(2))) struct StripeProviderTests {
    static let key = "sk_test_blytz"
    static let webhookSecret = "whsec_localstripe"

    /// What a fake's callers sent: webhooks localstripe delivered, or requests to the recording server.
    final class Recorder: Sendable {
        struct Request: Sendable { var path: String; var headers: [String: String]; var body: Data }
        let requests = Mutex<[Request]>([])

        func router(answer: @escaping @Sendable (String) -> String) -> Router<BasicRequestContext> {
            let router = Router()
            router.get("**") { [self] request, _ -> Response in
                self.requests.withLock { $0.append(Request(path: request.uri.path + "?" + (request.uri.query ?? ""), headers: [:], body: Data())) }
                return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: answer(request.uri.path))))
            }
            router.post("**") { [self] request, _ -> Response in
                let body = try await request.body.collect(upTo: 1 << 20)
                var headers: [String: String] = [:]
                for field in request.headers { headers[field.name.canonicalName] = field.value }
                self.requests.withLock { $0.append(Request(path: request.uri.path, headers: headers, body: Data(body.readableBytesView))) }
                return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: answer(request.uri.path))))
            }
            return router
        }

        func webhook(for intent: String, type: String) -> Request? {
            requests.withLock { $0.first { String(decoding: $0.body, as: UTF8.self).contains(intent) && String(decoding: $0.body, as: UTF8.self).contains(#""type": "\#(type)""#) } }
        }
    }

    static func form(_ url: String, _ fields: [(String, String)], key: String? = Self.key) async throws -> [String: Any] {
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        if let key { request.headers.add(name: "Authorization", value: "Bearer \(key)") }
        request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
        request.body = .bytes(ByteBuffer(string: StripeProvider.encode(fields)))
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
        let body = try await response.body.collect(upTo: 1 << 20)
        return ((try? JSONSerialization.jsonObject(with: Data(body.readableBytesView))) as? [String: Any]) ?? [:]
    }

    func configuration(_ base: String) -> [String: String] {
        ["PAYMENTS_PROVIDER": "stripe", "STRIPE_API_BASE": base, "STRIPE_SECRET_KEY": Self.key, "STRIPE_WEBHOOK_SECRET": "whsec_previous," + Self.webhookSecret]
    }

    @Test(arguments: [ServiceDatabase.Engine.sqlite, .postgres])
    func chargesDeclinesExtraStepsWebhooksAndRefundsAgainstLocalstripe(engine: ServiceDatabase.Engine) async throws {
        try await PythonServer.with(module: "localstripe", arguments: ["--port", "{port}", "--from-scratch"]) { port in
            let stripe = "http://127.0.0.1:\(port)"
            let hooks = Recorder()
            try await StandIn.serve(hooks.router { _ in "{}" }) { hookPort in
                _ = try await Self.form("\(stripe)/_config/webhooks/blytz", [("url", "http://127.0.0.1:\(hookPort)/hook"), ("secret", Self.webhookSecret)], key: nil)
                try await ServiceHarness<Payments>.with(engine, configuration: configuration(stripe)) { payments in
                    payments.time.set(Date())
                    let (company, va) = (newId(), newId())
                    // A card that succeeds: a confirmed PaymentIntent, held in escrow.
                    let paid = try await payments.pay(company, va, cents: 12_000, method: "pm_card_visa", milestone: true)
                    #expect(paid.status == .succeeded && paid.providerRef?.hasPrefix("pi_") == true, "\(paid)")
                    #expect(try await payments.balance(.escrow) == 12_000)

                    // A card the bank declines: failed, with Stripe's message.
                    let declined = try await payments.pay(company, va, cents: 3_000, method: "pm_card_chargeCustomerFail")
                    #expect(declined.status == .failed && declined.failureReason?.isEmpty == false, "\(declined)")

                    // A card that needs 3-D Secure: requires_action with the client secret; the payer authenticates
                    // with Stripe, whose signed webhook then completes it.
                    let card = try await Self.form("\(stripe)/v1/payment_methods", [
                        ("type", "card"), ("card[number]", "4000002500003155"), ("card[exp_month]", "12"), ("card[exp_year]", "2030"), ("card[cvc]", "123"),
                    ])
                    let method = try #require(card["id"] as? String)
                    let waiting = try await payments.pay(company, va, cents: 5_000, method: method, milestone: true)
                    #expect(waiting.status == .requiresAction && waiting.nextAction == .useStripeSDK)
                    let intent = try #require(waiting.providerRef)
                    let secret = try #require(waiting.clientSecret)
                    let authenticated = try await Self.form("\(stripe)/v1/payment_intents/\(intent)/_authenticate", [("key", "pk_test_blytz"), ("client_secret", secret), ("success", "true")], key: nil)
                    #expect(authenticated["status"] as? String == "succeeded", "\(authenticated)")
                    let arrived = try await eventually(within: .seconds(10)) { hooks.webhook(for: intent, type: "payment_intent.succeeded") != nil }
                    let webhook = try #require(arrived ? hooks.webhook(for: intent, type: "payment_intent.succeeded") : nil, "\(hooks.requests.withLock { $0.map { String(decoding: $0.body, as: UTF8.self).prefix(300) } })")
                    payments.time.set(Date())
                    let headers: HTTPFields = [.contentType: "application/json", HTTPField.Name("Stripe-Signature")!: webhook.headers["stripe-signature"] ?? ""]
                    func deliver(_ body: Data) async throws -> HandlerTester.Response {
                        try await payments.http("payments-webhooks", HandlerTester.Request(method: .post, path: "/payments/webhooks/stripe", pathParameters: ["provider": "stripe"], headers: headers, body: body))
                    }
                    // Tampered, it is refused; as signed, it applies once.
                    #expect(try await deliver(webhook.body + Data("\n".utf8)).status == .badRequest)
                    #expect(try await deliver(webhook.body).json(WebhookReceipt.self).outcome == .applied)
                    #expect(try await deliver(webhook.body).json(WebhookReceipt.self).outcome == .duplicate)
                    #expect(try await payments.payment(waiting.id).status == .succeeded)
                    // The confirm route reads the same state from Stripe.
                    #expect(try await payments.post("/payments/\(waiting.id)/confirm", json: "{}", as: .person(company, .company)).problemFields == ["status"])

                    // A partial refund through Stripe, then the rest.
                    let refund = try await payments.post("/refunds", json: #"{"paymentId":"\#(paid.id)","amountCents":2000}"#, as: .person(company, .company))
                    #expect(try refund.json(RefundRecord.self).status == .succeeded && refund.json(RefundRecord.self).providerRef?.hasPrefix("re_") == true, "\(String(decoding: refund.body, as: UTF8.self))")
                    #expect(try await payments.payment(paid.id).status == .partiallyRefunded)
                    #expect(try await payments.balance(.escrow) == 15_000)
                    #expect(try await payments.unbalancedTransactions().isEmpty)
                }
            }
        }
    }

    /// Stripe's fee is its balance transaction's: the charge asks for `latest_charge.balance_transaction`
    /// expanded, and the fee goes to the ledger with the charge (localstripe's fee is always 0, so the
    /// amount is checked against a recording server answering as Stripe documents).
    @Test(arguments: [ServiceDatabase.Engine.sqlite, .postgres])
    func theProcessorFeeIsReadFromTheChargesBalanceTransaction(engine: ServiceDatabase.Engine) async throws {
        let stripe = Recorder()
        let router = stripe.router { _ in
            #"{"id":"pi_1Fee","object":"payment_intent","status":"succeeded","currency":"usd","metadata":{},"latest_charge":{"id":"ch_1Fee","object":"charge","balance_transaction":{"id":"txn_1Fee","object":"balance_transaction","amount":10000,"currency":"usd","fee":320,"net":9680}}}"#
        }
        try await StandIn.serve(router) { port in
            try await ServiceHarness<Payments>.with(engine, configuration: configuration("http://127.0.0.1:\(port)")) { payments in
                let (company, va) = (newId(), newId())
                let paid = try await payments.pay(company, va, cents: 10_000, method: "pm_card_visa", milestone: true)
                #expect(paid.status == .succeeded && paid.processorFeeCents == 320)
                let charge = try #require(stripe.requests.withLock { $0.first })
                #expect(String(decoding: charge.body, as: UTF8.self).hasSuffix("&expand%5B%5D=latest_charge.balance_transaction"))
                #expect(try await payments.balance(.processorFees) == 320)
                #expect(try await payments.balance(.escrow) == 10_000)
                #expect(try await payments.unbalancedTransactions().isEmpty)
                // Released, the fee comes out of the platform's share, not the VA's.
                #expect(try await payments.release(paid.id).status == .ok)
                #expect(try await payments.balance(.platformFees) == 1_000 - 320)
            }
        }
        // Completed by a webhook after 3-D Secure: the event's intent has no balance transaction, so the fee
        // is read from Stripe, as documented.
        let later = Recorder()
        let afterAuthentication = later.router { path in
            path == "/v1/payment_intents"
                ? #"{"id":"pi_3Fee","object":"payment_intent","status":"requires_action","client_secret":"pi_3Fee_secret","currency":"usd","metadata":{}}"#
                : #"{"id":"pi_3Fee","object":"payment_intent","status":"succeeded","currency":"usd","metadata":{},"latest_charge":{"id":"ch_3Fee","balance_transaction":{"id":"txn_3Fee","currency":"usd","fee":175}}}"#
        }
        try await StandIn.serve(afterAuthentication) { port in
            try await ServiceHarness<Payments>.with(engine, configuration: configuration("http://127.0.0.1:\(port)")) { payments in
                let waiting = try await payments.pay(newId(), newId(), cents: 5_000, method: "pm_card_visa", milestone: true)
                #expect(waiting.status == .requiresAction)
                let event = Data(#"{"id":"evt_3Fee","type":"payment_intent.succeeded","data":{"object":{"id":"pi_3Fee","object":"payment_intent","status":"succeeded","currency":"usd","latest_charge":"ch_3Fee","metadata":{"payment_id":"\#(waiting.id)"}}}}"#.utf8)
                let signature = WebhookSignature.sign(event, secret: Self.webhookSecret, timestamp: Int(payments.time.now.timeIntervalSince1970))
                let delivered = try await payments.http("payments-webhooks", HandlerTester.Request(
                    method: .post, path: "/payments/webhooks/stripe", pathParameters: ["provider": "stripe"],
                    headers: [.contentType: "application/json", HTTPField.Name("Stripe-Signature")!: signature], body: event
                ))
                #expect(try delivered.json(WebhookReceipt.self).outcome == .applied)
                let paid = try await payments.payment(waiting.id)
                #expect(paid.status == .succeeded && paid.processorFeeCents == 175)
                #expect(try await payments.balance(.processorFees) == 175)
                #expect(later.requests.withLock { $0.contains { $0.path == "/v1/payment_intents/pi_3Fee?expand%5B%5D=latest_charge.balance_transaction" } })
                #expect(try await payments.unbalancedTransactions().isEmpty)
            }
        }
        // A balance settled in another currency is not posted beside the charge.
        let euros = Recorder()
        let settledInEuros = euros.router { _ in
            #"{"id":"pi_2Fee","object":"payment_intent","status":"succeeded","currency":"usd","metadata":{},"latest_charge":{"id":"ch_2Fee","balance_transaction":{"id":"txn_2Fee","currency":"eur","fee":290}}}"#
        }
        try await StandIn.serve(settledInEuros) { port in
            try await ServiceHarness<Payments>.with(.sqlite, configuration: configuration("http://127.0.0.1:\(port)")) { payments in
                let paid = try await payments.pay(newId(), newId(), cents: 10_000, method: "pm_card_visa")
                #expect(paid.status == .succeeded && paid.processorFeeCents == 0)
            }
        }
    }

    @Test func transfersSendTheRequestStripeDocuments() async throws {
        let stripe = Recorder()
        let router = stripe.router { path in
            path == "/v1/transfers"
                ? #"{"id":"tr_1Blytz","object":"transfer"}"#
                : #"{"id":"pi_1Blytz","object":"payment_intent","status":"succeeded","metadata":{}}"#
        }
        try await StandIn.serve(router) { port in
            try await ServiceHarness<Payments>.with(.sqlite, configuration: configuration("http://127.0.0.1:\(port)")) { payments in
                let (company, va) = (newId(), newId())
                let paid = try await payments.pay(company, va, cents: 10_000, method: "pm_card_visa", key: "pay-1")
                #expect(paid.status == .succeeded && paid.providerRef == "pi_1Blytz")
                let charge = try #require(stripe.requests.withLock { $0.first })
                #expect(charge.path == "/v1/payment_intents" && charge.headers["idempotency-key"] == "charge-\(paid.id)")
                #expect(String(decoding: charge.body, as: UTF8.self) == "amount=10000&currency=usd&payment_method=pm_card_visa&confirm=true&metadata%5Bpayment_id%5D=\(paid.id)&expand%5B%5D=latest_charge.balance_transaction")

                let registered = try await payments.http("payments-payout-account-set", HandlerTester.Request(
                    method: .put, path: "/payments/payout-account", headers: [.contentType: "application/json"], body: Data(#"{"accountId":"acct_1Nv0FGQ9RKHgCVdK"}"#.utf8)
                ), as: .person(va, .va)).json(PayoutView.self)
                let transfer = try #require(registered.transfers.first)
                #expect(transfer.status == .paid && transfer.providerRef == "tr_1Blytz")
                let sent = try #require(stripe.requests.withLock { $0.first { $0.path == "/v1/transfers" } })
                #expect(sent.headers["authorization"] == "Bearer \(Self.key)" && sent.headers["content-type"] == "application/x-www-form-urlencoded")
                #expect(sent.headers["idempotency-key"] == "payout-\(transfer.id)")
                #expect(String(decoding: sent.body, as: UTF8.self) == "amount=9000&currency=usd&destination=acct_1Nv0FGQ9RKHgCVdK&metadata%5Btransfer_key%5D=payout-\(transfer.id)")
            }
        }
    }
}
