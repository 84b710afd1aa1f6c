import Foundation
import Blytz
import BlytzEvents
import BlytzData
import BlytzServices
import SQLKit

/// `GET /profiles/company`: searches visible company profiles: `q` (words of name, bio, industry, by
/// prefix), `industry`, `country`; `sort` = `recent` (default) or `name`; keyset pages.
struct SearchCompanies: HTTPFunction {
    static let access = Access.signedIn

    static let sorts: [String: Keyset] = [
        "recent": Keyset(column: "created_at", idColumn: "user_id", descending: true),
        "name": Keyset(column: "name", idColumn: "user_id", descending: false),
    ]

    struct Query: QueryParameters {
        var words: [String]
        var industry: String?
        var country: String?
        var sort: String
        var page: PageRequest

        init(_ reader: inout QueryReader) throws(HTTPError) {
            words = queryWords(reader.text("q"))
            industry = reader.text("industry")?.lowercased()
            country = reader.country("country")
            sort = reader.choice("sort", ["recent", "name"], default: "recent")
            try reader.check()
            page = try PageRequest(&reader, sort: sort)
        }
    }

    func handle(_ request: FunctionRequest<Empty>, caller: Caller, context: FunctionContext) async throws -> FunctionResponse<Page<CompanyView>> {
        let filters = try request.read(Query.self)
        let (words, industry, country, page) = (filters.words, filters.industry, filters.country, filters.page)
        let sort = filters.sort
        let keyset = Self.sorts[sort]!

        let rows = try await context.database.withConnection { sql in
            var query = sql.select().column("*").from(CompanyRecord.table).where("visible", .equal, SQLBind(true))
            if let industry { query = query.where("industry", .equal, SQLBind(industry)) }
            if let country { query = query.where("country", .equal, SQLBind(country)) }
            for word in words { query = query.where("user_id", .in, ProfileTerms.matching(kind: "company", word: word)) }
            return try await keyset.select(query, page: page).all(decoding: CompanyRecord.self, keyDecodingStrategy: .snakeCase)
        }
        return .ok(page.page(rows, { $0.view(for: caller.audience(of: $0.userId)) }, cursor: { (sort == "name" ? $0.name : $0.createdAt, $0.userId) }))
    }
}
