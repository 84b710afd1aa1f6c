import Foundation
import Blytz
import BlytzData
import BlytzEvents
import BlytzServices
import Logging
import SQLKit

/// `users import --from postgres://…`: the monolith's users, VA profiles and companies, with what this
/// service derives from them (skills, search terms, ratings, jobs done, money earned and spent) rebuilt
/// from the monolith's own rows. Imported accounts have no password: `users invite --imported` mails each
/// the reset link that sets one. The mapping is the README's table ("Moving the data").
enum Import {
    static let command = LegacyImport.command(service: "users") { session in
        try await users(session)
        try await vaProfiles(session)
        try await companies(session)
    }

    static let time = LegacyImport.time
    static let json = LegacyImport.json
    static let fileId = Monolith.fileId
    static let userId = Monolith.userId

    // MARK: users

    struct UserRow: Decodable, Sendable {
        var legacyId: String
        var email: String
        var role: String
        var preferences: String?
        var createdAt: String
        var updatedAt: String
        var vaName: String?
        var vaAvatarUrl: String?
        var companyName: String?
    }

    static func users(_ session: LegacyImport.Session) async throws {
        // The accounts whose address (case and surrounding spaces aside) an earlier account already has, found
        // once in one pass over the monolith's users rather than for each batch.
        let shadowed = Set(try await session.monolith.raw("""
            SELECT id FROM (
                SELECT id, row_number() OVER (PARTITION BY lower(btrim(email)) ORDER BY "createdAt", id) AS n FROM \(ident: session.schema).users
            ) ranked WHERE n > 1
            """).all().map { try $0.decode(column: "id", as: String.self) })
        try await session.copy("users", into: "users", columns: [
            "t.email AS email", "t.role AS role", "\(json("preferences")) AS preferences", "\(time("createdAt")) AS created_at", "\(time("updatedAt")) AS updated_at",
            #"(SELECT v.name FROM {schema}.va_profiles v WHERE v."userId" = t.id) AS va_name"#,
            #"(SELECT v."avatarUrl" FROM {schema}.va_profiles v WHERE v."userId" = t.id) AS va_avatar_url"#,
            #"(SELECT c.name FROM {schema}.companies c WHERE c."userId" = t.id) AS company_name"#,
        ], as: UserRow.self) { rows, sql, report in
            // Who holds each id and each address already.
            let ids = rows.map { userId($0.legacyId) }
            let emails = rows.map(\.email.normalizedEmail)
            var holders: [String: String] = [:]
            var present = Set<String>()
            for held in try await sql.select().columns("id", "email").from(UserRecord.table)
                .where { $0.where("id", .in, SQLBind.group(ids)).orWhere("email", .in, SQLBind.group(emails)) }.all() {
                let id = try held.decode(column: "id", as: String.self)
                holders[try held.decode(column: "email", as: String.self)] = id
                present.insert(id)
            }
            var fresh: [UserRecord] = []
            var outcomes: [LegacyImport.Outcome] = []
            for row in rows {
                guard let (user, role) = account(row, report: &report) else {
                    outcomes.append(.skipped(row.email.normalizedEmail.isPlausibleEmail ? "unknown role '\(row.role)'" : "invalid email"))
                    continue
                }
                // Emails compare case-insensitively here: the account made first keeps an address two share.
                guard !shadowed.contains(row.legacyId) else { outcomes.append(.skipped("email already used by an earlier account (case-insensitive)")); continue }
                guard (holders[user.email] ?? user.id) == user.id else { outcomes.append(.skipped("email taken by an account made in the new system")); continue }
                holders[user.email] = user.id
                if present.contains(user.id) {
                    // Never the password or sessions: the account may have been claimed since the last run.
                    try await sql.update(UserRecord.table).set("email", to: SQLBind(user.email)).set("role", to: SQLBind(role.rawValue))
                        .set("preferences", to: SQLBind(user.preferences)).set("display_name", to: SQLBind(user.displayName))
                        .set("avatar_file_id", to: SQLBind(user.avatarFileId)).set("updated_at", to: SQLBind(user.updatedAt))
                        .where("id", .equal, SQLBind(user.id)).run()
                } else {
                    fresh.append(user)
                }
                outcomes.append(.written)
            }
            if !fresh.isEmpty { try await sql.insert(into: UserRecord.table).models(fresh, keyEncodingStrategy: .snakeCase, nilEncodingStrategy: .asNil).run() }
            return outcomes
        }
    }

    /// The account a monolith user becomes, or nil for an address that is not one or a role that is unknown.
    static func account(_ row: UserRow, report: inout LegacyImport.TableReport) -> (UserRecord, Caller.Role)? {
        let email = row.email.normalizedEmail
        guard email.isPlausibleEmail else { return nil }
        // The profile says what an account is; the role column is what the user last chose.
        let role: Caller.Role
        switch (row.vaName != nil, row.companyName != nil) {
        case (true, false):
            role = .va
            if row.role != "va" { report.map("role '\(row.role)' with only a VA profile → va") }
        case (false, true):
            role = .company
            if row.role != "company" { report.map("role '\(row.role)' with only a company → company") }
        case (true, true):
            role = row.role == "company" ? .company : .va
            report.map("both profiles → the role column's \(role.rawValue)")
        case (false, false):
            guard let named = Caller.Role(rawValue: row.role), Caller.Role.people.contains(named) else { return nil }
            role = named
        }
        let user = UserRecord(
            id: userId(row.legacyId), email: email, passwordHash: "", role: role, status: .active, emailVerified: false, preferences: row.preferences ?? "{}",
            displayName: row.vaName ?? row.companyName, avatarFileId: fileId(row.vaAvatarUrl), lastSeenAt: nil, createdAt: row.createdAt, updatedAt: row.updatedAt
        )
        return (user, role)
    }

    // MARK: VA profiles

    /// What only this service keeps of a VA profile, beside what others keep (`Monolith.VAProfileRow`).
    struct VAProfileRow: Decodable, Sendable {
        var shared: Monolith.VAProfileRow
        var languages: String?
        var workExperience: String?
        var education: String?
        var profileViews: Int
        var resumeUrl: String?
        var earnedCents: Int
        var spentCents: Int

        init(from decoder: any Decoder) throws {
            shared = try Monolith.VAProfileRow(from: decoder)
            let container = try decoder.container(keyedBy: Key.self)
            languages = try container.decodeIfPresent(String.self, forKey: .languages)
            workExperience = try container.decodeIfPresent(String.self, forKey: .workExperience)
            education = try container.decodeIfPresent(String.self, forKey: .education)
            profileViews = try container.decode(Int.self, forKey: .profileViews)
            resumeUrl = try container.decodeIfPresent(String.self, forKey: .resumeUrl)
            earnedCents = try container.decode(Int.self, forKey: .earnedCents)
            spentCents = try container.decode(Int.self, forKey: .spentCents)
        }

        enum Key: String, CodingKey { case languages, workExperience, education, profileViews, resumeUrl, earnedCents, spentCents }
    }

    /// Money received (net of the platform's fee, less refunds) and paid (gross, less refunds) by the
    /// profile's owner, in cents, over succeeded and refunded payments.
    static let money = ["coalesce(earned.cents, 0)::bigint AS earned_cents", "coalesce(spent.cents, 0)::bigint AS spent_cents"]
    static let moneyJoins = """
        LEFT JOIN (SELECT "receiverId" AS key, sum(amount - coalesce("platformFee", 0) - coalesce("refundAmount", 0)) AS cents FROM {schema}.payments
                   WHERE status IN ('succeeded', 'refunded') GROUP BY 1) earned ON earned.key = t."userId"
        LEFT JOIN (SELECT "userId" AS key, sum(amount - coalesce("refundAmount", 0)) AS cents FROM {schema}.payments
                   WHERE status IN ('succeeded', 'refunded') GROUP BY 1) spent ON spent.key = t."userId"
        """

    static func vaProfiles(_ session: LegacyImport.Session) async throws {
        try await session.copy("va_profiles", into: "va_profiles", key: nil, columns: Monolith.vaProfileColumns + [
            "\(json("languages")) AS languages", "\(json("workExperience")) AS work_experience", "\(json("education")) AS education",
            "t.\"profileViews\" AS profile_views", "t.\"resumeUrl\" AS resume_url",
        ] + money, joins: Monolith.vaProfileJoins + "\n" + moneyJoins, as: VAProfileRow.self) { rows, sql, report in
            let owners = try await users(rows.map(\.shared.userId), on: sql)
            var profiles: [VAProfileRecord] = []
            var totals: [(String, Int, Int)] = []
            let outcomes = rows.map { row -> LegacyImport.Outcome in
                let id = row.shared.userId
                guard let user = owners[id] else { return .skipped("owner not imported") }
                let snapshot = Monolith.snapshot(row.shared, report: &report)
                let createdAt = row.shared.createdAt ?? user.createdAt
                profiles.append(VAProfileRecord(
                    userId: id, name: snapshot.name, bio: snapshot.bio, country: snapshot.country, timezone: snapshot.timezone,
                    hourlyRateCents: snapshot.hourlyRateCents, currency: snapshot.currency, skills: jsonText(snapshot.skills),
                    languages: jsonText(languages(row.languages, report: &report)), availability: snapshot.availability, available: snapshot.available,
                    workExperience: jsonText(workExperience(row.workExperience, since: createdAt, report: &report)),
                    education: jsonText(education(row.education, report: &report)),
                    averageRating: snapshot.averageRating, ratingSum: row.shared.ratingSum, totalReviews: snapshot.totalReviews,
                    completedJobs: snapshot.completedJobs, earnedCents: row.earnedCents, profileViews: row.profileViews,
                    verificationLevel: snapshot.verificationLevel, avatarFileId: snapshot.avatarFileId, resumeFileId: fileId(row.resumeUrl), visible: true,
                    createdAt: createdAt, updatedAt: user.updatedAt
                ))
                totals.append((id, row.earnedCents, row.spentCents))
                return .written
            }
            let ids = profiles.map(\.userId)
            guard !ids.isEmpty else { return outcomes }
            for table in ["va_skills", "va_profiles"] { try await sql.delete(from: table).where("user_id", .in, SQLBind.group(ids)).run() }
            try await sql.delete(from: "profile_terms").where("kind", .equal, SQLBind("va")).where("user_id", .in, SQLBind.group(ids)).run()
            try await VAProfileRecord.insert(profiles, on: sql)
            try await replaceTotals(totals, on: sql)
            return outcomes
        } verify: { row, sql in
            guard let profile = try await VAProfileRecord.find(row.shared.userId, on: sql) else { return "no VA profile for \(row.shared.userId)" }
            var ignored = LegacyImport.TableReport(source: "", target: "")
            let expected = Monolith.snapshot(row.shared, report: &ignored)
            let differing = [
                ("name", profile.name == expected.name), ("hourlyRateCents", profile.hourlyRateCents == expected.hourlyRateCents),
                ("skills", profile.skillList == expected.skills), ("country", profile.country == expected.country),
                ("totalReviews", profile.totalReviews == expected.totalReviews), ("earnedCents", profile.earnedCents == row.earnedCents),
            ].filter { !$0.1 }.map(\.0)
            return differing.isEmpty ? nil : "differs in " + differing.joined(separator: ", ")
        }
    }

    // MARK: companies

    struct CompanyRow: Decodable, Sendable {
        var shared: Monolith.CompanyRow
        var earnedCents: Int
        var spentCents: Int

        init(from decoder: any Decoder) throws {
            shared = try Monolith.CompanyRow(from: decoder)
            let container = try decoder.container(keyedBy: VAProfileRow.Key.self)
            earnedCents = try container.decode(Int.self, forKey: .earnedCents)
            spentCents = try container.decode(Int.self, forKey: .spentCents)
        }
    }

    /// The monolith's company sizes in the new service's bands.
    static let companySizes = ["1-10": "2-10", "11-50": "11-50", "51-200": "51-200", "201+": "201-1000"]

    static func companies(_ session: LegacyImport.Session) async throws {
        try await session.copy("companies", into: "companies", key: nil, columns: Monolith.companyColumns + money, joins: moneyJoins, as: CompanyRow.self) { rows, sql, report in
            let owners = try await users(rows.map(\.shared.userId), on: sql)
            var companies: [CompanyRecord] = []
            var totals: [(String, Int, Int)] = []
            let outcomes = rows.map { row -> LegacyImport.Outcome in
                let id = row.shared.userId
                guard let user = owners[id] else { return .skipped("owner not imported") }
                var size: String?
                if let given = row.shared.companySize {
                    guard let mapped = companySizes[given] ?? (CompanyRecord.sizes.contains(given) ? given : nil) else { return .skipped("unknown company size '\(given)'") }
                    if mapped != given { report.map("company size '\(given)' → '\(mapped)'") }
                    size = mapped
                }
                let snapshot = Monolith.snapshot(row.shared, report: &report)
                companies.append(CompanyRecord(
                    userId: id, name: snapshot.name, bio: row.shared.bio, country: snapshot.country, website: row.shared.website,
                    industry: snapshot.industry, companySize: size, foundedYear: row.shared.foundedYear, logoFileId: snapshot.logoFileId,
                    verificationLevel: snapshot.verificationLevel, totalSpentCents: row.spentCents, visible: true,
                    createdAt: row.shared.createdAt ?? user.createdAt, updatedAt: row.shared.updatedAt
                ))
                totals.append((id, row.earnedCents, row.spentCents))
                return .written
            }
            let ids = companies.map(\.userId)
            guard !ids.isEmpty else { return outcomes }
            try await sql.delete(from: CompanyRecord.table).where("user_id", .in, SQLBind.group(ids)).run()
            try await sql.delete(from: "profile_terms").where("kind", .equal, SQLBind("company")).where("user_id", .in, SQLBind.group(ids)).run()
            try await CompanyRecord.insert(companies, on: sql)
            try await replaceTotals(totals, on: sql)
            return outcomes
        } verify: { row, sql in
            guard let company = try await CompanyRecord.find(row.shared.userId, on: sql) else { return "no company for \(row.shared.userId)" }
            let differing = [
                ("name", company.name == row.shared.name.trimmingCharacters(in: .whitespacesAndNewlines)), ("country", company.country == row.shared.country),
                ("totalSpentCents", company.totalSpentCents == row.spentCents),
            ].filter { !$0.1 }.map(\.0)
            return differing.isEmpty ? nil : "differs in " + differing.joined(separator: ", ")
        }
    }

    // MARK: conversions

    /// The accounts of `ids` that exist, by id.
    static func users(_ ids: [String], on sql: any SQLDatabase) async throws -> [String: UserRecord] {
        guard !ids.isEmpty else { return [:] }
        let found = try await sql.select().column("*").from(UserRecord.table).where("id", .in, SQLBind.group(ids))
            .all(decoding: UserRecord.self, keyDecodingStrategy: .snakeCase)
        return Dictionary(found.map { ($0.id, $0) }) { first, _ in first }
    }

    /// Each user's earned and spent totals (in USD, the monolith's one currency), replacing what was there.
    static func replaceTotals(_ totals: [(userId: String, earned: Int, spent: Int)], on sql: any SQLDatabase) async throws {
        guard !totals.isEmpty else { return }
        try await sql.delete(from: "user_totals").where("user_id", .in, SQLBind.group(totals.map(\.userId))).run()
        var insert = sql.insert(into: "user_totals").columns("user_id", "currency", "earned_cents", "spent_cents")
        for total in totals { insert = insert.values(SQLBind(total.userId), SQLBind("USD"), SQLBind(total.earned), SQLBind(total.spent)) }
        try await insert.run()
    }


    static func entries(_ text: String?) -> [[String: JSONValue]] {
        guard let text else { return [] }
        return fromJSONText(text, fallback: [JSONValue]()).compactMap { if case .object(let fields) = $0 { fields } else { nil } }
    }

    static func string(_ value: JSONValue?) -> String? {
        if case .string(let text) = value, !text.trimmingCharacters(in: .whitespaces).isEmpty { return text.trimmingCharacters(in: .whitespaces) }
        return nil
    }

    /// `[{code, level}]` → `[{language, proficiency}]`; entries without a code or with an unknown level are dropped and counted.
    static func languages(_ text: String?, report: inout LegacyImport.TableReport) -> [Language] {
        entries(text).compactMap { entry in
            guard let code = string(entry["code"]), let level = string(entry["level"]), Language.proficiencies.contains(level) else {
                report.flag("language entry dropped (no code or unknown level)")
                return nil
            }
            return Language(language: code, proficiency: level)
        }
    }

    /// `[{company, role, years, description?}]` → jobs dated `YYYY-01` of the year `years` before the profile was made.
    static func workExperience(_ text: String?, since createdAt: String, report: inout LegacyImport.TableReport) -> [WorkExperience] {
        let year = Int(createdAt.prefix(4)) ?? 2026
        return entries(text).compactMap { entry in
            guard let company = string(entry["company"]), let title = string(entry["role"]) else {
                report.flag("work experience entry dropped (no company or role)")
                return nil
            }
            var years = 0
            if case .number(let value) = entry["years"] { years = max(0, Int(value.rounded())) }
            report.map("work experience dated from 'years'")
            return WorkExperience(title: title, company: company, startDate: String(format: "%04d-01", year - years), endDate: nil, description: string(entry["description"]))
        }
    }

    /// `[{institution, degree, field?, startDate, endDate?}]` → years.
    static func education(_ text: String?, report: inout LegacyImport.TableReport) -> [Education] {
        entries(text).compactMap { entry in
            guard let institution = string(entry["institution"]) else {
                report.flag("education entry dropped (no institution)")
                return nil
            }
            return Education(
                institution: institution, degree: string(entry["degree"]), field: string(entry["field"]),
                startYear: string(entry["startDate"]).flatMap { Int($0.prefix(4)) }, endYear: string(entry["endDate"]).flatMap { Int($0.prefix(4)) }
            )
        }
    }

    // MARK: invitations

    /// `invite --imported [--ttl-hours 72]`: a password-setting link, by the reset flow's mail, to every
    /// imported account that has no password yet and was not invited in the last day.
    @Sendable
    static func invite(_ arguments: [String], database: ServiceDatabase, configuration: Configuration, logger: Logger) async throws -> String {
        guard arguments.contains("--imported") else { throw CommandRefusal("usage: invite --imported [--ttl-hours 72]") }
        let hours = Commands.option("ttl-hours", in: arguments).flatMap(Int.init) ?? 72
        guard (1...24 * 30).contains(hours) else { throw CommandRefusal("--ttl-hours must be from 1 to 720") }
        let now = Date()
        let ids = try await database.withConnection { sql in
            try await sql.select().column("id").from(UserRecord.table).where("password_hash", .equal, SQLBind("")).where("status", .equal, SQLBind("active"))
                .all().map { try $0.decode(column: "id", as: String.self) }
        }
        var invited = 0
        for id in ids {
            let sent = try await database.transaction { sql -> Bool in
                guard let user = try await UserRecord.find(id, on: sql), user.passwordHash.isEmpty else { return false }
                guard try await !OneTimeTokens.issuedRecently(.reset, userId: id, within: .seconds(86_400), now: now, on: sql) else { return false }
                try await OneTimeTokens.void(.reset, userId: id, now: now, on: sql)
                let reset = try await OneTimeTokens.issue(.reset, userId: id, ttl: .seconds(hours * 3600), now: now, on: sql)
                let event = PasswordResetRequested(userId: id, email: user.email, token: reset.token.value, expiresAt: reset.expiresAt)
                try await Outbox.write(
                    EventEnvelope(id: UUID().uuidString.lowercased(), type: PasswordResetRequested.type, version: PasswordResetRequested.version, source: "users",
                                  time: now.iso, subject: event.subject, data: event, traceparent: nil),
                    on: sql
                )
                return true
            }
            if sent { invited += 1 }
        }
        struct Invited: Encodable { var invited: Int; var withoutPassword: Int }
        return jsonText(Invited(invited: invited, withoutPassword: ids.count))
    }
}
