import Blytz
import BlytzData
import BlytzEvents
import BlytzServices
import Foundation
import SQLKit

/// `GET /jobs` (signed in): searches postings in SQL over indexes: `q` (each word a prefix of a word of the
/// title, description or tags), `skills` (comma-separated, all of them: a GIN index on PostgreSQL, the
/// terms' index on SQLite), `category`, `jobType`,
/// `experienceLevel`, `minBudget`/`maxBudget` (cents: the fixed budget, or the top of an hourly range),
/// `remote`, `status` (`open` by default, `closed` or `filled`; drafts are their owners'); `sort` = `recent`
/// (newest published first, the default) or `budget` (highest first); keyset pages.
struct SearchPostings: HTTPFunction {
    static let access = Access.signedIn

    static let sorts: [String: Keyset] = [
        "recent": Keyset(column: "published_at", idColumn: "id", descending: true),
        "budget": Keyset(column: "pay_cents", idColumn: "id", descending: true),
    ]

    struct Query: QueryParameters {
        var words: [String]
        var skills: [String]
        var category: String?
        var jobType: String?
        var experienceLevel: String?
        var minBudget: Int?
        var maxBudget: Int?
        var remote: Bool?
        var status: String
        var sort: String
        var page: PageRequest

        init(_ reader: inout QueryReader) throws(HTTPError) {
            words = queryWords(reader.text("q"))
            skills = PostingInput.normalised((reader.text("skills") ?? "").split(separator: ",").map(String.init))
            if skills.count > 10 { reader.errors.append(.init(field: "skills", message: "must list at most 10 skills")) }
            category = reader.text("category")?.lowercased()
            jobType = reader.choice("jobType", JobType.allCases.map(\.rawValue))
            experienceLevel = reader.choice("experienceLevel", ExperienceLevel.allCases.map(\.rawValue))
            minBudget = reader.int("minBudget", in: 0...100_000_000_00)
            maxBudget = reader.int("maxBudget", in: 0...100_000_000_00)
            remote = reader.bool("remote")
            status = reader.choice("status", ["open", "closed", "filled"], default: "open")
            sort = reader.choice("sort", ["recent", "budget"], default: "recent")
            try reader.check()
            page = try PageRequest(&reader, sort: sort)
        }
    }

    func handle(_ request: FunctionRequest<Empty>, caller: Caller, context: FunctionContext) async throws -> FunctionResponse<Page<PostingView>> {
        let filters = try request.read(Query.self)
        let sort = filters.sort
        let keyset = Self.sorts[sort]!
        let rare = Settings(context.configuration).rareFilter
        let (rows, terms) = try await context.database.withConnection { sql -> ([PostingRecord], [String: PostingTerms]) in
            var query = sql.select().column("id").from(PostingRecord.table).where("status", .equal, SQLBind(filters.status))
            if let category = filters.category { query = query.where("category", .equal, SQLBind(category)) }
            if let jobType = filters.jobType { query = query.where("job_type", .equal, SQLBind(jobType)) }
            if let level = filters.experienceLevel { query = query.where("experience_level", .equal, SQLBind(level)) }
            if let remote = filters.remote { query = query.where("remote", .equal, SQLBind(remote)) }
            // A budget range under another sort is checked row by row, so the sort's index is walked and
            // stops at the page's end instead of sorting every posting in the range.
            let pay: any SQLExpression = sort == "budget" ? SQLIdentifier("pay_cents") : SQLRaw("+pay_cents")
            if let low = filters.minBudget { query = query.where(pay, .greaterThanOrEqual, SQLBind(low)) }
            if let high = filters.maxBudget { query = query.where(pay, .lessThanOrEqual, SQLBind(high)) }
            let rowId = SQLColumn("id", table: PostingRecord.table)
            var termFilters = filters.words.map { TermFilter(table: PostingTerms.wordsTable, idColumn: "posting_id", match: .prefix($0)) }
            if sql.dialect.name == "postgresql" {
                // The skills' GIN index (Schema, migration 6): the planner intersects it, or checks the array
                // row by row while it walks the sort's index, by what it knows of each skill's postings.
                if !filters.skills.isEmpty { query = query.where(SQLBinaryExpression(left: SQLIdentifier("skill_terms"), op: SQLRaw("@>"), right: SQLBind(filters.skills))) }
            } else {
                termFilters += filters.skills.map { TermFilter(table: PostingTerms.Kind.skill.table, idColumn: "posting_id", match: .exact($0)) }
            }
            for condition in try await TermFilter.conditions(termFilters, on: sql, rowId: rowId, rare: rare) { query = query.where(condition) }
            let value: (String) -> any Encodable & Sendable = sort == "budget" ? { Int($0) ?? 0 } : { $0 }
            // The page's ids are chosen over narrow rows (sorted narrow when a rare filter drives), and
            // their rows read by id in the same statement.
            let page = keyset.select(query, page: filters.page, value: value)
            let rows = try await keyset.order(sql.select().column("*").from(PostingRecord.table).where("id", .in, SQLGroupExpression(page.select)))
                .all(decoding: PostingRecord.self, keyDecodingStrategy: .snakeCase)
            guard !rows.isEmpty else { return ([], [:]) }
            return (rows, try await PostingTerms.of(rows.map(\.id), on: sql))
        }
        return .ok(filters.page.page(rows, { PostingView($0, terms: terms[$0.id] ?? PostingTerms()) }) { last in
            (sort == "budget" ? "\(last.payCents ?? 0)" : last.publishedAt ?? "", last.id)
        })
    }
}
