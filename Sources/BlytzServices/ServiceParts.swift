import AsyncHTTPClient
import Foundation
import Blytz
import BlytzEvents
import BlytzData
import Logging
import NIOCore

/// What every service's workers get beside their database: an authenticator that verifies bearer tokens
/// against the user service's JWKS (and refuses accounts `AccountStatusConsumer` recorded as not active),
/// and the inter-service client.
///
/// ```
/// // Sources/MarketplaceWorker/main.swift
/// Marketplace.main()   // Sources/MarketplaceWorker/main.swift; BlytzService.setup calls this by default
/// ```
public enum ServiceParts {
    @Sendable
    public static func setup(_ configuration: Configuration, _ logger: Logger, _ dependencies: inout Dependencies) async throws {
        let http = makeCallClient()
        dependencies.onShutdown { try? await http.shutdown() }
        let client = ServiceClient(http: http, configuration: configuration)
        dependencies[ServiceClientKey.self] = client
        if dependencies[AuthenticatorKey.self] == nil, let users = client.baseURL("users") {
            let database = dependencies[DatabaseKey.self]
            dependencies[AuthenticatorKey.self] = Authenticator(verifier: TokenVerifier(keys: JWKSKeySource(url: users + "/auth/jwks", http: http))) { userId in
                guard let database else { return true }
                return try await AccountStatus.isActive(userId, in: database)
            }
        }
    }

    /// Runs a service command that calls other services (such as `blytz marketplace backfill`) with a
    /// context like a worker's: the service's database, its client and identity, no WebSocket connections;
    /// `setup` adds the service's own parts (its `BlytzService.setup`), the kit's by default.
    public static func withCommandContext<Output: Sendable>(
        _ name: String, database: ServiceDatabase, configuration: Configuration, logger: Logger,
        setup: (Configuration, Logger, inout Dependencies) async throws -> Void = ServiceParts.setup,
        _ body: (FunctionContext) async throws -> Output
    ) async throws -> Output {
        var dependencies = Dependencies()
        dependencies[DatabaseKey.self] = database
        try await setup(configuration, logger, &dependencies)
        let context = FunctionContext(
            requestId: UUID().uuidString.lowercased(), functionName: name, deadlineEpochMilliseconds: Int64((Date().timeIntervalSince1970 + 3_600) * 1_000),
            traceparent: nil, logger: logger, configuration: configuration, dependencies: dependencies, connections: NoConnections()
        )
        do {
            let output = try await body(context)
            await dependencies.shutdown()
            return output
        } catch {
            await dependencies.shutdown()
            throw error
        }
    }

    /// A command holds no WebSocket connections.
    struct NoConnections: ConnectionManager {
        func post(_ data: Data, to connectionId: String) async throws { throw ConnectionGone(connectionId: connectionId) }
        func close(_ connectionId: String) async throws {}
    }

    /// The HTTP client of service calls, one per worker process for its lifetime. A refused connection
    /// fails the attempt at once (the service client decides about retries), instead of being retried
    /// until the deadline.
    static func makeCallClient() -> HTTPClient {
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool.retryConnectionEstablishment = false
        configuration.timeout.connect = .seconds(1)
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }
}

/// A setting a service's configured backend needs is missing (its setup fails, naming it).
public struct ConfigurationMissing: Error, CustomStringConvertible {
    public var setting: String
    public init(setting: String) { self.setting = setting }
    public var description: String { "\(setting) must be set for this configuration" }
}
