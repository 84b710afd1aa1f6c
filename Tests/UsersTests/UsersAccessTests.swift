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
    func reviewsPaymentsAndContractsUpdateTheProfile(engine: ServiceDatabase.Engine) async throws {
        try await Backend.with(engine) { api in
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
            try await Backend.with(.sqlite, environment: [
                "BLYTZ_SERVICE_URL_MARKETPLACE": "http://127.0.0.1:\(port)", "BLYTZ_CALL_TIMEOUT_MS": "1500",
                "BLYTZ_BREAKER_FAILURES": "2", "BLYTZ_BREAKER_OPEN_MS": "5000",
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
                #expect(slow.status == 504 && started.duration(to: .now) < .seconds(5))

                upstream.mode = .failing
                let failing = try await api.call(.GET, path, token: va.accessToken)
                #expect(failing.status == 502)
                // Two failures in a row: the circuit is open, and calls fail at once without reaching the marketplace.
                upstream.mode = .healthy
                let calls = upstream.calls
                let open = try await api.call(.GET, path, token: va.accessToken)
                #expect(open.status == 503 && open.header("retry-after") != nil && upstream.calls == calls)
                // Once the open interval ends, a trial call goes through and closes the circuit.
                #expect(try await eventually(within: .seconds(12)) { try await api.call(.GET, path, token: va.accessToken).status == 200 })
            }
        }
        // With nothing listening, the answer is a quick 503.
        try await Backend.with(.sqlite, environment: ["BLYTZ_SERVICE_URL_MARKETPLACE": "http://127.0.0.1:9", "BLYTZ_CALL_TIMEOUT_MS": "400"]) { api in
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
                try await Task.sleep(for: .seconds(8))
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
        try await StandIn.serve(router, body)
    }
}
