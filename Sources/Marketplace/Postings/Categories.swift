import Blytz
import BlytzData
import BlytzEvents
import SQLKit

/// The open-job count per category, moved in the transaction of every change that opens, closes or
/// recategorises a posting.
enum CategoryCounts {
    static let table = "job_categories"

    /// Moves the counts from what `before` contributed (nothing for a new posting) to what `after` does.
    static func moved(from before: PostingRecord?, to after: PostingRecord, on sql: any SQLDatabase) async throws {
        let old = before.flatMap { $0.status == .open ? $0.category : nil }
        let new = after.status == .open ? after.category : nil
        guard old != new else { return }
        if let old {
            try await sql.update(table).set(SQLIdentifier("open_jobs"), to: SQLRaw("open_jobs - 1")).where("category", .equal, SQLBind(old)).run()
        }
        if let new {
            try await sql.raw("""
                INSERT INTO job_categories (category, open_jobs) VALUES (\(bind: new), 1)
                ON CONFLICT (category) DO UPDATE SET open_jobs = job_categories.open_jobs + 1
                """).run()
        }
    }

    /// Counts every category again from the postings (after many are written at once).
    static func recount(on sql: any SQLDatabase) async throws {
        try await sql.delete(from: table).run()
        try await sql.raw("""
            INSERT INTO job_categories (category, open_jobs)
            SELECT category, COUNT(*) FROM job_postings WHERE status = 'open' AND category IS NOT NULL GROUP BY category
            """).run()
    }
}

/// `GET /jobs/categories` (anyone): the categories that have open jobs, with their counts, most first.
struct ListCategories: HTTPFunction {
    static let access = Open()

    struct Category: Codable, Sendable { var category: String; var openJobs: Int }
    struct Output: Codable, Sendable, ResponseBody { var items: [Category] }

    func handle(_ request: FunctionRequest<Empty>, caller _: Anyone, context: FunctionContext) async throws -> FunctionResponse<Output> {
        let rows = try await context.database.withConnection { sql in
            try await sql.select().columns("category", "open_jobs").from(CategoryCounts.table).where("open_jobs", .greaterThan, SQLBind(0))
                .orderBy("open_jobs", .descending).orderBy("category").all(decoding: Category.self, keyDecodingStrategy: .snakeCase)
        }
        return .ok(Output(items: rows))
    }
}
