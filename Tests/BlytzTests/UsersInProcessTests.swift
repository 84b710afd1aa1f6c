import Blytz
import BlytzData
import BlytzEvents
import BlytzTesting
import Foundation
import SQLKit
import Testing
@testable import Users

/// The user service's rules in process (`ServiceHarness`): handlers called directly, on SQLite and on
/// PostgreSQL, with the manual clock for what depends on time.
@Suite struct UsersInProcessTests {
    static let register = #"{"email":"ana@example.com","password":"correct horse battery","role":"va"}"#

    @Test(arguments: [ServiceDatabase.Engine.sqlite, .postgres])
    func resetMailIsThrottledByTheClockHandlersRead(engine: ServiceDatabase.Engine) async throws {
        try await ServiceHarness<Users>.with(engine, configuration: ["BCRYPT_COST": "4"]) { users in
            #expect(try await users.http("users-register", .post("/auth/register", json: Self.register)).status == 201)
            let forgot = HandlerTester.HTTPRequest.post("/auth/password/forgot", json: #"{"email":"ana@example.com"}"#)
            #expect(try await users.http("users-password-forgot", forgot).status == 202)
            #expect(try await users.http("users-password-forgot", forgot).status == 202)
            #expect(try await users.published(PasswordResetRequested.self).count == 1)
            users.time.advance(by: .seconds(61))
            #expect(try await users.http("users-password-forgot", forgot).status == 202)
            let resets = try await users.published(PasswordResetRequested.self)
            #expect(resets.count == 2 && resets[0].token != resets[1].token)
            // The first token was voided by the second; the second expires an hour later by the same clock.
            let reset = #"{"token":"\#(resets[0].token)","password":"another good password"}"#
            #expect(try await users.http("users-password-reset", .post("/auth/password/reset", json: reset)).status == 400)
            users.time.advance(by: .seconds(3_601))
            let late = #"{"token":"\#(resets[1].token)","password":"another good password"}"#
            #expect(try await users.http("users-password-reset", .post("/auth/password/reset", json: late)).status == 400)
        }
    }

    @Test(arguments: [ServiceDatabase.Engine.sqlite, .postgres])
    func moneyAndReviewsMoveTheAggregatesOnceAndRepublishTheProfile(engine: ServiceDatabase.Engine) async throws {
        try await ServiceHarness<Users>.with(engine, configuration: ["BCRYPT_COST": "4"]) { users in
            let registered = try await users.http("users-register", .post("/auth/register", json: Self.register))
            struct Session: Decodable { struct User: Decodable { var id: String }; var user: User }
            let va = try registered.json(Session.self).user.id
            let profile = #"{"name":"Ana Reyes","country":"PH","hourlyRateCents":1500,"skills":["Excel"]}"#
            #expect(try await users.http("users-va-create", .post("/profiles/va", json: profile), as: .person(va, .va)).status == 201)
            let company = UUID().uuidString.lowercased()
            let contract = UUID().uuidString.lowercased()
            let review = ReviewPosted(reviewId: "r1", contractId: contract, reviewerUserId: company, targetUserId: va, rating: 4)
            try await users.deliver([review], to: "users-on-review-posted")
            try await users.deliver([EscrowReleased(paymentId: "p1", contractId: contract, milestoneId: "m1", payerUserId: company, payeeUserId: va, grossCents: 10_000, feeCents: 1_000, netCents: 9_000, currency: "USD")], to: "users-on-escrow-released")
            try await users.deliver([RefundIssued(refundId: "f1", paymentId: "p1", contractId: contract, payerUserId: company, payeeUserId: va, amountCents: 500, payeeDebitCents: 500, currency: "USD")], to: "users-on-refund-issued")
            try await users.deliver([ContractCompleted(contractId: contract, title: nil, companyUserId: company, vaUserId: va)], to: "users-on-contract-completed")
            let own = try await users.http("users-va-me", .get("/profiles/va/me"), as: .person(va, .va))
            struct View: Decodable { var averageRating: Double; var totalReviews: Int; var earnedCents: Int?; var completedJobs: Int }
            let view = try own.json(View.self)
            #expect(view.averageRating == 4 && view.totalReviews == 1 && view.earnedCents == 8_500 && view.completedJobs == 1)
            // The review and the completed job changed what others keep: ProfileUpdated after each.
            let republished = try await users.published(ProfileUpdated.self).filter { $0.userId == va }
            #expect(republished.count == 3)
            #expect(republished.last?.vaProfile?.completedJobs == 1 && republished.last?.vaProfile?.totalReviews == 1)
            // The company's spending: charged, then partly refunded.
            try await users.deliver([PaymentCompleted(paymentId: "p1", payerUserId: company, payeeUserId: va, contractId: contract, milestoneId: "m1", invoiceId: nil, amountCents: 10_000, currency: "USD", escrow: true)], to: "users-on-payment-completed")
            let totals = try await users.database.withConnection { sql in
                try await sql.select().columns("user_id", "spent_cents", "earned_cents").from("user_totals").all(decoding: Totals.self)
            }
            #expect(totals.first { $0.user_id == company }?.spent_cents == 9_500)
            #expect(totals.first { $0.user_id == va }?.earned_cents == 8_500)
        }
    }

    struct Totals: Decodable { var user_id: String; var spent_cents: Int; var earned_cents: Int }

    @Test func aPayloadThatDoesNotDecodeIsDeadLetteredWithoutHoldingUpTheBatch() async throws {
        try await ServiceHarness<Users>.with(.sqlite) { users in
            let body = #"{"id":"e1","type":"ReviewPosted","source":"payments","time":"2026-12-01T00:00:00.000Z","data":{"revieweeUserId":"x","rating":5}}"#
            let event = SQSEvent(records: [SQSEvent.Message(messageId: "bad", body: body, queue: "q")])
            let output = try await Users.functions["users-on-review-posted"]!.invoke(try JSON.encoder().encode(event), context: users.context("users-on-review-posted"))
            let failure = try #require(try JSON.decoder().decode(SQSBatchResponse.self, from: output).batchItemFailures.first)
            #expect(failure.itemIdentifier == "bad" && failure.retryable == false && failure.reason?.contains("missing field data.") == true)
        }
    }
}
