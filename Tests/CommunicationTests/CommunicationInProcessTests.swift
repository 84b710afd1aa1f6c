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

    @Test func moneyIsWrittenWithTheCurrencysMinorUnits() {
        #expect(Money.text(125_000, "usd") == "USD 1,250.00")
        #expect(Money.text(5_000, "JPY") == "JPY 5,000")
    }
}
