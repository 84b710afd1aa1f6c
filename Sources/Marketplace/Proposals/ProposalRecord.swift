import Blytz
import BlytzData
import BlytzEvents
import BlytzServices
import Foundation
import SQLKit

/// A row of `proposals`.
struct ProposalRecord: Codable, Sendable {
    var id: String
    var jobPostingId: String
    var vaUserId: String
    var coverLetter: String
    var bidType: JobType
    var bidCents: Int?
    var hourlyRateCents: Int?
    var estimatedHours: Int?
    var deliveryTime: String?
    var currency: String
    var status: ProposalStatus
    var createdAt: String
    var updatedAt: String

    static let table = "proposals"

    static func find(_ id: String, on sql: any SQLDatabase) async throws -> ProposalRecord? {
        guard id.isUUID else { return nil }
        return try await sql.select().column("*").from(table).where("id", .equal, SQLBind(id.lowercased()))
            .first(decoding: ProposalRecord.self, keyDecodingStrategy: .snakeCase)
    }

    mutating func apply(_ input: ProposalInput) {
        if let value = input.coverLetter { coverLetter = value }
        if let value = input.bidType { bidType = value }
        if let value = input.bidCents { bidCents = value }
        if let value = input.hourlyRateCents { hourlyRateCents = value }
        if let value = input.estimatedHours { estimatedHours = value }
        if let value = input.deliveryTime { deliveryTime = value }
    }

    /// The bid a proposal of its type needs, as it stands after an edit.
    var bidProblems: [Problem.FieldError] {
        switch bidType {
        case .fixed: bidCents == nil ? [.init(field: "bidCents", message: "is required for a fixed-price bid")] : []
        case .hourly: hourlyRateCents == nil ? [.init(field: "hourlyRateCents", message: "is required for an hourly bid")] : []
        }
    }

    func update(on sql: any SQLDatabase) async throws {
        try await sql.update(Self.table)
            .set("cover_letter", to: SQLBind(coverLetter)).set("bid_type", to: SQLBind(bidType.rawValue)).set("bid_cents", to: SQLBind(bidCents))
            .set("hourly_rate_cents", to: SQLBind(hourlyRateCents)).set("estimated_hours", to: SQLBind(estimatedHours))
            .set("delivery_time", to: SQLBind(deliveryTime)).set("status", to: SQLBind(status.rawValue)).set("updated_at", to: SQLBind(updatedAt))
            .where("id", .equal, SQLBind(id)).run()
    }

    func view(jobTitle: String?) -> ProposalView { ProposalView(proposal: self, jobTitle: jobTitle) }
}

/// A proposal as the API shows it: its row with its posting's title (a superset of the `ProposalSummary`
/// the user service reads).
@dynamicMemberLookup
struct ProposalView: Codable, Sendable, ResponseBody {
    var proposal: ProposalRecord
    var jobTitle: String?

    subscript<Value>(dynamicMember path: KeyPath<ProposalRecord, Value>) -> Value { proposal[keyPath: path] }

    init(proposal: ProposalRecord, jobTitle: String?) {
        self.proposal = proposal
        self.jobTitle = jobTitle
    }

    enum Key: String, CodingKey { case jobTitle }

    init(from decoder: any Decoder) throws {
        proposal = try ProposalRecord(from: decoder)
        jobTitle = try decoder.container(keyedBy: Key.self).decodeIfPresent(String.self, forKey: .jobTitle)
    }

    func encode(to encoder: any Encoder) throws {
        try proposal.encode(to: encoder)
        var container = encoder.container(keyedBy: Key.self)
        try container.encodeIfPresent(jobTitle, forKey: .jobTitle)
    }
}

/// The body of `POST /proposals` (`jobPostingId`, `coverLetter` and `bidType` required) and `PATCH /proposals/{id}`.
struct ProposalInput: Codable, Sendable, Validatable {
    var jobPostingId: String?
    var coverLetter: String?
    var bidType: JobType?
    var bidCents: Int?
    var hourlyRateCents: Int?
    var estimatedHours: Int?
    var deliveryTime: String?

    func validate() -> [Problem.FieldError] {
        var errors: [Problem.FieldError] = []
        func check(_ failed: Bool, _ field: String, _ message: String) { if failed { errors.append(.init(field: field, message: message)) } }
        if let jobPostingId { check(!jobPostingId.isUUID, "jobPostingId", "must be a UUID") }
        if let coverLetter { check(coverLetter.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty || coverLetter.count > 10_000, "coverLetter", "must be 1 to 10000 characters") }
        for (field, value) in [("bidCents", bidCents), ("hourlyRateCents", hourlyRateCents)] {
            if let value { check(!(1...100_000_000_00).contains(value), field, "must be a positive amount in cents, at most 10,000,000,000") }
        }
        if let estimatedHours { check(!(1...10_000).contains(estimatedHours), "estimatedHours", "must be from 1 to 10000") }
        if let deliveryTime { check(deliveryTime.count > 100, "deliveryTime", "must be at most 100 characters") }
        return errors
    }
}
