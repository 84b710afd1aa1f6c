import Blytz
import BlytzData
import BlytzEvents
import BlytzServices
import Foundation
import HTTPTypes
import SQLKit

/// One line of an invoice: an approved timesheet entry (its minutes at the contract's rate) or an
/// approved milestone (its price; already paid from escrow, so nothing of it is due).
struct InvoiceLine: Codable, Sendable, Equatable {
    enum Kind: String, Codable, Sendable, CaseIterable { case timesheet, milestone }

    var kind: Kind
    var itemId: String
    var description: String
    /// Minutes for a timesheet entry, 1 for a milestone.
    var quantity: Int
    /// Cents per hour for a timesheet entry, the price for a milestone.
    var unitCents: Int
    var amountCents: Int
    var paidCents: Int
}

/// A row of `invoices`. Amounts in cents: `subtotalCents` sums the lines; the discount and then the tax
/// (the contract's rates) apply to what was not already paid from escrow; `totalCents` = subtotal −
/// discount + tax, and `dueCents` = total − what escrow paid. `number` is `INV-<year>-<sequence>`, the
/// sequence gapless per year of issue.
struct InvoiceRecord: Codable, Sendable, Equatable, ResponseBody {
    var id: String
    var contractId: String
    var companyUserId: String
    var vaUserId: String
    var number: String
    var year: Int
    var sequence: Int
    var lines: [InvoiceLine]
    var subtotalCents: Int
    var discountCents: Int
    var taxCents: Int
    var totalCents: Int
    var paidFromEscrowCents: Int
    var dueCents: Int
    var currency: String
    var issuedBy: String
    var dueDate: String
    var status: InvoiceStatus
    var paymentId: String?
    var createdAt: String
    var updatedAt: String

    static let table = "invoices"

    /// The row as stored: the lines as JSON text.
    struct Row: Codable {
        var id, contractId, companyUserId, vaUserId, number: String
        var year, sequence: Int
        var lines: String
        var subtotalCents, discountCents, taxCents, totalCents, paidFromEscrowCents, dueCents: Int
        var currency, issuedBy, dueDate: String
        var status: InvoiceStatus
        var paymentId: String?
        var createdAt, updatedAt: String
    }

    var row: Row {
        Row(id: id, contractId: contractId, companyUserId: companyUserId, vaUserId: vaUserId, number: number, year: year, sequence: sequence, lines: jsonText(lines),
            subtotalCents: subtotalCents, discountCents: discountCents, taxCents: taxCents, totalCents: totalCents, paidFromEscrowCents: paidFromEscrowCents,
            dueCents: dueCents, currency: currency, issuedBy: issuedBy, dueDate: dueDate, status: status, paymentId: paymentId, createdAt: createdAt, updatedAt: updatedAt)
    }

    static func find(_ id: String, on sql: any SQLDatabase, forUpdate: Bool = false) async throws -> InvoiceRecord? {
        guard id.isUUID else { return nil }
        var query = sql.select().column("*").from(table).where("id", .equal, SQLBind(id.lowercased()))
        if forUpdate { query = query.for(.update) }
        return try await query.first(decoding: Row.self, keyDecodingStrategy: .snakeCase).map(InvoiceRecord.init)
    }

    func save(on sql: any SQLDatabase) async throws {
        try await sql.update(Self.table).set(model: row, keyEncodingStrategy: .snakeCase, nilEncodingStrategy: .asNil).where("id", .equal, SQLBind(id)).run()
    }

    func isParty(_ caller: Caller) -> Bool { caller.userId == companyUserId || caller.userId == vaUserId }

    static func seen(_ id: String, by caller: Caller, on sql: any SQLDatabase, forUpdate: Bool = false) async throws -> InvoiceRecord {
        guard let invoice = try await find(id, on: sql, forUpdate: forUpdate), invoice.isParty(caller) || caller.isAdmin else {
            throw HTTPError.notFound("There is no invoice \(id).")
        }
        return invoice
    }
}

extension InvoiceRecord {
    init(_ row: Row) {
        (id, contractId, companyUserId, vaUserId, number, year, sequence) = (row.id, row.contractId, row.companyUserId, row.vaUserId, row.number, row.year, row.sequence)
        lines = fromJSONText(row.lines, as: [InvoiceLine].self, fallback: [])
        (subtotalCents, discountCents, taxCents, totalCents, paidFromEscrowCents, dueCents) = (row.subtotalCents, row.discountCents, row.taxCents, row.totalCents, row.paidFromEscrowCents, row.dueCents)
        (currency, issuedBy, dueDate, status, paymentId, createdAt, updatedAt) = (row.currency, row.issuedBy, row.dueDate, row.status, row.paymentId, row.createdAt, row.updatedAt)
    }
}

/// How an invoice's amounts are worked out, in integer cents: a timesheet line is minutes × hourly rate
/// / 60, and the discount and tax are the contract's basis points of what is billed; each is rounded half
/// up, once, where it is computed.
enum InvoiceMath {
    /// `numerator / denominator` rounded half up (non-negative operands).
    static func rounded(_ numerator: Int, over denominator: Int) -> Int { (2 * numerator + denominator) / (2 * denominator) }

    static func totals(lines: [InvoiceLine], taxBasisPoints: Int, discountBasisPoints: Int) -> (subtotal: Int, discount: Int, tax: Int, total: Int, escrow: Int, due: Int) {
        let subtotal = lines.reduce(0) { $0 + $1.amountCents }
        let escrow = lines.reduce(0) { $0 + $1.paidCents }
        let billed = subtotal - escrow
        let discount = rounded(billed * discountBasisPoints, over: 10_000)
        let tax = rounded((billed - discount) * taxBasisPoints, over: 10_000)
        let total = subtotal - discount + tax
        return (subtotal, discount, tax, total, escrow, total - escrow)
    }
}

/// `POST /contracts/{id}/invoices` (either party, or an admin, on an active or completed contract): bills
/// every approved timesheet entry and approved or paid milestone not billed yet, each once — the
/// contract's row is locked, so concurrent requests bill disjoint work — and takes the next number of the
/// year under its counter row's lock, so numbers are unique and gapless. Nothing left to bill is a 409.
/// An invoice with nothing due (milestones paid from escrow) is issued `paid`. Publishes `InvoiceIssued`.
struct IssueInvoice: HTTPFunction {
    static let access = Access.person

    func handle(_ request: FunctionRequest<Empty>, caller: Caller, context: FunctionContext) async throws -> FunctionResponse<InvoiceRecord> {
        let id = try request.parameter("id")
        let now = context.now
        return .created(try await context.database.transaction { sql in
            let contract = try await ContractRecord.seen(id, by: caller, on: sql, forUpdate: true)
            guard [.active, .completed].contains(contract.status) else { throw IllegalTransition(what: "contract", state: contract.status.rawValue, action: "invoiced") }
            let entries = try await sql.select().column("*").from(TimesheetRecord.table).where("contract_id", .equal, SQLBind(contract.id))
                .where("status", .equal, SQLBind(TimesheetStatus.approved.rawValue)).where("invoice_id", .is, SQLLiteral.null).orderBy("start_at")
                .all(decoding: TimesheetRecord.self, keyDecodingStrategy: .snakeCase)
            let milestones = try await sql.select().column("*").from(MilestoneRecord.table).where("contract_id", .equal, SQLBind(contract.id))
                .where("status", .in, SQLBind.group([MilestoneStatus.approved.rawValue, MilestoneStatus.paid.rawValue])).where("invoice_id", .is, SQLLiteral.null)
                .orderBy("created_at").all(decoding: MilestoneRecord.self, keyDecodingStrategy: .snakeCase)
            guard !entries.isEmpty || !milestones.isEmpty else { throw HTTPError(409, detail: "There is no approved work left to bill on this contract.") }
            let rate = contract.hourlyRateCents ?? 0
            let lines = entries.map { entry in
                InvoiceLine(kind: .timesheet, itemId: entry.id, description: "\(entry.workDate) \(entry.description ?? "Hours worked")", quantity: entry.minutes,
                            unitCents: rate, amountCents: InvoiceMath.rounded(entry.minutes * rate, over: 60), paidCents: 0)
            } + milestones.map { milestone in
                InvoiceLine(kind: .milestone, itemId: milestone.id, description: milestone.title, quantity: 1, unitCents: milestone.amountCents,
                            amountCents: milestone.amountCents, paidCents: milestone.amountCents)
            }
            let totals = InvoiceMath.totals(lines: lines, taxBasisPoints: contract.taxRateBasisPoints, discountBasisPoints: contract.discountBasisPoints)
            let year = Calendar(identifier: .gregorian).dateComponents(in: TimeZone(identifier: "UTC")!, from: now).year ?? 2026
            let sequence = try await Invoices.nextNumber(year: year, on: sql)
            let invoice = InvoiceRecord(
                id: UUID().uuidString.lowercased(), contractId: contract.id, companyUserId: contract.companyUserId, vaUserId: contract.vaUserId,
                number: String(format: "INV-%04d-%06d", year, sequence), year: year, sequence: sequence, lines: lines, subtotalCents: totals.subtotal,
                discountCents: totals.discount, taxCents: totals.tax, totalCents: totals.total, paidFromEscrowCents: totals.escrow, dueCents: totals.due,
                currency: contract.currency, issuedBy: caller.userId, dueDate: Day.after(now, days: contract.paymentDays), status: totals.due == 0 ? .paid : .issued,
                createdAt: now.iso, updatedAt: now.iso
            )
            try await sql.insert(into: InvoiceRecord.table).model(invoice.row, keyEncodingStrategy: .snakeCase, nilEncodingStrategy: .asNil).run()
            try await Invoices.bill(entries.map(\.id), in: TimesheetRecord.table, to: invoice.id, on: sql)
            try await Invoices.bill(milestones.map(\.id), in: MilestoneRecord.table, to: invoice.id, on: sql)
            try await context.publish(InvoiceIssued(
                invoiceId: invoice.id, contractId: contract.id, number: invoice.number, totalCents: invoice.totalCents, dueCents: invoice.dueCents,
                currency: invoice.currency, dueDate: invoice.dueDate, companyUserId: contract.companyUserId, vaUserId: contract.vaUserId
            ), on: sql)
            return invoice
        })
    }
}

/// `GET /invoices` (signed in): the caller's invoices — a company's or a VA's, an admin's all — newest
/// first, `?status=` to filter.
struct ListInvoices: HTTPFunction {
    static let access = Access.person

    typealias Query = NewestFirst<InvoiceStatus>

    func handle(_ request: FunctionRequest<Empty>, caller: Caller, context: FunctionContext) async throws -> FunctionResponse<Page<InvoiceRecord>> {
        let filters = try request.read(Query.self)
        let rows = try await context.database.withConnection { sql in
            var query = sql.select().column("*").from(InvoiceRecord.table)
            switch caller.role {
            case .company: query = query.where("company_user_id", .equal, SQLBind(caller.userId))
            case .va: query = query.where("va_user_id", .equal, SQLBind(caller.userId))
            case .admin: break
            default: throw HTTPError.forbidden("Invoices belong to companies and VAs.")
            }
            if let status = filters.status { query = query.where("status", .equal, SQLBind(status)) }
            return try await NewestFirst<InvoiceStatus>.keyset.select(query, page: filters.page)
                .all(decoding: InvoiceRecord.Row.self, keyDecodingStrategy: .snakeCase).map(InvoiceRecord.init)
        }
        return .ok(filters.page.page(rows, { $0 }) { ($0.createdAt, $0.id) })
    }
}

/// An invoice as JSON, or as a printable HTML page when the client's `Accept` asks for `text/html`.
struct InvoiceDocument: Codable, Sendable, ResponseBody, AlternateMedia {
    static let alternateMedia: [String: JSONValue] = ["text/html": ["type": "string"]]

    var invoice: InvoiceRecord
    var html: String?

    init(_ invoice: InvoiceRecord, html: String?) {
        (self.invoice, self.html) = (invoice, html)
    }

    init(from decoder: any Decoder) throws {
        invoice = try InvoiceRecord(from: decoder)
    }

    func encode(to encoder: any Encoder) throws { try invoice.encode(to: encoder) }

    func encodedBody() throws -> (data: Data, contentType: String)? {
        if let html { return (Data(html.utf8), "text/html; charset=utf-8") }
        return (try JSON.encoder().encode(invoice), "application/json")
    }
}

/// `GET /invoices/{id}` (its parties, admins): the invoice; with `Accept: text/html`, a printable page.
struct GetInvoice: HTTPFunction {
    static let access = Access.person

    func handle(_ request: FunctionRequest<Empty>, caller: Caller, context: FunctionContext) async throws -> FunctionResponse<InvoiceDocument> {
        let id = try request.parameter("id")
        let invoice = try await context.database.withConnection { sql in try await InvoiceRecord.seen(id, by: caller, on: sql) }
        let wantsPage = (request.header(.accept) ?? "").contains("text/html")
        return .ok(InvoiceDocument(invoice, html: wantsPage ? Invoices.page(invoice) : nil))
    }
}

/// `POST /invoices/{id}/pay` (the company, or an admin): charges what is due through the payments
/// service, acting for the company, with the key `pay-<invoice id>`, so a repeat never charges twice. A
/// succeeded charge marks it `paid` at once; otherwise `PaymentCompleted` does later.
struct PayInvoice: HTTPFunction {
    static let access = Access.people(.company, .admin)

    func handle(_ request: FunctionRequest<FundInput>, caller: Caller, context: FunctionContext) async throws -> FunctionResponse<InvoiceRecord> {
        let id = try request.parameter("id")
        let invoice = try await context.database.withConnection { sql in try await InvoiceRecord.seen(id, by: caller, on: sql) }
        guard invoice.companyUserId == caller.userId || caller.isAdmin else { throw HTTPError.forbidden("Only the company pays invoices.") }
        let method = try request.input.paymentMethod
        _ = try invoice.status.after(.pay)
        let body = CreatePaymentBody(
            payerUserId: invoice.companyUserId, payeeUserId: invoice.vaUserId, amountCents: invoice.dueCents, currency: invoice.currency,
            contractId: invoice.contractId, invoiceId: invoice.id, paymentMethod: method
        )
        let payment = try await context.services.call(CreatePaymentCall(body, idempotencyKey: "pay-\(invoice.id)"), context: context, as: .actingFor(invoice.companyUserId))
        if payment.status == "failed" {
            throw HTTPError(402, detail: "The payment was declined; the invoice is still open.", errors: [.init(field: "paymentMethod", message: "was declined")])
        }
        let now = context.now
        if payment.status == "succeeded" { try await context.database.transaction { sql in try await Invoices.paid(invoice.id, payment: payment.id, now: now, on: sql) } }
        let current = try await context.database.withConnection { sql in try await InvoiceRecord.find(invoice.id, on: sql) }
        return .ok(current ?? invoice)
    }
}

/// `POST /invoices/{id}/cancel` (the company, or an admin): an unpaid invoice is cancelled; its work is
/// unbilled again, so the next invoice bills it. Its number stays used.
struct CancelInvoice: HTTPFunction {
    static let access = Access.people(.company, .admin)

    func handle(_ request: FunctionRequest<Empty>, caller: Caller, context: FunctionContext) async throws -> FunctionResponse<InvoiceRecord> {
        let id = try request.parameter("id")
        let now = context.now.iso
        return .ok(try await context.database.transaction { sql in
            let found = try await InvoiceRecord.seen(id, by: caller, on: sql)
            _ = try await ContractRecord.find(found.contractId, on: sql, forUpdate: true)
            var invoice = try await InvoiceRecord.seen(id, by: caller, on: sql)
            guard invoice.companyUserId == caller.userId || caller.isAdmin else { throw HTTPError.forbidden("Only the company cancels invoices.") }
            invoice.status = try invoice.status.after(.cancel)
            invoice.updatedAt = now
            try await invoice.save(on: sql)
            for table in [TimesheetRecord.table, MilestoneRecord.table] {
                try await sql.update(table).set("invoice_id", to: SQLBind(String?.none)).where("invoice_id", .equal, SQLBind(invoice.id)).run()
            }
            return invoice
        })
    }
}

/// `contracts-mark-overdue` (hourly): issued invoices past their due date become `overdue`.
struct MarkOverdueInvoices: ScheduleFunction {
    func handle(_ event: ScheduledEvent, context: FunctionContext) async throws {
        let today = Day.of(context.now, in: TimeZone(identifier: "UTC")!)
        let now = context.now.iso
        try await context.database.transaction { sql in
            try await sql.update(InvoiceRecord.table).set("status", to: SQLBind(InvoiceStatus.overdue.rawValue)).set("updated_at", to: SQLBind(now))
                .where("status", .equal, SQLBind(InvoiceStatus.issued.rawValue)).where("due_date", .lessThan, SQLBind(today)).run()
        }
    }
}

enum Invoices {
    /// The next sequence number of `year`, under its counter row's lock (rolled back with the invoice, so no gaps).
    static func nextNumber(year: Int, on sql: any SQLDatabase) async throws -> Int {
        try await numbers(count: 1, year: year, on: sql).lowerBound
    }

    /// The next `count` sequence numbers of `year` at once (an import numbers a batch of invoices).
    static func numbers(count: Int, year: Int, on sql: any SQLDatabase) async throws -> ClosedRange<Int> {
        struct Row: Decodable { var last: Int }
        try await sql.insert(into: "invoice_numbers").columns("year", "last").values(SQLBind(year), SQLBind(0)).ignoringConflicts(with: ["year"]).run()
        guard let row = try await sql.update("invoice_numbers").set(SQLIdentifier("last"), to: SQLBinaryExpression(SQLIdentifier("last"), .add, SQLBind(count)))
            .where("year", .equal, SQLBind(year)).returning("last").first(decoding: Row.self) else { throw HTTPError(503, detail: "The invoice counter is unavailable.") }
        return (row.last - count + 1)...row.last
    }

    static func bill(_ ids: [String], in table: String, to invoice: String, on sql: any SQLDatabase) async throws {
        guard !ids.isEmpty else { return }
        try await sql.update(table).set("invoice_id", to: SQLBind(invoice)).where("id", .in, SQLBind.group(ids)).where("invoice_id", .is, SQLLiteral.null).run()
    }

    /// The invoice's payment succeeded: issued or overdue → paid.
    static func paid(_ id: String, payment: String, now: Date, on sql: any SQLDatabase) async throws {
        guard var invoice = try await InvoiceRecord.find(id, on: sql, forUpdate: true), let next = try? invoice.status.after(.pay) else { return }
        invoice.status = next
        invoice.paymentId = payment
        invoice.updatedAt = now.iso
        try await invoice.save(on: sql)
    }

    /// A printable page of `invoice`.
    static func page(_ invoice: InvoiceRecord) -> String {
        func money(_ cents: Int) -> String { String(format: "%@ %d.%02d", invoice.currency, cents / 100, cents % 100) }
        func escaped(_ text: String) -> String {
            text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
                .replacingOccurrences(of: "\"", with: "&quot;")
        }
        let rows = invoice.lines.map { line in
            let quantity = line.kind == .timesheet ? String(format: "%d:%02d h", line.quantity / 60, line.quantity % 60) : "1"
            return "<tr><td>\(escaped(line.description))</td><td>\(quantity)</td><td>\(money(line.unitCents))</td><td>\(money(line.amountCents))</td><td>\(money(line.paidCents))</td></tr>"
        }.joined(separator: "\n")
        return """
            <!doctype html>
            <html lang="en"><head><meta charset="utf-8"><title>Invoice \(invoice.number)</title>
            <style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #ccc;padding:.4em;text-align:left}.sum td{font-weight:bold}</style>
            </head><body>
            <h1>Invoice \(invoice.number)</h1>
            <p>Status: \(invoice.status.rawValue) · Issued \(invoice.createdAt.prefix(10)) · Due \(invoice.dueDate)</p>
            <p>Contract \(invoice.contractId)</p>
            <table><thead><tr><th>Item</th><th>Quantity</th><th>Unit</th><th>Amount</th><th>Paid from escrow</th></tr></thead>
            <tbody>
            \(rows)
            </tbody></table>
            <table>
            <tr><td>Subtotal</td><td>\(money(invoice.subtotalCents))</td></tr>
            <tr><td>Discount</td><td>−\(money(invoice.discountCents))</td></tr>
            <tr><td>Tax</td><td>\(money(invoice.taxCents))</td></tr>
            <tr><td>Total</td><td>\(money(invoice.totalCents))</td></tr>
            <tr><td>Paid from escrow</td><td>−\(money(invoice.paidFromEscrowCents))</td></tr>
            <tr class="sum"><td>Due</td><td>\(money(invoice.dueCents))</td></tr>
            </table>
            </body></html>
            """
    }
}
