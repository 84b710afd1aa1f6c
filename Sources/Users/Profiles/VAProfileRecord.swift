import Foundation
import Blytz
import BlytzServices
import BlytzData
import BlytzEvents
import SQLKit

/// A row of `va_profiles`.
struct VAProfileRecord: Codable, Sendable {
    var userId: String
    var name: String
    var bio: String
    var country: String
    var timezone: String?
    var hourlyRateCents: Int
    var currency: String
    var skills: String
    var languages: String
    var availability: String
    var available: Bool
    var workExperience: String
    var education: String
    var averageRating: Double
    var ratingSum: Int
    var totalReviews: Int
    var completedJobs: Int
    var earnedCents: Int
    var profileViews: Int
    var verificationLevel: String
    var avatarFileId: String?
    var resumeFileId: String?
    var visible: Bool
    var createdAt: String
    var updatedAt: String

    static let table = "va_profiles"
    static let availabilities = ["full-time", "part-time", "hourly", "unavailable"]

    static func find(_ userId: String, on sql: any SQLDatabase) async throws -> VAProfileRecord? {
        try await sql.select().column("*").from(table).where("user_id", .equal, SQLBind(userId))
            .first(decoding: VAProfileRecord.self, keyDecodingStrategy: .snakeCase)
    }

    var skillList: [String] { fromJSONText(skills, fallback: []) }

    /// Applies the fields `input` sets.
    mutating func apply(_ input: VAProfileInput) {
        if let value = input.name { name = value.trimmingCharacters(in: .whitespacesAndNewlines) }
        if let value = input.bio { bio = value }
        if let value = input.country { country = value.uppercased() }
        if let value = input.timezone { timezone = value }
        if let value = input.hourlyRateCents { hourlyRateCents = value }
        if let value = input.currency { currency = value.uppercased() }
        if let value = input.skills { skills = jsonText(VAProfileInput.normalized(value)) }
        if let value = input.languages { languages = jsonText(value) }
        if let value = input.availability {
            availability = value
            available = value != "unavailable"
        }
        if let value = input.workExperience { workExperience = jsonText(value) }
        if let value = input.education { education = jsonText(value) }
        if let value = input.avatarFileId { avatarFileId = value.lowercased() }
        if let value = input.resumeFileId { resumeFileId = value.lowercased() }
    }

    /// Writes the row, its skills and its search terms (replacing what was there).
    func save(on sql: any SQLDatabase, inserting: Bool) async throws {
        if inserting {
            try await sql.insert(into: Self.table).model(self, keyEncodingStrategy: .snakeCase).run()
        } else {
            // Only what an update may change: the counters belong to the consumers.
            try await sql.update(Self.table)
                .set("name", to: SQLBind(name)).set("bio", to: SQLBind(bio)).set("country", to: SQLBind(country)).set("timezone", to: SQLBind(timezone))
                .set("hourly_rate_cents", to: SQLBind(hourlyRateCents)).set("currency", to: SQLBind(currency)).set("skills", to: SQLBind(skills))
                .set("languages", to: SQLBind(languages)).set("availability", to: SQLBind(availability)).set("available", to: SQLBind(available))
                .set("work_experience", to: SQLBind(workExperience)).set("education", to: SQLBind(education))
                .set("avatar_file_id", to: SQLBind(avatarFileId)).set("resume_file_id", to: SQLBind(resumeFileId)).set("visible", to: SQLBind(visible))
                .set("updated_at", to: SQLBind(updatedAt))
                .where("user_id", .equal, SQLBind(userId)).run()
        }
        try await sql.delete(from: "va_skills").where("user_id", .equal, SQLBind(userId)).run()
        let skills = Set(skillList.map { $0.lowercased() })
        if !skills.isEmpty {
            var insert = sql.insert(into: "va_skills").columns("skill", "user_id")
            for skill in skills.sorted() { insert = insert.values(SQLBind(skill), SQLBind(userId)) }
            try await insert.run()
        }
        try await ProfileTerms.replace(kind: "va", userId: userId, terms: searchWords, on: sql)
    }

    /// Inserts new profiles with their skills and search terms, a few statements for all of them (an import).
    static func insert(_ profiles: [VAProfileRecord], on sql: any SQLDatabase) async throws {
        guard !profiles.isEmpty else { return }
        try await sql.insert(into: table).models(profiles, keyEncodingStrategy: .snakeCase, nilEncodingStrategy: .asNil).run()
        let skills = profiles.flatMap { profile in Set(profile.skillList.map { $0.lowercased() }).sorted().map { [SQLBind($0), SQLBind(profile.userId)] as [any SQLExpression] } }
        try await sql.insert(into: "va_skills", columns: ["skill", "user_id"], rows: skills)
        try await ProfileTerms.insert(kind: "va", profiles.map { ($0.userId, $0.searchWords) }, on: sql)
    }

    /// The words `q` finds this profile by; none while it is hidden.
    var searchWords: [String] { visible ? searchTerms([name, bio] + skillList) : [] }

    /// The profile as other services keep it (`ProfileUpdated`).
    var snapshot: VAProfileSnapshot {
        VAProfileSnapshot(
            userId: userId, name: name, bio: bio, country: country, timezone: timezone, hourlyRateCents: hourlyRateCents, currency: currency,
            skills: skillList, availability: availability, available: available, averageRating: averageRating, totalReviews: totalReviews,
            completedJobs: completedJobs, verificationLevel: verificationLevel, avatarFileId: avatarFileId, updatedAt: updatedAt
        )
    }

    func view(for audience: Audience) -> VAProfileView {
        VAProfileView(
            userId: userId, name: name, bio: bio, country: country, timezone: timezone, hourlyRateCents: hourlyRateCents,
            currency: currency, skills: skillList, languages: fromJSONText(languages, fallback: []), availability: availability,
            available: available, workExperience: fromJSONText(workExperience, fallback: []), education: fromJSONText(education, fallback: []),
            averageRating: averageRating, totalReviews: totalReviews, completedJobs: completedJobs,
            earnedCents: audience == .owner ? earnedCents : nil, profileViews: profileViews, verificationLevel: verificationLevel,
            avatarFileId: avatarFileId, resumeFileId: audience == .other ? nil : resumeFileId, createdAt: createdAt, updatedAt: updatedAt
        )
    }
}

/// A VA profile as the API shows it; `earnedCents` only to its owner and admins, `resumeFileId` not to other VAs.
struct VAProfileView: Codable, Sendable, ResponseBody {
    var userId: String
    var name: String
    var bio: String
    var country: String
    var timezone: String?
    var hourlyRateCents: Int
    var currency: String
    var skills: [String]
    var languages: [Language]
    var availability: String
    var available: Bool
    var workExperience: [WorkExperience]
    var education: [Education]
    var averageRating: Double
    var totalReviews: Int
    var completedJobs: Int
    var earnedCents: Int?
    var profileViews: Int
    var verificationLevel: String
    var avatarFileId: String?
    var resumeFileId: String?
    var createdAt: String
    var updatedAt: String
}

/// The body of `POST /profiles/va` (name, country, hourlyRateCents and skills required) and of `PATCH
/// /profiles/va/me` (every field optional; an absent or null field keeps its value).
struct VAProfileInput: Codable, Sendable {
    var name: String?
    var bio: String?
    var country: String?
    var timezone: String?
    var hourlyRateCents: Int?
    var currency: String?
    var skills: [String]?
    var languages: [Language]?
    var availability: String?
    var workExperience: [WorkExperience]?
    var education: [Education]?
    var avatarFileId: String?
    var resumeFileId: String?

    func problems(creating: Bool) -> [Problem.FieldError] {
        var check = FieldCheck()
        check.text(name, "name", required: creating, max: 100)
        check.text(bio, "bio", required: false, max: 5_000, min: 0)
        check.country(country, required: creating)
        check.text(timezone, "timezone", required: false, max: 64)
        if let rate = hourlyRateCents, !(0...100_000_00).contains(rate) {
            check.errors.append(.init(field: "hourlyRateCents", message: "must be from 0 to 10000000"))
        } else if creating && hourlyRateCents == nil {
            check.errors.append(.init(field: "hourlyRateCents", message: "is required"))
        }
        if let currency, currency.count != 3 || !currency.allSatisfy({ $0.isASCII && $0.isLetter }) {
            check.errors.append(.init(field: "currency", message: "must be an ISO 4217 code such as USD"))
        }
        if let skills {
            let normalized = Self.normalized(skills)
            if normalized.isEmpty || normalized.count > 50 { check.errors.append(.init(field: "skills", message: "must list 1 to 50 skills")) }
            for (index, skill) in skills.enumerated() where skill.trimmingCharacters(in: .whitespaces).isEmpty || skill.count > 50 {
                check.errors.append(.init(field: "skills[\(index)]", message: "must be 1 to 50 characters"))
            }
        } else if creating {
            check.errors.append(.init(field: "skills", message: "is required"))
        }
        for (index, language) in (languages ?? []).enumerated() {
            check.text(language.language, "languages[\(index)].language", required: true, max: 50)
            check.oneOf(language.proficiency, "languages[\(index)].proficiency", Language.proficiencies)
        }
        if (languages ?? []).count > 20 { check.errors.append(.init(field: "languages", message: "must list at most 20 languages")) }
        check.oneOf(availability, "availability", VAProfileRecord.availabilities)
        for (index, job) in (workExperience ?? []).enumerated() {
            check.text(job.title, "workExperience[\(index)].title", required: true, max: 100)
            check.text(job.company, "workExperience[\(index)].company", required: true, max: 100)
            if !job.startDate.isYearMonth { check.errors.append(.init(field: "workExperience[\(index)].startDate", message: "must be YYYY-MM")) }
            if let end = job.endDate, !end.isYearMonth { check.errors.append(.init(field: "workExperience[\(index)].endDate", message: "must be YYYY-MM")) }
        }
        if (workExperience ?? []).count > 50 { check.errors.append(.init(field: "workExperience", message: "must list at most 50 entries")) }
        for (index, school) in (education ?? []).enumerated() {
            check.text(school.institution, "education[\(index)].institution", required: true, max: 150)
        }
        if (education ?? []).count > 20 { check.errors.append(.init(field: "education", message: "must list at most 20 entries")) }
        check.id(avatarFileId, "avatarFileId")
        check.id(resumeFileId, "resumeFileId")
        return check.errors
    }

    /// Skills trimmed, without case-insensitive repeats, in the order given.
    static func normalized(_ skills: [String]) -> [String] {
        var seen = Set<String>()
        return skills.map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty && seen.insert($0.lowercased()).inserted }
    }
}

extension String {
    var isYearMonth: Bool {
        let parts = split(separator: "-")
        guard parts.count == 2, parts[0].count == 4, let year = Int(parts[0]), let month = Int(parts[1]) else { return false }
        return (1900...2200).contains(year) && (1...12).contains(month)
    }
}

/// The search words of each profile, for prefix matching of `q` through an index on both engines.
enum ProfileTerms {
    static func replace(kind: String, userId: String, terms: [String], on sql: any SQLDatabase) async throws {
        try await sql.delete(from: "profile_terms").where("kind", .equal, SQLBind(kind)).where("user_id", .equal, SQLBind(userId)).run()
        try await insert(kind: kind, [(userId, terms)], on: sql)
    }

    /// Inserts each user's words (of profiles whose words were removed or never written).
    static func insert(kind: String, _ terms: [(userId: String, terms: [String])], on sql: any SQLDatabase) async throws {
        let rows = terms.flatMap { user in user.terms.map { [SQLBind(kind), SQLBind($0), SQLBind(user.userId)] as [any SQLExpression] } }
        try await sql.insert(into: "profile_terms", columns: ["kind", "term", "user_id"], rows: rows)
    }

    /// `user_id IN (profiles with a word starting with `word`)`.
    static func matching(kind: String, word: String) -> some SQLExpression {
        SQLSubquery.select { $0.column("user_id").from("profile_terms").where("kind", .equal, SQLBind(kind))
            .where("term", .greaterThanOrEqual, SQLBind(word)).where("term", .lessThan, SQLBind(word + "\u{10FFFF}")) }
    }
}
