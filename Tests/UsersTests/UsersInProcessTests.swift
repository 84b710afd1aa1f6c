import Blytz
import BlytzData
import BlytzEvents
import BlytzTesting
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import Logging
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
            let forgot = HandlerTester.Request.post("/auth/password/forgot", json: #"{"email":"ana@example.com"}"#)
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

    /// Registers a user of `role` and returns their id.
    static func register(_ users: ServiceHarness<Users>, _ role: Role) async throws -> String {
        let email = "\(role.rawValue)-\(UUID().uuidString.prefix(8).lowercased())@example.com"
        let reply = try await users.call(.post, "/auth/register", json: #"{"email":"\#(email)","password":"correct horse battery","role":"\#(role.rawValue)"}"#)
        struct Session: Decodable { struct User: Decodable { var id: String }; var user: User }
        return try reply.json(Session.self).user.id
    }

    /// With the default threshold every filter of 300 profiles is rare and drives the query; with 20, the
    /// common ones are probed row by row instead. Both plans must give the same answers.
    @Test(arguments: [ServiceDatabase.Engine.sqlite, .postgres], ["2000", "20"])
    func searchFiltersInSQLAndPagesStablyUnderInserts(engine: ServiceDatabase.Engine, rareFilter: String) async throws {
        try await ServiceHarness<Users>.with(engine, configuration: ["BCRYPT_COST": "4", "SEARCH_RARE_FILTER": rareFilter]) { users in
            _ = try await Commands.seedProfiles(["--count", "300"], database: users.database, configuration: users.configuration, logger: Logger(label: "seed"))
            let viewer = try await Self.register(users, .company)

            struct Profile: Decodable, Equatable {
                var userId: String
                var country: String
                var hourlyRateCents: Int
                var skills: [String]
                var available: Bool
                var averageRating: Double
                var name: String
                var bio: String
                var createdAt: String
            }
            struct Listing: Decodable { var items: [Profile]; var nextCursor: String? }
            func all(_ query: String, limit: Int = 100, between: (() async throws -> Void)? = nil) async throws -> [Profile] {
                var items: [Profile] = []
                var cursor: String?
                repeat {
                    let target = "/profiles/va?\(query)&limit=\(limit)" + (cursor.map { "&cursor=\($0)" } ?? "")
                    let reply = try await users.call(.get, target, as: .person(viewer, .company))
                    try #require(reply.status == 200, "\(target) answered \(reply.status): \(String(decoding: reply.body, as: UTF8.self))")
                    let page = try reply.json(Listing.self)
                    items += page.items
                    cursor = page.nextCursor
                    try await between?()
                } while cursor != nil
                return items
            }

            let everyone = try await all("sort=recent")
            #expect(everyone.count == 300)
            #expect(Set(everyone.map(\.userId)).count == 300)

            // Each filter, checked against the full list.
            let expected = everyone.filter {
                $0.country == "PH" && $0.skills.contains("Excel") && $0.hourlyRateCents >= 1000 && $0.hourlyRateCents <= 4000 && $0.available && $0.averageRating >= 3.5
            }
            let filtered = try await all("country=ph&skills=excel&minRate=1000&maxRate=4000&available=true&minRating=3.5&sort=rating", limit: 7)
            #expect(Set(filtered.map(\.userId)) == Set(expected.map(\.userId)))
            #expect(filtered.map(\.averageRating) == filtered.map(\.averageRating).sorted(by: >))
            let byRate = try await all("skills=shopify,seo&sort=rate", limit: 9)
            #expect(Set(byRate.map(\.userId)) == Set(everyone.filter { $0.skills.contains("Shopify") && $0.skills.contains("SEO") }.map(\.userId)))
            #expect(byRate.map(\.hourlyRateCents) == byRate.map(\.hourlyRateCents).sorted())
            let word = try #require(everyone.first?.bio.split(separator: " ").first.map(String.init))
            let prefix = String(word.prefix(4))
            let texts = try await all("q=\(prefix)")
            #expect(!texts.isEmpty && Set(texts.map(\.userId)) == Set(everyone.filter { profile in
                ([profile.name, profile.bio] + profile.skills).joined(separator: " ").lowercased()
                    .split(whereSeparator: { !$0.isLetter && !$0.isNumber }).contains { $0.hasPrefix(prefix) }
            }.map(\.userId)))

            // Inserts between pages (each a second later by the harness's clock): nothing repeats, nothing of
            // the original set is skipped.
            var inserted = 0
            let paged = try await all("sort=recent", limit: 40) {
                inserted += 1
                users.time.advance(by: .seconds(1))
                let newcomer = try await Self.register(users, .va)
                #expect(try await users.call(.post, "/profiles/va", json: Self.vaProfile, as: .person(newcomer, .va)).status == 201)
            }
            #expect(inserted > 5)
            #expect(Set(paged.map(\.userId)).count == paged.count)
            #expect(Set(everyone.map(\.userId)).isSubset(of: Set(paged.map(\.userId))))

            // Bad query values are 422s naming the field.
            let bad = try await users.call(.get, "/profiles/va?minRate=cheap&available=maybe&sort=best&limit=500&cursor=zzz", as: .person(viewer, .company))
            #expect(bad.status == 422 && Set(bad.problem?.errors?.map(\.field) ?? []) == ["minRate", "available", "sort"])
            let badPage = try await users.call(.get, "/profiles/va?limit=500&cursor=zzz", as: .person(viewer, .company))
            #expect(badPage.status == 422 && Set(badPage.problem?.errors?.map(\.field) ?? []) == ["limit", "cursor"])

            // Companies: q, industry, country.
            #expect(try await users.call(.post, "/profiles/company", json: Self.companyProfile, as: .person(viewer, .company)).status == 201)
            let companies = try await users.call(.get, "/profiles/company?q=acm&industry=e-commerce&country=us", as: .person(viewer, .company))
            struct Companies: Decodable { var items: [[String: JSONValue]] }
            #expect(try companies.json(Companies.self).items.count == 1)
        }
    }

    static let vaProfile = UsersAccessTests.vaProfile
    static let companyProfile = UsersAccessTests.companyProfile

    @Test(arguments: [ServiceDatabase.Engine.sqlite, .postgres])
    func rolesAndOwnershipOnEveryRoute(engine: ServiceDatabase.Engine) async throws {
        try await ServiceHarness<Users>.with(engine, configuration: ["BCRYPT_COST": "4", "BLYTZ_ADMIN_PASSWORD": "admin password 1"]) { users in
            let vaId = try await Self.register(users, .va)
            let otherId = try await Self.register(users, .va)
            let companyId = try await Self.register(users, .company)
            let made = try await Commands.createAdmin(["--email", "admin@example.com"], database: users.database, configuration: users.configuration, logger: Logger(label: "t"))
            let adminId = try #require(try JSONSerialization.jsonObject(with: Data(made.utf8)) as? [String: Any])["id"] as? String ?? ""
            let va = TestIdentity.person(vaId, .va), other = TestIdentity.person(otherId, .va)
            let company = TestIdentity.person(companyId, .company), admin = TestIdentity.person(adminId, .admin)

            // Profiles: only the matching role may create and change one; one per user.
            #expect(try await users.call(.post, "/profiles/va", json: Self.vaProfile, as: company).status == 403)
            #expect(try await users.call(.post, "/profiles/company", json: Self.companyProfile, as: va).status == 403)
            #expect(try await users.call(.patch, "/profiles/va/me", json: #"{"bio":"x"}"#, as: company).status == 403)
            #expect(try await users.call(.get, "/profiles/va/me", as: va).status == 404)
            #expect(try await users.call(.post, "/profiles/va", json: Self.vaProfile, as: va).status == 201)
            #expect(try await users.call(.post, "/profiles/va", json: Self.vaProfile, as: va).status == 409)
            let invalid = try await users.call(.post, "/profiles/va", json: #"{"name":"","country":"Philippines","hourlyRateCents":-1,"skills":[],"availability":"sometimes"}"#, as: other)
            #expect(invalid.status == 422 && Set(invalid.problemFields) == ["name", "country", "hourlyRateCents", "skills", "availability"])
            #expect(try await users.call(.post, "/profiles/company", json: Self.companyProfile, as: company).status == 201)
            let patched = try await users.call(.patch, "/profiles/va/me", json: #"{"hourlyRateCents":1500,"skills":["Excel","QuickBooks"]}"#, as: va)
            #expect(patched.status == 200 && patched.object["hourlyRateCents"] as? Int == 1500)
            #expect(try await users.call(.patch, "/profiles/company/me", json: #"{"website":"not a url"}"#, as: company).problemFields == ["website"])

            // Private fields: earnings to the owner only; the résumé not to other VAs.
            let own = try await users.call(.get, "/profiles/va/me", as: va).object
            #expect(own["earnedCents"] != nil && own["resumeFileId"] != nil)
            let seenByVA = try await users.call(.get, "/profiles/va/\(vaId)", as: other).object
            #expect(seenByVA["earnedCents"] == nil && seenByVA["resumeFileId"] == nil && seenByVA["name"] as? String == "Vera Cruz")
            let seenByCompany = try await users.call(.get, "/profiles/va/\(vaId)", as: company).object
            #expect(seenByCompany["earnedCents"] == nil && seenByCompany["resumeFileId"] != nil && (seenByCompany["profileViews"] as? Int ?? 0) == 2)
            #expect(try await users.call(.get, "/profiles/company/\(companyId)", as: va).object["totalSpentCents"] == nil)
            #expect(try await users.call(.get, "/profiles/va/\(companyId)", as: va).status == 404)
            #expect(try await users.call(.get, "/profiles/va/not-a-uuid", as: va).status == 404)
            #expect(try await users.call(.get, "/profiles/va/\(vaId)").status == 401)

            // Users: the full view to self and admin, the public one to others; admin-only listing.
            let asOther = try await users.call(.get, "/users/\(vaId)", as: other).object
            #expect(asOther["email"] == nil && asOther["displayName"] as? String == "Vera Cruz")
            #expect((try await users.call(.get, "/users/\(vaId)", as: va).object["email"] as? String)?.hasPrefix("va-") == true)
            #expect(try await users.call(.get, "/users/\(vaId)", as: admin).object["preferences"] != nil)
            #expect(try await users.call(.get, "/users", as: va).status == 403)
            let listed = try await users.call(.get, "/users?role=company", as: admin)
            #expect(listed.status == 200 && (listed.object["items"] as? [[String: Any]])?.allSatisfy { $0["role"] as? String == "company" } == true)
            #expect(try await users.call(.get, "/users?status=gone", as: admin).problemFields == ["status"])
            let basic = try await users.call(.get, "/users/\(vaId)/basic", as: company).object
            #expect(basic["displayName"] as? String == "Vera Cruz" && basic["role"] as? String == "va")

            // PATCH: preferences by self; role and status by admins only, never on themselves.
            #expect(try await users.call(.patch, "/users/\(vaId)", json: #"{"preferences":{"language":"en","digest":true}}"#, as: va).status == 200)
            #expect(try await users.call(.patch, "/users/\(vaId)", json: #"{"preferences":{}}"#, as: other).status == 403)
            let selfPromote = try await users.call(.patch, "/users/\(vaId)", json: #"{"role":"admin"}"#, as: va)
            #expect(selfPromote.status == 403 && selfPromote.problemFields == ["role"])
            #expect(try await users.call(.patch, "/users/\(adminId)", json: #"{"status":"suspended"}"#, as: admin).status == 422)
            #expect(try await users.call(.patch, "/users/\(vaId)", json: #"{"role":"service"}"#, as: admin).problemFields == ["role"])

            // Applications: self and admin only.
            #expect(try await users.call(.get, "/users/\(vaId)/applications", as: other).status == 403)
            #expect(try await users.call(.get, "/users/\(vaId)/applications", as: company).status == 403)

            // DELETE: not by others; by the user, after which the token is dead and the email free again.
            let email = try #require(try await users.call(.get, "/users/\(vaId)", as: va).object["email"] as? String)
            #expect(try await users.call(.delete, "/users/\(vaId)", as: other).status == 403)
            #expect(try await users.call(.delete, "/users/\(vaId)", as: va).status == 204)
            #expect(try await users.call(.get, "/auth/me", as: va).status == 401)
            #expect(try await users.call(.get, "/profiles/va/\(vaId)", as: company).status == 404)
            #expect(try await users.call(.get, "/users/\(vaId)", as: company).status == 404)
            #expect(try await users.call(.post, "/auth/register", json: #"{"email":"\#(email)","password":"correct horse battery","role":"va"}"#).status == 201)
            #expect(try await users.call(.delete, "/users/\(companyId)", as: admin).status == 204)
            #expect(try await users.call(.delete, "/users/\(companyId)", as: admin).status == 404)
            #expect(try await users.published(UserDeleted.self).map(\.userId) == [vaId, companyId])
        }
    }

    /// A call to another service from in process goes to a stand-in on a real socket through the real client.
    @Test func applicationsComeFromAStandInMarketplace() async throws {
        let router = Router()
        router.get("/proposals") { request, _ -> Response in
            let va = request.uri.queryParameters["vaUserId"].map(String.init) ?? ""
            let page = Page(items: [ProposalSummary(id: "p1", jobPostingId: "j1", jobTitle: "Inbox zero", vaUserId: va, status: "pending", bidCents: 100, currency: "USD", createdAt: "2026-12-01T00:00:00.000Z")], nextCursor: nil)
            return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: try JSON.encoder().encode(page))))
        }
        try await StandIn.serve(router) { port in
            try await ServiceHarness<Users>.with(.sqlite, configuration: ["BCRYPT_COST": "4"], services: [.marketplace: "http://127.0.0.1:\(port)"]) { users in
                let va = try await Self.register(users, .va)
                let listed = try await users.call(.get, "/users/\(va)/applications", as: .person(va, .va))
                #expect(listed.status == 200)
                let items = try listed.json(Page<ProposalSummary>.self).items
                #expect(items.map(\.vaUserId) == [va])
            }
        }
        // Nothing listening: a quick 503, not a hang.
        try await ServiceHarness<Users>.with(.sqlite, configuration: ["BCRYPT_COST": "4"]) { users in
            let va = try await Self.register(users, .va)
            let started = ContinuousClock.now
            #expect(try await users.call(.get, "/users/\(va)/applications", as: .person(va, .va)).status == 503)
            // A refused connection fails at once; the bound leaves room for a machine running the whole first test
            // group at once on two cores (seen at 5.6 s), still below a hang (the 10 s timeout).
            #expect(started.duration(to: .now) < .seconds(8))
        }
    }
}
