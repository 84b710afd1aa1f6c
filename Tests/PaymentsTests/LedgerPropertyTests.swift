import Blytz
import BlytzData
import BlytzEvents
import BlytzServices
import BlytzTesting
import Foundation
import HTTPTypes
import Synchronization
import Testing

@testable import Payments

/// Random charges, releases, refunds and payout registrations, four at a time: every ledger transaction
/// sums to zero, and every balance equals the one recomputed independently from the published events.
@Suite(.timeLimit(.minutes(3))) struct LedgerPropertyTests {
    enum Operation: Sendable {
        case charge(payer: Int, payee: Int, cents: Int, currency: String, escrow: Bool, declined: Bool)
        case release(Int)
        case refund(Int, cents: Int?, admin: Bool)
        case payoutAccount(Int)
    }

    /// Balances per account name, user and currency, recomputed by replaying the outbox.
    struct Model {
        struct Held { var held = 0; var gross = 0; var fee = 0 }
        var payments: [String: Held] = [:]
        var balances: [String: Int] = [:]
        var problems: [String] = []
        var refundsOfReleasedMoney = 0

        mutating func add(_ account: String, _ user: String?, _ currency: String, _ amount: Int) {
            balances["\(account)|\(user ?? "")|\(currency)", default: 0] += amount
        }

        mutating func replay(_ event: EventEnvelope<AnyEvent>) throws {
            func decode<E: Event>(_ type: E.Type) throws -> E { try JSON.decoder().decode(E.self, from: JSON.encoder().encode(event.data)) }
            switch event.type {
            case PaymentCompleted.type:
                let paid = try decode(PaymentCompleted.self)
                payments[paid.paymentId, default: Held()].held += paid.amountCents
                add("payer", paid.payerUserId, paid.currency, -paid.amountCents)
                add("escrow", nil, paid.currency, paid.amountCents)
            case EscrowReleased.type:
                let released = try decode(EscrowReleased.self)
                var state = payments[released.paymentId, default: Held()]
                if state.gross != 0 || released.grossCents != state.held { problems.append("release of \(released.paymentId) moved \(released.grossCents) of \(state.held)") }
                if released.netCents + released.feeCents != released.grossCents { problems.append("release of \(released.paymentId) does not add up") }
                state.held -= released.grossCents
                (state.gross, state.fee) = (released.grossCents, released.feeCents)
                payments[released.paymentId] = state
                add("escrow", nil, released.currency, -released.grossCents)
                add("payee", released.payeeUserId, released.currency, released.netCents)
                add("platform_fees", nil, released.currency, released.feeCents)
            case RefundIssued.type:
                let refund = try decode(RefundIssued.self)
                var state = payments[refund.paymentId, default: Held()]
                let fromHeld = min(refund.amountCents, state.held)
                let fromReleased = refund.amountCents - fromHeld
                if fromReleased > 0 { refundsOfReleasedMoney += 1 }
                let feeBack = state.gross > 0 ? (state.fee * fromReleased * 2 + state.gross) / (state.gross * 2) : 0
                if refund.payeeDebitCents != fromReleased - feeBack { problems.append("refund \(refund.refundId) took \(refund.payeeDebitCents) from the payee, not \(fromReleased - feeBack)") }
                state.held -= fromHeld
                payments[refund.paymentId] = state
                add("escrow", nil, refund.currency, -fromHeld)
                add("payee", refund.payeeUserId, refund.currency, -refund.payeeDebitCents)
                add("platform_fees", nil, refund.currency, -feeBack)
                add("payer", refund.payerUserId, refund.currency, refund.amountCents)
            default: break
            }
        }
    }

    @Test(arguments: [ServiceDatabase.Engine.sqlite, .postgres])
    func randomMoneyMovementsStayBalanced(engine: ServiceDatabase.Engine) async throws {
        try await ServiceHarness<Payments>.with(engine) { payments in
            var random = SplitMix(seed: engine == .sqlite ? 7 : 11)
            let companies = (0..<3).map { _ in newId() }
            let vas = (0..<3).map { _ in newId() }
            var operations: [Operation] = []
            for _ in 0..<80 {
                switch Int.random(in: 0..<10, using: &random) {
                case 0..<4:
                    operations.append(.charge(payer: .random(in: 0..<3, using: &random), payee: .random(in: 0..<3, using: &random), cents: .random(in: 1...50_000, using: &random),
                                              currency: Bool.random(using: &random) ? "USD" : "JPY", escrow: Int.random(in: 0..<4, using: &random) > 0, declined: Int.random(in: 0..<8, using: &random) == 0))
                case 4..<6: operations.append(.release(.random(in: 0..<1_000, using: &random)))
                case 6..<9: operations.append(.refund(.random(in: 0..<1_000, using: &random), cents: Bool.random(using: &random) ? .random(in: 1...30_000, using: &random) : nil, admin: Int.random(in: 0..<3, using: &random) > 0))
                default: operations.append(.payoutAccount(.random(in: 0..<3, using: &random)))
                }
            }
            let made = PaymentIds()
            for batch in stride(from: 0, to: operations.count, by: 4).map({ Array(operations[$0..<min($0 + 4, operations.count)]) }) {
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for operation in batch {
                        group.addTask {
                            switch operation {
                            case let .charge(payer, payee, cents, currency, escrow, declined):
                                let payment = try await payments.pay(companies[payer], vas[payee], cents: cents, currency: currency, method: declined ? "pm_card_declined" : "pm_card_visa", milestone: escrow)
                                made.add(payment)
                            case .release(let pick):
                                guard let payment = made.pick(pick) else { return }
                                _ = try await payments.release(payment.id)
                            case let .refund(pick, cents, admin):
                                guard let payment = made.pick(pick) else { return }
                                let amount = cents.map { #","amountCents":\#($0)"# } ?? ""
                                let identity: TestIdentity = admin ? .person(newId(), .admin) : .person(payment.payerUserId, .company)
                                let answer = try await payments.post("/refunds", json: #"{"paymentId":"\#(payment.id)"\#(amount)}"#, as: identity)
                                #expect([201, 409, 422].contains(answer.status.code), "\(String(decoding: answer.body, as: UTF8.self))")
                            case .payoutAccount(let va):
                                _ = try await payments.http("payments-payout-account-set", HandlerTester.Request(
                                    method: .put, path: "/payments/payout-account", headers: [.contentType: "application/json"], body: Data(#"{"accountId":"acct_\#(va)Blytz"}"#.utf8)
                                ), as: .person(vas[va], .va))
                            }
                        }
                    }
                    try await group.waitForAll()
                }
            }
            // However the random run fell, it ends with a refund of released money.
            let last = try await payments.pay(companies[0], vas[0], cents: 10_000, currency: "USD", method: "pm_card_visa", milestone: true)
            made.add(last)
            #expect(try await payments.release(last.id).status == .ok)
            let refund = try await payments.post("/refunds", json: #"{"paymentId":"\#(last.id)","amountCents":4000}"#, as: .person(newId(), .admin))
            #expect(refund.status.code == 201, "\(String(decoding: refund.body, as: UTF8.self))")
            #expect(made.count > 20)
            #expect(try await payments.unbalancedTransactions().isEmpty)

            var model = Model()
            for event in try await payments.published() { try model.replay(event) }
            #expect(model.problems.isEmpty, "\(model.problems)")
            #expect(model.refundsOfReleasedMoney > 0)
            // Nothing was left half done: every refund the provider made is on the ledger.
            #expect(try await payments.call(.get, "/refunds?status=pending&limit=100", as: .person(newId(), .admin)).json(Page<RefundRecord>.self).items.isEmpty)
            for currency in ["USD", "JPY"] {
                #expect(try await payments.balance(.escrow, currency: currency) == model.balances["escrow||\(currency)", default: 0])
                var processor = 0
                for payment in made.all where payment.currency == currency {
                    let now = try await payments.payment(payment.id)
                    processor += now.status.charged || now.status == .refunded ? now.processorFeeCents : 0
                    #expect(now.refundedCents <= now.amountCents)
                    let held = try await payments.database.withConnection { sql in try await Ledger.held(payment.id, currency: currency, on: sql) }
                    #expect(held == model.payments[payment.id, default: .init()].held && held >= 0)
                }
                #expect(try await payments.balance(.processorFees, currency: currency) == processor)
                #expect(try await payments.balance(.platformFees, currency: currency) == model.balances["platform_fees||\(currency)", default: 0] - processor)
                for company in companies {
                    #expect(try await payments.balance(.payer(company), currency: currency) == model.balances["payer|\(company)|\(currency)", default: 0])
                }
                for va in vas {
                    let earned = try await payments.balance(.payable(va), currency: currency) + payments.balance(.inTransit(va), currency: currency) + payments.balance(.paidOut(va), currency: currency)
                    #expect(earned == model.balances["payee|\(va)|\(currency)", default: 0])
                }
            }
        }
    }
}

/// The payments a property run made, shared by its concurrent operations.
final class PaymentIds: Sendable {
    private let list = Mutex<[PaymentRecord]>([])
    func add(_ payment: PaymentRecord) { list.withLock { $0.append(payment) } }
    func pick(_ index: Int) -> PaymentRecord? { list.withLock { $0.isEmpty ? nil : $0[index % $0.count] } }
    var count: Int { list.withLock { $0.count } }
    var all: [PaymentRecord] { list.withLock { $0 } }
}
