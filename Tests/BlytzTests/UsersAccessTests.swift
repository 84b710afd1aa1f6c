import Blytz
import BlytzEvents
import BlytzData
import BlytzTesting
import Foundation
import NIOHTTP1
import AsyncHTTPClient
import Hummingbird
import HTTPTypes
import NIOCore
import Synchronization
import Testing

/// Roles and ownership on every route of the user service, profiles, search and the inter-service
/// call behind `GET /users/{id}/applications`, through the running runner.
@Suite(.serialized, .timeLimit(.minutes(3))) struct UsersAccessTests {
    static let vaProfile = #"{"name":"Vera Cruz","country":"PH","hourlyRateCents":1200,"skills":["Excel","Data Entry"],"bio":"Spreadsheets and reports","resumeFileId":"6f1c1f2e-8a43-4c59-9a3e-3a1d2f0b7c11"}"#
    static let companyProfile = #"{"name":"Acme","country":"US","industry":"E-commerce","website":"https://acme.example"}"#

    @Test(arguments: [ServiceDatabase.Engine.sqlite, .postgres])
    func rolesAndOwnershipOnEveryRoute(engine: ServiceDatabase.Engine) async throws {
        try await UsersAPI.with(engine) { api in
            let va = try await api.register("va")
            let otherVA = try await api.register("va")
            let company = try await api.register("company")
            let admin = try await api.admin()
            let vaId = try #require(va.user?.id)
            let companyId = try #require(company.user?.id)

            // Profiles: only the matching role may create and change one; one per user.
            #expect(try await api.call(.POST, "/profiles/va", token: company.accessToken, json: Self.vaProfile).status == 403)
            #expect(try await api.call(.POST, "/profiles/company", token: va.accessToken, json: Self.companyProfile).status == 403)
            #expect(try await api.call(.PATCH, "/profiles/va/me", token: company.accessToken, json: #"{"bio":"x"}"#).status == 403)
            #expect(try await api.call(.GET, "/profiles/va/me", token: va.accessToken).status == 404)
            #expect(try await api.call(.POST, "/profiles/va", token: va.accessToken, json: Self.vaProfile).status == 201)
            #expect(try await api.call(.POST, "/profiles/va", token: va.accessToken, json: Self.vaProfile).status == 409)
            let invalid = try await api.call(.POST, "/profiles/va", token: otherVA.accessToken, json: #"{"name":"","country":"Philippines","hourlyRateCents":-1,"skills":[],"availability":"sometimes"}"#)
            #expect(invalid.status == 422 && Set(invalid.problemFields) == ["name", "country", "hourlyRateCents", "skills", "availability"])
            #expect(try await api.call(.POST, "/profiles/company", token: company.accessToken, json: Self.companyProfile).status == 201)
            let patched = try await api.call(.PATCH, "/profiles/va/me", token: va.accessToken, json: #"{"hourlyRateCents":1500,"skills":["Excel","QuickBooks"]}"#)
            #expect(patched.status == 200 && patched.object["hourlyRateCents"] as? Int == 1500)
            #expect(try await api.call(.PATCH, "/profiles/company/me", token: company.accessToken, json: #"{"website":"not a url"}"#).problemFields == ["website"])

            // Private fields: earnings to the owner only; the résumé not to other VAs.
            let own = try await api.call(.GET, "/profiles/va/me", token: va.accessToken).object
            #expect(own["earnedCents"] != nil && own["resumeFileId"] != nil)
            let seenByVA = try await api.call(.GET, "/profiles/va/\(vaId)", token: otherVA.accessToken).object
            #expect(seenByVA["earnedCents"] == nil && seenByVA["resumeFileId"] == nil && seenByVA["name"] as? String == "Vera Cruz")
            let seenByCompany = try await api.call(.GET, "/profiles/va/\(vaId)", token: company.accessToken).object
            #expect(seenByCompany["earnedCents"] == nil && seenByCompany["resumeFileId"] != nil && (seenByCompany["profileViews"] as? Int ?? 0) == 2)
            #expect(try await api.call(.GET, "/profiles/company/\(companyId)", token: va.accessToken).object["totalSpentCents"] == nil)
            #expect(try await api.call(.GET, "/profiles/va/\(companyId)", token: va.accessToken).status == 404)
            #expect(try await api.call(.GET, "/profiles/va/not-a-uuid", token: va.accessToken).status == 404)
            #expect(try await api.call(.GET, "/profiles/va/\(vaId)").status == 401)

            // Users: the full view to self and admin, the public one to others; admin-only listing.
            let asOther = try await api.call(.GET, "/users/\(vaId)", token: otherVA.accessToken).object
            #expect(asOther["email"] == nil && asOther["displayName"] as? String == "Vera Cruz")
            #expect(try await api.call(.GET, "/users/\(vaId)", token: va.accessToken).object["email"] as? String == va.user?.email)
            #expect(try await api.call(.GET, "/users/\(vaId)", token: admin.accessToken).object["preferences"] != nil)
            #expect(try await api.call(.GET, "/users", token: va.accessToken).status == 403)
            let listed = try await api.call(.GET, "/users?role=company", token: admin.accessToken)
            #expect(listed.status == 200 && (listed.object["items"] as? [[String: Any]])?.allSatisfy { $0["role"] as? String == "company" } == true)
            #expect(try await api.call(.GET, "/users?status=gone", token: admin.accessToken).problemFields == ["status"])
            let basic = try await api.call(.GET, "/users/\(vaId)/basic", token: company.accessToken).object
            #expect(basic["displayName"] as? String == "Vera Cruz" && basic["role"] as? String == "va")

            // PATCH: preferences by self; role and status by admins only, never on themselves.
            #expect(try await api.call(.PATCH, "/users/\(vaId)", token: va.accessToken, json: #"{"preferences":{"language":"en","digest":true}}"#).status == 200)
            #expect(try await api.call(.PATCH, "/users/\(vaId)", token: otherVA.accessToken, json: #"{"preferences":{}}"#).status == 403)
            let selfPromote = try await api.call(.PATCH, "/users/\(vaId)", token: va.accessToken, json: #"{"role":"admin"}"#)
            #expect(selfPromote.status == 403 && selfPromote.problemFields == ["role"])
            let adminSelf = try await api.call(.PATCH, "/users/\(try #require(admin.user?.id))", token: admin.accessToken, json: #"{"status":"suspended"}"#)
            #expect(adminSelf.status == 422)

            // Applications: self and admin only.
            #expect(try await api.call(.GET, "/users/\(vaId)/applications", token: otherVA.accessToken).status == 403)
            #expect(try await api.call(.GET, "/users/\(vaId)/applications", token: company.accessToken).status == 403)

            // DELETE: not by others; by the user, after which the token is dead and the email free again.
            #expect(try await api.call(.DELETE, "/users/\(vaId)", token: otherVA.accessToken).status == 403)
            #expect(try await api.call(.DELETE, "/users/\(vaId)", token: va.accessToken).status == 204)
            #expect(try await api.call(.GET, "/auth/me", token: va.accessToken).status == 401)
            #expect(try await api.call(.GET, "/profiles/va/\(vaId)", token: company.accessToken).status == 404)
            #expect(try await api.call(.GET, "/users/\(vaId)", token: company.accessToken).status == 404)
            _ = try await api.register("va", email: try #require(va.user?.email))
            #expect(try await api.call(.DELETE, "/users/\(companyId)", token: admin.accessToken).status == 204)
            #expect(try await api.call(.DELETE, "/users/\(companyId)", token: admin.accessToken).status == 404)
        }
    }

    /// With the default threshold every filter of 300 profiles is rare and drives the query; with 20, the
    /// common ones are probed row by row instead. Both plans must give the same answers.
    @Test(arguments: [ServiceDatabase.Engine.sqlite, .postgres], ["2000", "20"])
    func searchFiltersInSQLAndPagesStablyUnderInserts(engine: ServiceDatabase.Engine, rareFilter: String) async throws {
        try await UsersAPI.with(engine, environment: ["USERS_SEARCH_RARE_FILTER": rareFilter]) { api in
            var environment = UsersAPI.environment
            if let url = api.postgresURL { environment["USERS_DATABASE_URL"] = url }
            let seeded = try blytz(["users", "seed-profiles", "--count", "300", "--data-dir", api.runner.dataDirectory], environment: environment)
            #expect(seeded.status == 0, "\(seeded.output)")
            let viewer = try await api.register("company")

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
            struct Page: Decodable { var items: [Profile]; var nextCursor: String? }
            func all(_ query: String, limit: Int = 100, between: (() async throws -> Void)? = nil) async throws -> [Profile] {
                var items: [Profile] = []
                var cursor: String?
                repeat {
                    let path = "/profiles/va?\(query)&limit=\(limit)" + (cursor.map { "&cursor=\($0)" } ?? "")
                    let reply = try await api.call(.GET, path, token: viewer.accessToken)
                    guard reply.status == 200 else { throw TestSetupError(description: "\(path) answered \(reply.status): \(reply.text)") }
                    let page = try reply.json(Page.self)
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

            // Inserts between pages: nothing repeats, nothing of the original set is skipped.
            var inserted = 0
            let paged = try await all("sort=recent", limit: 40) {
                inserted += 1
                let newcomer = try await api.register("va")
                _ = try await api.call(.POST, "/profiles/va", token: newcomer.accessToken, json: Self.vaProfile)
            }
            #expect(inserted > 5)
            #expect(Set(paged.map(\.userId)).count == paged.count)
            #expect(Set(everyone.map(\.userId)).isSubset(of: Set(paged.map(\.userId))))

            // Bad query values are 422s naming the field.
            let bad = try await api.call(.GET, "/profiles/va?minRate=cheap&available=maybe&sort=best&limit=500&cursor=zzz", token: viewer.accessToken)
            #expect(bad.status == 422 && Set(bad.problemFields) == ["minRate", "available", "sort"])
            let badPage = try await api.call(.GET, "/profiles/va?limit=500&cursor=zzz", token: viewer.accessToken)
            #expect(badPage.status == 422 && Set(badPage.problemFields) == ["limit", "cursor"])

            // Companies: q, industry, country.
            #expect(try await api.call(.POST, "/profiles/company", token: viewer.accessToken, json: Self.companyProfile).status == 201)
            let companies = try await api.call(.GET, "/profiles/company?q=acm&industry=e-commerce&country=us", token: viewer.accessToken)
            #expect((companies.object["items"] as? [[String: Any]])?.count == 1)
        }
    }

    @Test(arguments: [ServiceDatabase.Engine.sqlite, .postgres])
    func reviewsPaymentsAndContractsUpdateTheProfile(engine: ServiceDatabase.Engine) async throws {
        try await UsersAPI.with(engine) { api in
            let va = try await api.register("va")
            let vaId = try #require(va.user?.id)
            #expect(try await api.call(.POST, "/profiles/va", token: va.accessToken, json: Self.vaProfile).status == 201)
            let company = UUID().uuidString.lowercased()
            let contract = UUID().uuidString.lowercased()
            let events: [any Event] = [
                ReviewPosted(reviewId: UUID().uuidString, contractId: contract, reviewerUserId: company, targetUserId: vaId, rating: 5),
                ReviewPosted(reviewId: UUID().uuidString, contractId: contract, reviewerUserId: company, targetUserId: vaId, rating: 4),
                // A charge into escrow credits nobody; the release credits the VA net of the fee; a refund of
                // released money takes back what it says.
                PaymentCompleted(paymentId: "p1", payerUserId: company, payeeUserId: vaId, contractId: contract, milestoneId: "m1", invoiceId: nil, amountCents: 30000, currency: "USD", escrow: true),
                EscrowReleased(paymentId: "p1", contractId: contract, milestoneId: "m1", payerUserId: company, payeeUserId: vaId, grossCents: 30000, feeCents: 3000, netCents: 27000, currency: "USD"),
                RefundIssued(refundId: "r1", paymentId: "p1", contractId: contract, payerUserId: company, payeeUserId: vaId, amountCents: 2000, payeeDebitCents: 2000, currency: "USD"),
                ContractCompleted(contractId: contract, title: nil, companyUserId: company, vaUserId: vaId),
            ]
            for event in events {
                #expect(try await api.runner.publish(event).status == 202)
            }
            let updated = await eventually(within: .seconds(15)) {
                let profile = (try? await api.call(.GET, "/profiles/va/me", token: va.accessToken).object) ?? [:]
                return profile["totalReviews"] as? Int == 2 && profile["averageRating"] as? Double == 4.5
                    && profile["earnedCents"] as? Int == 25000 && profile["completedJobs"] as? Int == 1
            }
            #expect(updated)
        }
    }

    /// `GET /users/{id}/applications` calls the marketplace through the SDK's service client: the caller's
    /// token, request id and trace are passed on; a down or slow marketplace is a quick 503/504, and after
    /// repeated failures the circuit opens (503 at once) until a probe succeeds.
    @Test func applicationsComeFromTheMarketplaceThroughTheServiceClient() async throws {
        let upstream = StandInMarketplace()
        try await upstream.serve { port in
            try await UsersAPI.with(.sqlite, environment: [
                "BLYTZ_SERVICE_URL_MARKETPLACE": "http://127.0.0.1:\(port)", "BLYTZ_CALL_TIMEOUT_MS": "400",
                "BLYTZ_BREAKER_FAILURES": "2", "BLYTZ_BREAKER_OPEN_MS": "1500",
            ]) { api in
                let va = try await api.register("va")
                let vaId = try #require(va.user?.id)
                let path = "/users/\(vaId)/applications"
                let traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
                let ok = try await api.call(.GET, path, token: va.accessToken, headers: ["traceparent": traceparent])
                #expect(ok.status == 200 && (ok.object["items"] as? [[String: Any]])?.first?["vaUserId"] as? String == vaId)
                let seen = try #require(upstream.lastRequest)
                #expect(seen.authorization == "Bearer \(va.accessToken)")
                #expect(seen.requestId == ok.header("x-request-id"))
                // The same trace, continued by the runner and the user service.
                #expect(seen.traceparent?.split(separator: "-").dropFirst().first == traceparent.split(separator: "-").dropFirst().first)

                upstream.mode = .slow
                let started = ContinuousClock.now
                let slow = try await api.call(.GET, path, token: va.accessToken)
                #expect(slow.status == 504 && started.duration(to: .now) < .seconds(3))

                upstream.mode = .failing
                let failing = try await api.call(.GET, path, token: va.accessToken)
                #expect(failing.status == 502)
                // Two failures in a row: the circuit is open, and calls fail at once without reaching the marketplace.
                upstream.mode = .healthy
                let calls = upstream.calls
                let open = try await api.call(.GET, path, token: va.accessToken)
                #expect(open.status == 503 && open.header("retry-after") != nil && upstream.calls == calls)
                try await Task.sleep(for: .milliseconds(1600))
                #expect(try await api.call(.GET, path, token: va.accessToken).status == 200)
            }
        }
        // With nothing listening, the answer is a quick 503.
        try await UsersAPI.with(.sqlite, environment: ["BLYTZ_SERVICE_URL_MARKETPLACE": "http://127.0.0.1:9", "BLYTZ_CALL_TIMEOUT_MS": "400"]) { api in
            let va = try await api.register("va")
            let started = ContinuousClock.now
            let down = try await api.call(.GET, "/users/\(try #require(va.user?.id))/applications", token: va.accessToken)
            #expect(down.status == 503 && started.duration(to: .now) < .seconds(2))
        }
    }
}

/// A marketplace stand-in on a real socket for the call the user service makes: `GET /proposals?vaUserId=`.
final class StandInMarketplace: Sendable {
    enum Mode: Sendable { case healthy, slow, failing }
    struct Seen: Sendable { var authorization: String?; var traceparent: String?; var requestId: String? }

    private let state = Mutex<(mode: Mode, calls: Int, last: Seen?)>((mode: Mode.healthy, calls: 0, last: Seen?.none))

    var mode: Mode {
        get { state.withLock { $0.mode } }
        set { state.withLock { $0.mode = newValue } }
    }

    var calls: Int { state.withLock { $0.calls } }
    var lastRequest: Seen? { state.withLock { $0.last } }

    func serve(_ body: @escaping @Sendable (Int) async throws -> Void) async throws {
        let router = Router()
        router.get("/proposals") { request, _ -> Response in
            let mode = self.state.withLock { state -> Mode in
                state.calls += 1
                state.last = Seen(authorization: request.headers[.authorization], traceparent: request.headers[HTTPField.Name("traceparent")!], requestId: request.headers[HTTPField.Name("x-request-id")!])
                return state.mode
            }
            switch mode {
            case .slow:
                try await Task.sleep(for: .seconds(3))
                return Response(status: .ok)
            case .failing:
                return Response(status: .internalServerError)
            case .healthy:
                let va = request.uri.queryParameters["vaUserId"].map(String.init) ?? ""
                let proposal = ProposalSummary(id: UUID().uuidString.lowercased(), jobPostingId: UUID().uuidString.lowercased(), jobTitle: "Inbox zero", vaUserId: va, status: "pending", bidCents: 50_000, currency: "USD", createdAt: "2026-12-01T00:00:00.000Z")
                let json = try JSON.encoder().encode(Page(items: [proposal], nextCursor: nil))
                return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: json)))
            }
        }
        try await serveOnFreePort(router, body)
    }
}
