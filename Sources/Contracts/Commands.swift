import Blytz
import BlytzData
import BlytzEvents
import BlytzServices
import Foundation
import Logging
import SQLKit

/// The contracts service's commands (`blytz contracts …`; `blytz seed` runs `seed`).
enum Commands {
    static let all: [ServiceCommand] = [
        ServiceCommand("seed", run: seed),
        Import.command,
    ]

    /// `seed`: a signed hourly contract between the demo company and a demo VA (read from the user service,
    /// which `blytz seed` seeded first), with two milestones and three days of timesheets, two approved; a
    /// completed contract with another VA (for the payments service's demo reviews); and an active one
    /// with a third whose milestone is funded through the payments service and submitted (for its demo
    /// dispute). Needs the backend running; does nothing twice.
    @Sendable
    static func seed(_ arguments: [String], database: ServiceDatabase, configuration: Configuration, logger: Logger) async throws -> String {
        try await ServiceParts.withCommandContext("contracts-seed", database: database, configuration: configuration, logger: logger) { context in
            let (company, vas) = try await DemoPeople.ids(company: DemoContract.company, vas: [DemoContract.va, DemoContract.endedVA, DemoContract.disputedVA], context)
            let seeded = try await DemoContract.seed(company: company, va: vas[0], context: context)
            let others = try await DemoContract.seedEnded(company: company, va: vas[1], context: context)
            let funded = try await DemoContract.seedFunded(company: company, va: vas[2], context: context)
            return "\(seeded) \(others) \(funded)"
        }
    }
}

/// The demo contract of `blytz seed`.
enum DemoContract {
    static let company = "Acme Remote Ops"
    static let va = "Arjun Mehta"
    static let title = "Demo: inbox and calendar support"
    static let endedVA = "Grace Okafor"
    static let endedTitle = "Demo: executive support for October"
    static let disputedVA = "Lucía Gómez"
    static let disputedTitle = "Demo: social media calendar for November"

    /// A fixed-price contract, signed and completed a month ago (`ContractSigned`, `ContractCompleted`).
    static func seedEnded(company: String, va: String, context: FunctionContext) async throws -> String {
        let now = context.now
        return try await context.database.transaction { sql -> String in
            if try await sql.select().column("id").from(ContractRecord.table).where("title", .equal, SQLBind(endedTitle)).first() != nil { return #"{"completed":"skipped"}"# }
            let signed = now.addingTimeInterval(-40 * 86_400).iso
            let contract = fixed(endedTitle, company: company, va: va, cents: 40_000, status: .completed, signed: signed, now: now)
            try await contract.insert(on: sql)
            try await context.publish(ContractSigned(contractId: contract.id, title: contract.title, companyUserId: company, vaUserId: va, contractType: "fixed", amountCents: 40_000, currency: "USD"), on: sql)
            try await context.publish(ContractCompleted(contractId: contract.id, title: contract.title, companyUserId: company, vaUserId: va, totalPaidCents: 0, currency: "USD"), on: sql)
            return #"{"completed":"\#(contract.id)"}"#
        }
    }

    /// A fixed-price contract, signed, whose one milestone the company funds through the payments service
    /// (the simulated provider) and the VA submits.
    static func seedFunded(company: String, va: String, context: FunctionContext) async throws -> String {
        let now = context.now
        let database = try context.database
        let made = try await database.transaction { sql -> (milestone: String, intent: String)? in
            if try await sql.select().column("id").from(ContractRecord.table).where("title", .equal, SQLBind(disputedTitle)).first() != nil { return nil }
            let signed = now.addingTimeInterval(-10 * 86_400).iso
            let contract = fixed(disputedTitle, company: company, va: va, cents: 12_000, status: .active, signed: signed, now: now)
            try await contract.insert(on: sql)
            try await context.publish(ContractSigned(contractId: contract.id, title: contract.title, companyUserId: company, vaUserId: va, contractType: "fixed", amountCents: 12_000, currency: "USD"), on: sql)
            let milestone = MilestoneRecord(
                id: UUID().uuidString.lowercased(), contractId: contract.id, title: "Twenty posts, scheduled", description: nil, amountCents: 12_000,
                dueDate: Day.of(now.addingTimeInterval(-2 * 86_400), in: TimeZone(identifier: "UTC")!), status: .funding, fundings: 1, createdAt: signed, updatedAt: now.iso
            )
            try await sql.insert(into: MilestoneRecord.table).model(milestone, keyEncodingStrategy: .snakeCase, nilEncodingStrategy: .asNil).run()
            let body = CreatePaymentBody(payerUserId: company, payeeUserId: va, amountCents: 12_000, currency: "USD", contractId: contract.id, milestoneId: milestone.id, paymentMethod: "pm_card_visa")
            return (milestone.id, try await Reconciler.record(kind: Escrow.fundKind, key: Escrow.fundKey(milestone), payload: body, now: now, on: sql))
        }
        guard let made else { return #"{"funded":"skipped"}"# }
        try await Reconciler.attemptNow(made.intent, as: CreatePaymentBody.self, context: context, done: "The demo milestone is recorded, but the payments service could not fund it yet") { intent in
            _ = try await Escrow.fund(intent, context: context)
        }
        try await database.transaction { sql in
            guard var (milestone, _) = try await MilestoneRecord.locked(made.milestone, on: sql), let next = try? milestone.status.after(.submit) else { return }
            milestone.status = next
            milestone.updatedAt = now.iso
            try await milestone.save(on: sql)
        }
        return #"{"funded":"\#(made.milestone)"}"#
    }

    static func fixed(_ title: String, company: String, va: String, cents: Int, status: ContractStatus, signed: String, now: Date) -> ContractRecord {
        ContractRecord(
            id: UUID().uuidString.lowercased(), title: title, companyUserId: company, vaUserId: va, type: .fixed, amountCents: cents, hourlyRateCents: nil,
            currency: "USD", terms: nil, taxRateBasisPoints: 0, discountBasisPoints: 0, paymentDays: 14, timezone: "UTC", startDate: String(signed.prefix(10)), endDate: nil,
            status: status, companySignedAt: signed, vaSignedAt: signed, totalPaidCents: 0, createdAt: signed, updatedAt: now.iso
        )
    }

    /// Publishes `ContractSigned` as a signature would, so the other services know the contract.
    static func seed(company: String, va: String, context: FunctionContext) async throws -> String {
        struct Seeded: Encodable { var contract: String?; var milestones: Int; var timesheets: Int; var skipped: Bool }
        let now = context.now
        return jsonText(try await context.database.transaction { sql -> Seeded in
            if try await sql.select().column("id").from(ContractRecord.table).where("title", .equal, SQLBind(title)).first() != nil {
                return Seeded(contract: nil, milestones: 0, timesheets: 0, skipped: true)
            }
            let signed = now.addingTimeInterval(-7 * 86_400).iso
            let contract = ContractRecord(
                id: UUID().uuidString.lowercased(), title: title, companyUserId: company, vaUserId: va, type: .hourly, amountCents: nil, hourlyRateCents: 1_200,
                currency: "USD", terms: "Inbox triage and calendar management, up to 20 hours a week.", taxRateBasisPoints: 0, discountBasisPoints: 0,
                paymentDays: 14, timezone: "Asia/Kolkata", startDate: Day.of(now.addingTimeInterval(-7 * 86_400), in: TimeZone(identifier: "UTC")!), endDate: nil,
                status: .active, companySignedAt: signed, vaSignedAt: signed, totalPaidCents: 0, createdAt: signed, updatedAt: signed
            )
            try await contract.insert(on: sql)
            try await context.publish(ContractSigned(
                contractId: contract.id, title: contract.title, companyUserId: company, vaUserId: va, contractType: contract.type.rawValue, amountCents: nil, currency: contract.currency
            ), on: sql)
            for (index, title) in ["Inbox rules and folders", "Monthly calendar report"].enumerated() {
                let milestone = MilestoneRecord(
                    id: UUID().uuidString.lowercased(), contractId: contract.id, title: title, description: nil, amountCents: 15_000 + index * 5_000,
                    dueDate: Day.of(now.addingTimeInterval(Double(7 + index * 14) * 86_400), in: TimeZone(identifier: "UTC")!), status: .pending, fundings: 0,
                    createdAt: signed, updatedAt: signed
                )
                try await sql.insert(into: MilestoneRecord.table).model(milestone, keyEncodingStrategy: .snakeCase, nilEncodingStrategy: .asNil).run()
            }
            let zone = TimeZone(identifier: contract.timezone)!
            for day in 1...3 {
                let date = Day.of(now.addingTimeInterval(Double(-day) * 86_400), in: zone)
                let span = try Timesheets.span(date: date, start: "09:00", end: "13:00", zone: zone, now: now)
                let entry = TimesheetRecord(
                    id: UUID().uuidString.lowercased(), contractId: contract.id, vaUserId: va, workDate: date, startAt: span.start.iso, endAt: span.end.iso,
                    minutes: span.minutes, description: "Inbox triage and scheduling", status: day == 1 ? .pending : .approved, approvedBy: day == 1 ? nil : company,
                    createdAt: now.iso, updatedAt: now.iso
                )
                try await entry.insert(on: sql)
            }
            return Seeded(contract: contract.id, milestones: 2, timesheets: 3, skipped: false)
        })
    }
}
