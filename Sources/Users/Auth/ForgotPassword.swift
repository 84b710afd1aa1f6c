import Foundation
import HTTPTypes
import Blytz
import BlytzEvents
import BlytzData

/// `POST /auth/password/forgot`: 202 whether or not the email has an account; for one that does, a new
/// reset token (older ones void) goes out in `PasswordResetRequested` — at most one a minute, so the
/// route cannot be used to flood someone's inbox.
struct ForgotPassword: HTTPFunction {
    static let access = Open()

    struct Input: Codable, Sendable, Validatable {
        var email: String

        func validate() -> [Problem.FieldError] {
            email.normalizedEmail.isPlausibleEmail ? [] : [.init(field: "email", message: "must be an email address")]
        }
    }

    struct Accepted: Codable, Sendable, ResponseBody {
        var detail = "If an account exists for this email, a reset link is on its way."
    }

    func handle(_ request: FunctionRequest<Input>, caller _: Anyone, context: FunctionContext) async throws -> FunctionResponse<Accepted> {
        let environment = try context.users
        let email = try request.input.email.normalizedEmail
        try await context.database.transaction { sql in
            guard let user = try await UserRecord.find(email: email, on: sql), user.status == .active else { return }
            guard try await !OneTimeTokens.issuedRecently(.reset, userId: user.id, within: .seconds(60), now: context.now, on: sql) else { return }
            try await OneTimeTokens.void(.reset, userId: user.id, now: context.now, on: sql)
            let reset = try await OneTimeTokens.issue(.reset, userId: user.id, ttl: environment.settings.resetTokenTTL, now: context.now, on: sql)
            try await context.publish(PasswordResetRequested(userId: user.id, email: user.email, token: reset.token.value, expiresAt: reset.expiresAt), on: sql)
        }
        return FunctionResponse(status: .accepted, body: Accepted())
    }
}
