import Blytz
import BlytzEvents
import BlytzServices
import Foundation
import SQLKit

/// Candidate generation for matching, over indexes, never a scan of every VA or job.
///
/// A skill held by fewer than `MATCH_RARE_SKILL` candidates is *rare*: everyone with a rare skill is read
/// and scored (a few index ranges). Everyone else shares only *common* skills, which caps their skills part
/// (at most the common skills' share). They are walked per time zone (and for jobs per job type and number
/// of skills), in an order that bounds the rest of the walk — VAs by standing (their availability and rating
/// parts), hourly jobs by pay — so the walk stops as soon as no unread candidate can still reach the page
/// (`TopScores`). The result equals scoring every candidate and sorting. Candidates are read as small rows
/// with their number of matched skills counted in SQL; only the page's items are read in full.
enum Candidates {
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

    /// The distinct values of the integer `column` among the rows `scope` selects (nil for NULL), one index
    /// seek each: `scope` must fix the columns before `column` in an index.
    static func distinct(_ column: String, in table: String, on sql: any SQLDatabase, scope: (SQLSelectBuilder) -> SQLSelectBuilder) async throws -> [Int?] {
        struct Next: Decodable { var value: Int? }
        var values: [Int?] = []
        if try await scope(sql.select().column(column).from(table)).where(column, .is, SQLLiteral.null).limit(1).all().count > 0 { values.append(nil) }
        var after = Int.min
        while let value = try await scope(sql.select().column(SQLFunction("MIN", args: SQLIdentifier(column)), as: "value").from(table))
            .where(column, .greaterThan, SQLBind(after)).first(decoding: Next.self)?.value {
            values.append(value)
            after = value
        }
        return values
    }

    /// `(SELECT COUNT(*) FROM table WHERE id = outer.id AND term IN (terms)) AS matched`.
    static func matched(in table: String, idColumn: String, termColumn: String, of outer: SQLColumn, among terms: [String]) -> any SQLExpression {
        SQLAlias(
            SQLSubquery.select { $0.column(SQLFunction("COUNT", args: SQLLiteral.all)).from(SQLAlias(SQLIdentifier(table), as: SQLIdentifier("held")))
                .where(SQLColumn(idColumn, table: "held"), .equal, outer).where(SQLColumn(termColumn, table: "held"), .in, SQLBind.group(terms.isEmpty ? [""] : terms)) },
            as: SQLIdentifier("matched")
        )
    }

    /// `EXISTS (SELECT … FROM table WHERE id = outer.id AND term IN (terms))`.
    static func holds(in table: String, idColumn: String, termColumn: String, of outer: SQLColumn, any terms: [String]) -> any SQLExpression {
        TermFilter.Exists(subquery: SQLSubquery.select { $0.column(SQLColumn(idColumn, table: "held")).from(SQLAlias(SQLIdentifier(table), as: SQLIdentifier("held")))
            .where(SQLColumn(idColumn, table: "held"), .equal, outer).where(SQLColumn(termColumn, table: "held"), .in, SQLBind.group(terms)) })
    }
}

// MARK: VAs for a job

extension Candidates {
    /// What scoring reads of a VA, with the number of the job's skills they hold.
    struct PersonRow: Decodable {
        var userId: String
        var hourlyRateCents: Int?
        var currency: String?
        var available: Bool
        var averageRating: Double
        var totalReviews: Int
        var utcOffsetMinutes: Int?
        var standing: Double
        var matched: Int

        enum CodingKeys: String, CodingKey {
            case userId = "user_id", hourlyRateCents = "hourly_rate_cents", currency, available, averageRating = "average_rating"
            case totalReviews = "total_reviews", utcOffsetMinutes = "utc_offset_minutes", standing, matched
        }

        var candidate: Candidate {
            Candidate(userId: userId, hourlyRateCents: hourlyRateCents, currency: currency, available: available, averageRating: averageRating,
                      totalReviews: totalReviews, utcOffsetMinutes: utcOffsetMinutes)
        }

        func scored(for job: MatchedJob) -> Scored {
            Scored(id: userId, score: MatchScore(candidate, for: job, matched: matched), tiebreak: standing)
        }
    }

    /// The best `count` VAs for `job` after `cursor`.
    static func vas(for job: MatchedJob, count: Int, after cursor: Scored.Cursor?, settings: Settings, on sql: any SQLDatabase) async throws -> [Scored] {
        let skills = PostingInput.normalised(job.skills)
        let (rare, common) = try await split(skills, table: PersonRecord.skillsTable, termColumn: "skill", rare: settings.rareSkill, on: sql)
        var seeded: [Scored] = []
        if !rare.isEmpty {
            let holders = SQLSubquery.select { $0.column("user_id").from(PersonRecord.skillsTable).where("skill", .in, SQLBind.group(rare)) }
            let rows = try await people(sql, job: skills).where(SQLBinaryExpression(SQLColumn("user_id", table: PersonRecord.table), .in, holders))
                .all(decoding: PersonRow.self)
            seeded = rows.map { $0.scored(for: job) }
        }
        var sources: [any CandidateSource] = []
        if !common.isEmpty || skills.isEmpty {
            let zones = try await distinct("utc_offset_minutes", in: PersonRecord.table, on: sql) { $0 }
            sources = zones.map { zone -> any CandidateSource in
                skills.isEmpty
                    ? PeopleInZone(offset: zone, job: job, batch: settings.matchBatch, sql: sql)
                    : HoldersInZone(offset: zone, job: job, skills: skills, common: common, batch: settings.matchBatch, sql: sql)
            }
        }
        return try await TopScores.walk(sources, seeded: seeded, count: count, after: cursor)
    }

    static func activeVAs(_ sql: any SQLDatabase) -> SQLSelectBuilder {
        onlyActiveVAs(sql.select().column("*").from(PersonRecord.table))
    }

    /// `query` restricted to the VAs who may be matched (`PersonRecord.isActiveVA`).
    static func onlyActiveVAs(_ query: SQLSelectBuilder) -> SQLSelectBuilder {
        query.where("role", .equal, SQLBind(Role.va.rawValue)).where("status", .equal, SQLBind(AccountState.active.rawValue))
            .where("has_profile", .equal, SQLBind(true))
    }

    /// Active VAs as `PersonRow`s, counting the `job` skills each holds.
    static func people(_ sql: any SQLDatabase, job skills: [String]) -> SQLSelectBuilder {
        let outer = SQLColumn("user_id", table: PersonRecord.table)
        return onlyActiveVAs(sql.select().columns("user_id", "hourly_rate_cents", "currency", "available", "average_rating", "total_reviews", "utc_offset_minutes", "standing")
            .column(matched(in: PersonRecord.skillsTable, idColumn: "user_id", termColumn: "skill", of: outer, among: skills))
            .from(PersonRecord.table))
    }

    /// For a job that asks for no skills (everyone covers it fully): the active VAs of one time zone, best
    /// standing first; nothing unread scores above the full skills and rate parts + this zone's overlap +
    /// the last standing read.
    final class PeopleInZone: CandidateSource {
        let offset: Int?
        let job: MatchedJob
        let batch: Int
        let sql: any SQLDatabase
        let fixed: Double
        var last: (standing: Double, id: String)?
        var exhausted = false

        init(offset: Int?, job: MatchedJob, batch: Int, sql: any SQLDatabase) {
            (self.offset, self.job, self.batch, self.sql) = (offset, job, batch, sql)
            let w = MatchScore.weights
            fixed = MatchScore.part(w.skills, 1) + MatchScore.part(w.rate, 1) + MatchScore.part(w.timezone, MatchScore.overlap(offset, job.utcOffsetMinutes))
        }

        var bound: Double { fixed + (last?.standing ?? MatchScore.part(MatchScore.weights.availability, 1) + MatchScore.part(MatchScore.weights.rating, 1)) }

        var position: Scored.Position? { last.map { Scored.Position(tiebreak: $0.standing, id: $0.id) } }

        func next() async throws -> CandidateStep {
            var query = Candidates.people(sql, job: []).where(Candidates.equal("utc_offset_minutes", offset))
            if let last {
                query = query.where(group: { $0.where("standing", .lessThan, SQLBind(last.standing))
                    .orWhere(group: { $0.where("standing", .equal, SQLBind(last.standing)).where("user_id", .lessThan, SQLBind(last.id)) }) })
            }
            let rows = try await query.orderBy("standing", .descending).orderBy("user_id", .descending).limit(batch).all(decoding: PersonRow.self)
            if rows.count < batch { exhausted = true }
            if let final = rows.last { last = (final.standing, final.userId) }
            return .scored(rows.map { $0.scored(for: job) })
        }
    }

    /// The active VAs of one time zone holding common skills of the job, read from one list per skill
    /// (`person_skills` by skill, zone and standing, best first). Someone not read yet holds some m of the
    /// lists' skills and stands below each of their cursors, so nothing unread scores above
    /// rate + zone + the best over m of (m of the job's skills' share + the m-th highest cursor). Each step
    /// reads the list whose cursor sets that bound: the rarest skills' lists run out first.
    final class HoldersInZone: CandidateSource {
        let offset: Int?
        let job: MatchedJob
        let skills: [String]
        let batch: Int
        let sql: any SQLDatabase
        let fixed: Double
        /// Per common skill: the last (standing, id) read, and whether the list is done.
        var lists: [(skill: String, last: (standing: Double, id: String)?, done: Bool)]

        init(offset: Int?, job: MatchedJob, skills: [String], common: [String], batch: Int, sql: any SQLDatabase) {
            (self.offset, self.job, self.skills, self.batch, self.sql) = (offset, job, skills, batch, sql)
            let w = MatchScore.weights
            fixed = MatchScore.part(w.rate, 1) + MatchScore.part(w.timezone, MatchScore.overlap(offset, job.utcOffsetMinutes))
            lists = common.map { ($0, nil, false) }
        }

        static let topStanding = MatchScore.part(MatchScore.weights.availability, 1) + MatchScore.part(MatchScore.weights.rating, 1)

        var exhausted: Bool { lists.allSatisfy(\.done) }

        /// The open lists by cursor, highest first.
        var ranked: [Int] {
            lists.indices.filter { !lists[$0].done }.sorted { (lists[$0].last?.standing ?? Self.topStanding) > (lists[$1].last?.standing ?? Self.topStanding) }
        }

        /// The bound, and the list whose cursor sets it.
        var binding: (bound: Double, list: Int?) {
            var best: (bound: Double, list: Int?) = (-1, nil)
            for (m, list) in ranked.enumerated() {
                let value = MatchScore.part(MatchScore.weights.skills, Double(m + 1) / Double(skills.count)) + (lists[list].last?.standing ?? Self.topStanding)
                if value > best.bound { best = (value, list) }
            }
            return (fixed + best.bound, best.list)
        }

        var bound: Double { binding.bound }

        var position: Scored.Position? {
            let open = lists.filter { !$0.done }
            guard open.allSatisfy({ $0.last != nil }) else { return nil }
            return open.compactMap { $0.last.map { Scored.Position(tiebreak: $0.standing, id: $0.id) } }.max()
        }

        func next() async throws -> CandidateStep {
            guard let index = binding.list else { return .scored([]) }
            let list = lists[index]
            let zone: SQLQueryString = offset.map { "s.utc_offset_minutes = \(bind: $0)" } ?? "s.utc_offset_minutes IS NULL"
            let after: SQLQueryString = list.last.map { "AND (s.standing < \(bind: $0.standing) OR (s.standing = \(bind: $0.standing) AND s.user_id < \(bind: $0.id)))" } ?? ""
            let rows = try await sql.raw("""
                SELECT p.user_id, p.hourly_rate_cents, p.currency, p.available, p.average_rating, p.total_reviews, p.utc_offset_minutes, p.standing,
                    (SELECT COUNT(*) FROM person_skills held WHERE held.user_id = s.user_id AND held.skill IN (\(binds: skills))) AS matched
                FROM person_skills s JOIN people p ON p.user_id = s.user_id
                WHERE s.skill = \(bind: list.skill) AND s.active = \(bind: true) AND \(zone) \(after)
                ORDER BY s.standing DESC, s.user_id DESC LIMIT \(literal: batch)
                """).all(decoding: PersonRow.self)
            if rows.count < batch { lists[index].done = true }
            if let final = rows.last { lists[index].last = (final.standing, final.userId) }
            return .scored(rows.map { $0.scored(for: job) })
        }
    }
}

// MARK: Jobs for a VA

extension Candidates {
    /// What scoring reads of an open job, with the number of its skills the VA holds.
    struct JobRow: Decodable {
        var id: String
        var jobType: JobType
        var payCents: Int?
        var currency: String
        var utcOffsetMinutes: Int?
        var skillCount: Int
        var matched: Int

        enum CodingKeys: String, CodingKey {
            case id, jobType = "job_type", payCents = "pay_cents", currency, utcOffsetMinutes = "utc_offset_minutes", skillCount = "skill_count", matched
        }

        var job: MatchedJob {
            MatchedJob(id: id, skillCount: skillCount, jobType: jobType, payCents: payCents, currency: currency, utcOffsetMinutes: utcOffsetMinutes)
        }

        func scored(for person: Candidate) -> Scored {
            Scored(id: id, score: MatchScore(person, for: job, matched: matched), tiebreak: Double(payCents ?? 0))
        }
    }

    /// The best `count` open jobs for `person` (with `skills`) after `cursor`.
    static func jobs(for person: Candidate, count: Int, after cursor: Scored.Cursor?, settings: Settings, on sql: any SQLDatabase) async throws -> [Scored] {
        let skills = person.skills.sorted()
        let table = PostingTerms.Kind.skill.table
        let (rare, common) = try await split(skills, table: table, termColumn: "term", rare: settings.rareSkill, on: sql)
        var seeded: [Scored] = []
        if !rare.isEmpty {
            let holders = SQLSubquery.select { $0.column("posting_id").from(table).where("term", .in, SQLBind.group(rare)) }
            let rows = try await openJobs(sql, holding: skills).where(SQLBinaryExpression(SQLColumn("id", table: PostingRecord.table), .in, holders))
                .all(decoding: JobRow.self)
            seeded = rows.map { $0.scored(for: person) }
        }
        var sources: [any CandidateSource] = []
        for type in JobType.allCases {
            let zones = try await distinct("utc_offset_minutes", in: PostingRecord.table, on: sql) {
                $0.where("status", .equal, SQLBind(PostingStatus.open.rawValue)).where("job_type", .equal, SQLBind(type.rawValue))
            }
            for offset in zones {
                sources.append(JobsInZone(type: type, offset: offset, skillCount: nil, person: person, skills: skills, common: common, batch: settings.matchBatch, sql: sql))
            }
        }
        return try await TopScores.walk(sources, seeded: seeded, count: count, after: cursor)
    }

    static func openPostings(_ sql: any SQLDatabase) -> SQLSelectBuilder {
        sql.select().column("*").from(PostingRecord.table).where("status", .equal, SQLBind(PostingStatus.open.rawValue))
    }

    /// Open jobs as `JobRow`s, counting the VA's `skills` each asks for.
    static func openJobs(_ sql: any SQLDatabase, holding skills: [String]) -> SQLSelectBuilder {
        sql.select().columns("id", "job_type", "pay_cents", "currency", "utc_offset_minutes", "skill_count")
            .column(matched(in: PostingTerms.Kind.skill.table, idColumn: "posting_id", termColumn: "term", of: SQLColumn("id", table: PostingRecord.table), among: skills))
            .from(PostingRecord.table).where("status", .equal, SQLBind(PostingStatus.open.rawValue))
    }

    /// The open jobs of one type and zone — and, once split, one number of required skills — that ask for a
    /// common skill of the VA (or for none), by pay, highest first: for an hourly job the rate part can only
    /// fall as pay does. Unsplit, it first finds which skill counts it holds.
    final class JobsInZone: CandidateSource {
        let type: JobType
        let offset: Int?
        let skillCount: Int?
        let person: Candidate
        let skills: [String]
        let common: [String]
        let batch: Int
        let sql: any SQLDatabase
        var last: (pay: Int, id: String)?
        var exhausted = false

        init(type: JobType, offset: Int?, skillCount: Int?, person: Candidate, skills: [String], common: [String], batch: Int, sql: any SQLDatabase) {
            (self.type, self.offset, self.skillCount, self.person, self.skills, self.common, self.batch, self.sql) = (type, offset, skillCount, person, skills, common, batch, sql)
            // A job asking for k skills, none of them a common one of the VA's, is a candidate only through a rare one (read already).
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
                + MatchScore.part(w.rating, MatchScore.ratingFactor(person.averageRating, reviews: person.totalReviews))
        }

        var position: Scored.Position? { last.map { Scored.Position(tiebreak: Double($0.pay), id: $0.id) } }

        /// `query` (over open postings) restricted to this list's type and zone.
        func inList(_ query: SQLSelectBuilder) -> SQLSelectBuilder {
            query.where("job_type", .equal, SQLBind(type.rawValue)).where(Candidates.equal("utc_offset_minutes", offset))
        }

        func next() async throws -> CandidateStep {
            guard let skillCount else {
                let counts = try await Candidates.distinct("skill_count", in: PostingRecord.table, on: sql) {
                    self.inList($0.where("status", .equal, SQLBind(PostingStatus.open.rawValue)))
                }
                return .split(counts.compactMap { $0 }.map {
                    JobsInZone(type: type, offset: offset, skillCount: $0, person: person, skills: skills, common: common, batch: batch, sql: sql)
                })
            }
            var query = inList(Candidates.openJobs(sql, holding: skills)).where("skill_count", .equal, SQLBind(skillCount))
            if skillCount > 0 {
                query = query.where(Candidates.holds(in: PostingTerms.Kind.skill.table, idColumn: "posting_id", termColumn: "term", of: SQLColumn("id", table: PostingRecord.table), any: common))
            }
            if let last {
                query = query.where(group: { $0.where("pay_cents", .lessThan, SQLBind(last.pay))
                    .orWhere(group: { $0.where("pay_cents", .equal, SQLBind(last.pay)).where("id", .lessThan, SQLBind(last.id)) }) })
            }
            let rows = try await query.orderBy("pay_cents", .descending).orderBy("id", .descending).limit(batch).all(decoding: JobRow.self)
            if rows.count < batch { exhausted = true }
            if let final = rows.last { last = (final.payCents ?? 0, final.id) }
            return .scored(rows.map { $0.scored(for: person) })
        }
    }
}

extension PersonRecord {
    func candidate(skills: Set<String>) -> Candidate {
        Candidate(userId: userId, skills: skills, hourlyRateCents: hourlyRateCents, currency: currency, available: available,
                  averageRating: averageRating, totalReviews: totalReviews, utcOffsetMinutes: utcOffsetMinutes)
    }
}
