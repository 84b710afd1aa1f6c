import Blytz
import BlytzData
import BlytzEvents
import BlytzServices
import Foundation
import Logging
import SQLKit

/// `contracts import --from postgres://…`: the monolith's contracts, milestones, timesheets and invoices.
/// Invoices are renumbered into this service's gapless `INV-<year>-<sequence>` (the monolith's numbers
/// repeat), their old number kept beside; numbering goes on after the highest imported sequence. The
/// README's table ("Moving the data") is the mapping.
enum Import {
    static let command = LegacyImport.command(service: "contracts") { session in
        try await contracts(session)
        try await milestones(session)
        try await timesheets(session)
        try await invoices(session)
    }

    static let time = LegacyImport.time
    static let cents = LegacyImport.cents

    /// A monolith amount in cents: its SQL, whether it rounds, and its exact cents for the report.
    static func money(_ column: String, as name: String) -> [String] {
        ["\(cents(column)) AS \(name)_cents", "\(LegacyImport.rounds(column)) AS \(name)_rounded", "\(LegacyImport.exactCents(column)) AS \(name)_exact_cents"]
    }

    // MARK: contracts

    struct ContractRow: Decodable, Sendable {
        var legacyId: String
        var title: String?
        var companyLegacyUserId: String?
        var vaLegacyUserId: String?
        var contractType: String
        var amountCents: Int
        var amountRounded: Bool
        var amountExactCents: Double
        var hourlyRateCents: Int?
        var currency: String
        var terms: String?
        var startDate: String
        var endDate: String?
        var status: String
        var totalPaidCents: Int
        var proposalLegacyId: String?
        var jobLegacyId: String
        var postingLegacyId: String
        var createdAt: String
        var updatedAt: String
    }

    /// The monolith's contract statuses in the new lifecycle; `paused` has no counterpart and is flagged.
    static let contractStatuses: [String: ContractStatus] = ["active": .active, "paused": .active, "completed": .completed, "paid": .completed, "cancelled": .cancelled]

    static func contracts(_ session: LegacyImport.Session) async throws {
        try await session.copy("contracts", into: "contracts", columns: [
            #"(SELECT j.title FROM {schema}.job_postings j WHERE j.id = t."jobPostingId") AS title"#,
            Monolith.companyOwner, Monolith.vaOwner,
            "t.\"contractType\" AS contract_type", "\(cents("hourlyRate")) AS hourly_rate_cents", "t.currency AS currency",
            // `terms` is JSON: a string stays text, anything else its JSON text.
            "CASE WHEN jsonb_typeof(t.terms) = 'string' THEN t.terms #>> '{}' ELSE \(LegacyImport.json("terms")) END AS terms",
            "to_char(t.\"startDate\", 'YYYY-MM-DD') AS start_date", "to_char(t.\"endDate\", 'YYYY-MM-DD') AS end_date", "t.status AS status",
            // Already cents, as a float.
            "round(t.\"totalPaid\"::numeric)::bigint AS total_paid_cents", "t.\"proposalId\" AS proposal_legacy_id", "t.\"jobId\" AS job_legacy_id",
            "t.\"jobPostingId\" AS posting_legacy_id", "\(time("createdAt")) AS created_at", "\(time("updatedAt")) AS updated_at",
        ] + money("amount", as: "amount"), as: ContractRow.self) { rows, sql, report in
            // One contract per proposal here; the monolith does not enforce it. Who already holds each.
            let proposals = rows.compactMap { $0.proposalLegacyId.map { LegacyImport.id("proposals", $0) } }
            var holders = try await LegacyImport.holders(of: proposals, in: "proposal_id", of: ContractRecord.table, on: sql)
            var contracts: [ContractRecord] = []
            let outcomes = rows.map { row -> LegacyImport.Outcome in
                guard let company = row.companyLegacyUserId, let va = row.vaLegacyUserId else { return .skipped("orphan: a party's profile is gone") }
                guard let type = ContractType(rawValue: row.contractType) else { return .skipped("unknown contract type '\(row.contractType)'") }
                guard let status = contractStatuses[row.status] else { return .skipped("unknown status '\(row.status)'") }
                if row.status == "paused" { report.flag("paused contract imported as active") } else if status.rawValue != row.status { report.map("status '\(row.status)' → \(status.rawValue)") }
                let id = LegacyImport.id("contracts", row.legacyId)
                var proposal = row.proposalLegacyId.map { LegacyImport.id("proposals", $0) }
                if let taken = proposal {
                    if (holders[taken] ?? id) != id {
                        proposal = nil
                        report.flag("a second contract from one proposal: its proposal left out")
                    } else {
                        holders[taken] = id
                    }
                }
                // For an hourly contract the monolith's `amount` is the rate.
                contracts.append(ContractRecord(
                    id: id, title: row.title ?? "Contract", companyUserId: Monolith.userId(company), vaUserId: Monolith.userId(va), type: type,
                    amountCents: type == .fixed ? row.amountCents : nil, hourlyRateCents: type == .hourly ? (row.hourlyRateCents ?? row.amountCents) : nil,
                    currency: row.currency.uppercased(), terms: row.terms, taxRateBasisPoints: 0, discountBasisPoints: 0, paymentDays: 14, timezone: "UTC",
                    startDate: row.startDate, endDate: row.endDate, status: status,
                    // Contracts had no signatures: one that ran is taken as signed by both when it was made.
                    companySignedAt: row.createdAt, vaSignedAt: row.createdAt, totalPaidCents: row.totalPaidCents, proposalId: proposal,
                    jobId: LegacyImport.id("jobs", row.jobLegacyId), jobPostingId: LegacyImport.id("job_postings", row.postingLegacyId),
                    createdAt: row.createdAt, updatedAt: row.updatedAt
                ))
                report.money(read: row.amountExactCents, written: row.amountCents, rounded: row.amountRounded)
                return .written
            }
            try await LegacyImport.upsert(contracts, in: ContractRecord.table, on: sql)
            return outcomes
        }
    }

    // MARK: milestones

    struct MilestoneRow: Decodable, Sendable {
        var legacyId: String
        var contractLegacyId: String
        var title: String
        var description: String?
        var amountCents: Int
        var amountRounded: Bool
        var amountExactCents: Double
        var status: String
        var dueDate: String?
        var completedAt: String?
        var approvedAt: String?
        var paymentLegacyId: String?
        var paidAt: String?
        var createdAt: String
        var updatedAt: String
    }

    static func milestones(_ session: LegacyImport.Session) async throws {
        try await session.copy("milestones", into: "milestones", columns: [
            "t.\"contractId\" AS contract_legacy_id", "t.title AS title", "t.description AS description", "t.status AS status",
            "to_char(t.\"dueDate\", 'YYYY-MM-DD') AS due_date", "\(time("completedAt")) AS completed_at", "\(time("approvedAt")) AS approved_at",
            #"paid.id AS payment_legacy_id"#, #"to_char(paid.at, 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS paid_at"#,
            "\(time("createdAt")) AS created_at", "\(time("updatedAt")) AS updated_at",
        ] + money("amount", as: "amount"), joins: """
            LEFT JOIN (SELECT DISTINCT ON ("milestoneId") "milestoneId" AS key, id, coalesce("processedAt", "createdAt") AS at FROM {schema}.payments
                       WHERE "milestoneId" IS NOT NULL AND status IN ('succeeded', 'refunded') ORDER BY "milestoneId", "createdAt", id) paid ON paid.key = t.id
            """, as: MilestoneRow.self) { rows, sql, report in
            let contracts = try await LegacyImport.existing(rows.map { LegacyImport.id("contracts", $0.contractLegacyId) }, in: ContractRecord.table, on: sql)
            var records: [MilestoneRecord] = []
            let outcomes = rows.map { row -> LegacyImport.Outcome in
                let contractId = LegacyImport.id("contracts", row.contractLegacyId)
                guard contracts.contains(contractId) else { return .skipped("its contract was not imported") }
                let status: MilestoneStatus
                switch row.status {
                case "pending", "in_progress": status = .pending
                case "completed": status = .submitted
                // Approved and paid for: paid; approved without a payment: approved.
                case "approved": status = row.paymentLegacyId == nil ? .approved : .paid
                default: return .skipped("unknown status '\(row.status)'")
                }
                if status.rawValue != row.status { report.map("status '\(row.status)' → \(status.rawValue)") }
                records.append(MilestoneRecord(
                    id: LegacyImport.id("milestones", row.legacyId), contractId: contractId, title: row.title, description: row.description,
                    amountCents: row.amountCents, dueDate: row.dueDate, status: status, fundings: row.paymentLegacyId == nil ? 0 : 1,
                    paymentId: row.paymentLegacyId.map { LegacyImport.id("payments", $0) }, invoiceId: nil, submittedAt: row.completedAt,
                    approvedAt: row.approvedAt, paidAt: status == .paid ? row.paidAt : nil, createdAt: row.createdAt, updatedAt: row.updatedAt
                ))
                report.money(read: row.amountExactCents, written: row.amountCents, rounded: row.amountRounded)
                return .written
            }
            try await LegacyImport.upsert(records, in: MilestoneRecord.table, on: sql)
            return outcomes
        }
    }

    // MARK: timesheets

    struct TimesheetRow: Decodable, Sendable {
        var legacyId: String
        var contractLegacyId: String
        var vaLegacyUserId: String?
        var workDate: String
        var startAt: String
        var endAt: String
        var minutes: Int
        var description: String?
        var status: String
        var approvedByLegacyId: String?
        var createdAt: String
        var updatedAt: String
    }

    static func timesheets(_ session: LegacyImport.Session) async throws {
        try await session.copy("timesheets", into: "timesheets", columns: [
            "t.\"contractId\" AS contract_legacy_id", Monolith.vaOwner, "to_char(t.date, 'YYYY-MM-DD') AS work_date", "\(time("startTime")) AS start_at",
            "\(time("endTime")) AS end_at", "round(extract(epoch FROM t.\"endTime\" - t.\"startTime\") / 60)::int AS minutes", "t.description AS description",
            "t.status AS status", "t.\"approvedBy\" AS approved_by_legacy_id", "\(time("createdAt")) AS created_at", "\(time("updatedAt")) AS updated_at",
        ], as: TimesheetRow.self) { rows, sql, _ in
            let contracts = try await LegacyImport.existing(rows.map { LegacyImport.id("contracts", $0.contractLegacyId) }, in: ContractRecord.table, on: sql)
            var records: [TimesheetRecord] = []
            let outcomes = rows.map { row -> LegacyImport.Outcome in
                let contractId = LegacyImport.id("contracts", row.contractLegacyId)
                guard contracts.contains(contractId) else { return .skipped("its contract was not imported") }
                guard let va = row.vaLegacyUserId else { return .skipped("orphan: its VA profile is gone") }
                guard row.minutes > 0 else { return .skipped("ends before it starts") }
                guard let status = TimesheetStatus(rawValue: row.status) else { return .skipped("unknown status '\(row.status)'") }
                records.append(TimesheetRecord(
                    id: LegacyImport.id("timesheets", row.legacyId), contractId: contractId, vaUserId: Monolith.userId(va), workDate: row.workDate,
                    startAt: row.startAt, endAt: row.endAt, minutes: row.minutes, description: row.description, status: status,
                    approvedBy: row.approvedByLegacyId.map(Monolith.userId), invoiceId: nil, createdAt: row.createdAt, updatedAt: row.updatedAt
                ))
                return .written
            }
            try await LegacyImport.upsert(records, in: TimesheetRecord.table, on: sql)
            return outcomes
        }
    }

    // MARK: invoices

    struct InvoiceRow: Decodable, Sendable {
        var legacyId: String
        var contractLegacyId: String
        var companyLegacyUserId: String
        var vaLegacyUserId: String
        var invoiceNumber: String
        var items: String?
        var subtotalCents: Int
        var subtotalRounded: Bool
        var subtotalExactCents: Double
        var taxCents: Int
        var discountCents: Int
        var totalCents: Int
        var dueDate: String
        var currency: String
        var status: String
        var createdAt: String
        var updatedAt: String
    }

    static let invoiceStatuses: [String: InvoiceStatus] = ["pending": .issued, "paid": .paid, "overdue": .overdue, "cancelled": .cancelled]

    static func invoices(_ session: LegacyImport.Session) async throws {
        try await session.copy("invoices", into: "invoices", columns: [
            "t.\"contractId\" AS contract_legacy_id", "t.\"userId\" AS company_legacy_user_id", "t.\"receiverId\" AS va_legacy_user_id",
            "t.\"invoiceNumber\" AS invoice_number", "CASE WHEN t.items IS NULL THEN NULL ELSE to_jsonb(t.items)::text END AS items",
            "\(cents("taxAmount")) AS tax_cents", "\(cents("discount")) AS discount_cents", "\(cents("totalAmount")) AS total_cents",
            "\(time("dueDate")) AS due_date", "t.currency AS currency", "t.status AS status", "\(time("createdAt")) AS created_at", "\(time("updatedAt")) AS updated_at",
        ] + money("subtotal", as: "subtotal"), as: InvoiceRow.self) { rows, sql, report in
            let contracts = try await LegacyImport.existing(rows.map { LegacyImport.id("contracts", $0.contractLegacyId) }, in: ContractRecord.table, on: sql)
            let ids = rows.map { LegacyImport.id("invoices", $0.legacyId) }
            let known = Dictionary(try await sql.select().column("*").from(InvoiceRecord.table).where("id", .in, SQLBind.group(ids))
                .all(decoding: InvoiceRecord.Row.self, keyDecodingStrategy: .snakeCase).map { ($0.id, InvoiceRecord($0)) }) { first, _ in first }
            var accepted: [(row: InvoiceRow, id: String, status: InvoiceStatus, year: Int)] = []
            let outcomes = zip(rows, ids).map { row, id -> LegacyImport.Outcome in
                guard contracts.contains(LegacyImport.id("contracts", row.contractLegacyId)) else { return .skipped("orphan: its contract is missing") }
                guard let status = invoiceStatuses[row.status] else { return .skipped("unknown status '\(row.status)'") }
                if status.rawValue != row.status { report.map("status '\(row.status)' → \(status.rawValue)") }
                accepted.append((row, id, status, known[id]?.year ?? Int(row.createdAt.prefix(4)) ?? 2026))
                return .written
            }
            // Renumbered in this service's sequence of their year, in the monolith's order; a re-import keeps the number it got.
            var numbers: [Int: [Int]] = [:]
            for (year, fresh) in Dictionary(grouping: accepted.filter { known[$0.id] == nil }, by: \.year) {
                numbers[year] = Array(try await Invoices.numbers(count: fresh.count, year: year, on: sql)).reversed()
            }
            var invoices: [InvoiceRecord.Row] = []
            var legacyNumbers: [(id: String, number: String)] = []
            for (row, id, status, year) in accepted {
                let existing = known[id]
                let sequence = existing?.sequence ?? numbers[year]!.removeLast()
                if existing == nil { report.map("renumbered, the monolith's number kept as legacy_number") }
                let lines = Self.lines(row.items, report: &report)
                let invoice = InvoiceRecord(
                    id: id, contractId: LegacyImport.id("contracts", row.contractLegacyId), companyUserId: Monolith.userId(row.companyLegacyUserId),
                    vaUserId: Monolith.userId(row.vaLegacyUserId), number: existing?.number ?? String(format: "INV-%04d-%06d", year, sequence), year: year,
                    sequence: sequence, lines: lines, subtotalCents: row.subtotalCents, discountCents: row.discountCents, taxCents: row.taxCents, totalCents: row.totalCents,
                    paidFromEscrowCents: 0, dueCents: status == .paid ? 0 : row.totalCents, currency: row.currency.uppercased(),
                    issuedBy: Monolith.userId(row.companyLegacyUserId), dueDate: row.dueDate, status: status, paymentId: nil, createdAt: row.createdAt, updatedAt: row.updatedAt
                )
                if row.subtotalCents - row.discountCents + row.taxCents != row.totalCents { report.flag("total is not subtotal − discount + tax") }
                report.money(read: row.subtotalExactCents, written: row.subtotalCents, rounded: row.subtotalRounded)
                invoices.append(invoice.row)
                legacyNumbers.append((id, row.invoiceNumber))
            }
            try await LegacyImport.upsert(invoices, in: InvoiceRecord.table, on: sql)
            if !legacyNumbers.isEmpty {
                try await sql.raw("""
                    UPDATE invoices SET legacy_number = CASE id \(SQLList(legacyNumbers.map { SQLQueryString("WHEN \(bind: $0.id) THEN \(bind: $0.number)") }, separator: SQLRaw(" "))) END
                    WHERE id IN (\(binds: legacyNumbers.map(\.id)))
                    """).run()
            }
            return outcomes
        }
    }

    /// `items` (a `jsonb[]` read as a JSON array of `{id, description, quantity, amount}`) as lines, each a
    /// milestone-like line of `quantity` × the amount in cents.
    static func lines(_ items: String?, report: inout LegacyImport.TableReport) -> [InvoiceLine] {
        guard let items else { return [] }
        return fromJSONText(items, fallback: [JSONValue]()).compactMap { item -> InvoiceLine? in
            guard case .object(let fields) = item, case .string(let description)? = fields["description"], case .number(let amount)? = fields["amount"] else {
                report.flag("invoice item without a description or amount dropped")
                return nil
            }
            var quantity = 1
            if case .number(let given)? = fields["quantity"] { quantity = max(1, Int(given.rounded())) }
            let unit = LegacyImport.wholeCents(Decimal(string: String(amount)) ?? Decimal(amount))
            var itemId = ""
            if case .string(let text)? = fields["id"] { itemId = text }
            return InvoiceLine(kind: .milestone, itemId: itemId, description: description, quantity: quantity, unitCents: unit, amountCents: unit * quantity, paidCents: 0)
        }
    }
}
