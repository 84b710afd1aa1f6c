import Foundation
import Blytz
import BlytzEvents
import BlytzServices
import BlytzData
import SQLKit

/// `POST /auth/password/reset`: a live reset token sets a new password, once; every session of the
/// account is revoked, and the email counts as verified (the token arrived there).
struct ResetPassword: HTTPFunction {
    static let access = Open()

    struct Input: Codable, Sendable, Validatable {
        var token: String
        var password: String

        func validate() -> [Problem.FieldError] {
            (token.isEmpty ? [.init(field: "token", message: "is required")] : []) + Passwords.problems(password)
        }
    }

    struct Output: Codable, Sendable, ResponseBody {
        var detail = "The password was changed; sign in with it."
    }

    func handle(_ request: FunctionRequest<Input>, caller _: Anyone, context: FunctionContext) async throws -> FunctionResponse<Output> {
        let environment = try context.users
        let hash = try environment.passwords.hash(request.input.password)
        let changed = try await context.database.transaction { sql -> Bool in
            guard let userId = try await OneTimeTokens.redeem(request.input.token, .reset, now: context.now, on: sql) else { return false }
            try await sql.update("users").set("password_hash", to: SQLBind(hash)).set("email_verified", to: SQLBind(true))
                .set("updated_at", to: SQLBind(context.now.iso)).where("id", .equal, SQLBind(userId)).run()
            try await OneTimeTokens.void(.reset, userId: userId, now: context.now, on: sql)
            try await Sessions.revokeAll(userId: userId, reason: "password-reset", on: sql)
            return true
        }
        guard changed else {
            throw HTTPError(400, detail: "The reset token is not valid: it is unknown, used or expired.", errors: [.init(field: "token", message: "is not valid")])
        }
        return .ok(Output())
    }
}
