import Blytz
import BlytzEvents
import Foundation
import SQLKit

/// What matching reads of every active VA and open job, held in the worker's memory (DESIGN: caches are
/// in-process per worker) and brought up to date before each ranking from the rows stamped after the
/// version it holds (`MatchVersions`): a ranking sees every write committed before it began. The first
/// ranking of a worker loads everything (one read of each table, page by page); later ones read only what
/// changed.
///
/// Candidates come from an inverted index — the holders of each skill — never from a scan of everyone: a
/// candidate shares at least one skill with the other side, or the job asks for none. They are scored in
/// order of the most their skills part allows (`Ranking`), and stop being read once that bound plus the
/// most the other parts can add falls below the page's last score. A job that asks for no skills is
/// covered by every VA: they are walked per time zone, best standing first, until the same bound stops it.
actor MatchIndex {
    private var skillNumbers: [String: Int32] = [:]
    private var vas = Catalog<IndexedVA>()
    private var jobs = Catalog<IndexedJob>()
    /// Active VAs per zone's standard offset, best standing (then greatest id) first.
    private var zones: [Int?: [Int32]] = [:]

    /// The best `count` VAs for `job` after `cursor`.
    func vas(for job: MatchedJob, count: Int, after cursor: Scored.Cursor?, on sql: any SQLDatabase) async throws -> [Scored] {
        try await refresh(.people, on: sql)
        var ranking = Ranking(count: count, after: cursor)
        let w = MatchScore.weights
        let rest = MatchScore.part(w.rate, job.jobType == .hourly ? 1 : 0.5) + MatchScore.part(w.availability, 1) + MatchScore.part(w.rating, 1)
        if job.skillCount == 0 {
            walkZones(for: job, rest: rest, into: &ranking)
        } else {
            let (counts, touched) = vas.holders(of: job.skills.compactMap { skillNumbers[$0] })
            let parts = touched.map { MatchScore.part(w.skills, Double(min(Int(counts[Int($0)]), job.skillCount)) / Double(job.skillCount)) }
            Self.offer(touched, parts: parts, rest: rest + MatchScore.part(w.timezone, 1), into: &ranking) { slot in
                let va = vas.entries[Int(slot)]
                return Scored(id: va.id, score: MatchScore(va.candidate, for: job, matched: Int(counts[Int(slot)])), tiebreak: va.standing)
            }
        }
        return ranking.best
    }

    /// The best `count` open jobs for `person` after `cursor`.
    func jobs(for person: Candidate, count: Int, after cursor: Scored.Cursor?, on sql: any SQLDatabase) async throws -> [Scored] {
        try await refresh(.postings, on: sql)
        var ranking = Ranking(count: count, after: cursor)
        let w = MatchScore.weights
        let rest = MatchScore.part(w.rate, 1) + MatchScore.part(w.timezone, 1) + MatchScore.part(w.availability, person.available ? 1 : 0)
            + MatchScore.part(w.rating, MatchScore.ratingFactor(person.averageRating, reviews: person.totalReviews))
        let (counts, touched) = jobs.holders(of: person.skills.compactMap { skillNumbers[$0] })
        let unskilled = jobs.unskilled
        let parts = touched.map { slot in
            let job = jobs.entries[Int(slot)].job
            return MatchScore.part(w.skills, Double(min(Int(counts[Int(slot)]), job.skillCount)) / Double(job.skillCount))
        } + Array(repeating: MatchScore.part(w.skills, 1), count: unskilled.count)
        Self.offer(touched + unskilled, parts: parts, rest: rest, into: &ranking) { slot in
            let job = jobs.entries[Int(slot)].job
            return Scored(id: job.id, score: MatchScore(person, for: job, matched: Int(counts[Int(slot)])), tiebreak: Double(job.payCents ?? 0))
        }
        return ranking.best
    }

    /// Offers `slots` in falling order of their skills part (`parts`, one each) — all those of the highest
    /// part left, then the next — until that part plus `rest` (the most the other parts can add) cannot
    /// reach the page.
    private static func offer(_ slots: [Int32], parts: [Double], rest: Double, into ranking: inout Ranking, _ scored: (Int32) -> Scored) {
        var left = Array(slots.indices)
        while let top = left.lazy.map({ parts[$0] }).max(), !ranking.excludes(bound: top + rest) {
            var later: [Int] = []
            for index in left {
                if parts[index] == top { ranking.offer(scored(slots[index])) } else { later.append(index) }
            }
            left = later
        }
    }

    /// For a job asking no skills: each zone's VAs best standing first, reading next from the zone whose
    /// next VA could score highest (the full skills part, `rest`, the zone's overlap and that VA's standing)
    /// until no zone's next VA can still reach the page.
    private func walkZones(for job: MatchedJob, rest: Double, into ranking: inout Ranking) {
        let w = MatchScore.weights
        let fixed = MatchScore.part(w.skills, 1) + rest - MatchScore.part(w.availability, 1) - MatchScore.part(w.rating, 1)
        var lists = zones.map { zone, slots in (slots: slots, next: 0, fixed: fixed + MatchScore.part(w.timezone, MatchScore.overlap(zone, job.utcOffsetMinutes))) }
        func bound(_ list: Int) -> (Double, Scored.Position)? {
            guard lists[list].next < lists[list].slots.count else { return nil }
            let va = vas.entries[Int(lists[list].slots[lists[list].next])]
            return (lists[list].fixed + va.standing, Scored.Position(tiebreak: va.standing, id: va.id))
        }
        while let (list, _) = lists.indices.compactMap({ index in bound(index).map { (index, $0) } })
            .filter({ !ranking.excludes(bound: $0.1.0, position: $0.1.1) }).max(by: { $0.1.0 < $1.1.0 }) {
            let va = vas.entries[Int(lists[list].slots[lists[list].next])]
            lists[list].next += 1
            ranking.offer(Scored(id: va.id, score: MatchScore(va.candidate, for: job, matched: 0), tiebreak: va.standing))
        }
    }

    // MARK: Keeping up

    /// What the matching function `function` ranks from, if it is one.
    static func kind(forFunction function: String?) -> MatchVersions.Kind? {
        switch function {
        case "marketplace-matches-recommendations": .people
        case "marketplace-matches-jobs": .postings
        default: nil
        }
    }

    /// Loads what `kind` holds now, as the first ranking would.
    func warm(_ kind: MatchVersions.Kind, on sql: any SQLDatabase) async throws {
        try await refresh(kind, on: sql)
    }

    private func refresh(_ kind: MatchVersions.Kind, on sql: any SQLDatabase) async throws {
        let held = kind == .people ? vas.version : jobs.version
        let latest = try await MatchVersions.current(kind, on: sql)
        guard latest > held else { return }
        switch kind {
        case .people:
            let rows = try await Self.load(VARow.self, kind, since: held, on: sql)
            // Many changes (the first load): the zones' lists are sorted once after, not kept sorted row by row.
            let bulk = rows.count > 1_000
            for row in rows { upsert(row, keepingZones: !bulk) }
            if bulk { sortZones() }
            vas.version = max(vas.version, latest)
        case .postings:
            for row in try await Self.load(JobRow.self, kind, since: held, on: sql) {
                jobs.upsert(IndexedJob(job: row.job, skills: numbers(row.skills), listed: row.status == .open))
            }
            jobs.version = max(jobs.version, latest)
        }
    }

    private func upsert(_ row: VARow, keepingZones: Bool) {
        let va = IndexedVA(candidate: row.candidate, skills: numbers(row.skills), standing: row.standing, listed: row.listed)
        let (old, slot) = vas.upsert(va)
        guard keepingZones else { return }
        if let old, old.listed { zones[old.candidate.utcOffsetMinutes]?.removeAll { $0 == slot } }
        if va.listed {
            var list = zones[va.candidate.utcOffsetMinutes] ?? []
            var low = 0, high = list.count
            while low < high {
                let middle = (low + high) / 2
                if Self.ranksBefore(vas.entries[Int(list[middle])], va) { low = middle + 1 } else { high = middle }
            }
            list.insert(slot, at: low)
            zones[va.candidate.utcOffsetMinutes] = list
        }
    }

    private func sortZones() {
        let entries = vas.entries
        zones = Dictionary(grouping: entries.indices.filter { entries[$0].listed }.map { Int32($0) }) { entries[Int($0)].candidate.utcOffsetMinutes }
            .mapValues { $0.sorted { Self.ranksBefore(entries[Int($0)], entries[Int($1)]) } }
    }

    /// Whether `a` comes before `b` in a zone's list: higher standing, then greater id.
    private static func ranksBefore(_ a: IndexedVA, _ b: IndexedVA) -> Bool {
        a.standing != b.standing ? a.standing > b.standing : a.id > b.id
    }

    private func numbers(_ skills: [String]) -> [Int32] {
        skills.map { skill in
            if let number = skillNumbers[skill] { return number }
            let number = Int32(skillNumbers.count)
            skillNumbers[skill] = number
            return number
        }
    }

    /// Every row of `kind` stamped after `version`, page by page in version order (a row-value range on the
    /// `(match_version, id)` index, which both engines seek to). Each page comes back as
    /// one JSON array of arrays (the row's columns, then its skills), decoded at once: a first load reads
    /// every row, and per-row decoding of database rows would cost most of it.
    private static func load<Row: LoadedRow>(_: Row.Type, _ kind: MatchVersions.Kind, since version: Int, on sql: any SQLDatabase) async throws -> [Row] {
        let page = 5_000
        let postgres = sql.dialect.name == "postgresql"
        // SQLite's subquery hands back text, which `json(…)` makes JSON again inside the row's array.
        let (group, array): (String, String) = postgres ? ("json_agg", "json_build_array") : ("json_group_array", "json_array")
        let id = kind.idColumn
        var rows: [Row] = []
        var after: (version: Int, id: String) = (version, "")
        while true {
            let json = try await sql.raw("""
                SELECT \(unsafeRaw: group)(\(unsafeRaw: array)(\(unsafeRaw: id), match_version, \(unsafeRaw: Row.columns),
                    \(unsafeRaw: postgres ? "" : "json")((SELECT \(unsafeRaw: group)(terms.\(unsafeRaw: Row.termsColumn)) FROM \(unsafeRaw: Row.termsTable) terms WHERE terms.\(unsafeRaw: Row.termsKey) = page.\(unsafeRaw: id)))))\(unsafeRaw: postgres ? "::text" : "") AS rows
                FROM (
                    SELECT * FROM \(unsafeRaw: kind.table)
                    WHERE (match_version, \(unsafeRaw: id)) > (\(bind: after.version), \(bind: after.id))
                    ORDER BY match_version, \(unsafeRaw: id) LIMIT \(literal: page)
                ) page
                """).first(decoding: LoadedPage.self)?.rows
            let batch = try json.map { try JSONDecoder().decode([Row].self, from: Data($0.utf8)) } ?? []
            rows += batch
            guard batch.count == page, let last = batch.max(by: { ($0.matchVersion, $0.key) < ($1.matchVersion, $1.key) }) else { return rows }
            after = (last.matchVersion, last.key)
        }
    }
}

// MARK: Entries

/// A catalog of entries by slot, with each skill's holders among the listed ones.
struct Catalog<Entry: Indexed> {
    var version = -1
    var entries: [Entry] = []
    var slots: [String: Int32] = [:]
    /// Per skill number, the listed entries holding it (in no order).
    var holders: [[Int32]] = []
    /// Listed entries asking for no skills.
    var unskilled: [Int32] = []

    /// Replaces the entry with `entry`'s id (or adds it); returns what it replaced and its slot.
    mutating func upsert(_ entry: Entry) -> (old: Entry?, slot: Int32) {
        let slot: Int32
        var old: Entry?
        if let existing = slots[entry.id] {
            slot = existing
            old = entries[Int(slot)]
            if let old, old.listed { unlist(old, slot) }
            entries[Int(slot)] = entry
        } else {
            slot = Int32(entries.count)
            slots[entry.id] = slot
            entries.append(entry)
        }
        if entry.listed {
            for skill in entry.skills {
                while holders.count <= Int(skill) { holders.append([]) }
                holders[Int(skill)].append(slot)
            }
            if entry.skills.isEmpty { unskilled.append(slot) }
        }
        return (old, slot)
    }

    private mutating func unlist(_ entry: Entry, _ slot: Int32) {
        for skill in entry.skills where Int(skill) < holders.count { Self.remove(slot, from: &holders[Int(skill)]) }
        if entry.skills.isEmpty { Self.remove(slot, from: &unskilled) }
    }

    private static func remove(_ slot: Int32, from list: inout [Int32]) {
        guard let index = list.firstIndex(of: slot) else { return }
        list.swapAt(index, list.count - 1)
        list.removeLast()
    }

    /// How many of `skills` each listed entry holds, and the entries holding any.
    func holders(of skills: [Int32]) -> (counts: [UInt8], touched: [Int32]) {
        var counts = [UInt8](repeating: 0, count: entries.count)
        var touched: [Int32] = []
        for skill in Set(skills) where Int(skill) < holders.count {
            for slot in holders[Int(skill)] {
                if counts[Int(slot)] == 0 { touched.append(slot) }
                counts[Int(slot)] &+= 1
            }
        }
        return (counts, touched)
    }
}

protocol Indexed {
    var id: String { get }
    var skills: [Int32] { get }
    /// Whether it may be matched (an active VA with a profile; an open job).
    var listed: Bool { get }
}

struct IndexedVA: Indexed {
    var candidate: Candidate
    var skills: [Int32]
    var standing: Double
    var listed: Bool
    var id: String { candidate.userId }
}

struct IndexedJob: Indexed {
    var job: MatchedJob
    var skills: [Int32]
    var listed: Bool
    var id: String { job.id }
}

// MARK: Rows

/// A page of rows as one JSON text.
struct LoadedPage: Decodable { var rows: String? }

/// A row as the index loads it: a JSON array of its id, its version, `columns`, and its skills.
protocol LoadedRow: Decodable, Sendable {
    static var columns: String { get }
    /// Where its skills are: the table, the skill column and the column naming the row.
    static var termsTable: String { get }
    static var termsColumn: String { get }
    static var termsKey: String { get }
    var key: String { get }
    var matchVersion: Int { get }
}

extension UnkeyedDecodingContainer {
    /// A boolean, as SQLite's JSON writes one (0 or 1) or PostgreSQL's (false or true).
    mutating func decodeFlag() throws -> Bool {
        if let flag = try? decode(Bool.self) { return flag }
        return try decode(Int.self) != 0
    }

    /// The row's skills (`null` for none on PostgreSQL).
    mutating func decodeTerms() throws -> [String] {
        (try decodeIfPresent([String?].self) ?? []).compactMap { $0 }
    }
}

/// What matching reads of a person.
struct VARow: LoadedRow {
    static let columns = "role, status, has_profile, hourly_rate_cents, currency, available, average_rating, total_reviews, utc_offset_minutes, standing"
    static let termsTable = PersonRecord.skillsTable
    static let termsColumn = "skill"
    static let termsKey = "user_id"
    var key: String
    var matchVersion: Int
    var listed: Bool
    var candidate: Candidate
    var standing: Double
    var skills: [String]

    init(from decoder: any Decoder) throws {
        var row = try decoder.unkeyedContainer()
        key = try row.decode(String.self)
        matchVersion = try row.decode(Int.self)
        let role = try row.decodeIfPresent(String.self).flatMap(Role.init(rawValue:))
        let status = try row.decode(String.self)
        let hasProfile = try row.decodeFlag()
        listed = role == .va && status == AccountState.active.rawValue && hasProfile
        let rate = try row.decodeIfPresent(Int.self), currency = try row.decodeIfPresent(String.self), available = try row.decodeFlag()
        let rating = try row.decode(Double.self), reviews = try row.decode(Int.self), offset = try row.decodeIfPresent(Int.self)
        candidate = Candidate(userId: key, hourlyRateCents: rate, currency: currency, available: available, averageRating: rating, totalReviews: reviews, utcOffsetMinutes: offset)
        standing = try row.decode(Double.self)
        skills = try row.decodeTerms()
    }
}

/// What matching reads of a posting.
struct JobRow: LoadedRow {
    static let columns = "status, job_type, pay_cents, currency, utc_offset_minutes, skill_count"
    static let termsTable = PostingTerms.Kind.skill.table
    static let termsColumn = "term"
    static let termsKey = "posting_id"
    var key: String
    var matchVersion: Int
    var status: PostingStatus
    var job: MatchedJob
    var skills: [String]

    init(from decoder: any Decoder) throws {
        var row = try decoder.unkeyedContainer()
        key = try row.decode(String.self)
        matchVersion = try row.decode(Int.self)
        status = try row.decode(PostingStatus.self)
        let type = try row.decode(JobType.self), pay = try row.decodeIfPresent(Int.self), currency = try row.decode(String.self)
        let offset = try row.decodeIfPresent(Int.self), count = try row.decode(Int.self)
        job = MatchedJob(id: key, skillCount: count, jobType: type, payCents: pay, currency: currency, utcOffsetMinutes: offset)
        skills = try row.decodeTerms()
    }
}

/// The key under which a worker's match index sits in its dependencies.
enum MatchIndexKey: DependencyKey {
    typealias Value = MatchIndex
}
