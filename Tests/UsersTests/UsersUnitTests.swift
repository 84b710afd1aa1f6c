import Blytz
import BlytzEvents
import BlytzData
import BlytzServices
import BlytzTesting
import Foundation
import HTTPTypes
import JWTKit
import Logging
import SQLKit
import Testing

@testable import Users

/// The user service's parts, called directly: the circuit breaker, key rotation, consumers, inputs.
@Suite struct UsersUnitTests {
    /// A manual instant for the breaker's state machine.
    struct Instant: InstantProtocol {
        var offset: Duration
        func advanced(by duration: Duration) -> Instant { Instant(offset: offset + duration) }
        func duration(to other: Instant) -> Duration { other.offset - offset }
        static func < (lhs: Instant, rhs: Instant) -> Bool { lhs.offset < rhs.offset }
    }

    @Test func theBreakerOpensAfterTheThresholdAndProbesWhenHalfOpen() {
        var breaker = BreakerState<Instant>(thresholds: .init(failureThreshold: 3, openDuration: .seconds(10), halfOpenProbes: 1))
        let start = Instant(offset: .zero)
        for _ in 0..<2 {
            #expect(breaker.acquire(now: start) == .allow)
            breaker.record(success: false, now: start)
        }
        #expect(breaker.phase == .closed(failures: 2))
        breaker.record(success: true, now: start)
        #expect(breaker.phase == .closed(failures: 0))
        for _ in 0..<3 { breaker.record(success: false, now: start) }
        #expect(breaker.acquire(now: start.advanced(by: .seconds(4))) == .reject(retryAfter: .seconds(6)))
        // Half-open after the open period: one probe passes, a second waits.
        let later = start.advanced(by: .seconds(10))
        #expect(breaker.acquire(now: later) == .allow)
        #expect(breaker.acquire(now: later) != .allow)
        breaker.record(success: false, now: later)
        #expect(breaker.phase == .open(until: later.advanced(by: .seconds(10))))
        let again = later.advanced(by: .seconds(10))
        #expect(breaker.acquire(now: again) == .allow)
        breaker.record(success: true, now: again)
        #expect(breaker.phase == .closed(failures: 0))
    }

    @Test func rotationRetiresTheOldKeyAfterOneTokenLifetime() throws {
        let now = Date()
        let first = SigningKeyRing.newKey(now: now)
        let ring = try SigningKeyRing(.init(keys: [first]))
        let rotated = try SigningKeyRing(ring.rotated(now: now, accessTokenTTL: .seconds(900)))
        #expect(rotated.current.kid != first.kid)
        #expect(rotated.published(now: now.addingTimeInterval(899), accessTokenTTL: .seconds(900)).count == 2)
        #expect(rotated.published(now: now.addingTimeInterval(901), accessTokenTTL: .seconds(900)).map(\.kid) == [rotated.current.kid])
        #expect(rotated.jwks(now: now, accessTokenTTL: .seconds(900)).keys.count == 2)
    }

    @Test func aRedeliveredReviewCountsOnce() async throws {
        try await TestDatabase.with(.sqlite) { database in
            _ = try await Migrator(service: "users", migrations: Users.migrations).migrate(database, logger: Logger(label: "test"))
            let userId = UUID().uuidString.lowercased()
            let now = Date().iso
            try await database.transaction { sql in
                try await UserRecord(id: userId, email: "r@example.com", passwordHash: "!", role: .va, status: .active, emailVerified: true, preferences: "{}", createdAt: now, updatedAt: now).insert(on: sql)
                try await DemoData.profile(userId: userId, VAProfileInput(name: "R", country: "PH", hourlyRateCents: 100, skills: ["Excel"]), createdAt: now).save(on: sql, inserting: true)
            }
            var dependencies = Dependencies()
            dependencies[DatabaseKey.self] = database
            let context = TestContext.make(function: "users-on-review-posted", dependencies: dependencies)
            let review = ReviewPosted(reviewId: UUID().uuidString, contractId: UUID().uuidString, reviewerUserId: UUID().uuidString, targetUserId: userId, rating: 4)
            let event = EventEnvelope(id: "evt-1", type: ReviewPosted.type, source: "payments", time: now, subject: review.subject, data: review, traceparent: nil)
            try await RecordReview().handle(event, context: context)
            try await RecordReview().handle(event, context: context)
            var second = event
            second.id = "evt-2"
            second.data.rating = 5
            try await RecordReview().handle(second, context: context)
            let profile = try await database.withConnection { sql in try await VAProfileRecord.find(userId, on: sql) }
            #expect(profile?.totalReviews == 2 && profile?.averageRating == 4.5)
        }
    }

    @Test(arguments: [("short", "must be at least 10 characters"), ("aaaaaaaaaaaa", "is too easy to guess"), (String(repeating: "ab1", count: 30), "must be at most 72 bytes")])
    func thePasswordPolicyNamesTheProblem(password: String, message: String) {
        #expect(Passwords.problems(password).map(\.message) == [message])
        #expect(Passwords.problems("correct horse battery").isEmpty)
    }

    @Test func anUnknownEmailCostsABcryptRunAtTheConfiguredCost() {
        let passwords = Passwords(cost: 6)
        #expect(passwords.dummyHash.hasPrefix("$2b$06$") && passwords.dummyHash.count == 60)
        #expect(!passwords.verify("anything at all", hash: nil))
        #expect(passwords.verify("anything at all", hash: passwords.hash("anything at all")))
    }

    @Test func searchTermsAndCursorsRoundTrip() {
        #expect(searchTerms(["Data Entry", "data-entry & Excel!"]) == ["data", "entry", "excel"])
        let cursor = Cursor(sort: "rating", value: "4.25", id: "abc")
        #expect(Cursor(cursor.encoded) == cursor)
        #expect(Data(base64URL: cursor.encoded).map { String(decoding: $0, as: UTF8.self) } == #"{"id":"abc","sort":"rating","value":"4.25"}"#)
        #expect(Cursor("not-base64!") == nil)
    }

    /// Other services learn of suspensions and deletions from events, and their authenticator refuses
    /// those accounts' still-valid tokens; a late, older event does not undo a newer one.
    @Test(arguments: [ServiceDatabase.Engine.sqlite, .postgres])
    func otherServicesRefuseAccountsTheUserServiceDeactivated(engine: ServiceDatabase.Engine) async throws {
        try await TestDatabase.with(engine) { database in
            _ = try await Migrator(service: "marketplace", migrations: []).migrate(database, logger: Logger(label: "test"))
            var dependencies = Dependencies()
            dependencies[DatabaseKey.self] = database
            let context = TestContext.make(function: "marketplace-on-account-status", dependencies: dependencies)
            let key = ES256PrivateKey()
            let keys = await SigningKeys(["k1": key.publicKey])
            struct Fixed: SigningKeySource { let keys: SigningKeys; func signingKeys(refresh: Bool) async throws -> SigningKeys { keys } }
            let authenticator = Authenticator(verifier: TokenVerifier(keys: Fixed(keys: keys))) { try await AccountStatus.isActive($0, in: database) }
            let userId = UUID().uuidString.lowercased()
            let signer = JWTKeyCollection()
            await signer.add(ecdsa: key, kid: "k1")
            let token = try await signer.sign(AccessClaims(userId: userId, role: .va, issuedAt: Date(), expiresAt: Date() + 300), kid: "k1")
            func event(_ status: AccountState, at time: String) -> EventEnvelope<AccountStatusConsumer.Change> {
                EventEnvelope(id: UUID().uuidString, type: UserUpdated.type, source: "users", time: time, subject: userId, data: .updated(UserUpdated(userId: userId, fields: ["status"], status: status)), traceparent: nil)
            }
            #expect(try await authenticator.authenticate(authorization: "Bearer \(token)").userId == userId)
            try await AccountStatusConsumer().handle(event(.suspended, at: "2026-01-01T00:00:02.000Z"), context: context)
            await #expect(throws: HTTPError.self) { try await authenticator.authenticate(authorization: "Bearer \(token)") }
            try await AccountStatusConsumer().handle(event(.active, at: "2026-01-01T00:00:01.000Z"), context: context)
            #expect(try await AccountStatus.isActive(userId, in: database) == false)
            try await AccountStatusConsumer().handle(event(.active, at: "2026-01-01T00:00:03.000Z"), context: context)
            #expect(try await authenticator.authenticate(authorization: "Bearer \(token)").userId == userId)
            try await AccountStatusConsumer().handle(
                EventEnvelope(id: UUID().uuidString, type: UserDeleted.type, source: "users", time: "2026-01-01T00:00:04.000Z", subject: userId, data: .deleted(UserDeleted(userId: userId, role: .va)), traceparent: nil),
                context: context
            )
            #expect(try await AccountStatus.isActive(userId, in: database) == false)
        }
    }

    @Test(arguments: [ServiceDatabase.Engine.sqlite, .postgres])
    func purgingRemovesOnlyWhatCanNoLongerBeUsed(engine: ServiceDatabase.Engine) async throws {
        try await TestDatabase.with(engine) { database in
            _ = try await Migrator(service: "users", migrations: Users.migrations).migrate(database, logger: Logger(label: "test"))
            let now = Date()
            let userId = UUID().uuidString.lowercased()
            try await database.transaction { sql in
                try await UserRecord(id: userId, email: "p@example.com", passwordHash: "!", role: .va, status: .active, emailVerified: true, preferences: "{}", createdAt: now.iso, updatedAt: now.iso).insert(on: sql)
                for (id, expires) in [("old", now.addingTimeInterval(-2 * 86_400)), ("live", now.addingTimeInterval(86_400))] {
                    try await sql.insert(into: "refresh_tokens").columns("id", "user_id", "family_id", "token_hash", "created_at", "expires_at")
                        .values(SQLBind(id), SQLBind(userId), SQLBind("f"), SQLBind(id), SQLBind(now.iso), SQLBind(expires.iso)).run()
                    try await sql.insert(into: "one_time_tokens").columns("token_hash", "user_id", "purpose", "created_at", "expires_at")
                        .values(SQLBind(id), SQLBind(userId), SQLBind("reset"), SQLBind(now.iso), SQLBind(expires.iso)).run()
                }
                for (key, started, locked) in [("email:old", now.addingTimeInterval(-3_600), nil as Date?), ("email:locked", now.addingTimeInterval(-3_600), now.addingTimeInterval(600)), ("email:new", now, nil)] {
                    try await sql.insert(into: "login_throttle").columns("key", "failures", "window_started_at", "locked_until", "locks")
                        .values(SQLBind(key), SQLBind(1), SQLBind(started.iso), SQLBind(locked?.iso), SQLBind(0)).run()
                }
            }
            try await PurgeExpired.purge(database, now: now, lockDuration: .seconds(900))
            struct Key: Decodable { var id: String }
            let left = try await database.withConnection { sql in
                (
                    try await sql.select().column("id").from("refresh_tokens").all(decoding: Key.self).map(\.id),
                    try await sql.select().column("token_hash", as: "id").from("one_time_tokens").all(decoding: Key.self).map(\.id),
                    try await sql.select().column("key", as: "id").from("login_throttle").all(decoding: Key.self).map(\.id).sorted()
                )
            }
            #expect(left.0 == ["live"] && left.1 == ["live"] && left.2 == ["email:locked", "email:new"])
        }
    }
}
