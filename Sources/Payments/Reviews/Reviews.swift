import Blytz
import BlytzData
import BlytzEvents
import BlytzServices
import Foundation
import SQLKit

/// What a review rates beside its overall rating, each 1 to 5 when given.
struct ReviewCategories: Codable, Sendable, Equatable {
    var communication: Int?
    var quality: Int?
    var timeliness: Int?
    var professionalism: Int?

    var fields: [(name: String, value: Int?)] {
        [("communication", communication), ("quality", quality), ("timeliness", timeliness), ("professionalism", professionalism)]
    }
}

/// A row of `reviews`: one party of a completed contract rating the other, once per contract.
struct ReviewRecord: Codable, Sendable, Equatable, ResponseBody {
    var id: String
    var contractId: String
    var reviewerUserId: String
    var targetUserId: String
    var rating: Int
    var categories: ReviewCategories
    var comment: String?
    var createdAt: String

    static let table = "reviews"

    init(id: String, contractId: String, reviewerUserId: String, targetUserId: String, rating: Int, categories: ReviewCategories, comment: String?, createdAt: String) {
        (self.id, self.contractId, self.reviewerUserId, self.targetUserId) = (id, contractId, reviewerUserId, targetUserId)
        (self.rating, self.categories, self.comment, self.createdAt) = (rating, categories, comment, createdAt)
    }

    /// A review from its row (categories as a JSON object).
    init(row: any SQLRow) throws {
        func text(_ column: String) throws -> String { try row.decode(column: column, as: String.self) }
        (id, contractId, reviewerUserId, targetUserId) = (try text("id"), try text("contract_id"), try text("reviewer_user_id"), try text("target_user_id"))
        rating = try row.decode(column: "rating", as: Int.self)
        categories = (try? JSONDecoder().decode(ReviewCategories.self, from: Data(try text("categories").utf8))) ?? ReviewCategories()
        comment = try row.decode(column: "comment", as: String?.self)
        createdAt = try text("created_at")
    }

    func insert(on sql: any SQLDatabase) async throws {
        let categories = String(decoding: try JSONEncoder().encode(categories), as: UTF8.self)
        try await sql.insert(into: Self.table)
            .columns("id", "contract_id", "reviewer_user_id", "target_user_id", "rating", "categories", "comment", "created_at")
            .values(SQLBind(id), SQLBind(contractId), SQLBind(reviewerUserId), SQLBind(targetUserId), SQLBind(rating), SQLBind(categories), SQLBind(comment), SQLBind(createdAt))
            .run()
    }

    var posted: ReviewPosted {
        ReviewPosted(reviewId: id, contractId: contractId, reviewerUserId: reviewerUserId, targetUserId: targetUserId, rating: rating)
    }
}

/// The body of `POST /reviews`.
struct ReviewInput: Codable, Sendable, Validatable {
    var contractId: String
    var rating: Int
    var categories: ReviewCategories?
    var comment: String?

    func validate() -> [Problem.FieldError] {
        var errors: [Problem.FieldError] = []
        if !contractId.isUUID { errors.append(.init(field: "contractId", message: "must be a UUID")) }
        if !(1...5).contains(rating) { errors.append(.init(field: "rating", message: "must be 1 to 5")) }
        for (name, value) in categories?.fields ?? [] {
            if let value, !(1...5).contains(value) { errors.append(.init(field: "categories.\(name)", message: "must be 1 to 5")) }
        }
        if let comment, comment.count > 5000 { errors.append(.init(field: "comment", message: "must be at most 5000 characters")) }
        return errors
    }
}

/// `POST /reviews` (a party of a completed contract, once per contract): rates the other party; publishes
/// `ReviewPosted` (the user service keeps the target's rating from it). 201; a second review of the same
/// contract by the same party, also a concurrent one, is a 409.
struct PostReview: HTTPFunction {
    static let access = Access.people(.company, .va)

    func handle(_ request: FunctionRequest<ReviewInput>, caller: Caller, context: FunctionContext) async throws -> FunctionResponse<ReviewRecord> {
        let input = try request.input
        let now = context.now.iso
        return try await context.database.transaction { sql in
            guard let contract = try await ContractCopy.find(input.contractId, on: sql), contract.isParty(caller.userId) else {
                throw HTTPError.notFound("There is no contract \(input.contractId) of yours.")
            }
            guard contract.status == .completed else {
                throw HTTPError(409, detail: "Only a completed contract is reviewed; this one is \(contract.status.rawValue).", errors: [.init(field: "contractId", message: "is \(contract.status.rawValue)")])
            }
            let review = ReviewRecord(
                id: UUID().uuidString.lowercased(), contractId: contract.id, reviewerUserId: caller.userId, targetUserId: contract.other(than: caller.userId),
                rating: input.rating, categories: input.categories ?? ReviewCategories(), comment: input.comment, createdAt: now
            )
            do {
                try await review.insert(on: sql)
            } catch where ServiceDatabase.isUniqueViolation(error) {
                throw HTTPError(409, detail: "You already reviewed this contract.", errors: [.init(field: "contractId", message: "is already reviewed by you")])
            }
            try await context.publish(review.posted, on: sql)
            return .created(review, location: "/reviews/\(review.id)")
        }
    }
}

/// `GET /reviews/{id}` (signed in).
struct GetReview: HTTPFunction {
    static let access = Access.signedIn

    func handle(_ request: FunctionRequest<Empty>, caller: Caller, context: FunctionContext) async throws -> FunctionResponse<ReviewRecord> {
        let id = try request.parameter("id")
        return .ok(try await context.database.withConnection { sql in
            guard id.isUUID, let row = try await sql.select().column("*").from(ReviewRecord.table).where("id", .equal, SQLBind(id.lowercased())).first() else {
                throw HTTPError.notFound("There is no review \(id).")
            }
            return try ReviewRecord(row: row)
        })
    }
}

/// A page of one user's reviews, with their average rating and count over all of them.
struct ReviewPage: Codable, Sendable, ResponseBody {
    var items: [ReviewRecord]
    var nextCursor: String?
    var targetUserId: String
    /// The mean of every rating, to two decimals; nil with no reviews.
    var averageRating: Double?
    var count: Int
}

/// `GET /reviews?targetUserId=` (signed in): reviews of a user, newest first, with their average and count.
struct ListReviews: HTTPFunction {
    static let access = Access.signedIn

    struct Query: QueryParameters {
        var targetUserId: String?
        var page: PageRequest

        init(_ reader: inout QueryReader) throws(HTTPError) {
            targetUserId = reader.uuid("targetUserId")
            if reader.query["targetUserId"] == nil { reader.errors.append(.init(field: "targetUserId", message: "is required")) }
            try reader.check()
            page = try PageRequest(&reader, sort: "newest")
        }
    }

    func handle(_ request: FunctionRequest<Empty>, caller: Caller, context: FunctionContext) async throws -> FunctionResponse<ReviewPage> {
        let filters = try request.read(Query.self)
        guard let target = filters.targetUserId?.lowercased() else { throw HTTPError.unprocessable([.init(field: "targetUserId", message: "is required")]) }
        struct Totals: Decodable { var count: Int; var total: Int? }
        let (rows, totals) = try await context.database.withConnection { sql in
            let query = sql.select().column("*").from(ReviewRecord.table).where("target_user_id", .equal, SQLBind(target))
            let rows = try await Keyset.newestFirst.select(query, page: filters.page).all().map(ReviewRecord.init(row:))
            let totals = try await sql.select().column(SQLRaw("CAST(COUNT(*) AS BIGINT)"), as: "count").column(SQLRaw("CAST(SUM(rating) AS BIGINT)"), as: "total")
                .from(ReviewRecord.table).where("target_user_id", .equal, SQLBind(target)).first(decoding: Totals.self)
            return (rows, totals ?? Totals(count: 0, total: nil))
        }
        let page = filters.page.page(rows, { $0 }) { ($0.createdAt, $0.id) }
        let average = totals.count > 0 ? (Double(totals.total ?? 0) / Double(totals.count) * 100).rounded() / 100 : nil
        return .ok(ReviewPage(items: page.items, nextCursor: page.nextCursor, targetUserId: target, averageRating: average, count: totals.count))
    }
}
