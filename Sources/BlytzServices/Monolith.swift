import Blytz
import BlytzData
import BlytzEvents
import Foundation

/// What several services read of the monolith the same way when they import it: whose a row is, the id
/// a file known by URL gets, and a profile as other services keep it (the user service's own record and
/// the marketplace's copy are made from the same monolith row by the same rules).
public enum Monolith {
    /// The new id of the monolith user `legacyUserId` (its Firebase UID or cuid), in every service.
    public static func userId(_ legacyUserId: String) -> String { LegacyImport.id("users", legacyUserId) }

    /// The id the files service gives an object the monolith knows only by its URL.
    public static func fileId(_ url: String?) -> String? { url.map { LegacyImport.id("file", $0) } }

    /// The user behind a row's `companyId` and `vaProfileId` (the new services name people by user), as
    /// `company_legacy_user_id` and `va_legacy_user_id`; NULL for a profile that is gone.
    public static let companyOwner = #"(SELECT c."userId" FROM {schema}.companies c WHERE c.id = t."companyId") AS company_legacy_user_id"#
    public static let vaOwner = #"(SELECT v."userId" FROM {schema}.va_profiles v WHERE v.id = t."vaProfileId") AS va_legacy_user_id"#

    /// A profile's owner and the time it stands for: the monolith's profiles have no timestamps of their
    /// own (companies only `updatedAt`), so the owner's are used.
    public static let ownerColumns = [
        "t.\"userId\" AS user_legacy_id",
        #"(SELECT to_char(u."createdAt", 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') FROM {schema}.users u WHERE u.id = t."userId") AS created_at"#,
        #"(SELECT to_char(u."updatedAt", 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') FROM {schema}.users u WHERE u.id = t."userId") AS owner_updated_at"#,
        #"(SELECT u.role FROM {schema}.users u WHERE u.id = t."userId") AS owner_role"#,
    ]

    /// A `va_profiles` row (aliased `t`, with `vaProfileJoins`) as `VAProfileRow` reads it: the fields, and
    /// the figures the monolith's counters drift from, recomputed from its rows (reviews naming the profile,
    /// completed or paid contracts).
    public static let vaProfileColumns = ownerColumns + [
        "t.name AS name", "coalesce(t.bio, '') AS bio", "upper(btrim(t.country)) AS country", "t.timezone AS timezone",
        "t.\"hourlyRate\"::bigint * 100 AS hourly_rate_cents", "\(LegacyImport.textArray("skills")) AS skills", "t.availability AS available",
        "t.\"verificationLevel\" AS verification_level", "t.\"avatarUrl\" AS avatar_url",
        "coalesce(reviewed.n, 0)::int AS review_count", "coalesce(reviewed.total, 0)::int AS rating_sum", "coalesce(done.n, 0)::int AS completed_jobs",
        #"EXISTS (SELECT 1 FROM {schema}.companies c WHERE c."userId" = t."userId") AS has_company"#,
    ]

    /// What `vaProfileColumns` reads beside the row: per profile, its reviews and its contracts done. The
    /// monolith indexes none of these columns, so they are aggregated once per batch and joined, not
    /// looked up row by row.
    public static let vaProfileJoins = #"""
        LEFT JOIN (SELECT "targetId" AS key, count(*) AS n, sum(rating) AS total FROM {schema}.reviews WHERE "targetType" IS DISTINCT FROM 'company' GROUP BY 1) reviewed ON reviewed.key = t.id
        LEFT JOIN (SELECT "vaProfileId" AS key, count(*) AS n FROM {schema}.contracts WHERE status IN ('completed', 'paid') GROUP BY 1) done ON done.key = t.id
        """#

    public struct VAProfileRow: Decodable, Sendable {
        public var legacyId: String
        public var userLegacyId: String
        public var createdAt: String?
        public var ownerUpdatedAt: String?
        public var ownerRole: String?
        public var name: String
        public var bio: String
        public var country: String
        public var timezone: String?
        public var hourlyRateCents: Int
        public var skills: String
        public var available: Bool
        public var verificationLevel: String
        public var avatarUrl: String?
        public var reviewCount: Int
        public var ratingSum: Int
        public var completedJobs: Int
        public var hasCompany: Bool

        public var userId: String { Monolith.userId(userLegacyId) }
        public var averageRating: Double { reviewCount == 0 ? 0 : Double(ratingSum) / Double(reviewCount) }
        /// Whether the account is a VA: its only profile is a VA's, or the role column says so where it has both.
        public var isVA: Bool { !hasCompany || ownerRole != "company" }
    }

    /// The skills of a `text[]` read as JSON: trimmed, without case-insensitive repeats or empties, in order.
    public static func skills(_ json: String) -> (skills: [String], changed: Bool) {
        let given = fromJSONText(json, fallback: [String]())
        var seen = Set<String>()
        let kept = given.map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty && seen.insert($0.lowercased()).inserted }
        return (kept, kept != given)
    }

    /// The verification levels both systems know; anything else becomes `basic`, counted.
    public static func verificationLevel(_ level: String, report: inout LegacyImport.TableReport) -> String {
        if ["basic", "professional", "premium"].contains(level) { return level }
        report.map("verification level '\(level)' → basic")
        return "basic"
    }

    /// The profile as the user service publishes it: available → `full-time`, not → `unavailable`.
    public static func snapshot(_ row: VAProfileRow, report: inout LegacyImport.TableReport) -> VAProfileSnapshot {
        let skills = skills(row.skills)
        if skills.changed { report.map("skills trimmed and deduplicated") }
        return VAProfileSnapshot(
            userId: row.userId, name: row.name.trimmingCharacters(in: .whitespacesAndNewlines), bio: row.bio, country: row.country, timezone: row.timezone,
            hourlyRateCents: row.hourlyRateCents, currency: "USD", skills: skills.skills, availability: row.available ? "full-time" : "unavailable",
            available: row.available, averageRating: row.averageRating, totalReviews: row.reviewCount, completedJobs: row.completedJobs,
            verificationLevel: verificationLevel(row.verificationLevel, report: &report), avatarFileId: fileId(row.avatarUrl),
            updatedAt: row.ownerUpdatedAt ?? row.createdAt ?? ""
        )
    }

    /// A `companies` row (aliased `t`) as `CompanyRow` reads it.
    public static let companyColumns = ownerColumns + [
        "t.name AS name", "coalesce(t.bio, t.description, '') AS bio", "upper(btrim(t.country)) AS country", "t.website AS website",
        "lower(coalesce(t.industry, '')) AS industry", "t.\"companySize\" AS company_size", "t.\"foundedYear\" AS founded_year", "t.\"logoUrl\" AS logo_url",
        "t.\"verificationLevel\" AS verification_level", "\(LegacyImport.time("updatedAt")) AS updated_at",
        #"EXISTS (SELECT 1 FROM {schema}.va_profiles v WHERE v."userId" = t."userId") AS has_va_profile"#,
    ]

    public struct CompanyRow: Decodable, Sendable {
        public var legacyId: String
        public var userLegacyId: String
        public var createdAt: String?
        public var ownerRole: String?
        public var name: String
        public var bio: String
        public var country: String
        public var website: String?
        public var industry: String
        public var companySize: String?
        public var foundedYear: Int?
        public var logoUrl: String?
        public var verificationLevel: String
        public var updatedAt: String
        public var hasVaProfile: Bool

        public var userId: String { Monolith.userId(userLegacyId) }
        /// Whether the account is a company: its only profile is a company's, or the role column says so where it has both.
        public var isCompany: Bool { !hasVaProfile || ownerRole == "company" }
    }

    public static func snapshot(_ row: CompanyRow, report: inout LegacyImport.TableReport) -> CompanySnapshot {
        CompanySnapshot(
            userId: row.userId, name: row.name.trimmingCharacters(in: .whitespacesAndNewlines), country: row.country, industry: row.industry,
            logoFileId: fileId(row.logoUrl), verificationLevel: verificationLevel(row.verificationLevel, report: &report), updatedAt: row.updatedAt
        )
    }
}
