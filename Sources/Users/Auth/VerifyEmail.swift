import Foundation
import Blytz
import BlytzEvents
import BlytzServices
import BlytzData
import SQLKit

/// `POST /auth/email/verify`: a live verification token marks its account's email verified; emits `UserUpdated`.
struct VerifyEmail: HTTPFunction {
    static let access = Open()

    struct Input: Codable, Sendable, Validatable {
        var token: String

        func validate() -> [Problem.FieldError] {
            token.isEmpty ? [.init(field: "token", message: "is required")] : []
        }
    }

    struct Output: Codable, Sendable, ResponseBody {
        var userId: String
        var emailVerified: Bool
    }

    func handle(_ request: FunctionRequest<Input>, caller _: Anyone, context: FunctionContext) async throws -> FunctionResponse<Output> {
        let userId = try await context.database.transaction { sql -> String? in
            guard let userId = try await OneTimeTokens.redeem(request.input.token, .verify, now: context.now, on: sql) else { return nil }
            try await sql.update("users").set("email_verified", to: SQLBind(true)).set("updated_at", to: SQLBind(context.now.iso))
                .where("id", .equal, SQLBind(userId)).run()
            try await context.publish(UserUpdated(userId: userId, fields: ["emailVerified"]), on: sql)
            return userId
        }
        guard let userId else {
            throw HTTPError(400, detail: "The verification token is not valid: it is unknown, used or expired.", errors: [.init(field: "token", message: "is not valid")])
        }
        return .ok(Output(userId: userId, emailVerified: true))
    }
}
