import Blytz
import BlytzData
import BlytzEvents
import BlytzServices
import BlytzTesting
import Foundation
import HTTPTypes
import Testing

@testable import Payments

/// Charges with every simulated test method, escrow and releases, roles and ownership, idempotency.
@Suite struct PaymentRoutesTests {
    @Test(arguments: [ServiceDatabase.Engine.sqlite, .postgres])
    func chargesHoldAndReleaseWithTheirRoles(engine: ServiceDatabase.Engine) async throws {
        try await ServiceHarness<Payments>.with(engine) { payments in
            let (company, va, stranger) = (newId(), newId(), newId())
            // Who may pay: a company for itself; only the contracts service links a milestone.
            let body = #"{"payeeUserId":"\#(va)","amountCents":10000,"currency":"USD"}"#
            #expect(try await payments.post("/payments", json: body, as: .person(va, .va)).status == .forbidden)
            #expect(try await payments.post("/payments", json: body, as: .person(newId(), .admin)).status == .forbidden)
            #expect(try await payments.post("/payments", json: #"{"payeeUserId":"\#(va)","amountCents":100,"currency":"USD","milestoneId":"\#(newId())"}"#, as: .person(company, .company)).status == .forbidden)
            #expect(try await payments.post("/payments", json: #"{"payerUserId":"\#(stranger)","payeeUserId":"\#(va)","amountCents":100,"currency":"USD"}"#, as: .person(company, .company)).problemFields == ["payerUserId"])
            #expect(try await payments.post("/payments", json: #"{"payeeUserId":"\#(va)","amountCents":0,"currency":"usd"}"#, as: .person(company, .company)).problemFields.sorted() == ["amountCents", "currency"])
            #expect(try await payments.post("/payments", json: #"{"amountCents":"ten"}"#, as: .person(company, .company)).problemFields == ["amountCents"])
            #expect(try await payments.post("/payments", json: body, as: nil).status == .unauthorized)

            // A direct payment succeeds and goes to the payee at once, less 10%.
            let direct = try await payments.pay(company, va, cents: 10_005)
            #expect(direct.status == .succeeded && !direct.escrow && direct.releasedAt != nil && direct.platformFeeCents == 1_001 && direct.providerRef?.hasPrefix("spi_") == true)
            #expect(try await payments.balance(.payable(va)) == 9_004)
            #expect(try await payments.published(EscrowReleased.self).map(\.netCents) == [9_004])
            #expect(try await payments.published(PaymentCompleted.self).map(\.escrow) == [false])

            // A milestone's charge is held until the contracts service releases it, once.
            let held = try await payments.pay(company, va, cents: 40_000, milestone: true)
            #expect(held.status == .succeeded && held.escrow && held.releasedAt == nil)
            #expect(try await payments.balance(.escrow) == 40_000)
            #expect(try await payments.post("/payments/\(held.id)/release", json: "{}", as: .person(company, .company)).status == .forbidden)
            let released = try await payments.release(held.id, key: "release-1")
            #expect(released.status == .ok)
            #expect(try released.json(ReleaseSummary.self) == ReleaseSummary(paymentId: held.id, grossCents: 40_000, feeCents: 4_000, netCents: 36_000, currency: "USD"))
            #expect(try await payments.release(held.id, key: "release-1").headers[IdempotencyStore.replayedHeader] == "true")
            #expect(try await payments.release(held.id, key: "release-2").status == .conflict)
            #expect(try await payments.release(direct.id).status == .conflict)
            #expect(try await payments.balance(.escrow) == 0)
            #expect(try await payments.balance(.payable(va)) == 45_004)
            #expect(try await payments.balance(.platformFees) == 5_001 - direct.processorFeeCents - held.processorFeeCents)

            // Seen by its payer, its payee and admins; a stranger learns nothing.
            for identity in [TestIdentity.person(company, .company), .person(va, .va), .person(newId(), .admin)] {
                #expect(try await payments.call(.get, "/payments/\(held.id)", as: identity).status == .ok)
            }
            #expect(try await payments.call(.get, "/payments/\(held.id)", as: .person(stranger, .company)).status == .notFound)
            #expect(try await payments.call(.get, "/payments/not-an-id", as: .person(company, .company)).status == .notFound)
            #expect(try await payments.call(.get, "/payments", as: .person(stranger, .company)).json(Page<PaymentRecord>.self).items.isEmpty)
            #expect(try await payments.call(.get, "/payments?role=payee", as: .person(va, .va)).json(Page<PaymentRecord>.self).items.count == 2)
            #expect(try await payments.call(.get, "/payments?role=payee", as: .person(company, .company)).json(Page<PaymentRecord>.self).items.isEmpty)
            #expect(try await payments.call(.get, "/payments?status=nope", as: .person(company, .company)).problemFields == ["status"])
            #expect(try await payments.call(.get, "/payments?contractId=\(held.contractId!)", as: .person(company, .company)).json(Page<PaymentRecord>.self).items.map(\.id) == [held.id])

            // A decline fails with its reason; nothing moves.
            let declined = try await payments.pay(company, va, cents: 5_000, method: "pm_card_declined")
            #expect(declined.status == .failed && declined.failureReason != nil)
            #expect(try await payments.published(PaymentFailed.self).map(\.paymentId) == [declined.id])
            #expect(try await payments.release(declined.id).status == .conflict)

            // Zero-decimal currencies: 1,005 yen, the fee a whole 101 yen.
            let yen = try await payments.pay(company, va, cents: 1_005, currency: "JPY")
            #expect(yen.platformFeeCents == 101)
            #expect(try await payments.balance(.payable(va), currency: "JPY") == 904)

            let summary = try await payments.call(.get, "/payments/summary", as: .person(va, .va)).json(PaymentsSummary.Summary.self)
            #expect(summary.currencies.map(\.currency) == ["JPY", "USD"])
            #expect(summary.currencies.last?.receivedCents == 45_004 && summary.currencies.last?.feesCents == 5_001 && summary.currencies.last?.heldCents == 0)
            let spent = try await payments.call(.get, "/payments/summary", as: .person(company, .company)).json(PaymentsSummary.Summary.self)
            #expect(spent.currencies.last?.sentCents == 50_005)
            #expect(try await payments.call(.get, "/payments/summary?userId=\(company)", as: .person(va, .va)).status == .forbidden)
            let platform = try await payments.call(.get, "/payments/summary", as: .person(newId(), .admin)).json(PaymentsSummary.Summary.self)
            #expect(platform.userId == nil && platform.currencies.last?.payableCents == 45_004)
            #expect(try await payments.unbalancedTransactions().isEmpty)
        }
    }

    @Test(arguments: [ServiceDatabase.Engine.sqlite, .postgres])
    func extraStepsNetworkErrorsAndLateSettlement(engine: ServiceDatabase.Engine) async throws {
        try await ServiceHarness<Payments>.with(engine) { payments in
            let (company, va) = (newId(), newId())
            // 3-D Secure: requires_action with what the client must do; the payer confirms it.
            let waiting = try await payments.pay(company, va, cents: 2_000, method: "pm_card_3ds", milestone: true)
            #expect(waiting.status == .requiresAction && waiting.nextAction == .confirmPayment)
            #expect(try await payments.post("/payments/\(waiting.id)/confirm", json: "{}", as: .person(va, .va)).status == .forbidden)
            let confirmed = try await payments.post("/payments/\(waiting.id)/confirm", json: "{}", as: .person(company, .company))
            #expect(try confirmed.json(PaymentRecord.self).status == .succeeded)
            #expect(try await payments.post("/payments/\(waiting.id)/confirm", json: "{}", as: .person(company, .company)).problemFields == ["status"])

            // A dropped connection leaves it pending; the schedule's retry charges it, once.
            let lost = try await payments.pay(company, va, cents: 3_000, method: "pm_card_network_error")
            #expect(lost.status == .pending)
            payments.time.advance(by: .seconds(6))
            try await payments.fire("payments-reconcile")
            #expect(try await payments.payment(lost.id).status == .succeeded)
            #expect(try await payments.count("simulated_intents") == 2)

            // A bank debit processes, then settles by the provider's webhook.
            let debit = try await payments.pay(company, va, cents: 4_000, method: "pm_bank_debit", milestone: true)
            #expect(debit.status == .processing)
            try await payments.fire("payments-reconcile")
            #expect(try await payments.payment(debit.id).status == .processing)
            payments.time.advance(by: .seconds(6))
            try await payments.fire("payments-reconcile")
            #expect(try await payments.payment(debit.id).status == .succeeded)
            // Every charge's own webhook came too, and changed nothing twice.
            #expect(try await payments.published(PaymentCompleted.self).count == 3)
            #expect(try await payments.balance(.escrow) == 6_000)
            #expect(try await payments.unbalancedTransactions().isEmpty)
        }
    }

    @Test(arguments: [ServiceDatabase.Engine.sqlite, .postgres])
    func twentyConcurrentRepeatsDoEachThingOnce(engine: ServiceDatabase.Engine) async throws {
        try await ServiceHarness<Payments>.with(engine) { payments in
            let (company, va) = (newId(), newId())
            let ids = try await withThrowingTaskGroup(of: String.self) { group in
                for _ in 0..<20 { group.addTask { try await payments.pay(company, va, cents: 7_500, milestone: false, key: "pay-once").id } }
                return try await group.reduce(into: Set<String>()) { $0.insert($1) }
            }
            #expect(ids.count == 1)
            #expect(try await payments.count("payments") == 1)
            #expect(try await payments.count("simulated_intents") == 1)
            #expect(try await payments.published(PaymentCompleted.self).count == 1)
            #expect(try await payments.published(EscrowReleased.self).count == 1)

            let held = try await payments.pay(company, va, cents: 10_000, milestone: true)
            let releases = try await withThrowingTaskGroup(of: Int.self) { group in
                for _ in 0..<20 { group.addTask { try await payments.release(held.id, key: "release-\(held.id)").status.code } }
                return try await group.reduce(into: [Int]()) { $0.append($1) }
            }
            #expect(releases.allSatisfy { $0 == 200 })
            #expect(try await payments.published(EscrowReleased.self).count == 2)

            let other = try await payments.pay(company, va, cents: 10_000, milestone: true)
            let refunds = try await withThrowingTaskGroup(of: String?.self) { group in
                for _ in 0..<20 {
                    group.addTask { try? await payments.post("/refunds", json: #"{"paymentId":"\#(other.id)","amountCents":2500}"#, key: "refund-once", as: .person(company, .company)).json(RefundRecord.self).id }
                }
                return try await group.reduce(into: Set<String?>()) { $0.insert($1) }
            }
            #expect(refunds.count == 1 && refunds.first! != nil)
            #expect(try await payments.count("refunds") == 1)
            #expect(try await payments.payment(other.id).refundedCents == 2_500)
            #expect(try await payments.unbalancedTransactions().isEmpty)
        }
    }

    @Test(arguments: [ServiceDatabase.Engine.sqlite, .postgres])
    func refundsNeverExceedWhatIsLeft(engine: ServiceDatabase.Engine) async throws {
        try await ServiceHarness<Payments>.with(engine) { payments in
            let (company, va, admin) = (newId(), newId(), newId())
            let held = try await payments.pay(company, va, cents: 10_000, milestone: true)
            func refund(_ json: String, as identity: TestIdentity = .person(company, .company)) async throws -> HandlerTester.Response {
                try await payments.post("/refunds", json: json, as: identity)
            }
            #expect(try await refund(#"{"paymentId":"\#(held.id)","amountCents":100}"#, as: .person(va, .va)).status == .forbidden)
            #expect(try await refund(#"{"paymentId":"\#(held.id)","amountCents":100}"#, as: .person(newId(), .company)).status == .notFound)
            #expect(try await refund(#"{"paymentId":"nope"}"#).problemFields == ["paymentId"])
            let first = try await refund(#"{"paymentId":"\#(held.id)","amountCents":3000,"reason":"scope cut"}"#)
            #expect(first.status == .created)
            #expect(try first.json(RefundRecord.self).status == .succeeded)
            #expect(try await payments.payment(held.id).status == .partiallyRefunded)
            #expect(try await refund(#"{"paymentId":"\#(held.id)","amountCents":8000}"#).problemFields == ["amountCents"])

            // Twenty concurrent refunds of 1,000 against the 7,000 left: seven succeed.
            let codes = try await withThrowingTaskGroup(of: Int.self) { group in
                for _ in 0..<20 { group.addTask { try await refund(#"{"paymentId":"\#(held.id)","amountCents":1000}"#).status.code } }
                return try await group.reduce(into: [Int]()) { $0.append($1) }
            }
            #expect(codes.filter { $0 == 201 }.count == 7, "\(codes)")
            #expect(try await payments.call(.get, "/refunds?paymentId=\(held.id)", as: .person(company, .company)).json(Page<RefundRecord>.self).items.map(\.status).allSatisfy { $0 == .succeeded })
            #expect(try await payments.payment(held.id).status == .refunded)
            #expect(try await payments.balance(.escrow) == 0)
            #expect(try await payments.balance(.payer(company)) == 0)
            #expect(try await refund(#"{"paymentId":"\#(held.id)"}"#).status == .conflict)
            #expect(try await payments.published(RefundIssued.self).map(\.payeeDebitCents).allSatisfy { $0 == 0 })

            // Released money: the payer may no longer take it back; an admin refunds half, the payee and the fee each give their share.
            let paid = try await payments.pay(company, va, cents: 10_000, milestone: true)
            _ = try await payments.release(paid.id)
            #expect(try await refund(#"{"paymentId":"\#(paid.id)","amountCents":5000}"#).problemFields == ["paymentId"])
            let back = try await refund(#"{"paymentId":"\#(paid.id)","amountCents":5000}"#, as: .person(admin, .admin))
            #expect(back.status == .created)
            #expect(try await payments.published(RefundIssued.self).last?.payeeDebitCents == 4_500)
            #expect(try await payments.balance(.payable(va)) == 4_500)
            // Seen by the payment's parties and admins.
            let refundId = try back.json(RefundRecord.self).id
            #expect(try await payments.call(.get, "/refunds/\(refundId)", as: .person(va, .va)).status == .ok)
            #expect(try await payments.call(.get, "/refunds/\(refundId)", as: .person(newId(), .va)).status == .notFound)
            #expect(try await payments.call(.get, "/refunds?paymentId=\(paid.id)", as: .person(company, .company)).json(Page<RefundRecord>.self).items.map(\.id) == [refundId])
            #expect(try await payments.call(.get, "/refunds", as: .person(newId(), .va)).json(Page<RefundRecord>.self).items.isEmpty)
            #expect(try await payments.unbalancedTransactions().isEmpty)
        }
    }

    @Test(arguments: [ServiceDatabase.Engine.sqlite, .postgres])
    func earningsWaitForAPayoutAccount(engine: ServiceDatabase.Engine) async throws {
        try await ServiceHarness<Payments>.with(engine) { payments in
            let (company, va) = (newId(), newId())
            _ = try await payments.pay(company, va, cents: 10_000)
            #expect(try await payments.call(.get, "/payments/payout-account", as: .person(va, .va)).json(PayoutView.self).balances.first?.payableCents == 9_000)
            func register(_ account: String, as identity: TestIdentity) async throws -> HandlerTester.Response {
                try await payments.http("payments-payout-account-set", HandlerTester.Request(method: .put, path: "/payments/payout-account", headers: [.contentType: "application/json"], body: Data(#"{"accountId":"\#(account)"}"#.utf8)), as: identity)
            }
            #expect(try await register("acct_1Nv0FGQ9RKHgCVdK", as: .person(company, .company)).status == .forbidden)
            #expect(try await register("bank-123456", as: .person(va, .va)).problemFields == ["accountId"])
            let registered = try await register("acct_1Nv0FGQ9RKHgCVdK", as: .person(va, .va)).json(PayoutView.self)
            #expect(registered.balances.first == PayoutView.Balance(currency: "USD", payableCents: 0, inTransitCents: 0, paidOutCents: 9_000))
            #expect(registered.transfers.map(\.status) == [.paid])
            _ = try await payments.pay(company, va, cents: 2_000)
            #expect(try await payments.balance(.paidOut(va)) == 10_800)
            #expect(try await payments.call(.get, "/payments/payout-account?userId=\(va)", as: .person(company, .company)).status == .forbidden)

            // A deleted user's payout account goes; their payments stay.
            _ = try await payments.deliver([UserDeleted(userId: va, role: .va)], to: "payments-on-users")
            #expect(try await payments.call(.get, "/payments/payout-account", as: .person(newId(), .admin)).status == .ok)
            #expect(try await payments.count("payout_accounts") == 0)
            #expect(try await payments.count("payments") == 2)
            #expect(try await payments.unbalancedTransactions().isEmpty)
        }
    }
}
