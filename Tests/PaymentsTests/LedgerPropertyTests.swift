import Blytz
import BlytzData
import BlytzEvents
import BlytzServices
import BlytzTesting
import Foundation
import HTTPTypes
import PropertyBased
import SQLKit
import Synchronization
import Testing

@testable import Payments

/// Random histories of charges, releases, refunds, disputes and payout registrations, some of their steps
/// run at the same time, over 200 seeds per engine: after each, no ledger transaction is unbalanced, and
/// every payment's escrow and every party's balance equals the one recomputed independently from the
/// events the history published. A failing history is shrunk (swift-property-based) to the fewest steps
/// that still fail, and printed with its seed.
@Suite(.timeLimit(.minutes(4))) struct LedgerPropertyTests {
    /// What a dispute's resolution does with what is held.
    enum Outcome: Int, Sendable { case release, refund, split }

    enum Move: Sendable {
        case charge(payer: Int, payee: Int, cents: Int, currency: String, escrow: Bool, declined: Bool)
        case release(Int)
        case refund(Int, cents: Int?, admin: Bool)
        case payoutAccount(Int)
        case dispute(Int, Outcome)
    }

    /// One step of a history; `together` runs it at the same time as the step before it.
    struct Step: Sendable, CustomStringConvertible {
        var move: Move
        var together: Bool

        /// A step from six numbers, so that shrinking the numbers (toward 0) shrinks the step toward a plain charge.
        init(_ n: [Int]) {
            together = n[5] % 3 == 2
            switch n[0] % 10 {
            case 0..<4:
                // A contract has one currency: escrow under the parties' contract is in theirs.
                let (payer, payee, escrow) = (n[1] % 2, n[2] % 2, n[4] % 4 != 3)
                let currency = (escrow ? payer + payee : n[4]) % 2 == 0 ? "USD" : "JPY"
                move = .charge(payer: payer, payee: payee, cents: 1 + n[3] * 37 % 50_000, currency: currency, escrow: escrow, declined: n[2] % 9 == 8)
            case 4..<6: move = .release(n[1])
            case 6..<8: move = .refund(n[1], cents: n[2] % 2 == 0 ? nil : 1 + n[3] * 29 % 30_000, admin: n[4] % 3 != 0)
            case 8: move = .dispute(n[1], Outcome(rawValue: n[2] % 3)!)
            default: move = .payoutAccount(n[1] % 2)
            }
        }

        var description: String { "\(together ? "+ " : "")\(move)" }
    }

    static let history = Gen.int(in: 0...999).array(of: 6).map(Step.init).array(of: 1...10)

    @Test(arguments: [ServiceDatabase.Engine.sqlite, .postgres])
    func everyHistoryKeepsTheLedgerBalanced(engine: ServiceDatabase.Engine) async throws {
        try await ServiceHarness<Payments>.with(engine) { payments in
            let histories = Atomic<Int>(0)
            await propertyCheck(count: 200, input: Self.history) { steps in
                histories.add(1, ordering: .relaxed)
                try await Self.check(steps, on: payments)
            }
            #expect(histories.load(ordering: .relaxed) >= 200)
        }
    }

    /// Runs `steps` for two companies and two VAs of their own, then checks the ledger against the events.
    static func check(_ steps: [Step], on payments: ServiceHarness<Payments>) async throws {
        let companies = [newId(), newId()]
        let vas = [newId(), newId()]
        let contracts = try await [[payments.contract(companies[0], vas[0]), payments.contract(companies[0], vas[1])],
                                   [payments.contract(companies[1], vas[0]), payments.contract(companies[1], vas[1])]]
        let since = try await payments.outboxSeq()
        let before = try await globalBalances(payments)
        let made = PaymentIds()
        var groups: [[Step]] = []
        for step in steps {
            if step.together, !groups.isEmpty { groups[groups.count - 1].append(step) } else { groups.append([step]) }
        }
        for group in groups {
            try await withThrowingTaskGroup(of: Void.self) { tasks in
                for step in group {
                    tasks.addTask { try await run(step.move, on: payments, companies: companies, vas: vas, contracts: contracts, made: made) }
                }
                try await tasks.waitForAll()
            }
        }

        #expect(try await payments.unbalancedTransactions().isEmpty)
        var model = Model()
        for event in try await payments.published(after: since) { try model.replay(event) }
        #expect(model.problems.isEmpty, "\(model.problems)")
        for payment in made.all {
            let now = try await payments.payment(payment.id)
            #expect(now.refundedCents <= now.amountCents)
            let held = try await payments.database.withConnection { sql in try await Ledger.held(payment.id, currency: payment.currency, on: sql) }
            #expect(held == model.payments[payment.id, default: .init()].held && held >= 0, "escrow of \(payment.id)")
        }
        // The platform's own accounts moved by what this history's events say (histories run one at a time).
        let after = try await globalBalances(payments)
        for currency in ["USD", "JPY"] {
            var processor = 0
            for payment in made.all where payment.currency == currency {
                let now = try await payments.payment(payment.id)
                processor += now.status.charged || now.status == .refunded ? now.processorFeeCents : 0
            }
            let moved = { (account: String) in after["\(account)|\(currency)", default: 0] - before["\(account)|\(currency)", default: 0] }
            #expect(moved("escrow") == model.balances["escrow||\(currency)", default: 0], "escrow \(currency)")
            #expect(moved("processor") == processor, "processor fees \(currency)")
            #expect(moved("platform") == model.balances["platform_fees||\(currency)", default: 0] - processor, "platform fees \(currency)")
            for company in companies {
                #expect(try await payments.balance(.payer(company), currency: currency) == model.balances["payer|\(company)|\(currency)", default: 0], "payer \(currency)")
            }
            for va in vas {
                let earned = try await payments.balance(.payable(va), currency: currency) + payments.balance(.inTransit(va), currency: currency) + payments.balance(.paidOut(va), currency: currency)
                #expect(earned == model.balances["payee|\(va)|\(currency)", default: 0], "payee \(currency)")
            }
        }
    }

    /// The escrow, platform-fee and processor-fee balances by currency (`escrow|USD`, …).
    static func globalBalances(_ payments: ServiceHarness<Payments>) async throws -> [String: Int] {
        var balances: [String: Int] = [:]
        for (name, account) in [("escrow", LedgerAccount.escrow), ("platform", .platformFees), ("processor", .processorFees)] {
            for currency in ["USD", "JPY"] { balances["\(name)|\(currency)"] = try await payments.balance(account, currency: currency) }
        }
        return balances
    }

    static func run(_ move: Move, on payments: ServiceHarness<Payments>, companies: [String], vas: [String], contracts: [[String]], made: PaymentIds) async throws {
        switch move {
        case let .charge(payer, payee, cents, currency, escrow, declined):
            // Escrow is a milestone of the parties' contract, funded by the contracts service for the company.
            let link = escrow ? #","contractId":"\#(contracts[payer][payee])","milestoneId":"\#(newId())""# : ""
            let body = #"{"payeeUserId":"\#(vas[payee])","amountCents":\#(cents),"currency":"\#(currency)","paymentMethod":"\#(declined ? "pm_card_declined" : "pm_card_visa")"\#(link)}"#
            let identity: TestIdentity = escrow ? .service(.contracts, actingFor: (companies[payer], .company)) : .person(companies[payer], .company)
            let answer = try await payments.post("/payments", json: body, as: identity)
            #expect(answer.status == .created, "\(String(decoding: answer.body, as: UTF8.self))")
            if answer.status == .created { made.add(try answer.json(PaymentRecord.self)) }
        case .release(let pick):
            guard let payment = made.pick(pick) else { return }
            #expect(try await payments.release(payment.id).status.code < 500)
        case let .refund(pick, cents, admin):
            guard let payment = made.pick(pick) else { return }
            let amount = cents.map { #","amountCents":\#($0)"# } ?? ""
            let identity: TestIdentity = admin ? .person(newId(), .admin) : .person(payment.payerUserId, .company)
            let answer = try await payments.post("/refunds", json: #"{"paymentId":"\#(payment.id)"\#(amount)}"#, as: identity)
            #expect([201, 409, 422].contains(answer.status.code), "\(String(decoding: answer.body, as: UTF8.self))")
        case .payoutAccount(let va):
            let answer = try await payments.http("payments-payout-account-set", HandlerTester.Request(
                method: .put, path: "/payments/payout-account", headers: [.contentType: "application/json"], body: Data(#"{"accountId":"acct_\#(va)Blytz"}"#.utf8)
            ), as: .person(vas[va], .va))
            #expect(answer.status.code < 500)
        case let .dispute(pick, outcome):
            guard let payment = made.pick(pick), let contract = payment.contractId else { return }
            let opened = try await payments.dispute(contract, as: .person(payment.payeeUserId, .va))
            guard opened.status == .created else {
                #expect([404, 409, 422].contains(opened.status.code), "\(String(decoding: opened.body, as: UTF8.self))")
                return
            }
            let dispute = try opened.json(DisputeView.self).dispute
            // A split names amounts that sum to what is held when it is resolved; a charge made at the same
            // time may still add to it, so the amounts are read again if they no longer add up.
            var resolved: HandlerTester.Response
            var attempts = 0
            repeat {
                attempts += 1
                let held = try await payments.database.withConnection { sql in try await Disputes.held(contract: contract, payment: dispute.paymentId, on: sql) }.map(\.held).reduce(0, +)
                let body = switch outcome {
                case .release: #"{"resolution":"release"}"#
                case .refund: #"{"resolution":"refund"}"#
                case .split where held >= 2: #"{"resolution":"split","releaseCents":\#(held / 2),"refundCents":\#(held - held / 2)}"#
                case .split: #"{"resolution":"refund"}"#
                }
                resolved = try await payments.resolve(dispute.id, body, as: .person(newId(), .admin))
            } while resolved.status == .unprocessableContent && attempts < 3
            #expect(resolved.status == .ok, "\(String(decoding: resolved.body, as: UTF8.self))")
        }
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
                // Released once: all that is held, or a dispute's share of it.
                if state.gross != 0 || released.grossCents > state.held || released.grossCents <= 0 { problems.append("release of \(released.paymentId) moved \(released.grossCents) of \(state.held)") }
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
}

/// The payments a property run made, shared by its concurrent operations.
final class PaymentIds: Sendable {
    private let list = Mutex<[PaymentRecord]>([])
    func add(_ payment: PaymentRecord) { list.withLock { $0.append(payment) } }
    func pick(_ index: Int) -> PaymentRecord? { list.withLock { $0.isEmpty ? nil : $0[index % $0.count] } }
    var count: Int { list.withLock { $0.count } }
    var all: [PaymentRecord] { list.withLock { $0 } }
}
