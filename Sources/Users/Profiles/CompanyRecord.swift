import Foundation
import Blytz
import BlytzData
import BlytzEvents
import BlytzServices
import SQLKit

/// A row of `companies`.
struct CompanyRecord: Codable, Sendable {
    var userId: String
    var name: String
    var bio: String
    var country: String
    var website: String?
    var industry: String
    var companySize: String?
    var foundedYear: Int?
    var logoFileId: String?
    var verificationLevel: String
    var totalSpentCents: Int
    var visible: Bool
    var createdAt: String
    var updatedAt: String

    static let table = "companies"
    static let sizes = ["1", "2-10", "11-50", "51-200", "201-1000", "1000+"]

    static func find(_ userId: String, on sql: any SQLDatabase) async throws -> CompanyRecord? {
        try await sql.select().column("*").from(table).where("user_id", .equal, SQLBind(userId))
            .first(decoding: CompanyRecord.self, keyDecodingStrategy: .snakeCase)
    }

    mutating func apply(_ input: CompanyInput) {
        if let value = input.name { name = value.trimmingCharacters(in: .whitespacesAndNewlines) }
        if let value = input.bio { bio = value }
        if let value = input.country { country = value.uppercased() }
        if let value = input.website { website = value }
        if let value = input.industry { industry = value.lowercased() }
        if let value = input.companySize { companySize = value }
        if let value = input.foundedYear { foundedYear = value }
        if let value = input.logoFileId { logoFileId = value.lowercased() }
    }

    func save(on sql: any SQLDatabase, inserting: Bool) async throws {
        if inserting {
            try await sql.insert(into: Self.table).model(self, keyEncodingStrategy: .snakeCase).run()
        } else {
            // Only what an update may change: the spending total belongs to the payment consumer.
            try await sql.update(Self.table)
                .set("name", to: SQLBind(name)).set("bio", to: SQLBind(bio)).set("country", to: SQLBind(country))
                .set("website", to: SQLBind(website)).set("industry", to: SQLBind(industry)).set("company_size", to: SQLBind(companySize))
                .set("founded_year", to: SQLBind(foundedYear)).set("logo_file_id", to: SQLBind(logoFileId)).set("visible", to: SQLBind(visible))
                .set("updated_at", to: SQLBind(updatedAt))
                .where("user_id", .equal, SQLBind(userId)).run()
        }
        try await ProfileTerms.replace(kind: "company", userId: userId, terms: searchWords, on: sql)
    }

    /// Inserts new rows (or rows whose old row and words were removed) with their search words, a few statements for all.
    static func insert(_ companies: [CompanyRecord], on sql: any SQLDatabase) async throws {
        guard !companies.isEmpty else { return }
        try await sql.insert(into: table).models(companies, keyEncodingStrategy: .snakeCase, nilEncodingStrategy: .asNil).run()
        try await ProfileTerms.insert(kind: "company", companies.map { ($0.userId, $0.searchWords) }, on: sql)
    }

    /// The words `q` finds this company by; none while it is hidden.
    var searchWords: [String] { visible ? searchTerms([name, bio, industry]) : [] }

    /// The profile as other services keep it (`ProfileUpdated`).
    var snapshot: CompanySnapshot {
        CompanySnapshot(userId: userId, name: name, country: country, industry: industry, logoFileId: logoFileId, verificationLevel: verificationLevel, updatedAt: updatedAt)
    }

    func view(for audience: Audience) -> CompanyView {
        CompanyView(
            userId: userId, name: name, bio: bio, country: country, website: website, industry: industry, companySize: companySize,
            foundedYear: foundedYear, logoFileId: logoFileId, verificationLevel: verificationLevel,
            totalSpentCents: audience == .owner ? totalSpentCents : nil, createdAt: createdAt, updatedAt: updatedAt
        )
    }
}

/// A company profile as the API shows it; `totalSpentCents` only to its owner and admins.
struct CompanyView: Codable, Sendable, ResponseBody {
    var userId: String
    var name: String
    var bio: String
    var country: String
    var website: String?
    var industry: String
    var companySize: String?
    var foundedYear: Int?
    var logoFileId: String?
    var verificationLevel: String
    var totalSpentCents: Int?
    var createdAt: String
    var updatedAt: String
}

/// The body of `POST /profiles/company` (name, country and industry required) and of `PATCH /profiles/company/me`.
struct CompanyInput: Codable, Sendable {
    var name: String?
    var bio: String?
    var country: String?
    var website: String?
    var industry: String?
    var companySize: String?
    var foundedYear: Int?
    var logoFileId: String?

    func problems(creating: Bool) -> [Problem.FieldError] {
        var check = FieldCheck()
        check.text(name, "name", required: creating, max: 150)
        check.text(bio, "bio", required: false, max: 5_000, min: 0)
        check.country(country, required: creating)
        check.text(industry, "industry", required: creating, max: 60)
        if let website, website.count > 200 || !(website.hasPrefix("https://") || website.hasPrefix("http://")) || URL(string: website)?.host == nil {
            check.errors.append(.init(field: "website", message: "must be an http(s) URL"))
        }
        check.oneOf(companySize, "companySize", CompanyRecord.sizes)
        if let year = foundedYear, !(1800...2100).contains(year) { check.errors.append(.init(field: "foundedYear", message: "must be a year from 1800 to 2100")) }
        check.id(logoFileId, "logoFileId")
        return check.errors
    }
}
