import Blytz
import BlytzData
import BlytzEvents
import BlytzServices
import Foundation
import SQLKit

/// A row of `disputes`: a party's complaint about a contract whose escrow holds money (`heldCents` when it
/// was opened; all of the contract's escrow payments, or only `paymentId`), and how an admin settled it.
struct DisputeRecord: Codable, Sendable, Equatable, ResponseBody {
    var id: String
    var contractId: String
    var paymentId: String?
    var openedBy: String
    var companyUserId: String
    var vaUserId: String
    var reason: String
    var status: DisputeStatus
    var heldCents: Int
    var currency: String
    var resolution: DisputeResolution?
    var releasedCents: Int?
    var refundedCents: Int?
    var resolutionNote: String?
    var resolvedBy: String?
    var resolvedAt: String?
    var createdAt: String
    var updatedAt: String

    static let table = "disputes"

    static func find(_ id: String, on sql: any SQLDatabase, forUpdate: Bool = false) async throws -> DisputeRecord? {
        guard id.isUUID else { return nil }
        var query = sql.select().column("*").from(table).where("id", .equal, SQLBind(id.lowercased()))
        if forUpdate { query = query.for(.update) }
        return try await query.first(decoding: DisputeRecord.self, keyDecodingStrategy: .snakeCase)
    }

    /// The dispute `id` as `caller` may see it: its parties' and admins'; 404 for anyone else.
    static func seen(_ id: String, by caller: Caller, on sql: any SQLDatabase, forUpdate: Bool = false) async throws -> DisputeRecord {
        guard let dispute = try await find(id, on: sql, forUpdate: forUpdate), dispute.isParty(caller.userId) || caller.isAdmin else {
            throw HTTPError.notFound("There is no dispute \(id).")
        }
        return dispute
    }

    func isParty(_ userId: String) -> Bool { userId == companyUserId || userId == vaUserId }

    /// The other party of `userId`'s dispute.
    func other(than userId: String) -> String { userId == companyUserId ? vaUserId : companyUserId }

    func insert(on sql: any SQLDatabase) async throws {
        try await sql.insert(into: Self.table).model(self, keyEncodingStrategy: .snakeCase, nilEncodingStrategy: .asNil).run()
    }

    func update(on sql: any SQLDatabase) async throws {
        try await sql.update(Self.table).set(model: self, keyEncodingStrategy: .snakeCase, nilEncodingStrategy: .asNil)
            .where("id", .equal, SQLBind(id)).run()
    }
}

/// A row of `dispute_evidence`: a party's text or one of their files (shared with the other party; admins
/// read every file).
struct Evidence: Codable, Sendable, Equatable {
    var id: String
    var disputeId: String
    var addedBy: String
    var text: String?
    var fileId: String?
    var createdAt: String

    static let table = "dispute_evidence"

    static func of(_ disputeId: String, on sql: any SQLDatabase) async throws -> [Evidence] {
        try await sql.select().column("*").from(table).where("dispute_id", .equal, SQLBind(disputeId)).orderBy("created_at").orderBy("id")
            .all(decoding: Evidence.self, keyDecodingStrategy: .snakeCase)
    }

    /// Records `input` for `dispute` by `userId`: its text and each file, one row each.
    static func add(_ input: EvidenceInput, to dispute: String, by userId: String, now: String, on sql: any SQLDatabase) async throws {
        let items = (input.text.map { [Evidence(id: "", disputeId: dispute, addedBy: userId, text: $0, fileId: nil, createdAt: now)] } ?? [])
            + (input.fileIds ?? []).map { Evidence(id: "", disputeId: dispute, addedBy: userId, text: nil, fileId: $0.lowercased(), createdAt: now) }
        for var item in items {
            item.id = UUID().uuidString.lowercased()
            try await sql.insert(into: table).model(item, keyEncodingStrategy: .snakeCase, nilEncodingStrategy: .asNil).run()
        }
    }
}

/// A dispute as the API shows it: its row and its evidence, oldest first.
struct DisputeView: Codable, Sendable, Equatable, ResponseBody {
    var dispute: DisputeRecord
    var evidence: [Evidence]

    init(_ dispute: DisputeRecord, evidence: [Evidence]) {
        self.dispute = dispute
        self.evidence = evidence
    }

    static func of(_ dispute: DisputeRecord, on sql: any SQLDatabase) async throws -> DisputeView {
        DisputeView(dispute, evidence: try await Evidence.of(dispute.id, on: sql))
    }

    private enum Extra: String, CodingKey { case evidence }

    init(from decoder: any Decoder) throws {
        dispute = try DisputeRecord(from: decoder)
        evidence = try decoder.container(keyedBy: Extra.self).decode([Evidence].self, forKey: .evidence)
    }

    func encode(to encoder: any Encoder) throws {
        try dispute.encode(to: encoder)
        var extra = encoder.container(keyedBy: Extra.self)
        try extra.encode(evidence, forKey: .evidence)
    }
}

/// Evidence a party offers: text, and files of theirs that are private and uploaded.
struct EvidenceInput: Codable, Sendable, Validatable {
    var text: String?
    var fileIds: [String]?

    var isEmpty: Bool { text == nil && (fileIds ?? []).isEmpty }

    func validate() -> [Problem.FieldError] {
        isEmpty ? [.init(field: "text", message: "or fileIds is required")] : problems(prefix: "")
    }

    /// Its invalid fields, named under `prefix` (`evidence.` inside a new dispute).
    func problems(prefix: String) -> [Problem.FieldError] {
        var errors: [Problem.FieldError] = []
        if let text, text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty || text.count > 10_000 {
            errors.append(.init(field: prefix + "text", message: "must be 1 to 10000 characters"))
        }
        if let fileIds, fileIds.count > 10 || !fileIds.allSatisfy(\.isUUID) { errors.append(.init(field: prefix + "fileIds", message: "must be at most 10 file ids")) }
        return errors
    }
}
