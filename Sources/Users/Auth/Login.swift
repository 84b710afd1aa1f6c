import Foundation
import HTTPTypes
import Blytz
import BlytzEvents
import BlytzServices
import BlytzData
import SQLKit

/// `POST /auth/login`: email and password → a session. An unknown email and a wrong password get the
/// same answer after the same bcrypt work; repeated failures per email or address answer 429.
struct Login: HTTPFunction {
    static let access = Open()

    struct Input: Codable, Sendable, Validatable {
        var email: String
        var password: String

        func validate() -> [Problem.FieldError] {
            var errors: [Problem.FieldError] = []
            if email.isEmpty { errors.append(.init(field: "email", message: "is required")) }
            if password.isEmpty { errors.append(.init(field: "password", message: "is required")) }
            return errors
        }
    }

    func handle(_ request: FunctionRequest<Input>, caller _: Anyone, context: FunctionContext) async throws -> FunctionResponse<AuthResult> {
        let environment = try context.users
        let database = try context.database
        let throttle = LoginThrottle(settings: environment.settings)
        let input = try request.input
        let email = input.email.normalizedEmail
        let address = request.sourceIP
        if let wait = try await database.withConnection({ sql in try await throttle.retryAfter(email: email, address: address, on: sql, now: context.now) }) {
            throw HTTPError(429, detail: "Too many failed sign-ins; try again in \(wait) seconds.", headers: [.retryAfter: "\(wait)"])
        }
        let found = try await database.withConnection { sql in try await UserRecord.find(email: email, on: sql) }
        let user = found.flatMap { $0.status == .deleted ? nil : $0 }
        // An imported account has no password until its owner sets one through the reset flow.
        guard environment.passwords.verify(input.password, hash: user.flatMap { $0.passwordHash.isEmpty ? nil : $0.passwordHash }), let user else {
            try await database.transaction { sql in try await throttle.recordFailure(email: email, address: address, on: sql, now: context.now) }
            throw HTTPError(401, detail: "The email or password is incorrect.")
        }
        guard user.status == .active else { throw HTTPError(403, detail: "This account is suspended.") }
        let result = try await database.transaction { sql in
            try await throttle.recordSuccess(email: email, on: sql)
            try await sql.update("users").set("last_seen_at", to: SQLBind(context.now.iso)).where("id", .equal, SQLBind(user.id)).run()
            return try await environment.session(for: user, now: context.now, on: sql)
        }
        return .ok(result)
    }
}
