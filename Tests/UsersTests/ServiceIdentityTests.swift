import AsyncHTTPClient
import Blytz
import BlytzData
import BlytzEvents
import BlytzServices
import BlytzTesting
import Foundation
import HTTPTypes
import Testing

/// Calls between services carry who is calling: a short-lived token from the user service, for holders of
/// a service's secret, verified by the same JWKS path as people's tokens.
@Suite(.serialized, .timeLimit(.minutes(3))) struct ServiceIdentityTests {
    /// A route only the contracts service may call (as linking a payment to a milestone is).
    struct ContractsOnly: HTTPFunction {
        static let access = Access.services(.contracts)

        struct Output: Codable, Sendable, ResponseBody { var userId: String; var role: Role; var service: ServiceName? }

        func handle(_ request: FunctionRequest<Empty>, caller: Caller, context: FunctionContext) async throws -> FunctionResponse<Output> {
            .ok(Output(userId: caller.userId, role: caller.role, service: caller.service))
        }
    }

    @Test func aServiceTokenIsIssuedToItsSecretAndARouteRefusesAPersonsToken() async throws {
        try await Backend.with(.sqlite) { api in
            let users = try #require(api.runner.urls.services["users"])
            let key = try String(contentsOfFile: api.runner.dataDirectory + "/service-key", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
            let company = try await api.register("company")
            let companyId = try #require(company.user?.id)

            // The wrong secret, or another service's, is refused; the right one gets a token.
            func token(_ service: ServiceName, secret: String, actingFor: String? = nil) async throws -> LocalRunner.Reply {
                let body = String(decoding: try JSON.encoder().encode(ServiceTokenRequest(service: service, secret: secret, actingFor: actingFor)), as: UTF8.self)
                return try await api.runner.post("/auth/service-token", json: body, base: users)
            }
            #expect(try await token(.contracts, secret: "not-the-secret").status == 401)
            #expect(try await token(.contracts, secret: ServiceSecret.derive(.payments, key: key)).status == 401)
            #expect(try await token(.contracts, secret: ServiceSecret.derive(.contracts, key: key), actingFor: UUID().uuidString).status == 422)
            let own = try await token(.contracts, secret: ServiceSecret.derive(.contracts, key: key)).json(ServiceToken.self)
            let acting = try await token(.contracts, secret: ServiceSecret.derive(.contracts, key: key), actingFor: companyId).json(ServiceToken.self)
            let payments = try await token(.payments, secret: ServiceSecret.derive(.payments, key: key), actingFor: companyId).json(ServiceToken.self)

            // Another service verifies them against the user service's JWKS, as it does people's tokens.
            var dependencies = Dependencies()
            dependencies[AuthenticatorKey.self] = Authenticator(verifier: TokenVerifier(keys: JWKSKeySource(url: users + "/auth/jwks", http: .shared)))
            let context = TestContext.make(dependencies: dependencies)
            func call(_ token: String) async throws -> HandlerTester.Response {
                try await HandlerTester.http(ContractsOnly(), .get("/x", headers: [.authorization: "Bearer \(token)"]), context: context)
            }
            let refused = try await call(company.accessToken)
            #expect(refused.status == 403 && refused.problem?.detail == "Only the contracts service may do this.")
            #expect(try await call(payments.accessToken).status == 403)
            let alone = try await call(own.accessToken).json(ContractsOnly.Output.self)
            #expect(alone.service == .contracts && alone.role == .service && alone.userId == "service:contracts")
            let forCompany = try await call(acting.accessToken).json(ContractsOnly.Output.self)
            #expect(forCompany.service == .contracts && forCompany.role == .company && forCompany.userId == companyId)
        }
    }

    @Test func theServiceClientFetchesAndReusesItsOwnToken() async throws {
        try await Backend.with(.sqlite) { api in
            let users = try #require(api.runner.urls.services["users"])
            let key = try String(contentsOfFile: api.runner.dataDirectory + "/service-key", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
            let va = try await api.register("va")
            let vaId = try #require(va.user?.id)
            let configuration = Configuration(["BLYTZ_SERVICE": "contracts", "BLYTZ_SERVICE_KEY": key, "BLYTZ_SERVICE_URL_USERS": users])
            let client = ServiceClient(http: .shared, configuration: configuration)
            let context = TestContext.make(configuration: configuration.values)
            let asService = try await client.call(GetBasicUserCall(userId: vaId), context: context, as: .service)
            #expect(asService.id == vaId && asService.role == .va && asService.status == .active)
            let acting = try await client.call(GetBasicUserCall(userId: vaId), context: context, as: .actingFor(vaId))
            #expect(acting.id == vaId)
            // Without the key the service has no identity: a clear 503, no call made.
            let anonymous = ServiceClient(http: .shared, configuration: Configuration(["BLYTZ_SERVICE": "contracts", "BLYTZ_SERVICE_URL_USERS": users]))
            await #expect { try await anonymous.call(GetBasicUserCall(userId: vaId), context: context, as: .service) } throws: { error in
                (error as? ServiceCallError)?.problem.status == 503
            }
        }
    }
}
