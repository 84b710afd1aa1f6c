import Blytz
import BlytzData
import BlytzEvents
import BlytzServices
import Foundation
import SQLKit

enum ContractType: String, Codable, Sendable, CaseIterable {
    case fixed, hourly
}

/// A row of `contracts`: what the two parties agreed, its state and signatures, and what was paid.
/// `taxRateBasisPoints` and `discountBasisPoints` (hundredths of a percent) and `paymentDays` (an
/// invoice's due date after issue) are the terms invoices use; `timezone` is the one timesheet days are
/// counted in.
struct ContractRecord: Codable, Sendable, Equatable, ResponseBody {
    var id: String
    var title: String
    var companyUserId: String
    var vaUserId: String
    var type: ContractType
    var amountCents: Int?
    var hourlyRateCents: Int?
    var currency: String
    var terms: String?
    var taxRateBasisPoints: Int
    var discountBasisPoints: Int
    var paymentDays: Int
    var timezone: String
    var startDate: String?
    var endDate: String?
    var status: ContractStatus
    var companySignedAt: String?
    var vaSignedAt: String?
    var totalPaidCents: Int
    var proposalId: String?
    var jobId: String?
    var jobPostingId: String?
    var createdAt: String
    var updatedAt: String

    static let table = "contracts"

    static func find(_ id: String, on sql: any SQLDatabase, forUpdate: Bool = false) async throws -> ContractRecord? {
        guard id.isUUID else { return nil }
        var query = sql.select().column("*").from(table).where("id", .equal, SQLBind(id.lowercased()))
        if forUpdate { query = query.for(.update) }
        return try await query.first(decoding: ContractRecord.self, keyDecodingStrategy: .snakeCase)
    }

    func insert(on sql: any SQLDatabase) async throws {
        try await sql.insert(into: Self.table).model(self, keyEncodingStrategy: .snakeCase, nilEncodingStrategy: .asNil).run()
    }

    func update(on sql: any SQLDatabase) async throws {
        try await sql.update(Self.table).set(model: self, keyEncodingStrategy: .snakeCase, nilEncodingStrategy: .asNil)
            .where("id", .equal, SQLBind(id)).run()
    }

    var parties: ContractParties { ContractParties(companyUserId: companyUserId, vaUserId: vaUserId) }

    func isParty(_ caller: Caller) -> Bool { caller.userId == companyUserId || caller.userId == vaUserId }

    /// The contract `id` as `caller` may see it: a party's or an admin's; 404 for anyone else, who may not
    /// learn that it exists.
    static func seen(_ id: String, by caller: Caller, on sql: any SQLDatabase, forUpdate: Bool = false) async throws -> ContractRecord {
        guard let contract = try await find(id, on: sql, forUpdate: forUpdate), contract.isParty(caller) || caller.isAdmin else {
            throw HTTPError.notFound("There is no contract \(id).")
        }
        return contract
    }
}

/// Something of a contract (a milestone, a timesheet entry): it knows its contract.
protocol ContractItem: Sendable {
    var contractId: String { get }
    static func find(_ id: String, on sql: any SQLDatabase) async throws -> Self?
}

extension ContractItem {
    /// The item `id` and its contract as `caller` may see them — a party's or an admin's; 404 naming `what`
    /// otherwise. The contract's row is locked first and the item read again under that lock, so the
    /// writes to one contract's items take their turns.
    static func seen(_ id: String, _ what: String, by caller: Caller, on sql: any SQLDatabase) async throws -> (Self, ContractRecord) {
        guard let (item, contract) = try await locked(id, on: sql), contract.isParty(caller) || caller.isAdmin else {
            throw HTTPError.notFound("There is no \(what) \(id).")
        }
        return (item, contract)
    }

    /// The item `id` and its contract, the contract's row locked first and the item read again under it.
    static func locked(_ id: String, on sql: any SQLDatabase) async throws -> (Self, ContractRecord)? {
        guard let found = try await find(id, on: sql), let contract = try await ContractRecord.find(found.contractId, on: sql, forUpdate: true),
              let item = try await find(id, on: sql) else { return nil }
        return (item, contract)
    }
}

/// The body of `POST /contracts` and `PATCH /contracts/{id}` (every field optional on an edit).
struct ContractInput: Codable, Sendable, Validatable {
    var title: String?
    var companyUserId: String?
    var vaUserId: String?
    var type: ContractType?
    var amountCents: Int?
    var hourlyRateCents: Int?
    var currency: String?
    var terms: String?
    var taxRateBasisPoints: Int?
    var discountBasisPoints: Int?
    var paymentDays: Int?
    var timezone: String?
    var startDate: String?
    var endDate: String?
    var proposalId: String?
    var jobId: String?
    var jobPostingId: String?

    static let maxCents = 100_000_000_00

    func validate() -> [Problem.FieldError] {
        var errors: [Problem.FieldError] = []
        func check(_ failed: Bool, _ field: String, _ message: String) { if failed { errors.append(.init(field: field, message: message)) } }
        if let title { check(!(3...200).contains(title.trimmingCharacters(in: .whitespacesAndNewlines).count), "title", "must be 3 to 200 characters") }
        for (field, id) in [("companyUserId", companyUserId), ("vaUserId", vaUserId), ("proposalId", proposalId), ("jobId", jobId), ("jobPostingId", jobPostingId)] {
            if let id { check(!id.isUUID, field, "must be a UUID") }
        }
        if let amountCents { check(!(1...Self.maxCents).contains(amountCents), "amountCents", "must be 1 to \(Self.maxCents)") }
        if let hourlyRateCents { check(!(1...1_000_000).contains(hourlyRateCents), "hourlyRateCents", "must be 1 to 1000000") }
        if let currency { check(currency.count != 3 || !currency.allSatisfy({ $0.isASCII && $0.isUppercase }), "currency", "must be an ISO 4217 code such as USD") }
        if let terms { check(terms.count > 20_000, "terms", "must be at most 20000 characters") }
        if let taxRateBasisPoints { check(!(0...10_000).contains(taxRateBasisPoints), "taxRateBasisPoints", "must be 0 to 10000 (hundredths of a percent)") }
        if let discountBasisPoints { check(!(0...10_000).contains(discountBasisPoints), "discountBasisPoints", "must be 0 to 10000 (hundredths of a percent)") }
        if let paymentDays { check(!(0...365).contains(paymentDays), "paymentDays", "must be 0 to 365") }
        if let timezone { check(TimeZone(identifier: timezone) == nil, "timezone", "must be an IANA time zone such as Asia/Manila") }
        for (field, date) in [("startDate", startDate), ("endDate", endDate)] {
            if let date { check(!Day.isValid(date), field, "must be a date such as 2027-01-31") }
        }
        if let startDate, let endDate, Day.isValid(startDate), Day.isValid(endDate) { check(endDate < startDate, "endDate", "must not be before startDate") }
        return errors
    }

    /// What the contract's type needs: a fixed price, or an hourly rate.
    static func priceProblems(type: ContractType, amountCents: Int?, hourlyRateCents: Int?) -> [Problem.FieldError] {
        switch type {
        case .fixed: amountCents == nil ? [.init(field: "amountCents", message: "is required for a fixed-price contract")] : []
        case .hourly: hourlyRateCents == nil ? [.init(field: "hourlyRateCents", message: "is required for an hourly contract")] : []
        }
    }

    /// Applies an owner's edit.
    func apply(to contract: inout ContractRecord) {
        if let title { contract.title = title.trimmingCharacters(in: .whitespacesAndNewlines) }
        if let type { contract.type = type }
        if let amountCents { contract.amountCents = amountCents }
        if let hourlyRateCents { contract.hourlyRateCents = hourlyRateCents }
        if let currency { contract.currency = currency }
        if let terms { contract.terms = terms }
        if let taxRateBasisPoints { contract.taxRateBasisPoints = taxRateBasisPoints }
        if let discountBasisPoints { contract.discountBasisPoints = discountBasisPoints }
        if let paymentDays { contract.paymentDays = paymentDays }
        if let timezone { contract.timezone = timezone }
        if let startDate { contract.startDate = startDate }
        if let endDate { contract.endDate = endDate }
    }
}

/// Calendar days as `YYYY-MM-DD` text.
enum Day {
    static func isValid(_ text: String) -> Bool { text.count == 10 && Date(iso: text + "T00:00:00Z") != nil }

    /// The day `date` falls on in `zone`.
    static func of(_ date: Date, in zone: TimeZone) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = zone
        let parts = calendar.dateComponents([.year, .month, .day], from: date)
        return String(format: "%04d-%02d-%02d", parts.year ?? 0, parts.month ?? 0, parts.day ?? 0)
    }

    /// `days` days after the day `date` falls on in UTC.
    static func after(_ date: Date, days: Int) -> String { of(date.addingTimeInterval(Double(days) * 86_400), in: TimeZone(identifier: "UTC")!) }
}
