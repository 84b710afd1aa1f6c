import Blytz
import BlytzData
import BlytzEvents
import BlytzServices
import Foundation
import SQLKit

enum JobType: String, Codable, Sendable, CaseIterable { case fixed, hourly }
enum ExperienceLevel: String, Codable, Sendable, CaseIterable { case entry, intermediate, expert }

/// A row of `job_postings`.
struct PostingRecord: Codable, Sendable {
    var id: String
    var companyUserId: String
    var title: String
    var description: String
    var requirements: String?
    var category: String?
    var experienceLevel: ExperienceLevel?
    var jobType: JobType
    var budgetCents: Int?
    var rateMinCents: Int?
    var rateMaxCents: Int?
    var currency: String
    var duration: String?
    var remote: Bool
    var location: String?
    var timezone: String?
    var status: PostingStatus
    var views: Int
    var proposalCount: Int
    var publishedAt: String?
    var createdAt: String
    var updatedAt: String

    static let table = "job_postings"

    static func find(_ id: String, on sql: any SQLDatabase) async throws -> PostingRecord? {
        guard id.isUUID else { return nil }
        return try await sql.select().column("*").from(table).where("id", .equal, SQLBind(id.lowercased()))
            .first(decoding: PostingRecord.self, keyDecodingStrategy: .snakeCase)
    }

    mutating func apply(_ input: PostingInput) {
        if let value = input.title { title = value.trimmingCharacters(in: .whitespacesAndNewlines) }
        if let value = input.description { description = value }
        if let value = input.requirements { requirements = value }
        if let value = input.category { category = value.lowercased() }
        if let value = input.experienceLevel { experienceLevel = value }
        if let value = input.jobType { jobType = value }
        if let value = input.budgetCents { budgetCents = value }
        if let value = input.rateMinCents { rateMinCents = value }
        if let value = input.rateMaxCents { rateMaxCents = value }
        if let value = input.currency { currency = value }
        if let value = input.duration { duration = value }
        if let value = input.remote { remote = value }
        if let value = input.location { location = value }
        if let value = input.timezone { timezone = value }
    }

    /// The money terms a posting of its type needs, as they stand after an edit.
    var termProblems: [Problem.FieldError] {
        switch jobType {
        case .fixed:
            budgetCents == nil ? [.init(field: "budgetCents", message: "is required for a fixed-price job")] : []
        case .hourly:
            if rateMinCents == nil || rateMaxCents == nil {
                [.init(field: rateMinCents == nil ? "rateMinCents" : "rateMaxCents", message: "is required for an hourly job")]
            } else if let low = rateMinCents, let high = rateMaxCents, low > high {
                [.init(field: "rateMaxCents", message: "must be at least rateMinCents")]
            } else {
                []
            }
        }
    }

    func insert(on sql: any SQLDatabase) async throws {
        try await sql.insert(into: Self.table).model(self, keyEncodingStrategy: .snakeCase).run()
    }

    /// Writes what an owner's edit may change, and the status.
    func update(on sql: any SQLDatabase) async throws {
        try await sql.update(Self.table)
            .set("title", to: SQLBind(title)).set("description", to: SQLBind(description)).set("requirements", to: SQLBind(requirements))
            .set("category", to: SQLBind(category))
            .set("experience_level", to: SQLBind(experienceLevel?.rawValue)).set("job_type", to: SQLBind(jobType.rawValue))
            .set("budget_cents", to: SQLBind(budgetCents)).set("rate_min_cents", to: SQLBind(rateMinCents)).set("rate_max_cents", to: SQLBind(rateMaxCents))
            .set("currency", to: SQLBind(currency)).set("duration", to: SQLBind(duration)).set("remote", to: SQLBind(remote))
            .set("location", to: SQLBind(location)).set("timezone", to: SQLBind(timezone)).set("status", to: SQLBind(status.rawValue))
            .set("published_at", to: SQLBind(publishedAt)).set("updated_at", to: SQLBind(updatedAt))
            .where("id", .equal, SQLBind(id)).run()
        try await MatchVersions.stamp(.postings, id, on: sql)
    }

    /// The fixed budget, or the top of the hourly range: what the budget sort and filter and matching read (`pay_cents`).
    var payCents: Int? { jobType == .fixed ? budgetCents : rateMaxCents }

    func jobPosted(skills: [String]) -> JobPosted {
        JobPosted(
            jobPostingId: id, companyUserId: companyUserId, title: title, category: category, skillsRequired: skills,
            jobType: jobType.rawValue, budgetCents: budgetCents ?? rateMaxCents, currency: currency
        )
    }
}

/// A posting as the API shows it: its row, with its required skills and tags.
@dynamicMemberLookup
struct PostingView: Codable, Sendable, ResponseBody {
    var posting: PostingRecord
    var skillsRequired: [String]
    var tags: [String]

    subscript<Value>(dynamicMember path: KeyPath<PostingRecord, Value>) -> Value { posting[keyPath: path] }

    /// What matching scores of it.
    var matched: MatchedJob {
        MatchedJob(id: posting.id, skills: skillsRequired, skillCount: skillsRequired.count, jobType: posting.jobType, payCents: posting.payCents, currency: posting.currency,
                   utcOffsetMinutes: MatchScore.standardOffset(posting.timezone))
    }

    init(_ posting: PostingRecord, terms: PostingTerms) {
        self.posting = posting
        skillsRequired = terms.skills
        tags = terms.tags
    }

    enum Key: String, CodingKey { case skillsRequired, tags }

    init(from decoder: any Decoder) throws {
        posting = try PostingRecord(from: decoder)
        let container = try decoder.container(keyedBy: Key.self)
        skillsRequired = try container.decode([String].self, forKey: .skillsRequired)
        tags = try container.decode([String].self, forKey: .tags)
    }

    func encode(to encoder: any Encoder) throws {
        try posting.encode(to: encoder)
        var container = encoder.container(keyedBy: Key.self)
        try container.encode(skillsRequired, forKey: .skillsRequired)
        try container.encode(tags, forKey: .tags)
    }
}

/// A posting's required skills and tags, kept one row each (`posting_skills`, `posting_tags`) so that search
/// can find postings by them through an index.
struct PostingTerms: Sendable, Equatable {
    enum Kind {
        case skill, tag
        var table: String { self == .skill ? "posting_skills" : "posting_tags" }
    }

    var skills: [String] = []
    var tags: [String] = []

    /// The terms of `postings`, by posting id.
    static func of(_ postings: [String], on sql: any SQLDatabase) async throws -> [String: PostingTerms] {
        struct Row: Decodable { var kind: Int; var posting_id: String; var term: String }
        guard !postings.isEmpty else { return [:] }
        var terms: [String: PostingTerms] = [:]
        // Both kinds in one statement.
        let ids = SQLBind.group(postings)
        let rows = try await sql.raw("""
            SELECT 0 AS kind, posting_id, term, position FROM \(ident: Kind.skill.table) WHERE posting_id IN \(ids)
            UNION ALL SELECT 1, posting_id, term, position FROM \(ident: Kind.tag.table) WHERE posting_id IN \(ids)
            ORDER BY position
            """).all(decoding: Row.self)
        for row in rows {
            if row.kind == 0 { terms[row.posting_id, default: PostingTerms()].skills.append(row.term) } else { terms[row.posting_id, default: PostingTerms()].tags.append(row.term) }
        }
        return terms
    }

    /// Replaces the `kind` terms of `posting` with `words` (normalised: trimmed, lower-cased, once each).
    static func replace(_ kind: Kind, of posting: String, with words: [String], on sql: any SQLDatabase) async throws {
        try await sql.delete(from: kind.table).where("posting_id", .equal, SQLBind(posting)).run()
        for (position, term) in PostingInput.normalised(words).enumerated() {
            try await sql.insert(into: kind.table).columns("posting_id", "term", "position").values(SQLBind(posting), SQLBind(term), SQLBind(position)).run()
        }
    }

    /// Writes what `input` gives of both kinds.
    static func apply(_ input: PostingInput, to posting: String, on sql: any SQLDatabase) async throws {
        if let skills = input.skillsRequired { try await replace(.skill, of: posting, with: skills, on: sql) }
        if let tags = input.tags { try await replace(.tag, of: posting, with: tags, on: sql) }
    }

    /// The view of one posting, its terms read.
    static func view(_ posting: PostingRecord, on sql: any SQLDatabase) async throws -> PostingView {
        PostingView(posting, terms: try await of([posting.id], on: sql)[posting.id] ?? PostingTerms())
    }

    /// The words `q` finds postings by: of the title, description and tags.
    static let wordsTable = "posting_words"

    /// Writes what search and matching read of `view` beside its row: its words, its pay (the fixed budget
    /// or the top of its hourly range), its number of required skills and its zone's standard offset.
    static func index(_ view: PostingView, on sql: any SQLDatabase) async throws {
        let id = view.posting.id
        try await sql.delete(from: wordsTable).where("posting_id", .equal, SQLBind(id)).run()
        let words = searchTerms([view.title, view.description] + view.tags)
        if !words.isEmpty {
            var insert = sql.insert(into: wordsTable).columns("posting_id", "term")
            for word in words { insert = insert.values(SQLBind(id), SQLBind(word)) }
            try await insert.run()
        }
        try await sql.update(PostingRecord.table).set("pay_cents", to: SQLBind(view.posting.payCents)).set("skill_count", to: SQLBind(view.skillsRequired.count))
            .set("utc_offset_minutes", to: SQLBind(MatchScore.standardOffset(view.timezone))).where("id", .equal, SQLBind(id)).run()
        try await MatchVersions.stamp(.postings, id, on: sql)
    }

    /// Removes the terms and words of `postings`, whose terms are then written again by `insert`.
    static func clear(_ postings: [String], on sql: any SQLDatabase) async throws {
        guard !postings.isEmpty else { return }
        for table in [Kind.skill.table, Kind.tag.table, wordsTable] {
            try await sql.delete(from: table).where("posting_id", .in, SQLBind.group(postings)).run()
        }
    }

    /// `replace` and `index` for many postings at once (written rows without terms, as `clear` leaves them):
    /// a few statements for all, and one match version.
    static func insert(_ views: [PostingView], on sql: any SQLDatabase) async throws {
        guard !views.isEmpty else { return }
        var skills: [[any SQLExpression]] = []
        var tags: [[any SQLExpression]] = []
        var words: [[any SQLExpression]] = []
        for view in views {
            for (position, term) in view.skillsRequired.enumerated() { skills.append([SQLBind(view.id), SQLBind(term), SQLBind(position)]) }
            for (position, term) in view.tags.enumerated() { tags.append([SQLBind(view.id), SQLBind(term), SQLBind(position)]) }
            for word in searchTerms([view.title, view.description] + view.tags) { words.append([SQLBind(view.id), SQLBind(word)]) }
        }
        try await sql.insert(into: Kind.skill.table, columns: ["posting_id", "term", "position"], rows: skills)
        try await sql.insert(into: Kind.tag.table, columns: ["posting_id", "term", "position"], rows: tags)
        try await sql.insert(into: wordsTable, columns: ["posting_id", "term"], rows: words)
        for (offset, zoned) in Dictionary(grouping: views, by: { MatchScore.standardOffset($0.timezone) }) {
            try await sql.raw("""
                UPDATE job_postings SET pay_cents = CASE WHEN job_type = 'fixed' THEN budget_cents ELSE rate_max_cents END,
                    skill_count = (SELECT COUNT(*) FROM posting_skills WHERE posting_skills.posting_id = job_postings.id), utc_offset_minutes = \(bind: offset)
                WHERE id IN (\(binds: zoned.map(\.id)))
                """).run()
        }
        try await MatchVersions.stamp(.postings, views.map(\.id), on: sql)
    }
}

/// The body of `POST /jobs` and `PATCH /jobs/{id}`: every field optional on an edit.
struct PostingInput: Codable, Sendable, Validatable {
    var title: String?
    var description: String?
    var requirements: String?
    var skillsRequired: [String]?
    var category: String?
    var tags: [String]?
    var experienceLevel: ExperienceLevel?
    var jobType: JobType?
    var budgetCents: Int?
    var rateMinCents: Int?
    var rateMaxCents: Int?
    var currency: String?
    var duration: String?
    var remote: Bool?
    var location: String?
    var timezone: String?
    /// `draft` (the default on create) or `open` to publish.
    var status: PostingStatus?

    static func normalised(_ words: [String]) -> [String] {
        var seen = Set<String>()
        return words.map { $0.trimmingCharacters(in: .whitespacesAndNewlines).lowercased() }.filter { !$0.isEmpty && seen.insert($0).inserted }
    }

    func validate() -> [Problem.FieldError] {
        var errors: [Problem.FieldError] = []
        func check(_ failed: Bool, _ field: String, _ message: String) { if failed { errors.append(.init(field: field, message: message)) } }
        if let title { check(!(3...200).contains(title.trimmingCharacters(in: .whitespacesAndNewlines).count), "title", "must be 3 to 200 characters") }
        if let description { check(description.isEmpty || description.count > 20_000, "description", "must be 1 to 20000 characters") }
        if let requirements { check(requirements.count > 10_000, "requirements", "must be at most 10000 characters") }
        if let skillsRequired { check(skillsRequired.count > 30 || skillsRequired.contains { $0.count > 50 }, "skillsRequired", "must be at most 30 skills of at most 50 characters") }
        if let tags { check(tags.count > 20 || tags.contains { $0.count > 50 }, "tags", "must be at most 20 tags of at most 50 characters") }
        if let category { check(category.isEmpty || category.count > 50, "category", "must be 1 to 50 characters") }
        for (field, value) in [("budgetCents", budgetCents), ("rateMinCents", rateMinCents), ("rateMaxCents", rateMaxCents)] {
            if let value { check(!(1...100_000_000_00).contains(value), field, "must be a positive amount in cents, at most 10,000,000,000") }
        }
        if let currency { check(currency.count != 3 || !currency.allSatisfy({ $0.isASCII && $0.isUppercase }), "currency", "must be an ISO 4217 code such as USD") }
        if let duration { check(duration.count > 100, "duration", "must be at most 100 characters") }
        if let location { check(location.count > 200, "location", "must be at most 200 characters") }
        if let timezone { check(TimeZone(identifier: timezone) == nil, "timezone", "must be an IANA time zone such as Asia/Manila") }
        return errors
    }

    /// What a new posting must have.
    var missingOnCreate: [Problem.FieldError] {
        var errors: [Problem.FieldError] = []
        if title == nil { errors.append(.init(field: "title", message: "is required")) }
        if description == nil { errors.append(.init(field: "description", message: "is required")) }
        if jobType == nil { errors.append(.init(field: "jobType", message: "is required")) }
        if let status, status != .draft, status != .open { errors.append(.init(field: "status", message: "must be draft or open")) }
        return errors
    }
}
