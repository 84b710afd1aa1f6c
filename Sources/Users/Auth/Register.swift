import Foundation
import Blytz
import BlytzEvents
import BlytzData
import BlytzServices
import SQLKit

/// `POST /auth/register`: creates a VA or company account and signs it in; emits `UserCreated`
/// (carrying the one-time email verification token for the welcome message).
struct Register: HTTPFunction {
    static let access = Open()

    struct Input: Codable, Sendable, Validatable {
        var email: String
        var password: String
        var role: String

        func validate() -> [Problem.FieldError] {
            var errors: [Problem.FieldError] = []
            if !email.normalizedEmail.isPlausibleEmail { errors.append(.init(field: "email", message: "must be an email address")) }
            errors += Passwords.problems(password)
            if role != "va" && role != "company" { errors.append(.init(field: "role", message: "must be va or company")) }
            return errors
        }
    }

    func handle(_ request: FunctionRequest<Input>, caller _: Anyone, context: FunctionContext) async throws -> FunctionResponse<AuthResult> {
        let environment = try context.users
        let database = try context.database
        let input = try request.input
        let email = input.email.normalizedEmail
        if try await database.withConnection({ sql in try await UserRecord.find(email: email, on: sql) }) != nil {
            throw HTTPError(409, detail: "An account with this email already exists.", errors: [.init(field: "email", message: "is already registered")])
        }
        let now = context.now.iso
        let user = UserRecord(
            id: UUID().uuidString.lowercased(), email: email, passwordHash: environment.passwords.hash(input.password),
            role: Caller.Role(rawValue: input.role) ?? .va, status: .active, emailVerified: false, preferences: "{}",
            createdAt: now, updatedAt: now
        )
        do {
            let result = try await database.transaction { sql in
                try await user.insert(on: sql)
                let verification = try await OneTimeTokens.issue(.verify, userId: user.id, ttl: environment.settings.verifyTokenTTL, now: context.now, on: sql)
                try await context.publish(
                    UserCreated(userId: user.id, email: email, role: user.role, verificationToken: verification.token.value, verificationExpiresAt: verification.expiresAt),
                    on: sql
                )
                return try await environment.session(for: user, now: context.now, on: sql)
            }
            return .created(result, location: "/users/\(user.id)")
        } catch where ServiceDatabase.isUniqueViolation(error) {
            throw HTTPError(409, detail: "An account with this email already exists.", errors: [.init(field: "email", message: "is already registered")])
        }
    }
}
