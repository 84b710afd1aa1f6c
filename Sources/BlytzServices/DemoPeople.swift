import Blytz
import BlytzEvents

/// A command's refusal, shown as is to whoever ran it.
public struct CommandRefusal: Error, CustomStringConvertible {
    public var description: String

    public init(_ description: String) {
        self.description = description
    }
}

/// The demo people `blytz seed users` made, read from the running user service: what the other services'
/// seeds build on.
public enum DemoPeople {
    /// Runs `body` against the user service; an unanswered call becomes advice to start the backend.
    public static func fromUserService<T>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let error as ServiceCallError {
            throw CommandRefusal("the user service did not answer (\(error.problem.detail ?? "")); start the backend (./local/run) and seed again")
        }
    }

    /// The first page of VA profiles and of company profiles.
    public static func profiles(_ context: FunctionContext) async throws -> (companies: [CompanySnapshot], vas: [VAProfileSnapshot]) {
        try await fromUserService {
            let companies = try await context.services.call(ListCompanyProfilesCall(cursor: nil), context: context, as: .service)
            let vas = try await context.services.call(ListVAProfilesCall(cursor: nil), context: context, as: .service)
            return (companies.items, vas.items)
        }
    }

    /// The user ids (lowercased) of the demo company named `company` and of the demo VAs named `vas`, in
    /// that order; refuses (`missing`) when any is not there yet.
    public static func ids(company: String, vas names: [String], _ context: FunctionContext) async throws -> (company: String, vas: [String]) {
        let (companies, vas) = try await profiles(context)
        let found = names.compactMap { name in vas.first { $0.name == name }?.userId.lowercased() }
        guard let company = companies.first(where: { $0.name == company })?.userId.lowercased(), found.count == names.count else { throw missing() }
        return (company, found)
    }

    /// Refuses when the user service holds no demo profiles yet.
    public static func missing() -> CommandRefusal {
        CommandRefusal("the user service has no demo profiles yet; run `blytz seed users` first")
    }
}
