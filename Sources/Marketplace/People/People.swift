import Blytz
import BlytzData
import BlytzEvents
import BlytzServices
import Foundation
import SQLKit

/// The marketplace's copy of a person (`people`, with their skills in `person_skills`): what search and
/// matching read, kept from the user service's events. Each part carries the time of the event it came
/// from, and an older event never overwrites a newer one. Deleted is final.
struct PersonRecord: Codable, Sendable, Equatable {
    var userId: String
    var role: Role?
    var status: AccountState
    var hasProfile: Bool
    var name: String?
    var country: String?
    var timezone: String?
    var utcOffsetMinutes: Int?
    var hourlyRateCents: Int?
    var currency: String?
    var availability: String?
    var available: Bool
    var averageRating: Double
    var totalReviews: Int
    var standing: Double
    var profileVersion: String?
    var accountVersion: String?
    var updatedAt: String

    static let table = "people"
    static let skillsTable = "person_skills"

    init(userId: String, now: String) {
        self.userId = userId
        status = .active
        hasProfile = false
        available = false
        averageRating = 0
        totalReviews = 0
        standing = 0
        updatedAt = now
    }

    static func find(_ userId: String, on sql: any SQLDatabase, forUpdate: Bool = false) async throws -> PersonRecord? {
        var query = sql.select().column("*").from(table).where("user_id", .equal, SQLBind(userId))
        if forUpdate { query = query.for(.update) }
        return try await query.first(decoding: PersonRecord.self, keyDecodingStrategy: .snakeCase)
    }

    /// The skills of `userIds`, by user.
    static func skills(of userIds: [String], among wanted: [String]? = nil, on sql: any SQLDatabase) async throws -> [String: Set<String>] {
        struct Row: Decodable { var user_id: String; var skill: String }
        guard !userIds.isEmpty else { return [:] }
        var query = sql.select().columns("user_id", "skill").from(skillsTable).where("user_id", .in, SQLBind.group(userIds))
        if let wanted { query = query.where("skill", .in, SQLBind.group(wanted.isEmpty ? [""] : wanted)) }
        var skills: [String: Set<String>] = [:]
        for row in try await query.all(decoding: Row.self) { skills[row.user_id, default: []].insert(row.skill) }
        return skills
    }

    /// A row of `person_skills` for `skill`: with the zone, standing and activity matching walks by.

    /// A VA who may send proposals and be recommended: active, with a profile.
    var isActiveVA: Bool { role == .va && status == .active && hasProfile }

    mutating func apply(_ profile: VAProfileSnapshot) {
        role = .va
        hasProfile = true
        name = profile.name
        country = profile.country
        timezone = profile.timezone
        utcOffsetMinutes = MatchScore.standardOffset(profile.timezone)
        hourlyRateCents = profile.hourlyRateCents
        currency = profile.currency
        availability = profile.availability
        available = profile.available
        averageRating = profile.averageRating
        totalReviews = profile.totalReviews
        standing = MatchScore.standing(available: available, averageRating: averageRating, reviews: totalReviews)
    }

    mutating func apply(_ profile: CompanySnapshot) {
        role = .company
        hasProfile = true
        name = profile.name
        country = profile.country
    }

    mutating func clearProfile() {
        hasProfile = false
        (name, country, timezone, utcOffsetMinutes, hourlyRateCents, currency, availability) = (nil, nil, nil, nil, nil, nil, nil)
        (available, averageRating, totalReviews, standing) = (false, 0, 0, 0)
    }

    /// Writes the row, and the skills when given, as a new version for matching.
    func save(skills: [String]?, on sql: any SQLDatabase) async throws {
        try await sql.update(Self.table).set(model: self, keyEncodingStrategy: .snakeCase, nilEncodingStrategy: .asNil)
            .where("user_id", .equal, SQLBind(userId)).run()
        if let skills {
            try await sql.delete(from: Self.skillsTable).where("user_id", .equal, SQLBind(userId)).run()
            try await Self.insert(skills: [(userId, skills)], on: sql)
        }
        try await MatchVersions.stamp(.people, userId, on: sql)
    }

    /// Inserts each user's skills (normalised).
    static func insert(skills: [(userId: String, skills: [String])], on sql: any SQLDatabase) async throws {
        let rows = skills.flatMap { person in PostingInput.normalised(person.skills).map { (person.userId, $0) } }
        guard !rows.isEmpty else { return }
        var insert = sql.insert(into: skillsTable).columns("user_id", "skill")
        for (userId, skill) in rows { insert = insert.values(SQLBind(userId), SQLBind(skill)) }
        try await insert.run()
    }
}

/// A change to the copy of one person, from an event or from the user service itself (the backfill).
enum PersonChange: Sendable {
    case profile(ProfileUpdated)
    case account(role: Role?, status: AccountState?)
    case deleted

    /// Applies the change as of `version` (an ISO time); returns whether it changed anything.
    @discardableResult
    static func apply(_ change: PersonChange, to userId: String, version: String, now: Date, on sql: any SQLDatabase) async throws -> Bool {
        // The row is created first so concurrent changes to one person queue on its lock.
        try await sql.insert(into: PersonRecord.table).model(PersonRecord(userId: userId, now: now.iso), keyEncodingStrategy: .snakeCase)
            .ignoringConflicts(with: ["user_id"]).run()
        guard var person = try await PersonRecord.find(userId, on: sql, forUpdate: true), person.status != .deleted else { return false }
        var skills: [String]?
        switch change {
        case .profile(let event):
            guard person.profileVersion.map({ $0 < version }) ?? true else { return false }
            person.profileVersion = version
            if event.deleted {
                person.clearProfile()
                skills = []
            } else if let profile = event.vaProfile {
                person.apply(profile)
                skills = profile.skills
            } else if let profile = event.companyProfile {
                person.apply(profile)
            }
        case .account(let role, let status):
            guard person.accountVersion.map({ $0 < version }) ?? true else { return false }
            person.accountVersion = version
            person.role = role ?? person.role
            person.status = status ?? person.status
        case .deleted:
            person.status = .deleted
            person.accountVersion = version
            person.clearProfile()
            skills = []
        }
        person.updatedAt = now.iso
        try await person.save(skills: skills, on: sql)
        if person.status == .deleted {
            try await Postings.closeAll(of: userId, now: now, on: sql)
            try await Proposals.withdrawAll(of: userId, now: now, on: sql)
        }
        return true
    }
}

/// `marketplace-people`: keeps `people` from `ProfileUpdated`, `UserUpdated` and `UserDeleted`, once per event.
/// A deleted user's postings close and their pending proposals are withdrawn.
struct RefreshPeople: EventConsumer {
    enum Change: EventChoice {
        case profile(ProfileUpdated)
        case updated(UserUpdated)
        case deleted(UserDeleted)

        static let choices: [any Event.Type] = [ProfileUpdated.self, UserUpdated.self, UserDeleted.self]

        init(_ event: any Event) throws {
            switch event {
            case let event as ProfileUpdated: self = .profile(event)
            case let event as UserUpdated: self = .updated(event)
            case let event as UserDeleted: self = .deleted(event)
            default: throw UnexpectedEventType(type: type(of: event).type, expected: Self.choices.map { $0.type })
            }
        }
    }

    func handle(_ event: EventEnvelope<Change>, context: FunctionContext) async throws {
        let (userId, change): (String, PersonChange) = switch event.data {
        case .profile(let profile): (profile.userId, .profile(profile))
        case .updated(let updated): (updated.userId, .account(role: updated.role, status: updated.status))
        case .deleted(let deleted): (deleted.userId, .deleted)
        }
        let now = context.now
        try await context.database.once(event: event.id, consumer: context.functionName) { sql in
            try await PersonChange.apply(change, to: userId.lowercased(), version: event.time, now: now, on: sql)
        }
    }
}
