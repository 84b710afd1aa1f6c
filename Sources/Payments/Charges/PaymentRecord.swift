import Blytz
import BlytzData
import BlytzEvents
import BlytzServices
import Foundation
import SQLKit

/// A row of `payments`: who pays whom, how much, for what, and where the charge stands. The amount is
/// integer minor units of `currency`; `platformFeeCents` is the fee taken when the escrow is released,
/// `processorFeeCents` what the processor kept (borne by the platform), `refundedCents` what went back
/// (or is on its way back) to the payer, `releasedCents` what went from escrow to the payee (gross),
/// `releasedAt` when. `nextAction` and `clientSecret` say what the payer must do for `requires_action`.
/// Its answers are read by other services as a `PaymentSummary`.
struct PaymentRecord: Codable, Sendable, Equatable, ResponseBody {
    var id: String
    var payerUserId: String
    var payeeUserId: String
    var contractId: String?
    var milestoneId: String?
    var invoiceId: String?
    var description: String?
    var amountCents: Int
    var currency: String
    var escrow: Bool
    var platformFeeCents: Int
    var processorFeeCents: Int
    var refundedCents: Int
    var releasedCents: Int
    var status: PaymentStatus
    var provider: ProviderName
    var providerRef: String?
    var paymentMethod: String?
    var nextAction: PaymentNextAction?
    var clientSecret: String?
    var failureReason: String?
    var releasedAt: String?
    var createdAt: String
    var updatedAt: String

    static let table = "payments"

    static func find(_ id: String, on sql: any SQLDatabase, forUpdate: Bool = false) async throws -> PaymentRecord? {
        guard id.isUUID else { return nil }
        var query = sql.select().column("*").from(table).where("id", .equal, SQLBind(id.lowercased()))
        if forUpdate { query = query.for(.update) }
        return try await query.first(decoding: PaymentRecord.self, keyDecodingStrategy: .snakeCase)
    }

    /// The payment `id` as `caller` may see it — its payer's, its payee's, an admin's or the contracts
    /// service's; 404 for anyone else, who may not learn that it exists.
    static func seen(_ id: String, by caller: Caller, on sql: any SQLDatabase, forUpdate: Bool = false) async throws -> PaymentRecord {
        guard let payment = try await find(id, on: sql, forUpdate: forUpdate), payment.visible(to: caller) else {
            throw HTTPError.notFound("There is no payment \(id).")
        }
        return payment
    }

    func visible(to caller: Caller) -> Bool {
        caller.userId == payerUserId || caller.userId == payeeUserId || caller.isAdmin || caller.service == .contracts
    }

    func insert(on sql: any SQLDatabase) async throws {
        try await sql.insert(into: Self.table).model(self, keyEncodingStrategy: .snakeCase, nilEncodingStrategy: .asNil).run()
    }

    func update(on sql: any SQLDatabase) async throws {
        try await sql.update(Self.table).set(model: self, keyEncodingStrategy: .snakeCase, nilEncodingStrategy: .asNil)
            .where("id", .equal, SQLBind(id)).run()
    }

    var subject: Ledger.Subject { Ledger.Subject(paymentId: id, contractId: contractId, milestoneId: milestoneId) }
}
