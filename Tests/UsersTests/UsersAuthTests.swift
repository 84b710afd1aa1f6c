import BlytzEvents
import BlytzData
import BlytzServices
import BlytzTesting
import Foundation
import HTTPTypes
import NIOHTTP1
import AsyncHTTPClient
import JWTKit
import Logging
import Testing

/// The user service's authentication through the running runner, on SQLite and on PostgreSQL.
@Suite(.serialized, .timeLimit(.minutes(3))) struct UsersAuthTests {
    @Test(arguments: [ServiceDatabase.Engine.sqlite, .postgres])
    func registerLoginRefreshAndLogout(engine: ServiceDatabase.Engine) async throws {
        try await Backend.with(engine) { api in
            let email = "ana-\(UUID().uuidString.prefix(6).lowercased())@example.com"
            let session = try await api.register("va", email: email)
            #expect(session.user?.email == email && session.user?.role == "va" && session.expiresIn == 900)

            // Bad input: each field named, nothing created, never a 500.
            let taken = try await api.call(.POST, "/auth/register", json: #"{"email":"\#(email.uppercased())","password":"correct horse battery","role":"va"}"#)
            #expect(taken.status == 409 && taken.problemFields == ["email"])
            let weak = try await api.call(.POST, "/auth/register", json: #"{"email":"b@example.com","password":"short","role":"boss"}"#)
            #expect(weak.status == 422 && weak.problemFields == ["password", "role"])
            let malformed = try await api.call(.POST, "/auth/register", json: #"{"email": "#)
            #expect(malformed.status == 400 && malformed.header("content-type") == "application/problem+json")
            let wrongType = try await api.call(.POST, "/auth/register", json: #"{"email":1,"password":"x","role":"va"}"#)
            #expect(wrongType.status == 422 && wrongType.problemFields == ["email"])

            // The same answer for a wrong password and an unknown email.
            let wrong = try await api.login(email, "not the password")
            let unknown = try await api.login("nobody-\(UUID().uuidString.prefix(6))@example.com", "not the password")
            #expect(wrong.status == 401 && unknown.status == 401 && wrong.text == unknown.text)
            let login = try await api.login(email.uppercased(), "correct horse battery")
            #expect(login.status == 200)

            let me = try await api.call(.GET, "/auth/me", token: session.accessToken)
            #expect(me.status == 200 && (me.object["user"] as? [String: Any])?["email"] as? String == email)

            // Rotation: the old refresh token dies; using it again revokes the whole family.
            let refreshed = try await api.call(.POST, "/auth/refresh", json: #"{"refreshToken":"\#(session.refreshToken)"}"#)
            #expect(refreshed.status == 200)
            let next = try refreshed.json(Backend.Session.self)
            #expect(next.refreshToken != session.refreshToken)
            let reused = try await api.call(.POST, "/auth/refresh", json: #"{"refreshToken":"\#(session.refreshToken)"}"#)
            #expect(reused.status == 401)
            let afterReuse = try await api.call(.POST, "/auth/refresh", json: #"{"refreshToken":"\#(next.refreshToken)"}"#)
            #expect(afterReuse.status == 401)
            let garbage = try await api.call(.POST, "/auth/refresh", json: #"{"refreshToken":"nope"}"#)
            #expect(garbage.status == 401 && garbage.problemFields == ["refreshToken"])

            // Logout revokes the other session's refresh token.
            let other = try login.json(Backend.Session.self)
            let logout = try await api.call(.POST, "/auth/logout", token: other.accessToken, json: #"{"refreshToken":"\#(other.refreshToken)"}"#)
            #expect(logout.status == 204)
            let afterLogout = try await api.call(.POST, "/auth/refresh", json: #"{"refreshToken":"\#(other.refreshToken)"}"#)
            #expect(afterLogout.status == 401)
            let anonymous = try await api.call(.POST, "/auth/logout", json: #"{"all":true}"#)
            #expect(anonymous.status == 401)
        }
    }

    @Test(arguments: [ServiceDatabase.Engine.sqlite, .postgres])
    func passwordResetAndEmailVerificationTokensAreSingleUse(engine: ServiceDatabase.Engine) async throws {
        try await Backend.with(engine) { api in
            let session = try await api.register("company")
            let email = try #require(session.user?.email)
            let userId = try #require(session.user?.id)

            let verification = try #require(try await api.lastEvent("UserCreated", subject: userId)["verificationToken"])
            let verified = try await api.call(.POST, "/auth/email/verify", json: #"{"token":"\#(verification)"}"#)
            #expect(verified.status == 200)
            let again = try await api.call(.POST, "/auth/email/verify", json: #"{"token":"\#(verification)"}"#)
            #expect(again.status == 400 && again.problemFields == ["token"])

            let forgotUnknown = try await api.call(.POST, "/auth/password/forgot", json: #"{"email":"nobody@example.com"}"#)
            let forgot = try await api.call(.POST, "/auth/password/forgot", json: #"{"email":"\#(email)"}"#)
            #expect(forgot.status == 202 && forgotUnknown.status == 202 && forgot.text == forgotUnknown.text)
            let token = try #require(try await api.lastEvent("PasswordResetRequested", subject: userId)["token"])
            // Asking again at once is answered the same, but sends nothing more.
            let repeated = try await api.call(.POST, "/auth/password/forgot", json: #"{"email":"\#(email)"}"#)
            #expect(repeated.status == 202 && repeated.text == forgot.text)
            #expect(try await api.events("PasswordResetRequested", subject: userId).count == 1)

            let weak = try await api.call(.POST, "/auth/password/reset", json: #"{"token":"\#(token)","password":"short"}"#)
            #expect(weak.status == 422 && weak.problemFields == ["password"])
            let reset = try await api.call(.POST, "/auth/password/reset", json: #"{"token":"\#(token)","password":"a brand new passphrase"}"#)
            #expect(reset.status == 200)
            let reused = try await api.call(.POST, "/auth/password/reset", json: #"{"token":"\#(token)","password":"yet another passphrase"}"#)
            #expect(reused.status == 400 && reused.problemFields == ["token"])

            // Every session ended; only the new password works.
            let refresh = try await api.call(.POST, "/auth/refresh", json: #"{"refreshToken":"\#(session.refreshToken)"}"#)
            #expect(refresh.status == 401)
            #expect(try await api.login(email, "correct horse battery").status == 401)
            #expect(try await api.login(email, "a brand new passphrase").status == 200)
        }
    }

    @Test(arguments: [ServiceDatabase.Engine.sqlite, .postgres])
    func repeatedFailedLoginsAreThrottled(engine: ServiceDatabase.Engine) async throws {
        try await Backend.with(engine) { api in
            let session = try await api.register("va")
            let email = try #require(session.user?.email)
            for _ in 0..<3 { #expect(try await api.login(email, "wrong password!").status == 401) }
            let locked = try await api.login(email, "correct horse battery")
            #expect(locked.status == 429)
            let retryAfter = Int(locked.header("retry-after") ?? "") ?? 0
            #expect(retryAfter > 0 && retryAfter <= 60)
            // Another account from the same address is not locked out by this one.
            let other = try await api.register("va")
            #expect(try await api.login(try #require(other.user?.email), "correct horse battery").status == 200)
        }
    }

    /// Forged, tampered, expired and revoked tokens, against the user service and against the SDK's
    /// JWKS-based verifier that every other service uses.
    @Test(arguments: [ServiceDatabase.Engine.sqlite, .postgres])
    func tokenAttacksAreRefused(engine: ServiceDatabase.Engine) async throws {
        try await Backend.with(engine) { api in
            let session = try await api.register("va")
            let userId = try #require(session.user?.id)
            let (kid, key) = try api.signingKey()
            let now = Date()
            func sign(_ claims: AccessClaims, with key: ES256PrivateKey, kid: String) async throws -> String {
                let keys = JWTKeyCollection()
                await keys.add(ecdsa: key, kid: JWKIdentifier(string: kid))
                return try await keys.sign(claims, kid: JWKIdentifier(string: kid))
            }
            let valid = try await sign(AccessClaims(userId: userId, role: .va, issuedAt: now, expiresAt: now + 300), with: key, kid: kid)
            let parts = session.accessToken.split(separator: ".").map(String.init)
            let adminPayload = Data(#"{"sub":"\#(userId)","role":"admin","iss":"blytz-users","iat":\#(Int(now.timeIntervalSince1970)),"exp":\#(Int(now.timeIntervalSince1970) + 300),"jti":"x"}"#.utf8).base64URL
            let attacks: [String: String] = [
                "alg none": Data(#"{"alg":"none","typ":"JWT","kid":"\#(kid)"}"#.utf8).base64URL + "." + adminPayload + ".",
                "tampered payload": parts[0] + "." + adminPayload + "." + parts[2],
                "wrong key": try await sign(AccessClaims(userId: userId, role: .admin, issuedAt: now, expiresAt: now + 300), with: ES256PrivateKey(), kid: kid),
                "unknown kid": try await sign(AccessClaims(userId: userId, role: .admin, issuedAt: now, expiresAt: now + 300), with: ES256PrivateKey(), kid: "k-made-up"),
                "expired": try await sign(AccessClaims(userId: userId, role: .va, issuedAt: now - 600, expiresAt: now - 60), with: key, kid: kid),
                "not a JWT": "hello",
            ]
            #expect(try await api.call(.GET, "/auth/me", token: valid).status == 200)
            #expect(try await api.call(.GET, "/auth/me").status == 401)
            let verifier = TokenVerifier(keys: JWKSKeySource(url: try #require(api.runner.urls.services["users"]) + "/auth/jwks", http: .shared))
            #expect(try await verifier.verify(valid).sub.value == userId)
            for (name, token) in attacks.sorted(by: { $0.key < $1.key }) {
                let reply = try await api.call(.GET, "/auth/me", token: token)
                #expect(reply.status == 401, "\(name) answered \(reply.status)")
                #expect(reply.header("www-authenticate")?.contains("invalid_token") == true)
                await #expect(throws: TokenRejected.self, "\(name) passed the JWKS verifier") { try await verifier.verify(token) }
            }

            // A suspended user's still-unexpired token stops working at once.
            let admin = try await api.admin()
            let suspend = try await api.call(.PATCH, "/users/\(userId)", token: admin.accessToken, json: #"{"status":"suspended"}"#)
            #expect(suspend.status == 200)
            #expect(try await api.call(.GET, "/auth/me", token: session.accessToken).status == 401)
            #expect(try await api.call(.GET, "/profiles/va", token: valid).status == 401)
            #expect(try await api.login(try #require(session.user?.email), "correct horse battery").status == 403)
        }
    }

    /// Rotation: new tokens carry the new key id; tokens of the old key keep working until they expire; a
    /// verifier with a cached key set fetches the set again when it meets the new key id.
    @Test func signingKeyRotationKeepsOldTokensValid() async throws {
        try await Backend.with(.sqlite) { api in
            let before = try await api.register("va")
            // No pause between refreshes here: the rotation may come within the default minimum interval.
            let source = JWKSKeySource(url: try #require(api.runner.urls.services["users"]) + "/auth/jwks", http: .shared, minimumRefreshInterval: .zero)
            let verifier = TokenVerifier(keys: source)
            _ = try await verifier.verify(before.accessToken)
            let rotated = try blytz(["users", "rotate-key", "--data-dir", api.runner.dataDirectory], environment: Backend.environment)
            #expect(rotated.status == 0 && rotated.output.contains("rotated"))

            let after = try await api.register("va")
            let kidBefore = try TokenVerifier.header(of: before.accessToken).kid
            let kidAfter = try TokenVerifier.header(of: after.accessToken).kid
            #expect(kidBefore != nil && kidAfter != nil && kidBefore != kidAfter)
            struct JWKSDocument: Decodable { struct Key: Decodable { var kid: String }; var keys: [Key] }
            let jwks = try await api.call(.GET, "/auth/jwks").json(JWKSDocument.self)
            #expect(Set(jwks.keys.map(\.kid)) == Set([kidBefore, kidAfter].compactMap { $0 }))
            #expect(try await api.call(.GET, "/auth/me", token: before.accessToken).status == 200)
            #expect(try await api.call(.GET, "/auth/me", token: after.accessToken).status == 200)
            #expect(try await verifier.verify(after.accessToken).sub.value == after.user?.id)
        }
    }

    /// A suspension travels as `UserUpdated` to every other service's account-status consumer.
    @Test func aSuspensionReachesEveryOtherService() async throws {
        try await Backend.with(.sqlite) { api in
            let session = try await api.register("va")
            let userId = try #require(session.user?.id)
            let admin = try await api.admin()
            #expect(try await api.call(.PATCH, "/users/\(userId)", token: admin.accessToken, json: #"{"status":"suspended"}"#).status == 200)
            for service in ["marketplace", "contracts", "payments", "communication", "files"] {
                let database = try ServiceDatabase.open(.sqlite(path: api.runner.dataDirectory + "/\(service)_db.sqlite"), maxConnections: 1, logger: Logger(label: "test"))
                let recorded = try await using(database, cleanup: { await $0.shutdown() }) { database in
                    await eventually(within: .seconds(15)) { (try? await AccountStatus.isActive(userId, in: database)) == false }
                }
                #expect(recorded, "\(service) did not learn of the suspension")
            }
        }
    }
}
