import Blytz
import BlytzData
import BlytzEvents
import BlytzServices
import BlytzTesting
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import Synchronization

@testable import Contracts

/// Stand-ins for the user and payments services on one real socket: `GET /users/{id}/basic` answers the
/// users it was given; `POST /payments` charges by payment method — `pm_card_visa` succeeds,
/// `pm_card_declined` fails, `pm_card_3ds` needs an extra step — honouring `Idempotency-Key` as the real
/// one must; `POST /payments/{id}/release` releases once per key with a 10% fee; `POST /refunds` refunds
/// once per key. Payments can be made unavailable, or to fail after charging.
final class PeerStandIn: Sendable {
    enum Mode: Sendable { case up, unavailable, failAfterCharging }

    struct State {
        var users: [String: BasicUser] = [:]
        var payments: Mode = .up
        var charges: [String: PaymentSummary] = [:]
        var releases: [String: ReleaseSummary] = [:]
        var refunds: [String: RefundSummary] = [:]
        var bodies: [CreatePaymentBody] = []
        var calls = 0
    }

    let state = Mutex(State())

    func user(_ id: String, _ role: Role, status: AccountState = .active) {
        state.withLock { $0.users[id] = BasicUser(id: id, role: role, displayName: "User", avatarFileId: nil, status: status) }
    }

    func set(_ mode: Mode) { state.withLock { $0.payments = mode } }
    var charges: Int { state.withLock { $0.charges.count } }
    var releases: Int { state.withLock { $0.releases.count } }
    var refunds: Int { state.withLock { $0.refunds.count } }

    var router: Router<BasicRequestContext> {
        let router = Router()
        router.post("/auth/service-token") { _, _ -> Response in Self.json(ServiceToken(accessToken: "service-token", expiresIn: 300)) }
        router.get("/users/:id/basic") { [self] _, context -> Response in
            let id = context.parameters.get("id") ?? ""
            guard let user = self.state.withLock({ $0.users[id] }) else { return Self.json(Problem(status: 404, detail: "There is no user \(id)."), status: .notFound) }
            return Self.json(user)
        }
        router.post("/payments") { [self] request, context -> Response in
            let key = request.headers[.idempotencyKey] ?? ""
            let body = try await request.decode(as: CreatePaymentBody.self, context: context)
            let (mode, payment): (Mode, PaymentSummary?) = self.state.withLock { state in
                state.calls += 1
                guard state.payments != .unavailable else { return (state.payments, nil) }
                if let kept = state.charges[key] { return (state.payments, kept) }
                state.bodies.append(body)
                let status = switch body.paymentMethod { case "pm_card_declined": "failed"; case "pm_card_3ds": "requires_action"; default: "succeeded" }
                let made = PaymentSummary(id: UUID().uuidString.lowercased(), status: status, amountCents: body.amountCents, currency: body.currency,
                                          nextAction: status == "requires_action" ? .confirmPayment : nil)
                state.charges[key] = made
                return (state.payments, made)
            }
            switch mode {
            case .unavailable: return Response(status: .serviceUnavailable)
            case .failAfterCharging: return Response(status: .internalServerError)
            case .up: return Self.json(payment, status: .created)
            }
        }
        router.post("/payments/:id/release") { [self] request, context -> Response in
            let key = request.headers[.idempotencyKey] ?? ""
            let id = context.parameters.get("id") ?? ""
            let released: ReleaseSummary? = self.state.withLock { state in
                guard state.payments == .up, let charge = state.charges.values.first(where: { $0.id == id }) else { return nil }
                if let kept = state.releases[key] { return kept }
                let fee = charge.amountCents / 10
                let made = ReleaseSummary(paymentId: id, grossCents: charge.amountCents, feeCents: fee, netCents: charge.amountCents - fee, currency: charge.currency)
                state.releases[key] = made
                return made
            }
            return released.map { Self.json($0) } ?? Response(status: .serviceUnavailable)
        }
        router.post("/refunds") { [self] request, context -> Response in
            let key = request.headers[.idempotencyKey] ?? ""
            let body = try await request.decode(as: CreateRefundBody.self, context: context)
            let refund: RefundSummary? = self.state.withLock { state in
                guard state.payments == .up, let charge = state.charges.values.first(where: { $0.id == body.paymentId }) else { return nil }
                if let kept = state.refunds[key] { return kept }
                let made = RefundSummary(id: UUID().uuidString.lowercased(), paymentId: charge.id, amountCents: body.amountCents ?? charge.amountCents, currency: charge.currency, status: "succeeded")
                state.refunds[key] = made
                return made
            }
            return refund.map { Self.json($0, status: .created) } ?? Response(status: .serviceUnavailable)
        }
        return router
    }

    static func json(_ value: some Encodable, status: HTTPResponse.Status = .ok) -> Response {
        Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: try! JSON.encoder().encode(value))))
    }

    /// Runs `body` with a contracts service whose calls to the user and payments services go to this stand-in.
    func serve(_ engine: ServiceDatabase.Engine, _ body: @escaping @Sendable (ServiceHarness<Contracts>) async throws -> Void) async throws {
        try await StandIn.serve(router) { port in
            let url = "http://127.0.0.1:\(port)"
            try await ServiceHarness<Contracts>.with(engine, services: [.users: url, .payments: url], body)
        }
    }
}

extension ServiceHarness where Service == Contracts {
    /// `function` at `path` with a JSON body and an optional `Idempotency-Key`.
    func post(_ function: String, _ path: String, json: String, key: String? = nil, as identity: TestIdentity) async throws -> HandlerTester.Response {
        var headers: HTTPFields = [.contentType: "application/json"]
        if let key { headers[.idempotencyKey] = key }
        return try await http(function, HandlerTester.Request(method: .post, path: path, headers: headers, body: Data(json.utf8)), as: identity)
    }

    /// A new contract between `company` and `va` (both known to `peers`), signed by both unless `signed` is false.
    func contract(_ peers: PeerStandIn, company: String, va: String, type: ContractType = .hourly, signed: Bool = true, extra: String = "") async throws -> ContractRecord {
        peers.user(company, .company)
        peers.user(va, .va)
        let price = type == .hourly ? #""hourlyRateCents":2500"# : #""amountCents":100000"#
        let body = #"{"title":"Support work","vaUserId":"\#(va)","type":"\#(type.rawValue)",\#(price),"currency":"USD"\#(extra)}"#
        let created = try await call(.post, "/contracts", json: body, as: .person(company, .company))
        precondition(created.status == .created, String(decoding: created.body, as: UTF8.self))
        var contract = try created.json(ContractRecord.self)
        if signed {
            _ = try await call(.post, "/contracts/\(contract.id)/sign", as: .person(va, .va))
            contract = try await call(.post, "/contracts/\(contract.id)/sign", as: .person(company, .company)).json(ContractRecord.self)
        }
        return contract
    }
}

func newId() -> String { UUID().uuidString.lowercased() }
