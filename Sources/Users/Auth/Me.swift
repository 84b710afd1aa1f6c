import Foundation
import Blytz
import BlytzEvents
import BlytzData
import BlytzServices

/// `GET /auth/me`: the caller and a summary of their own profile (nil until they create one).
struct Me: HTTPFunction {
    static let access = Access.signedIn

    struct Output: Codable, Sendable, ResponseBody {
        var user: UserView
        var vaProfile: VAProfileView?
        var companyProfile: CompanyView?
    }

    func handle(_ request: FunctionRequest<Empty>, caller: Caller, context: FunctionContext) async throws -> FunctionResponse<Output> {
        let output = try await context.database.withConnection { sql -> Output? in
            guard let user = try await UserRecord.find(caller.userId, on: sql) else { return nil }
            return Output(
                user: user.view,
                // Only the profile the account's role can have.
                vaProfile: user.role == .va ? try await VAProfileRecord.find(caller.userId, on: sql)?.view(for: .owner) : nil,
                companyProfile: user.role == .company ? try await CompanyRecord.find(caller.userId, on: sql)?.view(for: .owner) : nil
            )
        }
        guard let output else { throw HTTPError.notFound("There is no user \(caller.userId).") }
        return .ok(output)
    }
}
