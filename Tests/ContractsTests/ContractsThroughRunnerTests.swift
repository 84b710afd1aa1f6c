import Blytz
import BlytzData
import BlytzEvents
import BlytzTesting
import Foundation
import NIOHTTP1
import Testing

/// From an accepted proposal to a paid milestone and a paid invoice, through the running runner with real
/// worker processes: the real user, marketplace, contracts and payments services (the simulated provider)
/// — on SQLite and PostgreSQL. The VA's earnings, net of the platform's fee, show in the user service.
@Suite(.serialized, .timeLimit(.minutes(4))) struct ContractsThroughRunnerTests {
    struct Item: Decodable { var id: String }
    struct Page<Element: Decodable>: Decodable { var items: [Element]; var nextCursor: String? }
    struct Hire: Decodable { var contractId: String? }
    struct Contract: Decodable { var id: String; var status: String; var proposalId: String?; var totalPaidCents: Int }
    struct Funding: Decodable { struct Milestone: Decodable { var status: String }; var milestone: Milestone }
    struct Invoice: Decodable { var id: String; var number: String; var dueCents: Int; var status: String }
    struct Profile: Decodable { var earnedCents: Int? }

    func person(_ api: Backend, _ role: String) async throws -> (token: String, id: String) {
        let session = try await api.register(role)
        let profile = role == "va"
            ? #"{"name":"Vera","country":"PH","timezone":"Asia/Manila","hourlyRateCents":1000,"skills":["Zendesk"]}"#
            : #"{"name":"Acme","country":"US","industry":"retail"}"#
        #expect(try await api.call(.POST, role == "va" ? "/profiles/va" : "/profiles/company", token: session.accessToken, json: profile).status == 201)
        return (session.accessToken, try #require(session.user?.id))
    }

    @Test(arguments: [ServiceDatabase.Engine.sqlite, .postgres])
    func fromAcceptToPaidWorkAndAnInvoice(engine: ServiceDatabase.Engine) async throws {
        try await Backend.with(engine) { api in
                let (company, _) = try await person(api, "company")
                let (va, vaId) = try await person(api, "va")
                let job = #"{"title":"Support on Zendesk","description":"Tickets and email.","jobType":"hourly","rateMinCents":800,"rateMaxCents":1500,"skillsRequired":["zendesk"],"status":"open"}"#
                let jobId = try await api.call(.POST, "/jobs", token: company, json: job).json(Item.self).id
                let proposal = #"{"jobPostingId":"\#(jobId)","coverLetter":"I know Zendesk well.","bidType":"hourly","hourlyRateCents":1200}"#
                #expect(try await eventually { try await api.call(.POST, "/proposals", token: va, json: proposal).status == 201 })
                let proposalId = try #require(try await api.call(.GET, "/proposals?jobPostingId=\(jobId)", token: company).json(Page<Item>.self).items.first?.id)

                // The accept makes the contract in the real contracts service, linked to the proposal.
                let accepted = try await api.call(.POST, "/proposals/\(proposalId)/accept", token: company)
                #expect(accepted.status == 201, "\(accepted.text)")
                let contractId = try #require(try accepted.json(Hire.self).contractId)
                let contract = try await api.call(.GET, "/contracts/\(contractId)", token: va).json(Contract.self)
                #expect(contract.status == "pending" && contract.proposalId == proposalId)
                #expect(try await api.call(.GET, "/contracts/\(contractId)", token: try await person(api, "company").token).status == 404)
                for token in [va, company] { _ = try await api.call(.POST, "/contracts/\(contractId)/sign", token: token) }
                #expect(try await api.call(.GET, "/contracts/\(contractId)", token: company).json(Contract.self).status == "active")

                // A milestone funded through the payments service, submitted, approved: paid, and the VA credited 90%.
                let milestone = try await api.call(.POST, "/contracts/\(contractId)/milestones", token: company, json: #"{"title":"Set up macros","amountCents":20000}"#).json(Item.self).id
                let funded = try await api.call(.POST, "/milestones/\(milestone)/fund", token: company, json: #"{"paymentMethod":"pm_card_visa"}"#)
                #expect(try funded.json(Funding.self).milestone.status == "funded", "\(funded.text)")
                _ = try await api.call(.POST, "/milestones/\(milestone)/submit", token: va)
                #expect(try await api.call(.POST, "/milestones/\(milestone)/approve", token: company).object["status"] as? String == "paid")
                #expect(try await api.call(.GET, "/contracts/\(contractId)", token: va).json(Contract.self).totalPaidCents == 20_000)
                #expect(try await eventually(within: .seconds(10)) { try await api.call(.GET, "/profiles/va/me", token: va).json(Profile.self).earnedCents == 18_000 })

                // A day's hours, approved, then invoiced with the paid milestone.
                let yesterday = String(Date().addingTimeInterval(-86_400).iso.prefix(10))
                let entry = try await api.call(.POST, "/contracts/\(contractId)/timesheets", token: va, json: #"{"date":"\#(yesterday)","startTime":"09:00","endTime":"11:00"}"#)
                #expect(entry.status == 201, "\(entry.text)")
                _ = try await api.call(.POST, "/timesheets/\(try entry.json(Item.self).id)/approve", token: company)
                let invoice = try await api.call(.POST, "/contracts/\(contractId)/invoices", token: va).json(Invoice.self)
                #expect(invoice.number.hasPrefix("INV-") && invoice.dueCents == 2_400)
                let page = try await api.call(.GET, "/invoices/\(invoice.id)", token: company, headers: ["Accept": "text/html"])
                #expect(page.status == 200 && page.text.contains(invoice.number))
                let settled = try await api.call(.POST, "/invoices/\(invoice.id)/pay", token: company, json: #"{"paymentMethod":"pm_card_visa"}"#)
                #expect(try settled.json(Invoice.self).status == "paid", "\(settled.text)")
                #expect(try await eventually(within: .seconds(10)) { try await api.call(.GET, "/profiles/va/me", token: va).json(Profile.self).earnedCents == 18_000 + 2_160 })
                let paid = try await api.call(.GET, "/payments?role=payer", token: company).json(Page<Item>.self).items
                #expect(paid.count == 2)
            }
    }
}
