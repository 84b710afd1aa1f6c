import Foundation
import Blytz
import BlytzEvents
import BlytzData
import BlytzServices

/// `POST /auth/logout`: revokes the session of the given refresh token, or with `all`, every session.
struct Logout: HTTPFunction {
    static let access = Access.signedIn

    struct Input: Codable, Sendable {
        var refreshToken: String?
        var all: Bool?
    }

    func handle(_ request: FunctionRequest<Input>, caller: Caller, context: FunctionContext) async throws -> FunctionResponse<Empty> {
        let input = try request.input
        guard input.all == true || !(input.refreshToken ?? "").isEmpty else {
            throw HTTPError.unprocessable([.init(field: "refreshToken", message: "is required unless all is true")])
        }
        try await context.database.transaction { sql in
            if input.all == true {
                try await Sessions.revokeAll(userId: caller.userId, reason: "logout-all", on: sql)
            } else if let token = input.refreshToken {
                _ = try await Sessions.logout(token, userId: caller.userId, on: sql)
            }
        }
        return .noContent
    }
}
