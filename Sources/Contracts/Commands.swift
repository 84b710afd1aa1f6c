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
    ]

    /// `seed`: a signed hourly contract between the demo company and a demo VA (read from the user service,
    /// which `blytz seed` seeded first), with two milestones and three days of timesheets, two approved.
    /// Needs the backend running; does nothing twice.
    @Sendable
    static func seed(_ arguments: [String], database: ServiceDatabase, configuration: Configuration, logger: Logger) async throws -> String {
        try await ServiceParts.withCommandContext("contracts-seed", database: database, configuration: configuration, logger: logger) { context in
            let (companies, vas) = try await DemoPeople.profiles(context)
            guard let company = companies.first(where: { $0.name == DemoContract.company }), let va = vas.first(where: { $0.name == DemoContract.va }) else {
                throw DemoPeople.missing()
            }
            return try await DemoContract.seed(company: company.userId.lowercased(), va: va.userId.lowercased(), context: context)
        }
    }
}

/// The demo contract of `blytz seed`.
enum DemoContract {
    static let company = "Acme Remote Ops"
    static let va = "Arjun Mehta"
    static let title = "Demo: inbox and calendar support"

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
                try await sql.insert(into: MilestoneRecord.table).model(milestone, keyEncodingStrategy: .convertToSnakeCase, nilEncodingStrategy: .asNil).run()
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
