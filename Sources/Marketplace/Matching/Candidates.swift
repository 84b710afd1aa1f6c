import Blytz
import BlytzEvents
import Foundation
import BlytzServices
import SQLKit

/// Candidate generation for matching, over indexes, never a scan of every VA or job.
///
/// A required skill held by fewer than `MATCH_RARE_SKILL` candidates is *rare*: everyone with a rare skill
/// is read and scored (a few index ranges). Everyone else shares only *common* skills, which caps their
/// skills part (at most the common skills' share). They are walked per time zone (and for jobs per job type
/// and number of skills), in an order that bounds the rest of the walk — VAs by standing (their
/// availability and rating parts), hourly jobs by pay — so the walk stops as soon as no unread candidate
/// can still reach the page (`TopScores`). The result equals scoring every candidate and sorting.
enum Candidates {
    /// Every standard UTC offset a known zone has, in minutes: the time-zone lists.
    static let offsets: [Int?] = [nil] + Set(TimeZone.knownTimeZoneIdentifiers.compactMap(MatchScore.standardOffset)).sorted()

    /// Splits `skills` into rare and common by counting holders in `table` (up to `rare`).
    static func split(_ skills: [String], table: String, termColumn: String, rare: Int, on sql: any SQLDatabase) async throws -> (rare: [String], common: [String]) {
        struct Count: Decodable { var n: Int }
        var split: (rare: [String], common: [String]) = ([], [])
        for skill in skills {
            let limited = SQLSubquery.select { $0.column(termColumn).from(table).where(termColumn, .equal, SQLBind(skill)).limit(rare) }
            let count = try await sql.select().column(SQLFunction("COUNT", args: SQLLiteral.all), as: "n")
                .from(SQLAlias(limited, as: SQLIdentifier("holders"))).first(decoding: Count.self)?.n ?? 0
            if count < rare { split.rare.append(skill) } else { split.common.append(skill) }
        }
        return split
    }

    /// `column = value`, or `column IS NULL`.
    static func equal(_ column: String, _ value: Int?) -> any SQLExpression {
        SQLBinaryExpression(SQLIdentifier(column), value == nil ? .is : .equal, value.map { SQLBind($0) as any SQLExpression } ?? SQLLiteral.null)
    }
}

// MARK: VAs for a job

extension Candidates {
    /// The best `count` VAs for `job` after `cursor`.
    static func vas(for job: MatchedJob, count: Int, after cursor: (score: Double, id: String)?, settings: Settings, on sql: any SQLDatabase) async throws -> [Scored] {
        let skills = PostingInput.normalised(job.skills)
        let (rare, common) = try await split(skills, table: PersonRecord.skillsTable, termColumn: "skill", rare: settings.rareSkill, on: sql)
        var seeded: [Scored] = []
        if !rare.isEmpty {
            let holders = SQLSubquery.select { $0.column("user_id").from(PersonRecord.skillsTable).where("skill", .in, SQLBind.group(rare)) }
            let people = try await activeVAs(sql).where(SQLBinaryExpression(SQLIdentifier("user_id"), .in, holders))
                .all(decoding: PersonRecord.self, keyDecodingStrategy: .convertFromSnakeCase)
            seeded = try await score(people, for: job, skills: skills, on: sql)
        }
        var sources: [any CandidateSource] = []
        if !common.isEmpty || skills.isEmpty {
            let coverage = skills.isEmpty ? 1 : Double(common.count) / Double(skills.count)
            sources = offsets.map { PeopleInZone(offset: $0, job: job, skills: skills, common: common, coverage: coverage, batch: settings.matchBatch, sql: sql) }
        }
        return try await TopScores.walk(sources, seeded: seeded, count: count, after: cursor)
    }

    static func activeVAs(_ sql: any SQLDatabase) -> SQLSelectBuilder {
        sql.select().column("*").from(PersonRecord.table).where("role", .equal, SQLBind(Role.va.rawValue))
            .where("status", .equal, SQLBind(AccountState.active.rawValue)).where("has_profile", .equal, SQLBind(true))
    }

    static func score(_ people: [PersonRecord], for job: MatchedJob, skills: [String], on sql: any SQLDatabase) async throws -> [Scored] {
        let held = try await PersonRecord.skills(of: people.map(\.userId), among: skills, on: sql)
        return people.map { Scored(id: $0.userId, score: MatchScore($0.candidate(skills: held[$0.userId] ?? []), for: job)) }
    }

    /// The active VAs of one time zone holding a common skill, best standing first: nothing unread scores
    /// above the common skills' share + full rate + this zone's overlap + the last standing read.
    final class PeopleInZone: CandidateSource {
        let offset: Int?
        let job: MatchedJob
        let skills: [String]
        let common: [String]
        let batch: Int
        let sql: any SQLDatabase
        let fixed: Double
        var last: (standing: Double, id: String)?
        var exhausted = false

        init(offset: Int?, job: MatchedJob, skills: [String], common: [String], coverage: Double, batch: Int, sql: any SQLDatabase) {
            (self.offset, self.job, self.skills, self.common, self.batch, self.sql) = (offset, job, skills, common, batch, sql)
            let w = MatchScore.weights
            fixed = MatchScore.part(w.skills, coverage) + MatchScore.part(w.rate, 1) + MatchScore.part(w.timezone, MatchScore.overlap(offset, job.utcOffsetMinutes))
        }

        var bound: Double { fixed + (last?.standing ?? MatchScore.part(MatchScore.weights.availability, 1) + MatchScore.part(MatchScore.weights.rating, 1)) + 1e-9 }

        func next() async throws -> CandidateStep {
            var query = Candidates.activeVAs(sql).where(Candidates.equal("utc_offset_minutes", offset))
            if !common.isEmpty {
                let holds = SQLSubquery.select { $0.column("user_id").from(SQLAlias(SQLIdentifier(PersonRecord.skillsTable), as: SQLIdentifier("held")))
                    .where(SQLColumn("user_id", table: "held"), .equal, SQLColumn("user_id", table: PersonRecord.table))
                    .where(SQLColumn("skill", table: "held"), .in, SQLBind.group(common)) }
                query = query.where(TermFilter.Exists(subquery: holds))
            }
            if let last {
                query = query.where(group: { $0.where("standing", .lessThan, SQLBind(last.standing))
                    .orWhere(group: { $0.where("standing", .equal, SQLBind(last.standing)).where("user_id", .lessThan, SQLBind(last.id)) }) })
            }
            let people = try await query.orderBy("standing", .descending).orderBy("user_id", .descending).limit(batch)
                .all(decoding: PersonRecord.self, keyDecodingStrategy: .convertFromSnakeCase)
            if people.count < batch { exhausted = true }
            if let final = people.last { last = (final.standing, final.userId) }
            return .scored(try await Candidates.score(people, for: job, skills: skills, on: sql))
        }
    }
}

// MARK: Jobs for a VA

extension Candidates {
    /// The best `count` open jobs for `person` (with `skills`) after `cursor`.
    static func jobs(for person: Candidate, count: Int, after cursor: (score: Double, id: String)?, settings: Settings, on sql: any SQLDatabase) async throws -> [Scored] {
        let skills = person.skills.sorted()
        let table = PostingTerms.Kind.skill.table
        let (rare, common) = try await split(skills, table: table, termColumn: "term", rare: settings.rareSkill, on: sql)
        var seeded: [Scored] = []
        if !rare.isEmpty {
            let holders = SQLSubquery.select { $0.column("posting_id").from(table).where("term", .in, SQLBind.group(rare)) }
            let postings = try await openPostings(sql).where(SQLBinaryExpression(SQLIdentifier("id"), .in, holders))
                .all(decoding: PostingRecord.self, keyDecodingStrategy: .convertFromSnakeCase)
            seeded = try await score(postings, for: person, on: sql)
        }
        var sources: [any CandidateSource] = []
        for type in JobType.allCases {
            for offset in offsets {
                sources.append(JobsInZone(type: type, offset: offset, skillCount: nil, person: person, common: common, batch: settings.matchBatch, sql: sql))
            }
        }
        return try await TopScores.walk(sources, seeded: seeded, count: count, after: cursor)
    }

    static func openPostings(_ sql: any SQLDatabase) -> SQLSelectBuilder {
        sql.select().column("*").from(PostingRecord.table).where("status", .equal, SQLBind(PostingStatus.open.rawValue))
    }

    static func score(_ postings: [PostingRecord], for person: Candidate, on sql: any SQLDatabase) async throws -> [Scored] {
        let terms = try await PostingTerms.of(postings.map(\.id), on: sql)
        return postings.map { posting in
            let view = PostingView(posting, terms: terms[posting.id] ?? PostingTerms())
            return Scored(id: posting.id, score: MatchScore(person, for: view.matched))
        }
    }

    /// The open jobs of one type and zone — and, once split, one number of required skills — that ask for a
    /// common skill of the VA (or for none), by pay, highest first: for an hourly job the rate part can only
    /// fall as pay does. Unsplit, it first finds which skill counts it holds.
    final class JobsInZone: CandidateSource {
        let type: JobType
        let offset: Int?
        let skillCount: Int?
        let person: Candidate
        let common: [String]
        let batch: Int
        let sql: any SQLDatabase
        var last: (pay: Int, id: String)?
        var exhausted = false

        init(type: JobType, offset: Int?, skillCount: Int?, person: Candidate, common: [String], batch: Int, sql: any SQLDatabase) {
            (self.type, self.offset, self.skillCount, self.person, self.common, self.batch, self.sql) = (type, offset, skillCount, person, common, batch, sql)
            // A job asking for no skills is fully covered; one asking for k can have at most the common ones.
            if skillCount.map({ $0 > 0 && common.isEmpty }) ?? false { exhausted = true }
        }

        var coverage: Double {
            guard let skillCount, skillCount > 0 else { return 1 }
            return Double(min(common.count, skillCount)) / Double(skillCount)
        }

        var bound: Double {
            let w = MatchScore.weights
            var rate = 1.0
            if type == .fixed { rate = 0.5 } else if let last, let ask = person.hourlyRateCents, last.pay > 0 {
                rate = max(0.5, ask <= last.pay ? 1 : max(0, 1 - Double(ask - last.pay) / Double(last.pay)))
            }
            return MatchScore.part(w.skills, coverage) + MatchScore.part(w.rate, rate) + MatchScore.part(w.timezone, MatchScore.overlap(person.utcOffsetMinutes, offset))
                + MatchScore.part(w.availability, person.available ? 1 : 0)
                + MatchScore.part(w.rating, MatchScore.ratingFactor(person.averageRating, reviews: person.totalReviews)) + 1e-9
        }

        func inList(_ query: SQLSelectBuilder) -> SQLSelectBuilder {
            query.where("status", .equal, SQLBind(PostingStatus.open.rawValue)).where("job_type", .equal, SQLBind(type.rawValue))
                .where(Candidates.equal("utc_offset_minutes", offset))
        }

        func next() async throws -> CandidateStep {
            guard let skillCount else { return .split(try await counts().map { JobsInZone(type: type, offset: offset, skillCount: $0, person: person, common: common, batch: batch, sql: sql) }) }
            var query = inList(sql.select().column("*").from(PostingRecord.table)).where("skill_count", .equal, SQLBind(skillCount))
            if skillCount > 0 {
                let asks = SQLSubquery.select { $0.column("posting_id").from(SQLAlias(SQLIdentifier(PostingTerms.Kind.skill.table), as: SQLIdentifier("asked")))
                    .where(SQLColumn("posting_id", table: "asked"), .equal, SQLColumn("id", table: PostingRecord.table))
                    .where(SQLColumn("term", table: "asked"), .in, SQLBind.group(common)) }
                query = query.where(TermFilter.Exists(subquery: asks))
            }
            if let last {
                query = query.where(group: { $0.where("pay_cents", .lessThan, SQLBind(last.pay))
                    .orWhere(group: { $0.where("pay_cents", .equal, SQLBind(last.pay)).where("id", .lessThan, SQLBind(last.id)) }) })
            }
            let postings = try await query.orderBy("pay_cents", .descending).orderBy("id", .descending).limit(batch)
                .all(decoding: PostingRecord.self, keyDecodingStrategy: .convertFromSnakeCase)
            if postings.count < batch { exhausted = true }
            if let final = postings.last { last = (final.payCents ?? 0, final.id) }
            return .scored(try await Candidates.score(postings, for: person, on: sql))
        }

        /// The skill counts of this list's open jobs, one index seek each.
        func counts() async throws -> [Int] {
            struct Next: Decodable { var k: Int? }
            var counts: [Int] = []
            var after = -1
            while let k = try await inList(sql.select().column(SQLFunction("MIN", args: SQLIdentifier("skill_count")), as: "k").from(PostingRecord.table))
                .where("skill_count", .greaterThan, SQLBind(after)).first(decoding: Next.self)?.k {
                counts.append(k)
                after = k
            }
            return counts
        }
    }
}

extension PersonRecord {
    func candidate(skills: Set<String>) -> Candidate {
        Candidate(userId: userId, skills: skills, hourlyRateCents: hourlyRateCents, currency: currency, available: available,
                  averageRating: averageRating, totalReviews: totalReviews, utcOffsetMinutes: utcOffsetMinutes)
    }
}
