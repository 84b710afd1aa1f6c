import Blytz
import BlytzData
import BlytzEvents
import BlytzServices
import Foundation
import Logging
import SQLKit

/// The payments service's commands (`blytz payments …`; `blytz seed` runs `seed`).
enum Commands {
    static let all: [ServiceCommand] = [
        ServiceCommand("seed", run: seed),
        Import.command,
    ]

    /// `seed`: on the contracts service's demo contracts (announced by their events, which the running
    /// backend delivers here): both parties' reviews of the completed one, and an open dispute, for the
    /// admin, on the one whose milestone is funded. Needs the backend running; does nothing twice.
    @Sendable
    static func seed(_ arguments: [String], database: ServiceDatabase, configuration: Configuration, logger: Logger) async throws -> String {
        try await ServiceParts.withCommandContext("payments-seed", database: database, configuration: configuration, logger: logger) { context in
            let (company, vas) = try await DemoPeople.ids(company: DemoTrust.company, vas: [DemoTrust.reviewedVA, DemoTrust.disputedVA], context)
            return try await DemoTrust.seed(company: company, reviewedVA: vas[0], disputedVA: vas[1], context: context)
        }
    }
}

/// The demo reviews and dispute of `blytz seed`.
enum DemoTrust {
    static let company = "Acme Remote Ops"
    static let reviewedVA = "Grace Okafor"
    static let disputedVA = "Lucía Gómez"

    static func seed(company: String, reviewedVA: String, disputedVA: String, context: FunctionContext) async throws -> String {
        let database = try context.database
        // The contracts' events arrive through the running backend's queue, about a second after their seed.
        var contracts: (ended: ContractCopy, active: ContractCopy)?
        for _ in 0..<60 {
            contracts = try await database.withConnection { sql in
                let known = try await sql.select().column("*").from(ContractCopy.table).where("company_user_id", .equal, SQLBind(company))
                    .all(decoding: ContractCopy.self, keyDecodingStrategy: .snakeCase)
                guard let ended = known.first(where: { $0.vaUserId == reviewedVA && $0.status == .completed }),
                      let active = known.first(where: { $0.vaUserId == disputedVA && $0.status == .active }) else { return nil }
                let held = try await Disputes.held(contract: active.id, payment: nil, on: sql)
                return held.isEmpty ? nil : (ended, active)
            }
            if contracts != nil { break }
            try await Task.sleep(for: .milliseconds(500))
        }
        guard let (ended, active) = contracts else {
            throw CommandRefusal("the contracts service's demo contracts have not arrived; run `blytz seed contracts` with the backend running (./local/run), then seed again")
        }
        let now = context.now.iso
        return try await database.transaction { sql -> String in
            if try await sql.select().column("id").from(ReviewRecord.table).where("contract_id", .equal, SQLBind(ended.id)).first() != nil { return #"{"reviews":0,"disputes":0,"skipped":true}"# }
            for (reviewer, target, comment) in [
                (company, reviewedVA, "Calendars, travel and meeting notes handled without a miss all month."),
                (reviewedVA, company, "Clear priorities and quick answers; a pleasure to support."),
            ] {
                let review = ReviewRecord(
                    id: UUID().uuidString.lowercased(), contractId: ended.id, reviewerUserId: reviewer, targetUserId: target, rating: 5,
                    categories: ReviewCategories(communication: 5, quality: 5, timeliness: 5, professionalism: 5), comment: comment, createdAt: now
                )
                try await review.insert(on: sql)
                try await context.publish(review.posted, on: sql)
            }
            let dispute = try await Disputes.open(
                active.id, payment: nil, by: company, reason: "The November calendar was due on the 1st and half of the posts are missing.",
                evidence: EvidenceInput(text: "Ten of the twenty posts were scheduled by the due date.", fileIds: nil), context: context, on: sql
            )
            return #"{"reviews":2,"disputes":1,"dispute":"\#(dispute.id)"}"#
        }
    }
}
