import Blytz
import BlytzData
import BlytzEvents
import BlytzServices
import Foundation
import JWTKit
import SQLKit

/// What every user-service handler shares in a warm worker: settings, password hashing and signing keys.
struct UsersEnvironment: Sendable {
    let settings: Settings
    let passwords: Passwords
    let keys: SigningKeyStore

    init(configuration: Configuration) {
        settings = Settings(configuration)
        passwords = Passwords(cost: settings.bcryptCost)
        keys = SigningKeyStore(configuration: configuration, accessTokenTTL: settings.accessTokenTTL)
    }

    /// A signed access token for `user`, and its lifetime in seconds.
    func accessToken(for user: UserRecord, now: Date) async throws -> (token: String, expiresIn: Int) {
        let (ring, signer) = try await keys.ring()
        let claims = AccessClaims(userId: user.id, role: user.role, issuedAt: now, expiresAt: now.adding(settings.accessTokenTTL))
        let token = try await signer.sign(claims, kid: JWKIdentifier(string: ring.current.kid))
        return (token, Int(settings.accessTokenTTL / .seconds(1)))
    }

    /// A short-lived token for `service`, acting for `person` when given (carrying their id and role).
    func serviceToken(for service: ServiceName, actingFor person: UserRecord?, now: Date) async throws -> ServiceToken {
        let (ring, signer) = try await keys.ring()
        let claims = AccessClaims(
            userId: person?.id ?? Caller.serviceSubject(service), role: person?.role ?? .service, service: service,
            issuedAt: now, expiresAt: now.adding(settings.serviceTokenTTL)
        )
        let token = try await signer.sign(claims, kid: JWKIdentifier(string: ring.current.kid))
        return ServiceToken(accessToken: token, expiresIn: Int(settings.serviceTokenTTL / .seconds(1)))
    }

    /// Starts a session (a new refresh token family, or the next token of `family`) and signs an access token.
    func session(for user: UserRecord, family: String? = nil, now: Date, on sql: any SQLDatabase) async throws -> AuthResult {
        let refresh = try await Sessions.issue(userId: user.id, family: family, ttl: settings.refreshTokenTTL, now: now, on: sql)
        let access = try await accessToken(for: user, now: now)
        return AuthResult(user: user.view, accessToken: access.token, refreshToken: refresh.value, expiresIn: access.expiresIn)
    }
}

enum UsersEnvironmentKey: DependencyKey {
    typealias Value = UsersEnvironment
}

extension FunctionContext {
    var users: UsersEnvironment {
        get throws {
            try dependencies.require(UsersEnvironmentKey.self, "The user service")
        }
    }
}

/// What sign-up, sign-in and refresh answer.
struct AuthResult: Codable, Sendable, ResponseBody {
    var user: UserView?
    var accessToken: String
    var refreshToken: String
    var expiresIn: Int
    var tokenType = "Bearer"
}

/// Refresh tokens: random, stored as SHA-256, one family per sign-in. Each use rotates the token; using
/// a rotated (or revoked) token again means it was stolen, and revokes its whole family.
enum Sessions {
    struct Row: Codable, Sendable {
        var id: String
        var userId: String
        var familyId: String
        var tokenHash: String
        var createdAt: String
        var expiresAt: String
        var rotatedAt: String?
        var revokedAt: String?
        var revokeReason: String?
    }

    enum Outcome: Sendable {
        case rotated(UserRecord, family: String)
        case reused
        case expired
        case unknown
    }

    static func issue(userId: String, family: String?, ttl: Duration, now: Date, on sql: any SQLDatabase) async throws -> SecretToken {
        let token = SecretToken.generate()
        let row = Row(
            id: UUID().uuidString.lowercased(), userId: userId, familyId: family ?? UUID().uuidString.lowercased(),
            tokenHash: token.hash, createdAt: now.iso, expiresAt: now.adding(ttl).iso
        )
        try await sql.insert(into: "refresh_tokens").model(row, keyEncodingStrategy: .snakeCase).run()
        return token
    }

    /// Consumes `token` in the caller's transaction: marks it rotated, or, if it was already used,
    /// revokes its family.
    static func consume(_ token: String, now: Date, on sql: any SQLDatabase) async throws -> Outcome {
        guard let row = try await sql.select().column("*").from("refresh_tokens").where("token_hash", .equal, SQLBind(SecretToken.hash(token)))
            .for(.update).first(decoding: Row.self, keyDecodingStrategy: .snakeCase)
        else { return .unknown }
        if row.rotatedAt != nil || row.revokedAt != nil {
            try await revoke(family: row.familyId, reason: row.revokedAt == nil ? "reuse" : "reuse-after-revoke", on: sql)
            return .reused
        }
        guard let expires = Date(iso: row.expiresAt), expires > now else { return .expired }
        guard let user = try await UserRecord.find(row.userId, on: sql), user.status == .active else { return .unknown }
        try await sql.update("refresh_tokens").set("rotated_at", to: SQLBind(now.iso)).where("id", .equal, SQLBind(row.id)).run()
        return .rotated(user, family: row.familyId)
    }

    static func revoke(family: String, reason: String, on sql: any SQLDatabase) async throws {
        try await sql.update("refresh_tokens").set("revoked_at", to: SQLBind(Date().iso)).set("revoke_reason", to: SQLBind(reason))
            .where("family_id", .equal, SQLBind(family)).where("revoked_at", .is, SQLLiteral.null).run()
    }

    /// Ends every session of a user (password reset, suspension, deletion).
    static func revokeAll(userId: String, reason: String, on sql: any SQLDatabase) async throws {
        try await sql.update("refresh_tokens").set("revoked_at", to: SQLBind(Date().iso)).set("revoke_reason", to: SQLBind(reason))
            .where("user_id", .equal, SQLBind(userId)).where("revoked_at", .is, SQLLiteral.null).run()
    }

    /// Revokes the family of `token` if it belongs to `userId`; returns whether it did.
    static func logout(_ token: String, userId: String, on sql: any SQLDatabase) async throws -> Bool {
        guard let row = try await sql.select().column("*").from("refresh_tokens").where("token_hash", .equal, SQLBind(SecretToken.hash(token)))
            .first(decoding: Row.self, keyDecodingStrategy: .snakeCase), row.userId == userId
        else { return false }
        try await revoke(family: row.familyId, reason: "logout", on: sql)
        return true
    }
}

/// Single-use, expiring tokens for password reset and email verification, stored as SHA-256.
enum OneTimeTokens {
    enum Purpose: String, Sendable {
        case reset
        case verify
    }

    struct Row: Codable, Sendable {
        var tokenHash: String
        var userId: String
        var purpose: String
        var createdAt: String
        var expiresAt: String
        var usedAt: String?
    }

    static func issue(_ purpose: Purpose, userId: String, ttl: Duration, now: Date, on sql: any SQLDatabase) async throws -> (token: SecretToken, expiresAt: String) {
        let token = SecretToken.generate()
        let row = Row(tokenHash: token.hash, userId: userId, purpose: purpose.rawValue, createdAt: now.iso, expiresAt: now.adding(ttl).iso)
        try await sql.insert(into: "one_time_tokens").model(row, keyEncodingStrategy: .snakeCase).run()
        return (token, row.expiresAt)
    }

    /// Marks `token` used and returns its user, if it is a live token for `purpose`.
    static func redeem(_ token: String, _ purpose: Purpose, now: Date, on sql: any SQLDatabase) async throws -> String? {
        guard let row = try await sql.select().column("*").from("one_time_tokens").where("token_hash", .equal, SQLBind(SecretToken.hash(token)))
            .for(.update).first(decoding: Row.self, keyDecodingStrategy: .snakeCase),
            row.purpose == purpose.rawValue, row.usedAt == nil, let expires = Date(iso: row.expiresAt), expires > now
        else { return nil }
        try await sql.update("one_time_tokens").set("used_at", to: SQLBind(now.iso)).where("token_hash", .equal, SQLBind(row.tokenHash)).run()
        return row.userId
    }

    /// Whether a token of `purpose` was issued to `userId` within the last `interval`.
    static func issuedRecently(_ purpose: Purpose, userId: String, within interval: Duration, now: Date, on sql: any SQLDatabase) async throws -> Bool {
        try await sql.select().column("token_hash").from("one_time_tokens").where("user_id", .equal, SQLBind(userId))
            .where("purpose", .equal, SQLBind(purpose.rawValue)).where("created_at", .greaterThan, SQLBind(now.adding(.zero - interval).iso))
            .first() != nil
    }

    /// Voids every unused token of `purpose` for `userId` (a newer one replaces them, or the password changed).
    static func void(_ purpose: Purpose, userId: String, now: Date, on sql: any SQLDatabase) async throws {
        try await sql.update("one_time_tokens").set("used_at", to: SQLBind(now.iso))
            .where("user_id", .equal, SQLBind(userId)).where("purpose", .equal, SQLBind(purpose.rawValue)).where("used_at", .is, SQLLiteral.null).run()
    }
}
