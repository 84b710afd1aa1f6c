import Blytz
import BlytzData
import BlytzEvents
import BlytzServices
import BlytzTesting
import HTTPTypes
import Foundation
import Hummingbird
import NIOCore
import Synchronization

@testable import Marketplace

/// The people the marketplace's tests need, given to it the way the user service does: by events.
extension ServiceHarness where Service == Marketplace {
    /// Delivers a `ProfileUpdated` for the VA `id`.
    func vaProfile(
        _ id: String, skills: [String] = ["email"], rate: Int = 1_000, timezone: String? = "Asia/Manila", rating: Double = 4.8, reviews: Int = 10,
        available: Bool = true, name: String = "A VA"
    ) async throws {
        let profile = VAProfileSnapshot(
            userId: id, name: name, bio: "", country: "PH", timezone: timezone, hourlyRateCents: rate, currency: "USD", skills: skills,
            availability: "full-time", available: available, averageRating: rating, totalReviews: reviews, completedJobs: 0, verificationLevel: "none",
            avatarFileId: nil, updatedAt: time.now.iso
        )
        let failed = try await deliver([ProfileUpdated(userId: id, kind: .va, deleted: false, vaProfile: profile)], to: "marketplace-people")
        precondition(failed.isEmpty, "the profile was not applied")
        time.advance(by: .milliseconds(1))
    }

    /// Delivers a `ProfileUpdated` for the company `id`.
    func companyProfile(_ id: String, name: String = "A company") async throws {
        let profile = CompanySnapshot(userId: id, name: name, country: "US", industry: "e-commerce", logoFileId: nil, verificationLevel: "none", updatedAt: time.now.iso)
        _ = try await deliver([ProfileUpdated(userId: id, kind: .company, deleted: false, companyProfile: profile)], to: "marketplace-people")
        time.advance(by: .milliseconds(1))
    }
}

/// A stand-in contracts service (and the user service's token route its client needs first) on a real
/// socket: `POST /contracts` honours `Idempotency-Key` as the real one must, and can be made slow or to
/// fail after creating the contract.
final class ContractsStandIn: Sendable {
    enum Mode: Sendable { case up, slow(Duration), failAfterCreating, unavailable }

    struct State {
        var mode: Mode = .up
        var contracts: [String: ContractSummary] = [:]
        var created = 0
        var calls = 0
        var bodies: [CreateContractBody] = []
        var authorized = true
    }

    let state = Mutex(State())

    func set(_ mode: Mode) { state.withLock { $0.mode = mode } }
    var created: Int { state.withLock { $0.created } }
    var calls: Int { state.withLock { $0.calls } }

    var router: Router<BasicRequestContext> {
        let router = Router()
        router.post("/auth/service-token") { _, _ -> Response in
            Self.json(ServiceToken(accessToken: "service-token", expiresIn: 300))
        }
        router.post("/contracts") { [self] request, context -> Response in
            let key = request.headers[.idempotencyKey] ?? ""
            let bearer = request.headers[.authorization] == "Bearer service-token"
            let body = try await request.decode(as: CreateContractBody.self, context: context)
            let (mode, contract): (Mode, ContractSummary) = self.state.withLock { state in
                state.calls += 1
                state.bodies.append(body)
                if !bearer || key.isEmpty { state.authorized = false }
                if case .unavailable = state.mode { return (state.mode, ContractSummary(id: "", status: "", companyUserId: "", vaUserId: "", proposalId: nil)) }
                if let kept = state.contracts[key] { return (state.mode, kept) }
                let made = ContractSummary(id: UUID().uuidString.lowercased(), status: "pending", companyUserId: body.companyUserId, vaUserId: body.vaUserId, proposalId: body.proposalId)
                state.contracts[key] = made
                state.created += 1
                return (state.mode, made)
            }
            switch mode {
            case .up: return Self.json(contract, status: .created)
            case .slow(let delay):
                try await Task.sleep(for: delay)
                return Self.json(contract, status: .created)
            case .failAfterCreating: return Response(status: .internalServerError)
            case .unavailable: return Response(status: .serviceUnavailable)
            }
        }
        return router
    }

    static func json(_ value: some Encodable, status: HTTPResponse.Status = .ok) -> Response {
        Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: try! JSON.encoder().encode(value))))
    }

    /// Runs `body` with a marketplace whose calls to the contracts and user services go to this stand-in.
    func serve(_ engine: ServiceDatabase.Engine, configuration: [String: String] = [:], _ body: @escaping @Sendable (ServiceHarness<Marketplace>) async throws -> Void) async throws {
        try await StandIn.serve(router) { port in
            let url = "http://127.0.0.1:\(port)"
            try await ServiceHarness<Marketplace>.with(engine, configuration: configuration, services: [.contracts: url, .users: url], body)
        }
    }
}
