import Foundation
import HTTPTypes
import Blytz
import BlytzEvents
import JWTKit

/// Turns an `Authorization: Bearer …` header into a `Caller`, or a 401 that says why.
///
/// The user service checks the subject against its own table (a suspended or deleted user's token
/// stops working at once); other services pass an `isActive` of their own or none.
public struct Authenticator: Sendable {
    public let verifier: TokenVerifier
    /// Whether the token's subject may still act; `nil` trusts a valid token until it expires.
    public let isActive: (@Sendable (String) async throws -> Bool)?

    public init(verifier: TokenVerifier, isActive: (@Sendable (String) async throws -> Bool)? = nil) {
        self.verifier = verifier
        self.isActive = isActive
    }

    public func authenticate(authorization: String?) async throws(HTTPError) -> Caller {
        guard let authorization, !authorization.isEmpty else { throw Self.unauthorized("Sign in first: send an Authorization: Bearer token.") }
        let parts = authorization.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else {
            throw Self.unauthorized("The Authorization header must be 'Bearer <access token>'.")
        }
        let token = String(parts[1]).trimmingCharacters(in: .whitespaces)
        let claims: AccessClaims
        do throws(TokenRejected) {
            claims = try await verifier.verify(token)
        } catch where error.unavailable {
            throw HTTPError(503, detail: "Access tokens cannot be checked right now; try again shortly.", headers: [.retryAfter: "1"])
        } catch {
            throw Self.unauthorized("The access token was refused: \(error.description).")
        }
        if let isActive, claims.role != .service {
            let active: Bool
            do { active = try await isActive(claims.sub.value) } catch { throw HTTPError(503, detail: "The account could not be checked; try again.") }
            guard active else { throw Self.unauthorized("The access token was refused: the account is not active.") }
        }
        return Caller(userId: claims.sub.value, role: claims.role, service: claims.svc, token: token)
    }

    static func unauthorized(_ detail: String) -> HTTPError {
        HTTPError(401, detail: detail, headers: [.wwwAuthenticate: #"Bearer error="invalid_token""#])
    }
}

/// The key under which a worker's authenticator sits in its dependencies.
public enum AuthenticatorKey: DependencyKey {
    public typealias Value = Authenticator
}

extension FunctionContext {
    /// The verified caller of `request`; throws 401 when it carries no valid token.
    public func caller<Input>(_ request: FunctionRequest<Input>) async throws -> Caller {
        try await caller(authorization: request.header(.authorization))
    }

    /// The verified caller of an `Authorization` header's value (a WebSocket `$connect` has no `Request`).
    public func caller(authorization: String?) async throws -> Caller {
        try await dependencies.require(AuthenticatorKey.self, "Authentication").authenticate(authorization: authorization)
    }
}
