import Foundation
import Blytz
import BlytzData
import BlytzEvents
import BlytzServices

/// `POST /auth/service-token` (services only): a short-lived token naming the calling service, for a holder
/// of that service's secret; acting for `actingFor`, it carries that active user's id and role.
struct IssueServiceToken: HTTPFunction {
    static let access = Open()

    typealias Input = ServiceTokenRequest

    func handle(_ request: FunctionRequest<Input>, caller _: Anyone, context: FunctionContext) async throws -> FunctionResponse<ServiceToken> {
        let input = try request.input
        guard let key = context.configuration["BLYTZ_SERVICE_KEY"], !key.isEmpty else {
            throw HTTPError(503, detail: "Service tokens are not configured (BLYTZ_SERVICE_KEY).")
        }
        guard ServiceSecret.verify(input.secret, for: input.service, key: key) else {
            throw HTTPError(401, detail: "The secret is not the \(input.service.rawValue) service's.", errors: [.init(field: "secret", message: "is wrong")])
        }
        var person: UserRecord?
        if let userId = input.actingFor?.lowercased() {
            guard userId.isUUID else { throw HTTPError.unprocessable([.init(field: "actingFor", message: "must be a user id")]) }
            person = try await context.database.withConnection { sql in try await UserRecord.find(userId, on: sql) }
            guard let found = person, found.status == .active else {
                throw HTTPError(422, detail: "There is no active user \(userId) to act for.", errors: [.init(field: "actingFor", message: "is not an active user")])
            }
        }
        return .ok(try await context.users.serviceToken(for: input.service, actingFor: person, now: context.now))
    }
}
