import BlytzEvents
import Foundation
import JWTKit

/// The claims of an access token the user service issues: who (`sub`), as what (`role`), until when; and
/// for a service's token, which service (`svc`) — `sub` is then the person it acts for, or `service:<name>`.
public struct AccessClaims: JWTPayload, Equatable {
    /// The issuer every access token names.
    public static let issuer = "blytz-users"

    public var sub: SubjectClaim
    public var role: Role
    public var iss: IssuerClaim
    public var iat: IssuedAtClaim
    public var exp: ExpirationClaim
    /// Unique per token, for logs and audit.
    public var jti: IDClaim
    /// The calling service, on a service's token.
    public var svc: ServiceName?

    public init(userId: String, role: Role, service: ServiceName? = nil, issuedAt: Date, expiresAt: Date, id: String = UUID().uuidString.lowercased()) {
        sub = SubjectClaim(value: userId)
        self.role = role
        svc = service
        iss = IssuerClaim(value: Self.issuer)
        // NumericDate in whole seconds, as most JWT libraries expect.
        iat = IssuedAtClaim(value: Date(timeIntervalSince1970: issuedAt.timeIntervalSince1970.rounded(.down)))
        exp = ExpirationClaim(value: Date(timeIntervalSince1970: expiresAt.timeIntervalSince1970.rounded(.down)))
        jti = IDClaim(value: id)
    }

    public func verify(using algorithm: some JWTAlgorithm) async throws {
        try exp.verifyNotExpired()
        guard iss.value == Self.issuer else { throw JWTError.claimVerificationFailure(failedClaim: iss, reason: "wrong issuer") }
    }
}
