import Blytz
import BlytzData
import BlytzEvents
import BlytzServices
import BlytzTesting
import Foundation
import HTTPTypes
import SQLKit
import Testing

@testable import Contracts

/// Milestones with escrow through the payments stand-in, timesheets and their rules, and invoices.
@Suite struct WorkAndMoneyTests {
    @Test(arguments: [ServiceDatabase.Engine.sqlite, .postgres])
    func milestonesAreFundedHeldAndReleasedOnce(engine: ServiceDatabase.Engine) async throws {
        let peers = PeerStandIn()
        try await peers.serve(engine) { contracts in
            let (company, va) = (newId(), newId())
            let contract = try await contracts.contract(peers, company: company, va: va, type: .fixed)
            func milestone(_ title: String, _ cents: Int) async throws -> MilestoneRecord {
                contracts.time.advance(by: .seconds(1))
                return try await contracts.call(.post, "/contracts/\(contract.id)/milestones", json: #"{"title":"\#(title)","amountCents":\#(cents)}"#, as: .person(company, .company)).json(MilestoneRecord.self)
            }
            #expect(try await contracts.call(.post, "/contracts/\(contract.id)/milestones", json: #"{"title":"Design","amountCents":100}"#, as: .person(va, .va)).status == .forbidden)
            // Who may call is decided before the body is read: the VA's, or an outsider's, invalid amount tells them nothing.
            #expect(try await contracts.call(.post, "/contracts/\(contract.id)/milestones", json: #"{"title":"Design","amountCents":0}"#, as: .person(va, .va)).status == .forbidden)
            #expect(try await contracts.call(.post, "/contracts/\(contract.id)/milestones", json: #"{"amountCents":0}"#, as: .person(newId(), .company)).status == .notFound)
            #expect(try await contracts.call(.post, "/contracts/\(contract.id)/milestones", json: #"{"amountCents":0}"#, as: .person(company, .company)).problemFields == ["amountCents"])
            let design = try await milestone("Design", 40_000)
            #expect(try await contracts.call(.patch, "/milestones/\(design.id)", json: #"{"amountCents":45000}"#, as: .person(company, .company)).json(MilestoneRecord.self).amountCents == 45_000)
            #expect(try await contracts.call(.post, "/milestones/\(design.id)/submit", as: .person(va, .va)).problemFields == ["status"])
            // Funded at once by a card that succeeds; the key names the milestone and its attempt.
            let funded = try await contracts.call(.post, "/milestones/\(design.id)/fund", json: #"{"paymentMethod":"pm_card_visa"}"#, as: .person(company, .company)).json(FundingView.self)
            #expect(funded.milestone.status == .funded && funded.payment?.status == "succeeded" && peers.charges == 1)
            #expect(try await contracts.call(.delete, "/milestones/\(design.id)", as: .person(company, .company)).problemFields == ["status"])
            // Submitted, rejected, submitted again, approved: released once, paid, counted once.
            #expect(try await contracts.call(.post, "/milestones/\(design.id)/submit", as: .person(company, .company)).status == .forbidden)
            _ = try await contracts.call(.post, "/milestones/\(design.id)/submit", as: .person(va, .va))
            #expect(try await contracts.call(.post, "/milestones/\(design.id)/reject", as: .person(company, .company)).json(MilestoneRecord.self).status == .rejected)
            _ = try await contracts.call(.post, "/milestones/\(design.id)/submit", as: .person(va, .va))
            let paid = try await contracts.call(.post, "/milestones/\(design.id)/approve", as: .person(company, .company)).json(MilestoneRecord.self)
            #expect(paid.status == .paid && peers.releases == 1)
            #expect(try await contracts.published(MilestoneApproved.self).map(\.milestoneId) == [design.id])
            let released = EscrowReleased(paymentId: paid.paymentId ?? "", contractId: contract.id, milestoneId: design.id, payerUserId: company, payeeUserId: va,
                                          grossCents: 45_000, feeCents: 4_500, netCents: 40_500, currency: "USD")
            _ = try await contracts.deliver([released], to: "contracts-on-payments")
            #expect(try await contracts.call(.get, "/contracts/\(contract.id)", as: .person(va, .va)).json(ContractRecord.self).totalPaidCents == 45_000)

            // A declined card leaves it pending (402); one that needs an extra step stays funding until the event.
            let copy = try await milestone("Copy", 10_000)
            let declined = try await contracts.call(.post, "/milestones/\(copy.id)/fund", json: #"{"paymentMethod":"pm_card_declined"}"#, as: .person(company, .company))
            #expect(declined.status.code == 402 && declined.problemFields == ["paymentMethod"])
            let waiting = try await contracts.call(.post, "/milestones/\(copy.id)/fund", json: #"{"paymentMethod":"pm_card_3ds"}"#, as: .person(company, .company)).json(FundingView.self)
            #expect(waiting.milestone.status == .funding && waiting.payment?.nextAction == .confirmPayment)
            let completed = PaymentCompleted(paymentId: waiting.payment?.id ?? "", payerUserId: company, payeeUserId: va, contractId: contract.id, milestoneId: copy.id,
                                             invoiceId: nil, amountCents: 10_000, currency: "USD", escrow: true)
            for _ in 0..<2 { _ = try await contracts.deliver([completed], to: "contracts-on-payments", id: "completed-\(copy.id)") }
            let listed = try await contracts.call(.get, "/contracts/\(contract.id)/milestones", as: .person(va, .va)).json(Page<MilestoneRecord>.self).items
            #expect(listed.map(\.status) == [.paid, .funded])

            // Payments down: 503 at once, the milestone stays funding; a repeat once it is back charges once.
            let ads = try await milestone("Ads", 5_000)
            peers.set(.unavailable)
            let down = try await contracts.call(.post, "/milestones/\(ads.id)/fund", as: .person(company, .company))
            #expect(down.status == .serviceUnavailable && down.headers[.retryAfter] != nil)
            peers.set(.failAfterCharging)
            #expect(try await contracts.call(.post, "/milestones/\(ads.id)/fund", as: .person(company, .company)).status == .badGateway)
            peers.set(.up)
            let charges = peers.charges
            let finished = try await contracts.call(.post, "/milestones/\(ads.id)/fund", as: .person(company, .company)).json(FundingView.self)
            #expect(finished.milestone.status == .funded && peers.charges == charges)
        }
    }

    @Test(arguments: [ServiceDatabase.Engine.sqlite, .postgres])
    func cancellingRefundsWhatIsHeldOnce(engine: ServiceDatabase.Engine) async throws {
        let peers = PeerStandIn()
        try await peers.serve(engine) { contracts in
            let (company, va) = (newId(), newId())
            let contract = try await contracts.contract(peers, company: company, va: va, type: .fixed)
            func milestone(_ title: String, _ cents: Int, fund method: String? = nil) async throws -> MilestoneRecord {
                contracts.time.advance(by: .seconds(1))
                let made = try await contracts.call(.post, "/contracts/\(contract.id)/milestones", json: #"{"title":"\#(title)","amountCents":\#(cents)}"#, as: .person(company, .company)).json(MilestoneRecord.self)
                guard let method else { return made }
                return try await contracts.call(.post, "/milestones/\(made.id)/fund", json: #"{"paymentMethod":"\#(method)"}"#, as: .person(company, .company)).json(FundingView.self).milestone
            }
            let funded = try await milestone("Design", 10_000, fund: "pm_card_visa")
            let submitted = try await milestone("Build", 5_000, fund: "pm_card_visa")
            _ = try await contracts.call(.post, "/milestones/\(submitted.id)/submit", as: .person(va, .va))
            let unfunded = try await milestone("Launch", 3_000)
            // While a charge is in flight the cancel waits for it.
            let charging = try await milestone("Ads", 2_000, fund: "pm_card_3ds")
            let waiting = try await contracts.call(.post, "/contracts/\(contract.id)/cancel", as: .person(va, .va))
            #expect(waiting.status == .conflict && waiting.problemFields == ["milestones"])
            let failed = PaymentFailed(paymentId: charging.paymentId ?? "", payerUserId: company, payeeUserId: va, contractId: contract.id, milestoneId: charging.id,
                                       invoiceId: nil, amountCents: 2_000, currency: "USD", reason: "declined")
            _ = try await contracts.deliver([failed], to: "contracts-on-payments")

            // Payments down: the cancel stands, its refunds wait; a repeat once payments is back refunds each once.
            peers.set(.unavailable)
            let down = try await contracts.call(.post, "/contracts/\(contract.id)/cancel", as: .person(va, .va))
            #expect(down.status == .serviceUnavailable && down.headers[.retryAfter] != nil)
            #expect(try await contracts.call(.get, "/contracts/\(contract.id)", as: .person(company, .company)).json(ContractRecord.self).status == .cancelled)
            peers.set(.up)
            let done = try await contracts.call(.post, "/contracts/\(contract.id)/cancel", as: .person(va, .va))
            #expect(done.status == .ok && peers.refunds == 2)
            #expect(try await contracts.call(.post, "/contracts/\(contract.id)/cancel", as: .person(va, .va)).status == .conflict)
            try await contracts.fire("contracts-reconcile")
            #expect(peers.refunds == 2)
            let statuses = try await contracts.call(.get, "/contracts/\(contract.id)/milestones", as: .person(va, .va)).json(Page<MilestoneRecord>.self).items
            #expect(Dictionary(uniqueKeysWithValues: statuses.map { ($0.id, $0.status) }) == [funded.id: .refunded, submitted.id: .refunded, unfunded.id: .pending, charging.id: .pending])
            #expect(try await contracts.published(ContractCancelled.self).count == 1)
        }
    }

    @Test(arguments: [ServiceDatabase.Engine.sqlite, .postgres])
    func timesheetsFollowTheirRulesAlsoWhenSentAtOnce(engine: ServiceDatabase.Engine) async throws {
        let peers = PeerStandIn()
        try await peers.serve(engine) { contracts in
            let (company, va) = (newId(), newId())
            let contract = try await contracts.contract(peers, company: company, va: va, extra: #","timezone":"Asia/Manila""#)
            func log(_ date: String, _ start: String, _ end: String, as who: TestIdentity? = nil) async throws -> HandlerTester.Response {
                try await contracts.call(.post, "/contracts/\(contract.id)/timesheets", json: #"{"date":"\#(date)","startTime":"\#(start)","endTime":"\#(end)","description":"Inbox"}"#,
                                         as: who ?? .person(va, .va))
            }
            // Manila is UTC+8 (the clock reads 16:00 there): 09:00–12:00 on the 15th is 01:00–04:00 UTC; hours come from the times.
            let entry = try await log("2027-01-15", "09:00", "12:00").json(TimesheetRecord.self)
            #expect(entry.minutes == 180 && entry.startAt == "2027-01-15T01:00:00.000Z" && entry.status == .pending)
            #expect(try await log("2027-01-15", "11:00", "13:00").status == .conflict)
            #expect(try await log("2027-01-15", "19:00", "21:00").problemFields == ["endTime"])   // 11:00–13:00 UTC: after now (08:00)
            #expect(try await log("2027-01-16", "09:00", "10:00").problemFields == ["endTime"])
            #expect(try await log("2027-01-14", "10:00", "09:00").problemFields == ["endTime"])
            #expect(try await log("2027-01-14", "25:00", "26:00").problemFields == ["startTime", "endTime"])
            #expect(try await log("2027-01-14", "09:00", "10:00", as: .person(company, .company)).status == .forbidden)
            // A whole day is the most a day holds: anything more overlaps it.
            #expect(try await log("2027-01-13", "00:00", "24:00").json(TimesheetRecord.self).minutes == 1_440)
            #expect(try await log("2027-01-13", "23:00", "23:30").status == .conflict)
            // Edits and deletes while pending; the company approves or rejects.
            #expect(try await contracts.call(.patch, "/timesheets/\(entry.id)", json: #"{"endTime":"12:30"}"#, as: .person(va, .va)).json(TimesheetRecord.self).minutes == 210)
            #expect(try await contracts.call(.post, "/timesheets/\(entry.id)/approve", as: .person(va, .va)).status == .forbidden)
            #expect(try await contracts.call(.post, "/timesheets/\(entry.id)/approve", as: .person(company, .company)).json(TimesheetRecord.self).status == .approved)
            #expect(try await contracts.call(.patch, "/timesheets/\(entry.id)", json: #"{"endTime":"13:00"}"#, as: .person(va, .va)).problemFields == ["status"])
            #expect(try await contracts.call(.delete, "/timesheets/\(entry.id)", as: .person(va, .va)).problemFields == ["status"])
            let spare = try await log("2027-01-12", "09:00", "10:00").json(TimesheetRecord.self)
            #expect(try await contracts.call(.delete, "/timesheets/\(spare.id)", as: .person(va, .va)).status == .noContent)
            // Ten entries for one slot at once: one is kept.
            let answers = try await withThrowingTaskGroup(of: HTTPResponse.Status.self) { group in
                for _ in 0..<10 { group.addTask { try await log("2027-01-11", "09:00", "11:00").status } }
                return try await group.reduce(into: [HTTPResponse.Status]()) { $0.append($1) }
            }
            #expect(answers.filter { $0 == .created }.count == 1 && answers.filter { $0 == .conflict }.count == 9)
            // Only hourly, active contracts take time.
            let fixed = try await contracts.contract(peers, company: company, va: va, type: .fixed)
            #expect(try await contracts.call(.post, "/contracts/\(fixed.id)/timesheets", json: #"{"date":"2027-01-10","startTime":"09:00","endTime":"10:00"}"#, as: .person(va, .va)).status == .conflict)
            let listed = try await contracts.call(.get, "/contracts/\(contract.id)/timesheets?status=approved", as: .person(company, .company)).json(Page<TimesheetRecord>.self)
            #expect(listed.items.map(\.id) == [entry.id])
        }
    }

    @Test(arguments: [ServiceDatabase.Engine.sqlite, .postgres])
    func invoicesBillWorkOnceWithGaplessNumbers(engine: ServiceDatabase.Engine) async throws {
        let peers = PeerStandIn()
        try await peers.serve(engine) { contracts in
            let (company, va) = (newId(), newId())
            let contract = try await contracts.contract(peers, company: company, va: va, extra: #","taxRateBasisPoints":825,"discountBasisPoints":1250,"paymentDays":7"#)
            let entry = try await contracts.call(.post, "/contracts/\(contract.id)/timesheets", json: #"{"date":"2027-01-14","startTime":"09:00","endTime":"09:50"}"#, as: .person(va, .va)).json(TimesheetRecord.self)
            #expect(try await contracts.call(.post, "/contracts/\(contract.id)/invoices", as: .person(va, .va)).status == .conflict)
            _ = try await contracts.call(.post, "/timesheets/\(entry.id)/approve", as: .person(company, .company))
            let invoice = try await contracts.call(.post, "/contracts/\(contract.id)/invoices", as: .person(va, .va)).json(InvoiceRecord.self)
            // 50 minutes at $25/h: 2083 cents; 12.5% off: 1823; 8.25% tax: 150.
            #expect(invoice.number == "INV-2027-000001" && invoice.subtotalCents == 2_083 && invoice.discountCents == 260 && invoice.taxCents == 150)
            #expect(invoice.totalCents == 1_973 && invoice.dueCents == 1_973 && invoice.dueDate == "2027-01-22" && invoice.status == .issued)
            #expect(try await contracts.call(.post, "/contracts/\(contract.id)/invoices", as: .person(company, .company)).status == .conflict)
            #expect(try await contracts.published(InvoiceIssued.self).map(\.number) == ["INV-2027-000001"])
            // A printable page for a person.
            let page = try await contracts.http("contracts-invoices-get", HandlerTester.Request(method: .get, path: "/invoices/\(invoice.id)", pathParameters: ["id": invoice.id], headers: [.accept: "text/html"]), as: .person(company, .company))
            #expect(page.headers[.contentType]?.hasPrefix("text/html") == true && String(decoding: page.body, as: UTF8.self).contains("INV-2027-000001"))
            #expect(try await contracts.call(.get, "/invoices/\(invoice.id)", as: .person(newId(), .company)).status == .notFound)
            // Cancelled, its work is billed again under the next number; then overdue past its date; then paid.
            #expect(try await contracts.call(.post, "/invoices/\(invoice.id)/cancel", as: .person(va, .va)).status == .forbidden)
            #expect(try await contracts.call(.post, "/invoices/\(invoice.id)/cancel", as: .person(company, .company)).json(InvoiceRecord.self).status == .cancelled)
            contracts.time.advance(by: .seconds(60))
            let again = try await contracts.call(.post, "/contracts/\(contract.id)/invoices", as: .person(company, .company)).json(InvoiceRecord.self)
            #expect(again.number == "INV-2027-000002" && again.lines.map(\.itemId) == [entry.id])
            contracts.time.advance(by: .seconds(8 * 86_400))
            try await contracts.fire("contracts-invoices-overdue")
            #expect(try await contracts.call(.get, "/invoices/\(again.id)", as: .person(va, .va)).json(InvoiceRecord.self).status == .overdue)
            let paid = try await contracts.call(.post, "/invoices/\(again.id)/pay", json: #"{"paymentMethod":"pm_card_visa"}"#, as: .person(company, .company)).json(InvoiceRecord.self)
            #expect(paid.status == .paid && paid.paymentId != nil)
            #expect(try await contracts.call(.post, "/invoices/\(again.id)/pay", as: .person(company, .company)).problemFields == ["status"])
            #expect(try await contracts.call(.get, "/invoices", as: .person(va, .va)).json(Page<InvoiceRecord>.self).items.map(\.number) == ["INV-2027-000002", "INV-2027-000001"])

            // Twenty issuers at once, each on its own contract: twenty numbers, none missing, none twice.
            var ready: [ContractRecord] = []
            for _ in 0..<20 {
                let other = try await contracts.contract(peers, company: company, va: newId())
                let logged = try await contracts.call(.post, "/contracts/\(other.id)/timesheets", json: #"{"date":"2027-01-14","startTime":"09:00","endTime":"10:00"}"#, as: .person(other.vaUserId, .va)).json(TimesheetRecord.self)
                _ = try await contracts.call(.post, "/timesheets/\(logged.id)/approve", as: .person(company, .company))
                ready.append(other)
            }
            let numbers = try await withThrowingTaskGroup(of: Int.self) { group in
                for other in ready { group.addTask { try await contracts.call(.post, "/contracts/\(other.id)/invoices", as: .person(other.vaUserId, .va)).json(InvoiceRecord.self).sequence } }
                return try await group.reduce(into: [Int]()) { $0.append($1) }
            }
            #expect(numbers.sorted() == Array(3...22))
        }
    }
}
