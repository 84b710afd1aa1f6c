import Foundation
import Blytz
import BlytzEvents
import BlytzData
import BlytzServices
import SQLKit

/// `GET /profiles/va`: searches visible VA profiles in SQL over indexes: `q` (words of name, bio and
/// skills, matched by prefix), `skills` (comma-separated, all of them), `country`, `minRate`/`maxRate`
/// (cents), `available`, `minRating`; `sort` = `rating` (default), `rate` or `recent`; keyset pages.
struct SearchVAProfiles: HTTPFunction {
    static let access = Access.signedIn

    static let sorts: [String: Keyset] = [
        "rating": Keyset(column: "average_rating", idColumn: "user_id", descending: true),
        "rate": Keyset(column: "hourly_rate_cents", idColumn: "user_id", descending: false),
        "recent": Keyset(column: "created_at", idColumn: "user_id", descending: true),
    ]

    struct Query: QueryParameters {
        var words: [String]
        var skills: [String]
        var country: String?
        var minRate: Int?
        var maxRate: Int?
        var available: Bool?
        var minRating: Double?
        var sort: String
        var page: PageRequest

        init(_ reader: inout QueryReader) throws(HTTPError) {
            words = queryWords(reader.text("q"))
            skills = (reader.text("skills") ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces).lowercased() }.filter { !$0.isEmpty }
            if skills.count > 10 { reader.errors.append(.init(field: "skills", message: "must list at most 10 skills")) }
            country = reader.country("country")
            minRate = reader.int("minRate", in: 0...100_000_00)
            maxRate = reader.int("maxRate", in: 0...100_000_00)
            available = reader.bool("available")
            minRating = reader.number("minRating", in: 0...5)
            sort = reader.choice("sort", ["rating", "rate", "recent"], default: "rating")
            try reader.check()
            page = try PageRequest(&reader, sort: sort)
        }
    }

    func handle(_ request: FunctionRequest<Empty>, caller: Caller, context: FunctionContext) async throws -> FunctionResponse<Page<VAProfileView>> {
        let filters = try request.read(Query.self)
        let (words, skills, country, minRate, maxRate, available, minRating, page) =
            (filters.words, filters.skills, filters.country, filters.minRate, filters.maxRate, filters.available, filters.minRating, filters.page)
        let sort = filters.sort
        let keyset = Self.sorts[sort]!
        let rare = try context.users.settings.rareFilter

        let rows = try await context.database.withConnection { sql in
            var query = sql.select().column("*").from(VAProfileRecord.table).where("visible", .equal, SQLBind(true))
            if let country { query = query.where("country", .equal, SQLBind(country)) }
            // Ranges on other columns than the sort's are checked row by row, so both engines walk the
            // sort's index and stop at the page's end instead of sorting every row in the range.
            func column(_ name: String, sortedBy sortColumn: String) -> any SQLExpression {
                name == sortColumn ? SQLIdentifier(name) : SQLRaw("+\(name)")
            }
            let rate = column("hourly_rate_cents", sortedBy: keyset.column)
            let rating = column("average_rating", sortedBy: keyset.column)
            if let minRate { query = query.where(rate, .greaterThanOrEqual, SQLBind(minRate)) }
            if let maxRate { query = query.where(rate, .lessThanOrEqual, SQLBind(maxRate)) }
            if let available { query = query.where("available", .equal, SQLBind(available)) }
            if let minRating { query = query.where(rating, .greaterThanOrEqual, SQLBind(minRating)) }
            let filters = skills.map { TermFilter(table: "va_skills", idColumn: "user_id", termColumn: "skill", match: .exact($0)) }
                + words.map { TermFilter(table: "profile_terms", idColumn: "user_id", match: .prefix($0), scope: ["kind": "va"]) }
            for condition in try await TermFilter.conditions(filters, on: sql, rowId: SQLColumn("user_id", table: VAProfileRecord.table), rare: rare) {
                query = query.where(condition)
            }
            let cursorValue: (String) -> any Encodable & Sendable = switch sort {
            case "rating": { Double($0) ?? 0 }
            case "rate": { Int($0) ?? 0 }
            default: { $0 }
            }
            return try await keyset.select(query, page: page, value: cursorValue)
                .all(decoding: VAProfileRecord.self, keyDecodingStrategy: .snakeCase)
        }
        return .ok(page.page(rows, { $0.view(for: caller.audience(of: $0.userId)) }, cursor: { last in
            let value = switch sort {
            case "rating": "\(last.averageRating)"
            case "rate": "\(last.hourlyRateCents)"
            default: last.createdAt
            }
            return (value, last.userId)
        }))
    }
}
