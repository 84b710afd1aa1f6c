import Foundation
import Blytz
import BlytzEvents
import BlytzData

/// `POST /auth/refresh`: trades a refresh token for a new pair. The old token dies; presenting a dead
/// one again revokes every token of its family (whoever holds them must sign in again).
struct Refresh: HTTPFunction {
    static let access = Open()

    struct Input: Codable, Sendable, Validatable {
        var refreshToken: String

        func validate() -> [Problem.FieldError] {
            refreshToken.isEmpty ? [.init(field: "refreshToken", message: "is required")] : []
        }
    }

    func handle(_ request: FunctionRequest<Input>, caller _: Anyone, context: FunctionContext) async throws -> FunctionResponse<AuthResult> {
        let environment = try context.users
        enum Answer: Sendable {
            case session(AuthResult)
            case refused(String)
        }
        let answer = try await context.database.transaction { sql -> Answer in
            switch try await Sessions.consume(request.input.refreshToken, now: context.now, on: sql) {
            case .rotated(let user, let family):
                var result = try await environment.session(for: user, family: family, now: context.now, on: sql)
                result.user = nil
                return .session(result)
            case .reused: return .refused("This refresh token was already used; every session it belonged to is now revoked.")
            case .expired: return .refused("The refresh token has expired; sign in again.")
            case .unknown: return .refused("The refresh token is not valid.")
            }
        }
        switch answer {
        case .session(let result): return .ok(result)
        case .refused(let detail): throw HTTPError(401, detail: detail, errors: [.init(field: "refreshToken", message: "is not valid")])
        }
    }
}
