import Blytz
import BlytzData
import BlytzEvents
import BlytzServices
import Foundation
import SQLKit

/// A VA's piece of work: text, the VA's own public, ready files (the work and a thumbnail), a category,
/// the technologies used, a project URL; featured items come first.
struct PortfolioItem: Codable, Sendable, Equatable, ResponseBody {
    var id: String
    var vaUserId: String
    var title: String
    var description: String?
    var fileId: String?
    var thumbnailFileId: String?
    var category: String?
    var technologies: [String]
    var projectUrl: String?
    var featured: Bool
    var createdAt: String
    var updatedAt: String

    static let table = "portfolio_items"

    /// The columns of its row: technologies as a JSON array, and `rank` (0 for featured items, 1 for the
    /// rest) that the list is ordered by.
    var columns: [(name: String, value: any Encodable & Sendable)] {
        let technologies = String(decoding: (try? JSONEncoder().encode(technologies)) ?? Data("[]".utf8), as: UTF8.self)
        return [
            ("id", id), ("va_user_id", vaUserId), ("title", title), ("description", description), ("file_id", fileId),
            ("thumbnail_file_id", thumbnailFileId), ("category", category), ("technologies", technologies), ("project_url", projectUrl),
            ("featured", featured), ("rank", rank), ("created_at", createdAt), ("updated_at", updatedAt),
        ]
    }

    var rank: Int { featured ? 0 : 1 }

    static func find(_ id: String, on sql: any SQLDatabase, forUpdate: Bool = false) async throws -> PortfolioItem {
        guard id.isUUID else { throw HTTPError.notFound("There is no portfolio item \(id).") }
        var query = sql.select().column("*").from(table).where("id", .equal, SQLBind(id.lowercased()))
        if forUpdate { query = query.for(.update) }
        guard let row = try await query.first() else { throw HTTPError.notFound("There is no portfolio item \(id).") }
        return try PortfolioItem(row: row)
    }

    func save(on sql: any SQLDatabase, inserting: Bool) async throws {
        if inserting {
            try await sql.insert(into: Self.table).columns(columns.map(\.name)).values(columns.map { SQLBind($0.value) }).run()
        } else {
            var update = sql.update(Self.table)
            for column in columns.dropFirst() { update = update.set(SQLIdentifier(column.name), to: SQLBind(column.value)) }
            try await update.where("id", .equal, SQLBind(id)).run()
        }
    }

    /// Refuses a file that is not the VA's own, public and ready (a portfolio is seen by everyone signed in).
    static func checkFiles(_ ids: [(field: String, id: String?)], of va: String, on sql: any SQLDatabase) async throws {
        var errors: [Problem.FieldError] = []
        for (field, id) in ids {
            guard let id else { continue }
            guard let file = try await FileRecord.find(id, on: sql), file.ownerUserId == va else {
                errors.append(.init(field: field, message: "must be one of your own files"))
                continue
            }
            if !file.status.isReadable { errors.append(.init(field: field, message: "must be a file whose upload is complete")) }
            if file.visibility != .public { errors.append(.init(field: field, message: "must be a public file: a portfolio is seen by everyone signed in")) }
        }
        if !errors.isEmpty { throw HTTPError.unprocessable(errors) }
    }
}

extension PortfolioItem {
    /// An item from its row.
    init(row: any SQLRow) throws {
        func text(_ column: String) throws -> String { try row.decode(column: column, as: String.self) }
        func optional(_ column: String) throws -> String? { try row.decode(column: column, as: String?.self) }
        (id, vaUserId, title, description) = (try text("id"), try text("va_user_id"), try text("title"), try optional("description"))
        (fileId, thumbnailFileId, category, projectUrl) = (try optional("file_id"), try optional("thumbnail_file_id"), try optional("category"), try optional("project_url"))
        technologies = (try? JSONDecoder().decode([String].self, from: Data(try text("technologies").utf8))) ?? []
        featured = try row.decode(column: "featured", as: Bool.self)
        (createdAt, updatedAt) = (try text("created_at"), try text("updated_at"))
    }
}

/// The body of `POST /portfolio` and `PATCH /portfolio/{id}` (every field optional on a change).
struct PortfolioInput: Codable, Sendable, OptionalBody, Validatable {
    var title: String?
    var description: String?
    var fileId: String?
    var thumbnailFileId: String?
    var category: String?
    var technologies: [String]?
    var projectUrl: String?
    var featured: Bool?

    func validate() -> [Problem.FieldError] {
        var errors: [Problem.FieldError] = []
        func check(_ failed: Bool, _ field: String, _ message: String) { if failed { errors.append(.init(field: field, message: message)) } }
        if let title { check(title.trimmingCharacters(in: .whitespaces).isEmpty || title.count > 200, "title", "must be 1 to 200 characters") }
        if let description { check(description.count > 5000, "description", "must be at most 5000 characters") }
        for (field, id) in [("fileId", fileId), ("thumbnailFileId", thumbnailFileId)] { if let id { check(!id.isUUID, field, "must be a file id") } }
        if let category { check(category.isEmpty || category.count > 100, "category", "must be 1 to 100 characters") }
        if let technologies { check(technologies.count > 30 || technologies.contains { $0.isEmpty || $0.count > 50 }, "technologies", "must be at most 30 names of 1 to 50 characters") }
        if let projectUrl {
            let url = URL(string: projectUrl)
            check(projectUrl.count > 2000 || !["http", "https"].contains(url?.scheme?.lowercased() ?? "") || url?.host == nil, "projectUrl", "must be an http or https URL")
        }
        return errors
    }
}

/// `POST /portfolio` (a VA): a new item of the caller's portfolio. 201.
struct CreatePortfolioItem: HTTPFunction {
    static let access = Access.people(.va, detail: "Portfolios are VAs'.")

    func handle(_ request: FunctionRequest<PortfolioInput>, caller: Caller, context: FunctionContext) async throws -> FunctionResponse<PortfolioItem> {
        let input = try request.input
        guard let title = input.title else { throw HTTPError.unprocessable([.init(field: "title", message: "is required")]) }
        let now = context.now.iso
        let item = PortfolioItem(
            id: UUID().uuidString.lowercased(), vaUserId: caller.userId, title: title, description: input.description, fileId: input.fileId?.lowercased(),
            thumbnailFileId: input.thumbnailFileId?.lowercased(), category: input.category, technologies: input.technologies ?? [],
            projectUrl: input.projectUrl, featured: input.featured ?? false, createdAt: now, updatedAt: now
        )
        try await context.database.transaction { sql in
            try await PortfolioItem.checkFiles([("fileId", item.fileId), ("thumbnailFileId", item.thumbnailFileId)], of: caller.userId, on: sql)
            try await item.save(on: sql, inserting: true)
        }
        return .created(item, location: "/portfolio/\(item.id)")
    }
}

/// `PATCH /portfolio/{id}` (its VA or an admin): changes the fields sent.
struct UpdatePortfolioItem: HTTPFunction {
    static let access = Access.people(.va, .admin)

    func handle(_ request: FunctionRequest<PortfolioInput>, caller: Caller, context: FunctionContext) async throws -> FunctionResponse<PortfolioItem> {
        let id = try request.parameter("id")
        let now = context.now.iso
        return .ok(try await context.database.transaction { sql in
            var item = try await PortfolioItem.find(id, on: sql, forUpdate: true)
            guard item.vaUserId == caller.userId || caller.isAdmin else { throw HTTPError.forbidden("Only its VA changes a portfolio item.") }
            let input = try request.input
            try await PortfolioItem.checkFiles([("fileId", input.fileId), ("thumbnailFileId", input.thumbnailFileId)], of: item.vaUserId, on: sql)
            if let title = input.title { item.title = title }
            if let description = input.description { item.description = description }
            if let file = input.fileId { item.fileId = file.lowercased() }
            if let thumbnail = input.thumbnailFileId { item.thumbnailFileId = thumbnail.lowercased() }
            if let category = input.category { item.category = category }
            if let technologies = input.technologies { item.technologies = technologies }
            if let url = input.projectUrl { item.projectUrl = url }
            if let featured = input.featured { item.featured = featured }
            item.updatedAt = now
            try await item.save(on: sql, inserting: false)
            return item
        })
    }
}

/// `DELETE /portfolio/{id}` (its VA or an admin): the item goes; its files stay the VA's. 204.
struct DeletePortfolioItem: HTTPFunction {
    static let access = Access.people(.va, .admin)

    func handle(_ request: FunctionRequest<Empty>, caller: Caller, context: FunctionContext) async throws -> FunctionResponse<Empty> {
        let id = try request.parameter("id")
        try await context.database.transaction { sql in
            let item = try await PortfolioItem.find(id, on: sql, forUpdate: true)
            guard item.vaUserId == caller.userId || caller.isAdmin else { throw HTTPError.forbidden("Only its VA removes a portfolio item.") }
            try await sql.delete(from: PortfolioItem.table).where("id", .equal, SQLBind(item.id)).run()
        }
        return .noContent
    }
}

/// `GET /portfolio/{id}` (signed in).
struct GetPortfolioItem: HTTPFunction {
    static let access = Access.signedIn

    func handle(_ request: FunctionRequest<Empty>, caller: Caller, context: FunctionContext) async throws -> FunctionResponse<PortfolioItem> {
        let id = try request.parameter("id")
        return .ok(try await context.database.withConnection { sql in try await PortfolioItem.find(id, on: sql) })
    }
}

/// `GET /portfolio?vaUserId=` (signed in): a VA's items, featured first, then newest.
struct ListPortfolio: HTTPFunction {
    static let access = Access.signedIn

    struct Query: QueryParameters {
        var vaUserId: String?
        var page: PageRequest

        init(_ reader: inout QueryReader) throws(HTTPError) {
            vaUserId = reader.uuid("vaUserId")
            if reader.query["vaUserId"] == nil { reader.errors.append(.init(field: "vaUserId", message: "is required")) }
            try reader.check()
            page = try PageRequest(&reader, sort: "featured")
        }
    }

    func handle(_ request: FunctionRequest<Empty>, caller: Caller, context: FunctionContext) async throws -> FunctionResponse<Page<PortfolioItem>> {
        let filters = try request.read(Query.self)
        guard let va = filters.vaUserId else { throw HTTPError.unprocessable([.init(field: "vaUserId", message: "is required")]) }
        // Keyset on (rank, created_at desc, id desc): the cursor's value is "<rank>|<created_at>".
        let rows = try await context.database.withConnection { sql in
            var query = sql.select().column("*").from(PortfolioItem.table).where("va_user_id", .equal, SQLBind(va))
            if let cursor = filters.page.cursor {
                let parts = cursor.value.split(separator: "|", maxSplits: 1).map(String.init)
                let rank = Int(parts.first ?? "") ?? 0
                let created = parts.count > 1 ? parts[1] : ""
                query = query.where(group: { group in
                    group.where("rank", .greaterThan, SQLBind(rank)).orWhere(group: { same in
                        same.where("rank", .equal, SQLBind(rank)).where(group: { later in
                            later.where("created_at", .lessThan, SQLBind(created)).orWhere(group: { tie in
                                tie.where("created_at", .equal, SQLBind(created)).where("id", .lessThan, SQLBind(cursor.id))
                            })
                        })
                    })
                })
            }
            return try await query.orderBy("rank", .ascending).orderBy("created_at", .descending).orderBy("id", .descending)
                .limit(filters.page.limit + 1).all().map(PortfolioItem.init(row:))
        }
        return .ok(filters.page.page(rows, { $0 }) { ("\($0.rank)|\($0.createdAt)", $0.id) })
    }
}
