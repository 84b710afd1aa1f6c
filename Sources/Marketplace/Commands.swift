import Blytz
import BlytzData
import BlytzEvents
import BlytzServices
import Foundation
import Logging
import SQLKit

/// The marketplace's commands (`blytz marketplace …`; `blytz seed` runs `seed`): `backfill`, `seed`,
/// `seed-postings --count N`, `seed-people --count N`.
enum Commands {
    static let all: [ServiceCommand] = [
        ServiceCommand("backfill", run: backfill),
        ServiceCommand("seed", run: seed),
        ServiceCommand("seed-postings", run: seedPostings),
        ServiceCommand("seed-people", run: seedPeople),
        Import.command,
    ]

    /// `backfill`: fills the copy of people from the user service (every visible VA and company profile,
    /// page by page, as this service), for a database that started after the user service. Each profile
    /// is applied as of now, so an older event delivered later does not undo it.
    @Sendable
    static func backfill(_ arguments: [String], database: ServiceDatabase, configuration: Configuration, logger: Logger) async throws -> String {
        let (vas, companies) = try await ServiceParts.withCommandContext("marketplace-backfill", database: database, configuration: configuration, logger: logger) { context in
            try await fill(from: context)
        }
        struct Filled: Encodable { var vaProfiles: Int; var companyProfiles: Int }
        return jsonText(Filled(vaProfiles: vas, companyProfiles: companies))
    }

    static func fill(from context: FunctionContext) async throws -> (vas: Int, companies: Int) {
        let database = try context.database
        var counts = (vas: 0, companies: 0)
        var cursor: String?
        repeat {
            let page = try await context.services.call(ListVAProfilesCall(cursor: cursor), context: context, as: .service)
            let now = Date()
            try await database.transaction { sql in
                for profile in page.items {
                    let event = ProfileUpdated(userId: profile.userId, kind: .va, deleted: false, vaProfile: profile)
                    try await PersonChange.apply(.profile(event), to: profile.userId.lowercased(), version: now.iso, now: now, on: sql)
                }
            }
            counts.vas += page.items.count
            cursor = page.nextCursor
        } while cursor != nil
        repeat {
            let page = try await context.services.call(ListCompanyProfilesCall(cursor: cursor), context: context, as: .service)
            let now = Date()
            try await database.transaction { sql in
                for profile in page.items {
                    let event = ProfileUpdated(userId: profile.userId, kind: .company, deleted: false, companyProfile: profile)
                    try await PersonChange.apply(.profile(event), to: profile.userId.lowercased(), version: now.iso, now: now, on: sql)
                }
            }
            counts.companies += page.items.count
            cursor = page.nextCursor
        } while cursor != nil
        return counts
    }

    /// `seed`: fills the copy of people from the user service (which `blytz seed` seeded first), then
    /// gives the demo company open jobs across categories and each demo VA a proposal. Needs the backend
    /// running; does nothing twice.
    @Sendable
    static func seed(_ arguments: [String], database: ServiceDatabase, configuration: Configuration, logger: Logger) async throws -> String {
        try await ServiceParts.withCommandContext("marketplace-seed", database: database, configuration: configuration, logger: logger) { context in
            _ = try await DemoPeople.fromUserService { try await fill(from: context) }
            return try await DemoPostings.seed(database: database, now: Date())
        }
    }

    /// `seed-postings --count N [--seed S]`: N synthetic open postings, for the search and matching benchmarks.
    @Sendable
    static func seedPostings(_ arguments: [String], database: ServiceDatabase, configuration: Configuration, logger: Logger) async throws -> String {
        let (count, seed) = try sizes(arguments, "seed-postings")
        return try await SyntheticMarket.seedPostings(count: count, seed: seed, database: database)
    }

    /// `seed-people --count N [--seed S]`: N synthetic VAs in the copy of people, for the matching benchmark.
    @Sendable
    static func seedPeople(_ arguments: [String], database: ServiceDatabase, configuration: Configuration, logger: Logger) async throws -> String {
        let (count, seed) = try sizes(arguments, "seed-people")
        return try await SyntheticMarket.seedPeople(count: count, seed: seed, database: database)
    }

    static func sizes(_ arguments: [String], _ command: String) throws -> (count: Int, seed: UInt64) {
        func option(_ name: String) -> String? { arguments.firstIndex(of: "--\(name)").flatMap { $0 + 1 < arguments.count ? arguments[$0 + 1] : nil } }
        guard let count = option("count").flatMap(Int.init), count > 0 else { throw CommandRefusal("usage: \(command) --count <n> [--seed <s>]") }
        return (count, option("seed").flatMap(UInt64.init) ?? 7)
    }
}
