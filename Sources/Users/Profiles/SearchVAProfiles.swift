import Foundation
import Blytz
import BlytzData
import BlytzServices
import SQLKit

/// `GET /profiles/va`: searches visible VA profiles in SQL over indexes: `q` (words of name, bio and
/// skills, matched by prefix), `skills` (comma-separated, all of them), `country`, `minRate`/`maxRate`
/// (cents), `available`, `minRating`; `sort` = `rating` (default), `rate` or `recent`; keyset pages.
struct SearchVAProfiles: HTTPFunction {
    static let sorts: [String: Keyset] = [
        "rating": Keyset(column: "average_rating", idColumn: "user_id", descending: true),
        "rate": Keyset(column: "hourly_rate_cents", idColumn: "user_id", descending: false),
        "recent": Keyset(column: "created_at", idColumn: "user_id", descending: true),
    ]

    func handle(_ request: Request<Empty>, context: FunctionContext) async throws -> Response<Page<VAProfileView>> {
        let caller = try await context.caller(request)
        var reader = QueryReader(request.query)
        let words = queryWords(reader.text("q"))
        let skills = (reader.text("skills") ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces).lowercased() }.filter { !$0.isEmpty }
        if skills.count > 10 { reader.errors.append(.init(field: "skills", message: "must list at most 10 skills")) }
        let country = reader.country("country")
        let minRate = reader.int("minRate", in: 0...100_000_00)
        let maxRate = reader.int("maxRate", in: 0...100_000_00)
        let available = reader.bool("available")
        let minRating = reader.number("minRating", in: 0...5)
        let sort = reader.choice("sort", ["rating", "rate", "recent"], default: "rating")
        try reader.check()
        let page = try PageRequest(request.query, sort: sort)
        let keyset = Self.sorts[sort]!

        let rows = try await context.database.withConnection { sql in
            var query = sql.select().column("*").from(VAProfileRecord.table).where("visible", .equal, SQLBind(true))
            if let country { query = query.where("country", .equal, SQLBind(country)) }
            if let minRate { query = query.where("hourly_rate_cents", .greaterThanOrEqual, SQLBind(minRate)) }
            if let maxRate { query = query.where("hourly_rate_cents", .lessThanOrEqual, SQLBind(maxRate)) }
            if let available { query = query.where("available", .equal, SQLBind(available)) }
            if let minRating { query = query.where("average_rating", .greaterThanOrEqual, SQLBind(minRating)) }
            for skill in skills {
                query = query.where("user_id", .in, SQLSubquery.select { $0.column("user_id").from("va_skills").where("skill", .equal, SQLBind(skill)) })
            }
            for word in words { query = query.where("user_id", .in, ProfileTerms.matching(kind: "va", word: word)) }
            if let cursor = page.cursor {
                let value: any Encodable & Sendable = switch sort {
                case "rating": Double(cursor.value) ?? 0
                case "rate": Int(cursor.value) ?? 0
                default: cursor.value
                }
                query = keyset.after(query, value: value, id: cursor.id)
            }
            return try await keyset.order(query).limit(page.limit + 1)
                .all(decoding: VAProfileRecord.self, keyDecodingStrategy: .convertFromSnakeCase)
        }
        let items = rows.prefix(page.limit)
        let next = rows.count > page.limit ? items.last.map { last in
            let value = switch sort {
            case "rating": "\(last.averageRating)"
            case "rate": "\(last.hourlyRateCents)"
            default: last.createdAt
            }
            return Cursor(sort: sort, value: value, id: last.userId).encoded
        } : nil
        return .ok(Page(items: items.map { $0.view(for: caller.audience(of: $0.userId)) }, nextCursor: next))
    }
}
