import Blytz
import BlytzData
import BlytzEvents
import BlytzServices
import Foundation
import Logging
import SQLKit

/// `marketplace import --from postgres://…`: the monolith's postings, proposals, hires, matches and votes,
/// with what search and matching read of them rebuilt (terms, words, pay, category counts, proposal counts,
/// match versions); and its copy of people made from the monolith's profiles by the rules the user service
/// applies to the same rows, not from events (the import publishes none). The README's table ("Moving the
/// data") is the mapping.
enum Import {
    static let command = LegacyImport.command(service: "marketplace") { session in
        try await people(session)
        try await postings(session)
        try await proposals(session)
        try await hires(session)
        try await matches(session)
        try await votes(session)
    }

    static let time = LegacyImport.time
    static let cents = LegacyImport.cents

    // MARK: people

    static func people(_ session: LegacyImport.Session) async throws {
        try await session.copy(
            "va_profiles", into: "people", key: nil, columns: Monolith.vaProfileColumns, joins: Monolith.vaProfileJoins, as: Monolith.VAProfileRow.self
        ) { rows, sql, report in
            let people = rows.map { row -> ImportedPerson? in
                guard row.isVA else { return nil }
                let snapshot = Monolith.snapshot(row, report: &report)
                return ImportedPerson(userId: row.userId, role: .va, version: snapshot.updatedAt, skills: snapshot.skills) { $0.apply(snapshot) }
            }
            return try await save(people, otherwise: "the account is a company (it has both profiles)", on: sql)
        }
        try await session.copy("companies", into: "people", key: nil, columns: Monolith.companyColumns, as: Monolith.CompanyRow.self) { rows, sql, report in
            let people = rows.map { row -> ImportedPerson? in
                guard row.isCompany else { return nil }
                let snapshot = Monolith.snapshot(row, report: &report)
                return ImportedPerson(userId: row.userId, role: .company, version: snapshot.updatedAt, skills: []) { $0.apply(snapshot) }
            }
            return try await save(people, otherwise: "the account is a VA (it has both profiles)", on: sql)
        }
    }

    /// A person as the monolith's profile makes them, with the time it stands for.
    struct ImportedPerson: Sendable {
        var userId: String
        var role: Role
        var version: String
        var skills: [String]
        var apply: @Sendable (inout PersonRecord) -> Void
    }

    /// Writes a batch of people as the consumer of the user service's events would (`PersonRecord.apply`),
    /// in a few statements: a person changed since by a newer event, or deleted, is left as it is.
    static func save(_ people: [ImportedPerson?], otherwise reason: String, on sql: any SQLDatabase) async throws -> [LegacyImport.Outcome] {
        let ids = people.compactMap { $0?.userId }
        let existing = ids.isEmpty ? [] : try await sql.select().column("*").from(PersonRecord.table).where("user_id", .in, SQLBind.group(ids))
            .all(decoding: PersonRecord.self, keyDecodingStrategy: .snakeCase)
        let known = Dictionary(existing.map { ($0.userId, $0) }) { first, _ in first }
        let now = Date().iso
        var records: [PersonRecord] = []
        var skills: [(userId: String, skills: [String])] = []
        let outcomes = people.map { imported -> LegacyImport.Outcome in
            guard let imported else { return .skipped(reason) }
            var person = known[imported.userId] ?? PersonRecord(userId: imported.userId, now: now)
            guard person.status != .deleted else { return .skipped("deleted in the new system") }
            guard (person.profileVersion ?? "") <= imported.version else { return .skipped("changed since in the new system") }
            imported.apply(&person)
            person.role = imported.role
            person.status = .active
            person.profileVersion = imported.version
            person.accountVersion = max(person.accountVersion ?? "", imported.version)
            person.updatedAt = now
            records.append(person)
            skills.append((imported.userId, imported.skills))
            return .written
        }
        guard !records.isEmpty else { return outcomes }
        let written = records.map(\.userId)
        try await sql.delete(from: PersonRecord.skillsTable).where("user_id", .in, SQLBind.group(written)).run()
        try await sql.delete(from: PersonRecord.table).where("user_id", .in, SQLBind.group(written)).run()
        try await sql.insert(into: PersonRecord.table).models(records, keyEncodingStrategy: .snakeCase, nilEncodingStrategy: .asNil).run()
        try await PersonRecord.insert(skills: skills, on: sql)
        try await MatchVersions.stamp(.people, written, on: sql)
        return outcomes
    }

    // MARK: postings

    struct PostingRow: Decodable, Sendable {
        var legacyId: String
        var companyLegacyUserId: String?
        var title: String
        var description: String
        var requirements: String?
        var rateRange: String
        var budgetCents: Int?
        var budgetRounded: Bool
        var budgetExactCents: Double?
        var remote: Bool
        var location: String?
        var category: String?
        var tags: String
        var skills: String
        var experienceLevel: String?
        var jobType: String?
        var duration: String?
        var status: String?
        var views: Int
        var proposalCount: Int
        var createdAt: String
        var updatedAt: String
    }

    /// The monolith's posting statuses in the new lifecycle (NULL is the column's default, `open`).
    static let postingStatuses: [String: PostingStatus] = ["open": .open, "active": .open, "in_progress": .filled, "filled": .filled, "closed": .closed]
    static let experienceLevels: [String: ExperienceLevel] = ["entry": .entry, "mid": .intermediate, "senior": .expert, "executive": .expert]

    static func postings(_ session: LegacyImport.Session) async throws {
        try await session.copy("job_postings", into: "job_postings", columns: [
            Monolith.companyOwner,
            "t.title AS title", "t.description AS description",
            #"(SELECT string_agg(value, E'\n') FROM jsonb_array_elements_text(CASE WHEN jsonb_typeof(t.requirements) = 'array' THEN t.requirements ELSE '[]'::jsonb END)) AS requirements"#,
            "t.\"rateRange\" AS rate_range", "\(cents("budget")) AS budget_cents", "\(LegacyImport.rounds("budget")) AS budget_rounded",
            "\(LegacyImport.exactCents("budget")) AS budget_exact_cents", "t.remote AS remote", "t.location AS location", "lower(t.category) AS category",
            "\(LegacyImport.textArray("tags")) AS tags", "\(LegacyImport.textArray("skillsRequired")) AS skills", "t.\"experienceLevel\" AS experience_level",
            "t.\"jobType\" AS job_type", "t.duration AS duration", "t.status AS status", "t.views AS views",
            "coalesce(proposed.n, 0)::int AS proposal_count", "\(time("createdAt")) AS created_at", "\(time("updatedAt")) AS updated_at",
        ], joins: #"LEFT JOIN (SELECT "jobPostingId" AS key, count(*) AS n FROM {schema}.proposals GROUP BY 1) proposed ON proposed.key = t.id"#, as: PostingRow.self) { rows, sql, report in
            var views: [PostingView] = []
            let outcomes = rows.map { row -> LegacyImport.Outcome in
                do throws(Skipped) {
                    views.append(try posting(row, report: &report))
                    return .written
                } catch {
                    return .skipped(error.reason)
                }
            }
            // Written as the posting routes write one (the row, its terms, words, pay and version), a batch at a time.
            let ids = views.map(\.id)
            try await PostingTerms.clear(ids, on: sql)
            try await LegacyImport.upsert(views.map(\.posting), in: PostingRecord.table, on: sql)
            try await PostingTerms.insert(views, on: sql)
            try await CategoryCounts.recount(on: sql)
            return outcomes
        }
    }

    /// Why a row is not imported.
    struct Skipped: Error { var reason: String }

    /// The posting a monolith row becomes, with its terms.
    static func posting(_ row: PostingRow, report: inout LegacyImport.TableReport) throws(Skipped) -> PostingView {
        guard let owner = row.companyLegacyUserId else { throw Skipped(reason: "orphan: its company is gone") }
        let status: PostingStatus
        if let given = row.status {
            guard let mapped = postingStatuses[given] else { throw Skipped(reason: "unknown status '\(given)'") }
            if mapped.rawValue != given { report.map("status '\(given)' → \(mapped.rawValue)") }
            status = mapped
        } else {
            status = .open
            report.map("status NULL → open")
        }
        guard let jobType = JobType(rawValue: row.jobType ?? "fixed") else { throw Skipped(reason: "unknown job type '\(row.jobType ?? "")'") }
        if row.jobType == nil { report.map("job type NULL → fixed") }
        var level: ExperienceLevel?
        if let given = row.experienceLevel {
            level = experienceLevels[given]
            if level == nil { report.flag("unknown experience level '\(given)' left empty") } else if level?.rawValue != given { report.map("experience level '\(given)' → \(level!.rawValue)") }
        }
        var posting = PostingRecord(
            id: LegacyImport.id("job_postings", row.legacyId), companyUserId: Monolith.userId(owner), title: row.title, description: row.description,
            requirements: row.requirements, category: row.category, experienceLevel: level, jobType: jobType, budgetCents: nil, rateMinCents: nil,
            rateMaxCents: nil, currency: "USD", duration: row.duration, remote: row.remote, location: row.location, timezone: nil, status: status,
            views: row.views, proposalCount: row.proposalCount, publishedAt: row.createdAt, createdAt: row.createdAt, updatedAt: row.updatedAt
        )
        switch jobType {
        case .fixed:
            posting.budgetCents = row.budgetCents
            report.money(read: row.budgetExactCents, written: row.budgetCents, rounded: row.budgetRounded)
        case .hourly:
            // The rate range is free text (`$15-25/hr`); where it does not read as one, the budget is the rate.
            if let range = rateRange(row.rateRange) {
                (posting.rateMinCents, posting.rateMaxCents) = range
                report.map("hourly rate from the rate range text")
            } else if let budget = row.budgetCents {
                (posting.rateMinCents, posting.rateMaxCents) = (budget, budget)
                report.money(read: row.budgetExactCents, written: budget, rounded: row.budgetRounded)
                report.flag("hourly rate range unreadable, the budget taken as the rate")
            } else {
                report.flag("hourly posting without a readable rate")
            }
        }
        let terms = PostingTerms(
            skills: PostingInput.normalised(fromJSONText(row.skills, fallback: [String]())), tags: PostingInput.normalised(fromJSONText(row.tags, fallback: [String]()))
        )
        return PostingView(posting, terms: terms)
    }

    /// `$15-25/hr`, `$50-70/hour`, `15 - 25`, `$20/hr` as cents; nil for text that is not a rate.
    static func rateRange(_ text: String) -> (Int, Int)? {
        let numbers = text.split(whereSeparator: { !($0.isNumber || $0 == ".") }).compactMap { Decimal(string: String($0)) }
        guard (1...2).contains(numbers.count) else { return nil }
        let cents = numbers.map(LegacyImport.wholeCents)
        guard cents.allSatisfy({ $0 > 0 }), cents[0] <= cents[cents.count - 1] else { return nil }
        return (cents[0], cents[cents.count - 1])
    }

    // MARK: proposals

    struct ProposalRow: Decodable, Sendable {
        var legacyId: String
        var postingLegacyId: String
        var vaLegacyUserId: String?
        var coverLetter: String
        var bidType: String
        var bidCents: Int
        var bidRounded: Bool
        var bidExactCents: Double
        var hourlyRateCents: Int?
        var estimatedHours: Double?
        var deliveryTime: String
        var status: String
        var createdAt: String
        var updatedAt: String
    }

    static let proposalStatuses: [String: ProposalStatus] = [
        "pending": .pending, "viewed": .pending, "interviewed": .pending, "accepted": .accepted, "hired": .accepted, "rejected": .rejected, "withdrawn": .withdrawn,
    ]

    static func proposals(_ session: LegacyImport.Session) async throws {
        try await session.copy("proposals", into: "proposals", columns: [
            "t.\"jobPostingId\" AS posting_legacy_id", Monolith.vaOwner,
            "t.\"coverLetter\" AS cover_letter", "t.\"bidType\" AS bid_type", "\(cents("bidAmount")) AS bid_cents", "\(LegacyImport.rounds("bidAmount")) AS bid_rounded",
            "\(LegacyImport.exactCents("bidAmount")) AS bid_exact_cents", "\(cents("hourlyRate")) AS hourly_rate_cents",
            "t.\"estimatedHours\" AS estimated_hours", "t.\"deliveryTime\" AS delivery_time", "t.status AS status",
            "\(time("createdAt")) AS created_at", "\(time("updatedAt")) AS updated_at",
        ], as: ProposalRow.self) { rows, sql, report in
            let postingIds = Array(Set(rows.map { LegacyImport.id("job_postings", $0.postingLegacyId) }))
            let postings = try await LegacyImport.existing(postingIds, in: PostingRecord.table, on: sql)
            // One proposal per VA per posting: who already holds each pair.
            var holders: [String: String] = [:]
            for row in try await sql.select().columns("id", "job_posting_id", "va_user_id").from(ProposalRecord.table)
                .where("job_posting_id", .in, SQLBind.group(postingIds)).all() {
                holders[try row.decode(column: "job_posting_id", as: String.self) + " " + row.decode(column: "va_user_id", as: String.self)] = try row.decode(column: "id", as: String.self)
            }
            var records: [ProposalRecord] = []
            let outcomes = rows.map { row -> LegacyImport.Outcome in
                let postingId = LegacyImport.id("job_postings", row.postingLegacyId)
                guard postings.contains(postingId) else { return .skipped("its posting was not imported") }
                guard let va = row.vaLegacyUserId else { return .skipped("orphan: its VA profile is gone") }
                guard let status = proposalStatuses[row.status] else { return .skipped("unknown status '\(row.status)'") }
                guard let bidType = JobType(rawValue: row.bidType) else { return .skipped("unknown bid type '\(row.bidType)'") }
                let id = LegacyImport.id("proposals", row.legacyId)
                let vaUserId = Monolith.userId(va)
                let pair = postingId + " " + vaUserId
                guard (holders[pair] ?? id) == id else { return .skipped("the VA's second proposal for one posting") }
                holders[pair] = id
                if status.rawValue != row.status { report.map("status '\(row.status)' → \(status.rawValue)") }
                var hours: Int?
                if let given = row.estimatedHours {
                    hours = Int(given.rounded(.up))
                    if Double(hours!) != given { report.map("estimated hours rounded up to whole hours") }
                }
                records.append(ProposalRecord(
                    id: id, jobPostingId: postingId, vaUserId: vaUserId, coverLetter: row.coverLetter, bidType: bidType,
                    bidCents: bidType == .fixed ? row.bidCents : nil, hourlyRateCents: bidType == .hourly ? (row.hourlyRateCents ?? row.bidCents) : nil,
                    estimatedHours: hours, deliveryTime: row.deliveryTime, currency: "USD", status: status, createdAt: row.createdAt, updatedAt: row.updatedAt
                ))
                report.money(read: row.bidExactCents, written: row.bidCents, rounded: row.bidRounded)
                return .written
            }
            try await LegacyImport.upsert(records, in: ProposalRecord.table, on: sql)
            return outcomes
        }
    }

    // MARK: hires

    struct HireRow: Decodable, Sendable {
        var legacyId: String
        var postingLegacyId: String
        var proposalLegacyId: String?
        var contractLegacyId: String?
        var companyLegacyUserId: String?
        var vaLegacyUserId: String?
        var title: String
        var createdAt: String
        var updatedAt: String
    }

    static func hires(_ session: LegacyImport.Session) async throws {
        try await session.copy("jobs", into: "jobs", columns: [
            "t.\"jobPostingId\" AS posting_legacy_id",
            // The proposal it came from: the one naming it, else its contract's.
            "coalesce(named.id, contracted.proposal) AS proposal_legacy_id", "contracted.id AS contract_legacy_id",
            Monolith.companyOwner,
            Monolith.vaOwner,
            "t.title AS title", "\(time("createdAt")) AS created_at", "\(time("updatedAt")) AS updated_at",
        ], joins: """
            LEFT JOIN (SELECT "jobId" AS key, min(id) AS id FROM {schema}.proposals WHERE "jobId" IS NOT NULL GROUP BY 1) named ON named.key = t.id
            LEFT JOIN (SELECT "jobId" AS key, min(id) AS id, min("proposalId") AS proposal FROM {schema}.contracts GROUP BY 1) contracted ON contracted.key = t.id
            """, as: HireRow.self) { rows, sql, _ in
            let proposalIds = rows.compactMap { $0.proposalLegacyId.map { LegacyImport.id("proposals", $0) } }
            let proposals = try await LegacyImport.existing(proposalIds, in: ProposalRecord.table, on: sql)
            // One hire per proposal: who already holds each.
            var holders = try await LegacyImport.holders(of: proposalIds, in: "proposal_id", of: JobRecord.table, on: sql)
            var hires: [JobRecord] = []
            let outcomes = rows.map { row -> LegacyImport.Outcome in
                guard let proposal = row.proposalLegacyId else { return .skipped("no proposal led to it") }
                guard let contract = row.contractLegacyId else { return .skipped("no contract was made for it") }
                guard let company = row.companyLegacyUserId, let va = row.vaLegacyUserId else { return .skipped("orphan: a party's profile is gone") }
                let proposalId = LegacyImport.id("proposals", proposal)
                guard proposals.contains(proposalId) else { return .skipped("its proposal was not imported") }
                let id = LegacyImport.id("jobs", row.legacyId)
                guard (holders[proposalId] ?? id) == id else { return .skipped("a second hire from one proposal") }
                holders[proposalId] = id
                hires.append(JobRecord(
                    id: id, jobPostingId: LegacyImport.id("job_postings", row.postingLegacyId), proposalId: proposalId, companyUserId: Monolith.userId(company),
                    vaUserId: Monolith.userId(va), title: row.title, status: .active, contractId: LegacyImport.id("contracts", contract),
                    createdAt: row.createdAt, updatedAt: row.updatedAt
                ))
                return .written
            }
            try await LegacyImport.upsert(hires, in: JobRecord.table, on: sql)
            return outcomes
        }
    }

    // MARK: matches and votes

    struct MatchRow: Decodable, Sendable {
        var legacyId: String
        var postingLegacyId: String
        var vaLegacyUserId: String?
        var companyLegacyUserId: String?
        var status: String
        var createdAt: String
        var updatedAt: String
    }

    static func matches(_ session: LegacyImport.Session) async throws {
        try await session.copy("matches", into: "matches", columns: [
            "t.\"jobPostingId\" AS posting_legacy_id", Monolith.vaOwner,
            #"(SELECT c."userId" FROM {schema}.job_postings j JOIN {schema}.companies c ON c.id = j."companyId" WHERE j.id = t."jobPostingId") AS company_legacy_user_id"#,
            "t.status AS status", "\(time("createdAt")) AS created_at", "\(time("updatedAt")) AS updated_at",
        ], as: MatchRow.self) { rows, sql, report in
            let postings = try await LegacyImport.existing(rows.map { LegacyImport.id("job_postings", $0.postingLegacyId) }, in: PostingRecord.table, on: sql)
            var matches: [MatchRecord] = []
            let outcomes = rows.map { row -> LegacyImport.Outcome in
                guard let va = row.vaLegacyUserId, let company = row.companyLegacyUserId else { return .skipped("orphan: a party's profile is gone") }
                let postingId = LegacyImport.id("job_postings", row.postingLegacyId)
                guard postings.contains(postingId) else { return .skipped("its posting was not imported") }
                let status: MatchStatus
                switch row.status {
                case "active": status = .active
                case "archived", "hired":
                    status = .archived
                    if row.status == "hired" { report.map("status 'hired' → archived") }
                default: return .skipped("unknown status '\(row.status)'")
                }
                matches.append(MatchRecord(
                    id: LegacyImport.id("matches", row.legacyId), jobPostingId: postingId, vaUserId: Monolith.userId(va), companyUserId: Monolith.userId(company),
                    status: status, score: nil, createdAt: row.createdAt, updatedAt: row.updatedAt
                ))
                return .written
            }
            try await LegacyImport.upsert(matches, in: MatchRecord.table, on: sql)
            return outcomes
        }
    }

    struct VoteRow: Decodable, Sendable {
        var legacyId: String
        var postingLegacyId: String
        var vaLegacyUserId: String?
        var voterLegacyUserId: String
        var companyLegacyUserId: String?
        var like: Bool
        var createdAt: String
    }

    static func votes(_ session: LegacyImport.Session) async throws {
        try await session.copy("match_votes", into: "match_votes", key: nil, columns: [
            "t.\"jobPostingId\" AS posting_legacy_id", Monolith.vaOwner,
            "t.\"userId\" AS voter_legacy_user_id", "t.vote AS like",
            #"(SELECT c."userId" FROM {schema}.job_postings j JOIN {schema}.companies c ON c.id = j."companyId" WHERE j.id = t."jobPostingId") AS company_legacy_user_id"#,
            "\(time("createdAt")) AS created_at",
        ], as: VoteRow.self) { rows, sql, _ in
            let postings = try await LegacyImport.existing(rows.map { LegacyImport.id("job_postings", $0.postingLegacyId) }, in: PostingRecord.table, on: sql)
            // A vote is the company's or the VA's side of the pair, by who cast it; of two on one side, the later counts.
            var sides: [String: [String: (postingId: String, vaUserId: String, vote: String, at: String)]] = [:]
            let outcomes = rows.map { row -> LegacyImport.Outcome in
                guard let va = row.vaLegacyUserId else { return .skipped("orphan: its VA profile is gone") }
                let postingId = LegacyImport.id("job_postings", row.postingLegacyId)
                guard postings.contains(postingId) else { return .skipped("its posting was not imported") }
                let side: String
                if row.voterLegacyUserId == va { side = "va_vote" } else if row.voterLegacyUserId == row.companyLegacyUserId { side = "company_vote" } else { return .skipped("cast by neither party") }
                let vaUserId = Monolith.userId(va)
                sides[side, default: [:]][postingId + " " + vaUserId] = (postingId, vaUserId, (row.like ? Vote.like : .pass).rawValue, row.createdAt)
                return .written
            }
            for (side, votes) in sides.sorted(by: { $0.key < $1.key }) {
                try await sql.insert(into: "match_votes").columns("job_posting_id", "va_user_id", side, "updated_at")
                    .rows(votes.values.map { [SQLBind($0.postingId), SQLBind($0.vaUserId), SQLBind($0.vote), SQLBind($0.at)] as [any SQLExpression] })
                    .onConflict(with: ["job_posting_id", "va_user_id"]) { $0.set(excludedValueOf: side).set(excludedValueOf: "updated_at") }.run()
            }
            return outcomes
        }
    }
}
