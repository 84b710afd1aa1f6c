import Blytz
import BlytzData
import BlytzEvents
import BlytzTesting
import Foundation
import HTTPTypes
import Testing
@testable import Communication

/// The communication service's notification rules in process (`ServiceHarness`), on SQLite and PostgreSQL.
@Suite struct CommunicationInProcessTests {
    struct Note: Codable { var type: String; var title: String; var message: String; var link: String? }

    @Test(arguments: [ServiceDatabase.Engine.sqlite, .postgres])
    func typedEventsBecomeNotificationsAsPreferencesAllow(engine: ServiceDatabase.Engine) async throws {
        try await ServiceHarness<Communication>.with(engine) { communication in
            let company = UUID().uuidString.lowercased()
            let va = UUID().uuidString.lowercased()
            let names = [UserCreated(userId: va, email: "vera@example.com", role: .va), UserCreated(userId: company, email: "acme@example.com", role: .company)]
            try await communication.deliver(names, to: "communication-directory")
            try await communication.deliver([
                ProfileUpdated(userId: va, kind: .va, deleted: false, vaProfile: VAProfileSnapshot(
                    userId: va, name: "Vera Cruz", bio: "", country: "PH", timezone: nil, hourlyRateCents: 1500, currency: "USD", skills: [],
                    availability: "full-time", available: true, averageRating: 0, totalReviews: 0, completedJobs: 0, verificationLevel: "none",
                    avatarFileId: nil, updatedAt: communication.time.now.iso
                )),
            ], to: "communication-directory")

            let proposal = ProposalSubmitted(proposalId: "p1", jobPostingId: "j1", jobTitle: "Shopify support", companyUserId: company, vaUserId: va)
            #expect(try await communication.deliver([proposal], to: "communication-on-proposal-submitted").isEmpty)
            let listed = try await communication.http("communication-notification-list", .get("/notifications"), as: .person(company, .company))
            let notes = try listed.json(Page<Note>.self).items
            #expect(notes.map(\.message) == ["Vera Cruz sent a proposal for your job “Shopify support”."])
            #expect(notes.first?.link == "/jobs/j1/proposals/p1")

            // In-app off for proposals: the next one makes no notification.
            let off = #"{"preferences":[{"type":"ProposalSubmitted","inApp":false}]}"#
            #expect(try await communication.http("communication-preferences-put", .init(method: .put, path: "/notifications/preferences", headers: [.contentType: "application/json"], body: Data(off.utf8)), as: .person(company, .company)).status == 200)
            try await communication.deliver([ProposalSubmitted(proposalId: "p2", jobPostingId: "j1", jobTitle: nil, companyUserId: company, vaUserId: va)], to: "communication-on-proposal-submitted")
            let after = try await communication.http("communication-notification-list", .get("/notifications"), as: .person(company, .company)).json(Page<Note>.self).items
            #expect(after.count == 1)

            // A charge into escrow tells the payer that it is held; the payee hears nothing yet.
            let charge = PaymentCompleted(paymentId: "pay1", payerUserId: company, payeeUserId: va, contractId: "c1", milestoneId: "m1", invoiceId: nil, amountCents: 125_000, currency: "USD", escrow: true)
            communication.time.advance(by: .seconds(1))
            try await communication.deliver([charge], to: "communication-on-payment-completed")
            let payer = try await communication.http("communication-notification-list", .get("/notifications"), as: .person(company, .company)).json(Page<Note>.self).items
            #expect(payer.first?.message == "Your payment of USD 1,250.00 to Vera Cruz went through and is held in escrow until you approve the work.")
            let payee = try await communication.http("communication-notification-list", .get("/notifications"), as: .person(va, .va)).json(Page<Note>.self).items
            #expect(payee.filter { $0.type == "PaymentCompleted" }.isEmpty)
        }
    }

    /// The money path's events: each party hears once, with the other party's name, the amount with its
    /// currency and a link; a repeat of an event makes nothing new.
    @Test(arguments: [ServiceDatabase.Engine.sqlite, .postgres])
    func moneyEventsTellEachPartyOnceWithNamesAmountsAndLinks(engine: ServiceDatabase.Engine) async throws {
        try await ServiceHarness<Communication>.with(engine) { communication in
            let (company, va) = (UUID().uuidString.lowercased(), UUID().uuidString.lowercased())
            try await communication.deliver([
                ProfileUpdated(userId: va, kind: .va, deleted: false, vaProfile: VAProfileSnapshot(
                    userId: va, name: "Vera Cruz", bio: "", country: "PH", timezone: nil, hourlyRateCents: 1500, currency: "USD", skills: [],
                    availability: "full-time", available: true, averageRating: 0, totalReviews: 0, completedJobs: 0, verificationLevel: "none",
                    avatarFileId: nil, updatedAt: communication.time.now.iso
                )),
                ProfileUpdated(userId: company, kind: .company, deleted: false, companyProfile: CompanySnapshot(
                    userId: company, name: "Acme Remote Ops", country: "US", industry: "retail", logoFileId: nil, verificationLevel: "none", updatedAt: communication.time.now.iso
                )),
            ], to: "communication-directory")
            let deliveries: [(any Event, String)] = [
                (ContractCancelled(contractId: "c1", title: "Inbox zero", companyUserId: company, vaUserId: va, cancelledBy: company, reason: "Budget cut."), "communication-on-contract-cancelled"),
                (InvoiceIssued(invoiceId: "i1", contractId: "c1", number: "INV-000042", totalCents: 24_000, dueCents: 24_000, currency: "USD", dueDate: "2026-12-31", companyUserId: company, vaUserId: va), "communication-on-invoice-issued"),
                (PaymentFailed(paymentId: "p1", payerUserId: company, payeeUserId: va, contractId: "c1", milestoneId: "m1", invoiceId: nil, amountCents: 5_000, currency: "USD", reason: "The card was declined."), "communication-on-payment-failed"),
                (EscrowReleased(paymentId: "p2", contractId: "c1", milestoneId: "m2", payerUserId: company, payeeUserId: va, grossCents: 20_000, feeCents: 2_000, netCents: 18_000, currency: "USD"), "communication-on-escrow-released"),
                (RefundIssued(refundId: "r1", paymentId: "p2", contractId: "c1", payerUserId: company, payeeUserId: va, amountCents: 3_000, payeeDebitCents: 2_700, currency: "USD"), "communication-on-refund-issued"),
                (DisputeResolved(disputeId: "d1", contractId: "c1", resolution: .split, releasedCents: 12_000, refundedCents: 8_001, currency: "USD", companyUserId: company, vaUserId: va), "communication-on-dispute-resolved"),
            ]
            for (event, function) in deliveries {
                communication.time.advance(by: .seconds(1))
                #expect(try await communication.deliver([event], to: function, id: "event-\(function)").isEmpty)
                // Delivered again (at least once): nothing new.
                #expect(try await communication.deliver([event], to: function, id: "event-\(function)").isEmpty)
            }
            func notes(_ user: String, _ role: Role) async throws -> [String: [Note]] {
                let items = try await communication.http("communication-notification-list", .get("/notifications?limit=100"), as: .person(user, role)).json(Page<Note>.self).items
                return Dictionary(grouping: items, by: \.type)
            }
            let toCompany = try await notes(company, .company)
            let toVA = try await notes(va, .va)
            #expect(toCompany["ContractCancelled"] == nil)
            #expect(toVA["ContractCancelled"]?.map(\.message) == ["Your contract “Inbox zero” with Acme Remote Ops was cancelled by Acme Remote Ops. Money still held in escrow goes back to the company. Reason: Budget cut."])
            #expect(toCompany["InvoiceIssued"]?.map(\.message) == ["Invoice INV-000042 from Vera Cruz for USD 240.00 is due by 2026-12-31."])
            #expect(toVA["InvoiceIssued"]?.map(\.link) == ["/invoices/i1"])
            #expect(toCompany["PaymentFailed"]?.map(\.message) == ["Your payment of USD 50.00 to Vera Cruz did not go through: The card was declined. Nothing was charged."])
            #expect(toVA["PaymentFailed"] == nil)
            #expect(toVA["EscrowReleased"]?.map(\.message) == ["Acme Remote Ops released USD 200.00 from escrow: USD 180.00 is yours after the USD 20.00 platform fee."])
            #expect(toCompany["EscrowReleased"]?.map(\.message) == ["USD 200.00 held in escrow was released to Vera Cruz."])
            #expect(toCompany["RefundIssued"]?.map(\.message) == ["You were refunded USD 30.00 of your payment to Vera Cruz."])
            #expect(toVA["RefundIssued"]?.map(\.message) == ["USD 30.00 of a payment from Acme Remote Ops was refunded; USD 27.00 was taken back from your earnings."])
            let resolved = "The dispute on your contract was resolved: USD 120.00 was released to Vera Cruz and USD 80.01 refunded to Acme Remote Ops."
            #expect(toCompany["DisputeResolved"]?.map(\.message) == [resolved] && toVA["DisputeResolved"]?.map(\.message) == [resolved])
            #expect(toVA["DisputeResolved"]?.first?.link == "/disputes/d1")
        }
    }

    @Test func moneyIsWrittenWithTheCurrencysMinorUnits() {
        #expect(Money.text(125_000, "usd") == "USD 1,250.00")
        #expect(Money.text(5_000, "JPY") == "JPY 5,000")
    }
}
